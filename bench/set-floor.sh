#!/usr/bin/env bash
# Floors of a fresh clone's restore (docs/BENCHMARKS.md, "Fresh clone with a restored cache dir"), each
# on its own fresh clone of the Linux-shaped bench history (bench/history-scale-prepare.sh), RUNS times:
# `touch -h` of every file on two processes, and bench/set-floor.c's guarded set and lstat.
# Usage: RUNS=3 bench/set-floor.sh
set -euo pipefail
origin=${ORIGIN:-/var/cache/git-mtime-bench/kernel/origin.git}
work=${WORK:-/var/tmp/set-floor}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
probe=$(mktemp)
trap 'rm -rf "$probe" "$work" "$work.paths"' EXIT
cc -O2 -pthread -o "$probe" "$here/set-floor.c"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$runs"); do
    for what in touch guarded lstat; do
        rm -rf "$work"
        git clone -q "$origin" "$work"
        git -C "$work" ls-files -z >"$work.paths"
        if [ "$what" = touch ]; then
            (cd "$work" && /usr/bin/time -f "touch -h: wall %e s, cpu %U+%S s" xargs -0 -P2 -n 4096 touch -h <"$work.paths")
        else
            (cd "$work" && "$probe" "$what" <"$work.paths")
        fi
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
