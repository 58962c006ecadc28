#!/usr/bin/env bash
# `git mtime restore` on fresh clones of the Linux-shaped bench history (bench/history-scale-prepare.sh),
# two binaries alternating in one run: from a restored keyed `--cache-dir` (RUNS each, medians), then
# cold with no cache (COLD_RUNS each). After every run the answer (each tracked file's mtime) is
# hashed: the two binaries must agree. Prints one line per run (wall s, user s, sys s, peak RSS KB)
# and the medians.
# Usage: bench/restore-cache-dir.sh REFERENCE_BIN NEW_BIN
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench/restore-cache-dir.sh REFERENCE_BIN NEW_BIN" >&2; exit 64; }
reference=$(realpath "$1") new=$(realpath "$2")
origin=${ORIGIN:-/var/cache/git-mtime-bench/kernel/origin.git}
work=${WORK:-/var/tmp/applypar}
runs=${RUNS:-5} cold_runs=${COLD_RUNS:-2}
export GIT_MTIME_CACHE_KEY=bench-key-0123456789abcdef
results=$(mktemp)
trap 'rm -rf "$results" "$work-run" "$work-run-cache"' EXIT

# The saved cache: one restore of a clone, by the reference binary.
if [ ! -d "$work-cache" ]; then
    rm -rf "$work-seed"
    git clone -q "$origin" "$work-seed"
    (cd "$work-seed" && "$reference" restore --cache-dir "$work-cache")
fi

# measure LABEL BIN keyed|cold: one fresh clone, one restore, one result line.
measure() {
    rm -rf "$work-run" "$work-run-cache"
    git clone -q "$origin" "$work-run"
    local cache=()
    if [ "$3" = keyed ]; then cp -a "$work-cache" "$work-run-cache"; cache=(--cache-dir "$work-run-cache"); fi
    (cd "$work-run" && /usr/bin/time -f '%e %U %S %M' -o "$work-run.time" "$2" restore "${cache[@]}" >/dev/null)
    local answer
    answer=$(cd "$work-run" && git ls-files -z | xargs -0 stat -c '%Y %n' | sort | sha1sum | cut -c1-12)
    echo "$3 $1 $(cat "$work-run.time") $answer" | tee -a "$results"
    rm -f "$work-run.time"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode binary wall user sys maxrss_kb answer"
for _ in $(seq "$runs"); do measure reference "$reference" keyed; measure new "$new" keyed; done
for _ in $(seq "$cold_runs"); do measure reference "$reference" cold; measure new "$new" cold; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for mode in ("keyed", "cold"):
    for binary in ("reference", "new"):
        mine = [r for r in rows if r[0] == mode and r[1] == binary]
        if not mine: continue
        wall = statistics.median(float(r[2]) for r in mine)
        cpu = statistics.median(float(r[3]) + float(r[4]) for r in mine)
        rss = statistics.median(int(r[5]) for r in mine)
        print(f"{mode} {binary}: median of {len(mine)}: wall {wall:.3f} s, user+sys {cpu:.3f} s, peak RSS {rss // 1024} MB")
answers = {r[6] for r in rows}
print("answers:", "identical" if len(answers) == 1 else f"DIFFER {sorted(answers)}")
sys.exit(0 if len(answers) == 1 else 1)
EOF
