#!/bin/sh
# Warm `git mtime restore` after one new commit on a 5,000-file repository, against `git status`
# (git's own stat check of the same tree) and `git-mtime --version` (the process-start floor), all
# measured in the same run. Prints medians and their ratios.
# Usage: bench/restore-warm.sh [path/to/git-mtime]   (default: .build/release/git-mtime)
set -eu
tool=$(realpath "${1:-.build/release/git-mtime}")
runs=${RUNS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q repo && cd repo
git config user.name bench && git config user.email bench@example.com
for d in $(seq 1 50); do
    mkdir d$d
    for f in $(seq 1 100); do echo "$d $f" > d$d/f$f.txt; done
done
git add -A && git commit -qm init
for i in $(seq 1 300); do
    echo $i >> d$((i % 50 + 1))/f$((i % 100 + 1)).txt
    git commit -qam "change $i"
done
"$tool" restore            # cold: walks history, hashes, writes both caches
"$tool" restore            # settles racily-clean cache records

# The machine is shared, so wall time swings with other load: we also record CPU time (perf's
# task-clock: user + system of the process and its threads), which contention barely moves.
# Sets $wall and $cpu to the median milliseconds of running "$@" $runs times, each after $prepare.
measure() {
    walls="" cpus=""
    for _ in $(seq 1 "$runs"); do
        eval "$prepare"
        start=$(date +%s%N)
        cpu=$(perf stat -x, -e task-clock -- "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 }')
        end=$(date +%s%N)
        walls="$walls $(( (end - start) / 1000 ))"
        cpus="$cpus $cpu"
    done
    wall=$(echo $walls | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] / 1000}')
    cpu=$(echo $cpus | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}')
}

n=0
# Each restore run first gets one new commit touching one file (the case the hooks hit).
prepare='n=$((n+1)); echo "new $n" >> d7/f7.txt; git commit -qam "new $n"'
measure "$tool" restore; restore_wall=$wall restore_cpu=$cpu
prepare=':'
measure git status --porcelain; status_wall=$wall status_cpu=$cpu
measure "$tool" --version; start_wall=$wall start_cpu=$cpu
echo "files: 5000  commits: $(git rev-list --count HEAD)  runs: $runs  (medians, ms: wall / cpu)"
echo "warm restore after one new commit:         $restore_wall / $restore_cpu"
echo "git status --porcelain (reference):        $status_wall / $status_cpu"
echo "git-mtime --version (process start floor): $start_wall / $start_cpu"
awk -v rw="$restore_wall" -v rc="$restore_cpu" -v sw="$status_wall" -v sc="$status_cpu" -v fw="$start_wall" -v fc="$start_cpu" 'BEGIN {
    printf "ratio restore / git status:          wall %.2f  cpu %.2f\n", rw / sw, rc / sc
    printf "ratio restore / git-mtime --version: wall %.2f  cpu %.2f\n", rw / fw, rc / fc }'
