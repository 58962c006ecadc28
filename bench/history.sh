#!/bin/sh
# History engine benchmark: `git mtime restore` cold (cache removed) and warm (one new commit)
# against `git log --raw --no-renames --first-parent -m --format=%ct` on the same synthetic repository.
#
#   bench/history.sh [path/to/git-mtime]     (default: the release build in .build-history)
#
# The repository (50,000 commits, 5,000 files, ~25% merges; bench/make-history-repo.py) is built once
# under /var/tmp/git-mtime-bench and reused while the generator is unchanged. Needs hyperfine and
# /usr/bin/time (apt-get install time).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-$here/../.build-history/release/git-mtime}
base=/var/tmp/git-mtime-bench
repo=$base/repo
key=$(sha1sum "$here/make-history-repo.py" | cut -c1-12)

if [ "$(cat "$base/key" 2>/dev/null)" != "$key" ]; then
    rm -rf "$repo" "$base/key"
    mkdir -p "$repo"
    git -C "$repo" init -q -b main
    python3 "$here/make-history-repo.py" | git -C "$repo" fast-import --quiet
    git -C "$repo" gc -q
    git -C "$repo" checkout -q -f main
    git -C "$repo" rev-parse HEAD > "$base/head"
    echo "$key" > "$base/key"
fi
# Each run starts from the generated history, without the commits earlier warm runs added.
git -C "$repo" reset -q --hard "$(cat "$base/head")"
rm -f "$repo/warm-file"
echo "commits: $(git -C "$repo" rev-list --count HEAD), first-parent: $(git -C "$repo" rev-list --first-parent --count HEAD)," \
     "merges: $(git -C "$repo" rev-list --merges --count HEAD), files: $(git -C "$repo" ls-files | wc -l)"

cache=$repo/.git/git-mtime
reference="git -C $repo log --raw --no-renames --first-parent -m --format=%ct"
hyperfine --warmup 1 --runs 5 --export-markdown "$base/cold.md" \
    --prepare "rm -rf $cache" -n "git log reference" "$reference" \
    -n "git mtime restore (cold)" "cd $repo && $tool restore" \
    -n "git mtime restore --history all (cold)" "cd $repo && $tool restore --history all"

# Warm: each run follows one new commit on top of the previous run's cache.
commit="cd $repo && date +%s%N > warm-file && git add warm-file && git -c user.name=bench -c user.email=bench@example.com commit -q -m warm"
hyperfine --warmup 1 --runs 10 --export-markdown "$base/warm.md" --prepare "$commit" \
    -n "git mtime restore (warm, one new commit)" "cd $repo && $tool restore"

echo "peak memory, cold:"
rm -rf "$cache"
/usr/bin/time -v sh -c "cd $repo && $tool restore >/dev/null" 2>&1 | grep -E "Maximum resident|Elapsed"
echo "peak memory, git log reference:"
/usr/bin/time -v sh -c "$reference >/dev/null" 2>&1 | grep -E "Maximum resident|Elapsed"
