#!/usr/bin/env bash
# Start-up of the release executables next to `git --version`, in one hyperfine run (no shell
# between hyperfine and the command), ratios to `git --version` by mean and median wall time and by
# CPU time (user + sys, steadier than wall time when other work shares the cores).
#
# usage: bench/startup.sh [BIN_DIR [BEFORE_DIR]]
#   BIN_DIR     holds git-mtime and git-mtime-guard (default: the tree scripts/release stages,
#               .build-release/dist-stage/git-mtime-*/bin)
#   BEFORE_DIR  optional: another build's git-mtime, measured in the same run
# RUNS (default 300) runs per command after 30 warm-ups. Then, where valgrind is installed, the
# instructions each command executes (callgrind, children included): repeatable under any load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$(ls -d "$root"/.build-release/dist-stage/git-mtime-*/bin 2>/dev/null | head -n1)}
[ -n "$bin" ] && [ -x "$bin/git-mtime" ] || { echo "no git-mtime in '${1:-}' (run scripts/release first)" >&2; exit 1; }
bin=$(cd "$bin" && pwd)
before=${2:+$(cd "$2" && pwd)}
runs=${RUNS:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A small repository; the hook's arguments name its HEAD twice (a checkout that moved nothing).
git init -q -b main "$work/repo"
(cd "$work/repo" && echo a >a.txt && git add a.txt &&
 GIT_COMMITTER_DATE=@1600000000 git -c user.name=b -c user.email=b@example.com commit -qm a)
head=$(git -C "$work/repo" rev-parse HEAD)
# `git mtime` resolves git-mtime on PATH, as the installed hook scripts do. `git nothing` runs
# /bin/true the same way: git's own cost of dispatching to an external command.
mkdir "$work/path"
ln -s "$bin/git-mtime" "$work/path/git-mtime"
ln -s /bin/true "$work/path/git-nothing"
git_exec=$(command -v git)

commands=(-n "git --version" "$git_exec --version"
          -n "git-mtime --version" "$bin/git-mtime --version"
          -n "git-mtime-guard --version" "$bin/git-mtime-guard --version"
          -n "git-mtime hooks run post-checkout HEAD HEAD 1" "$bin/git-mtime hooks run post-checkout $head $head 1"
          -n "git nothing (git dispatching to /bin/true)" "env PATH=$work/path:/usr/bin:/bin $git_exec nothing"
          -n "git mtime hooks run post-checkout HEAD HEAD 1" "env PATH=$work/path:/usr/bin:/bin $git_exec mtime hooks run post-checkout $head $head 1")
if [ -n "$before" ]; then
    commands+=(-n "before: git-mtime --version" "$before/git-mtime --version"
               -n "before: git-mtime hooks run post-checkout HEAD HEAD 1" "$before/git-mtime hooks run post-checkout $head $head 1")
fi
cd "$work/repo"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$bin/git-mtime" --version), $(git --version)"
hyperfine -N --warmup 30 --runs "$runs" --export-json "$work/result.json" "${commands[@]}" >/dev/null
python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
reference = next(r for r in results if r["command"] == "git --version")
print(f"{'command':52} {'mean':>8} {'median':>8} {'user+sys':>8}   ratios to git --version: mean / median / user+sys")
for r in results:
    cpu, reference_cpu = r["user"] + r["system"], reference["user"] + reference["system"]
    print(f"{r['command']:52} {r['mean'] * 1e3:6.2f}ms {r['median'] * 1e3:6.2f}ms {cpu * 1e3:6.2f}ms   "
          f"{r['mean'] / reference['mean']:.2f}x / {r['median'] / reference['median']:.2f}x / {cpu / reference_cpu:.2f}x")
PY
command -v valgrind >/dev/null || exit 0
echo "instructions executed (valgrind --tool=callgrind --trace-children=yes):"
for ((i = 0; i < ${#commands[@]}; i += 3)); do
    label=${commands[i + 1]}
    # shellcheck disable=SC2086
    count=$(valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=/dev/null ${commands[i + 2]} 2>&1 >/dev/null |
        awk '/refs:/ {gsub(",", "", $NF); total += $NF} END {print total}')
    printf '  %-52s %12s\n' "$label" "$count"
done
