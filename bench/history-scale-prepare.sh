#!/bin/sh
# Builds the Linux-shaped benchmark history once (bench/make-history-repo.py --shape kernel, about
# 520,000 commits and 64,000 files) and caches it outside any clone, under
# ${GIT_MTIME_BENCH_CACHE:-/var/cache/git-mtime-bench}/kernel:
#   source.git   fast-import's output after `git gc` (the "server")
#   origin.git   a bare clone of it sharing gc's pack (hard links), without the commit-graph `git gc`
#                wrote: what a fresh CI clone has (a --no-local clone would repack 7 million objects
#                again for a pack of the same shape, another twenty minutes on 2 busy cores)
# bench/history-scale.sh clones origin.git (hard links, so every run starts from the same fresh clone).
# Rebuilt only when the generator or its arguments change. Takes long (tens of minutes on 2 busy
# cores): run it in the background, e.g. `nohup bench/history-scale-prepare.sh > prepare.log 2>&1 &`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
base=${GIT_MTIME_BENCH_CACHE:-/var/cache/git-mtime-bench}/kernel
arguments=${SCALE_ARGUMENTS:---shape kernel}
key=$( (cat "$here/make-history-repo.py"; echo "$arguments") | sha1sum | cut -c1-12)

if [ "$(cat "$base/key" 2>/dev/null)" = "$key" ] && [ -d "$base/origin.git" ]; then
    echo "cached: $base (key $key)"
    exit 0
fi
rm -rf "$base"
mkdir -p "$base"
started=$(date +%s)
git init -q --bare -b main "$base/source.git"
# shellcheck disable=SC2086 # $arguments is a list of options
python3 "$here/make-history-repo.py" $arguments | git -C "$base/source.git" fast-import --quiet --active-branches=24
for ref in $(git -C "$base/source.git" for-each-ref --format='%(refname)' refs/heads/sub*); do
    git -C "$base/source.git" update-ref -d "$ref"
done
echo "imported after $(( $(date +%s) - started )) s"
git -C "$base/source.git" gc -q
echo "gc done after $(( $(date +%s) - started )) s"
git clone -q --bare "$base/source.git" "$base/origin.git"
rm -rf "$base/origin.git/objects/info/commit-graph" "$base/origin.git/objects/info/commit-graphs"
echo "cloned after $(( $(date +%s) - started )) s"
git -C "$base/origin.git" rev-parse HEAD > "$base/head"
{
    echo "commits: $(git -C "$base/origin.git" rev-list --count HEAD)"
    echo "first-parent: $(git -C "$base/origin.git" rev-list --first-parent --count HEAD)"
    echo "merges: $(git -C "$base/origin.git" rev-list --merges --count HEAD)"
    echo "first-parent merges: $(git -C "$base/origin.git" rev-list --first-parent --merges --count HEAD)"
    echo "files: $(git -C "$base/origin.git" ls-tree -r HEAD | wc -l)"
    echo "directories: $(git -C "$base/origin.git" ls-tree -r -d HEAD | wc -l)"
    echo "deepest file: $(git -C "$base/origin.git" ls-tree -r --name-only HEAD | awk -F/ '{ if (NF > d) d = NF } END { print d - 1 }') directories down"
    echo "pack: $(du -sh "$base/origin.git/objects/pack" | cut -f1)"
} | tee "$base/shape"
echo "$key" > "$base/key"
