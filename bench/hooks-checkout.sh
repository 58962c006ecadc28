#!/usr/bin/env bash
# The post-checkout hook's cost on a branch switch that changes 100 files in a 5,000-file repository,
# next to `git checkout`'s own time, in the same run (medians of ROUNDS switches, warm caches).
#
# usage: bench/hooks-checkout.sh [BIN_DIR]   (BIN_DIR holds git-mtime; default: .build/release)
set -euo pipefail
bin=$(cd "${1:-$(dirname "$0")/../.build/release}" && pwd)
[ -x "$bin/git-mtime" ] || { echo "no git-mtime in $bin (swift build -c release first)" >&2; exit 1; }
export PATH="$bin:$PATH"
files=${FILES:-5000}
changed=${CHANGED:-100}
rounds=${ROUNDS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

git init -q -b main repo && cd repo
git config user.name bench && git config user.email bench@example.com
for ((d = 0; d < files / 100; d++)); do
    mkdir -p "dir$d"
    for ((f = 0; f < 100; f++)); do echo "file $d/$f" > "dir$d/file$f.txt"; done
done
git add -A && GIT_COMMITTER_DATE=@1600000000 git commit -qm base
git checkout -q -b other
for ((i = 0; i < changed; i++)); do echo "changed $i" >> "dir$((i % (files / 100)))/file$((i / (files / 100))).txt"; done
GIT_COMMITTER_DATE=@1600001000 git commit -qam "change $changed files"
git checkout -q main
git mtime restore

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# Alternating switches main <-> other; prints one duration (ns) per switch.
switches() {
    for ((r = 0; r < rounds; r++)); do
        for branch in other main; do
            start=$(now); git checkout -q "$branch"; echo $(( $(now) - start ))
        done
    done
}

switches > /dev/null                                   # warm the page cache
plain=$(switches | median)
git mtime hooks install > /dev/null
switches > /dev/null                                   # warm git-mtime's caches
hooked=$(switches | median)
main=$(git rev-parse main) other=$(git rev-parse other)
# The hook alone: wall-clock and CPU (user+sys) time of `git mtime hooks run`, in ms.
hook_only=() hook_cpu=()
TIMEFORMAT='%R %U %S'
for ((r = 0; r < rounds; r++)); do
    git checkout -q other
    read -r real user sys < <( { time git mtime hooks run post-checkout "$main" "$other" 1 2>/dev/null; } 2>&1 )
    hook_only+=("$(awk -v r="$real" 'BEGIN { print r * 1e9 }')")
    hook_cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print (u + s) * 1e9 }')")
    git checkout -q main
done
hook_only=$(printf '%s\n' "${hook_only[@]}" | median)
hook_cpu=$(printf '%s\n' "${hook_cpu[@]}" | median)
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
echo "files: $files, changed per switch: $changed, rounds: $rounds"
echo "git checkout without hooks (median): $(ms "$plain") ms"
echo "git checkout with git-mtime hooks (median): $(ms "$hooked") ms"
echo "hook added to a checkout: $(ms $((hooked - plain))) ms"
echo "git mtime hooks run post-checkout alone (median): $(ms "$hook_only") ms wall, $(ms "$hook_cpu") ms CPU (user+sys)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
awk -v h="$hooked" -v p="$plain" 'BEGIN { printf "ratio checkout with hooks / without: %.2f\n", h / p }'
