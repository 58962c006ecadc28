#!/bin/sh
# The history engine at Linux scale, everything measured in one run on fresh clones of the
# Linux-shaped history bench/history-scale-prepare.sh caches (~520,000 commits, 64,000 files):
#   - cold `git mtime restore` (a fresh clone, no cache) against the reference
#     `git log --raw --no-renames --first-parent -m --format=%ct` in the same clone, and against
#     `git last-modified -r` (git >= 2.52; skipped with a note when $LAST_MODIFIED_GIT is absent);
#   - peak RSS of both (/usr/bin/time -v's maximum resident set size);
#   - a fresh clone whose `--cache-dir` was restored from an earlier run (what a CI cache gives),
#     unkeyed (its snapshot is checked against the object database) and keyed (the earlier run
#     wrote with $GIT_MTIME_CACHE_KEY set, the restored one reads with it: the MAC replaces the
#     check), and the unkeyed one with BEFORE_GIT_MTIME too;
#   - warm after one new commit, against `git status --porcelain` and `git diff-files` in the same
#     clone (diff-files is the floor of the work: read the index, lstat every file);
#   - the floor of a restored cache directory's run: every file's time set, by `touch -h` on two
#     processes in a fresh clone (no index, no history, no checks);
#   - the same cold runs and the reference again after `git commit-graph write --reachable`.
#
#   bench/history-scale.sh NEW_GIT_MTIME [BEFORE_GIT_MTIME]
#
# RUNS (default 3) fresh clones per cold measurement, WARM_RUNS (default 10) warm runs; medians are
# reported. Needs /usr/bin/time (apt-get install time). The machine's load average is printed
# before and after: wall times under load include waiting for a core, so compare ratios.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
new=$(realpath "$1")
before=${2:+$(realpath "$2")}
runs=${RUNS:-3}
warm_runs=${WARM_RUNS:-10}
graph=${GRAPH:-1}
cache=${GIT_MTIME_BENCH_CACHE:-/var/cache/git-mtime-bench}
last_modified_git=${LAST_MODIFIED_GIT:-$cache/git-2.55.0/bin/git}
"$here/history-scale-prepare.sh"
origin=$cache/kernel/origin.git
work=$(mktemp -d /var/tmp/history-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$work/results

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$cache/kernel/shape"

fresh_clone() { # DIR [commit-graph]
    rm -rf "$1"
    git clone -q "$origin" "$1"
    if [ "${2:-}" = graph ]; then git -C "$1" commit-graph write --reachable --no-progress; fi
}

# measure LABEL DIR COMMAND...: runs COMMAND in DIR, appends "LABEL wall user sys maxrss_kb" to $results.
# (POSIX sh has no local variables: measure's own are named m_*, so a caller's $label survives.)
measure() {
    m_label=$1 m_dir=$2
    shift 2
    (cd "$m_dir" && /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err") || {
        echo "failed: $m_label: $*"; cat "$work/err"; return 1
    }
    echo "$m_label $(cat "$work/time")" >> "$results"
}

cold_round() { # SUFFIX [graph]
    fresh_clone "$work/reference$1" "${2:-}"
    measure "git-log$1" "$work/reference$1" git log --raw --no-renames --first-parent -m --format=%ct
    for run in $(seq 1 "$runs"); do
        fresh_clone "$work/new$1-$run" "${2:-}"
        measure "cold-new$1" "$work/new$1-$run" "$new" restore -v --cache-dir "$work/saved$1-$run"
        grep "commits walked" "$work/out" | sed "s/^/    new$1 run $run: /"
        if [ -n "$before" ]; then
            fresh_clone "$work/before$1-$run" "${2:-}"
            measure "cold-before$1" "$work/before$1-$run" "$before" restore
        fi
        measure "git-log$1" "$work/reference$1" git log --raw --no-renames --first-parent -m --format=%ct
    done
}

cold_round ""
# `last-modified -h` exits 129 (usage), so its output says whether the command exists.
if [ -x "$last_modified_git" ] && "$last_modified_git" last-modified -h 2>&1 | grep -q "usage: git last-modified"; then
    # It may take many minutes at this scale: past LAST_MODIFIED_TIMEOUT seconds it is stopped and
    # reported as "more than" that.
    if ! measure "last-modified" "$work/reference" timeout "${LAST_MODIFIED_TIMEOUT:-900}" "$last_modified_git" last-modified -r HEAD; then
        echo "last-modified-timeout ${LAST_MODIFIED_TIMEOUT:-900} 0 0 0" >> "$results"
    fi
else
    echo "note: no git with last-modified at $last_modified_git (git >= 2.52): that column is skipped"
fi

# A CI job: a fresh clone, the cache directory an earlier job saved, restored into place.
for run in $(seq 1 "$runs"); do
    fresh_clone "$work/touched-$run"
    git -C "$work/touched-$run" ls-files -z > "$work/paths"
    measure "touch-every-file" "$work/touched-$run" sh -c 'xargs -0 -P2 -n 8000 touch -h -d @1000000000 < "$1"' sh "$work/paths"
    rm -rf "$work/touched-$run"
    fresh_clone "$work/restored-$run"
    rm -rf "$work/cache-$run"
    cp -a "$work/saved-1" "$work/cache-$run"
    measure "restored-cache-dir" "$work/restored-$run" "$new" restore -v --cache-dir "$work/cache-$run"
    grep "commits walked" "$work/out" | sed "s/^/    restored cache run $run: /"
    if [ -n "$before" ]; then
        fresh_clone "$work/restored-before-$run"
        rm -rf "$work/cache-before-$run"
        cp -a "$work/saved-1" "$work/cache-before-$run"
        measure "restored-cache-dir-before" "$work/restored-before-$run" "$before" restore --cache-dir "$work/cache-before-$run"
    fi
done

# The same with a key: a trusted job writes the cache with the secret, a later one reads it with it.
bench_key=bench-history-scale-key-0123456789
fresh_clone "$work/keyed-writer"
measure "cold-new-keyed" "$work/keyed-writer" env GIT_MTIME_CACHE_KEY=$bench_key "$new" restore --cache-dir "$work/saved-keyed"
for run in $(seq 1 "$runs"); do
    fresh_clone "$work/restored-keyed-$run"
    rm -rf "$work/cache-keyed-$run"
    cp -a "$work/saved-keyed" "$work/cache-keyed-$run"
    measure "restored-cache-dir-keyed" "$work/restored-keyed-$run" \
        env GIT_MTIME_CACHE_KEY=$bench_key "$new" restore -v --cache-dir "$work/cache-keyed-$run"
    grep "commits walked" "$work/out" | sed "s/^/    restored keyed cache run $run: /"
done

# Warm: one new commit, then restore; git status in the same clone as the floor.
warm() { # LABEL DIR COMMAND...
    label=$1 dir=$2
    shift 2
    "$@" > /dev/null 2>&1 # settles the stat cache
    for run in $(seq 1 "$warm_runs"); do
        date +%s%N > "$dir/warm-file-$label"
        git -C "$dir" add "warm-file-$label"
        git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -q -m "warm $run"
        measure "warm-$label" "$dir" "$@"
        measure "git-status-$label" "$dir" git status --porcelain
        measure "git-diff-files-$label" "$dir" sh -c 'git diff-files --quiet; [ $? -le 1 ]'
    done
}
warm new "$work/restored-1" "$new" restore --cache-dir "$work/cache-1"
if [ -n "$before" ]; then warm before "$work/before-1" "$before" restore; fi

if [ "$graph" = 1 ]; then cold_round "-graph" graph; fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per label: wall, CPU (user + sys), peak RSS.
awk '
    { wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($3 + $4); rss[$1] = rss[$1] " " $5; n[$1]++ }
    function median(list,    a, k, i, j, t) {
        k = split(list, a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    END {
        printf "%-26s %5s %10s %10s %10s\n", "measurement", "runs", "wall s", "cpu s", "rss MB"
        for (label in n) {
            W[label] = median(wall[label]); C[label] = median(cpu[label]); R[label] = median(rss[label]) / 1024
            printf "%-26s %5d %10.3f %10.3f %10.1f\n", label, n[label], W[label], C[label], R[label]
        }
        printf "\nratios (medians, same run):\n"
        for (s = 0; s < 2; s++) {
            suffix = s ? "-graph" : ""
            if (!(("cold-new" suffix) in W)) continue
            ref = "git-log" suffix
            printf "cold restore / git log%s: wall %.2fx, cpu %.2fx, peak rss %.2fx\n", suffix,
                W["cold-new" suffix] / W[ref], C["cold-new" suffix] / C[ref], R["cold-new" suffix] / R[ref]
            if (("cold-before" suffix) in W)
                printf "  before: wall %.2fx, cpu %.2fx, peak rss %.2fx\n", W["cold-before" suffix] / W[ref],
                    C["cold-before" suffix] / C[ref], R["cold-before" suffix] / R[ref]
        }
        if ("last-modified" in W) printf "cold restore / git last-modified -r: wall %.3fx, cpu %.3fx, peak rss %.2fx\n", W["cold-new"] / W["last-modified"], C["cold-new"] / C["last-modified"], R["cold-new"] / R["last-modified"]
        if ("last-modified-timeout" in W) printf "git last-modified -r: stopped after %d s (cold restore / it: < %.3fx wall)\n", W["last-modified-timeout"], W["cold-new"] / W["last-modified-timeout"]
        printf "warm after one commit: %.0f ms wall, %.0f ms cpu (git status %.0f / %.0f ms, git diff-files %.0f / %.0f ms)\n",
            W["warm-new"] * 1000, C["warm-new"] * 1000, W["git-status-new"] * 1000, C["git-status-new"] * 1000,
            W["git-diff-files-new"] * 1000, C["git-diff-files-new"] * 1000
        if ("warm-before" in W) printf "  before: %.0f ms (git status %.0f ms)\n", W["warm-before"] * 1000, W["git-status-before"] * 1000
        printf "fresh clone, restored --cache-dir: %.0f ms wall, %.0f ms cpu (%.2fx the cold restore cpu)\n",
            W["restored-cache-dir"] * 1000, C["restored-cache-dir"] * 1000, C["restored-cache-dir"] / C["cold-new"]
        printf "  floor, touch -h of every file on 2 processes: %.0f ms wall, %.0f ms cpu\n",
            W["touch-every-file"] * 1000, C["touch-every-file"] * 1000
        if ("restored-cache-dir-before" in W) printf "  before: %.0f ms wall, %.0f ms cpu\n", W["restored-cache-dir-before"] * 1000, C["restored-cache-dir-before"] * 1000
        printf "fresh clone, restored keyed --cache-dir: %.0f ms wall, %.0f ms cpu (%.2fx the unkeyed cpu)\n",
            W["restored-cache-dir-keyed"] * 1000, C["restored-cache-dir-keyed"] * 1000, C["restored-cache-dir-keyed"] / C["restored-cache-dir"]
    }' "$results"
