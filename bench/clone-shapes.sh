#!/usr/bin/env bash
# What exact times cost for each way CI checks out a repository: a full clone, a blobless clone
# (--filter=blob:none), a shallow clone (--depth=1) and a treeless clone (--filter=tree:0), each
# followed by `git mtime restore` (with --fetch-history for the shallow and treeless ones, which lack
# history). Wall time of the clone and of the restore, and the size of .git afterwards, with ratios
# to the full clone measured in the same run; then checks that every shape gave every tracked file
# the same mtime as the full clone.
#
# usage: bench/clone-shapes.sh UPSTREAM [GIT_MTIME]
#   UPSTREAM   a repository (bare or not) whose HEAD branch is served, e.g. a snapshot of
#              rust-lang/cargo or git/git; it is copied once (hard links) under $WORK (default
#              /var/tmp/git-mtime-clone-shapes) with uploadpack.allowFilter, and cloned over file://
#              (git upload-pack, as over a network, without the network).
#   GIT_MTIME  the binary to measure (default: git-mtime on PATH)
set -euo pipefail
upstream=$(cd "$1" && pwd)
tool=${2:-$(command -v git-mtime)}
work=${WORK:-/var/tmp/git-mtime-clone-shapes}
name=$(basename "$upstream" .git)
[ "$name" = repo ] && name=$(basename "$(dirname "$upstream")")
served=$work/$name.git
mkdir -p "$work"
if [ ! -d "$served" ]; then
    branch=$(git -C "$upstream" symbolic-ref --short HEAD)
    git clone -q --bare --single-branch --branch "$branch" "$upstream" "$served"
fi
git -C "$served" config uploadpack.allowFilter true
url=file://$served

seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
            echo "$(date +%s.%N) - $start" | bc; }
size() { du -sb "$1/.git" | cut -f1; }
mib() { echo "scale=1; $1 / 1048576" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
# Every tracked file's mtime (gitlinks are directories restore doesn't set).
times() { (cd "$1" && git ls-files -s -z | grep -zv '^160000' | cut -z -f2 | xargs -0 stat -c '%y %n') 2>/dev/null; }

echo "upstream: $name, $(git -C "$served" rev-list --count HEAD) commits, $(git -C "$served" ls-tree -r HEAD | wc -l) files;" \
     "git $(git --version | cut -d' ' -f3); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-44s | %9s | %9s | %9s | %9s | %10s | %6s |\n' "checkout, then restore" "clone s" "restore s" "total s" "vs full" ".git MiB" "vs full"
printf '|%s|\n' "----------------------------------------------|-----------|-----------|-----------|-----------|------------|--------"
declare -A shapes=(
    [full]="|restore"
    [blobless]="--filter=blob:none|restore"
    [shallow]="--depth=1|restore --fetch-history"
    [treeless]="--filter=tree:0|restore --fetch-history"
    [shallow-boundary]="--depth=1|restore"
)
full_total=0 full_size=0
for shape in full blobless shallow treeless shallow-boundary; do
    clone_arguments=${shapes[$shape]%%|*}
    restore_arguments=${shapes[$shape]#*|}
    rm -rf "$work/$shape"
    clone=$(seconds git clone -q $clone_arguments "$url" "$work/$shape")
    restore=$(cd "$work/$shape" && seconds "$tool" $restore_arguments)
    total=$(echo "$clone + $restore" | bc)
    bytes=$(size "$work/$shape")
    if [ "$shape" = full ]; then full_total=$total; full_size=$bytes; times "$work/full" >"$work/full.times"; fi
    printf '| %-44s | %9.2f | %9.2f | %9.2f | %8.2f× | %10s | %5.2f× |\n' \
        "git clone $clone_arguments; git mtime $restore_arguments" "$clone" "$restore" "$total" \
        "$(ratio "$total" "$full_total")" "$(mib "$bytes")" "$(ratio "$bytes" "$full_size")"
done
for shape in blobless shallow treeless; do
    if times "$work/$shape" | cmp -s - "$work/full.times"; then echo "$shape: every file's mtime equals the full clone's"
    else echo "$shape: mtimes DIFFER from the full clone's" >&2; exit 1; fi
done
if times "$work/shallow-boundary" | cmp -s - "$work/full.times"; then echo "shallow without --fetch-history: same as full (unexpected)"
else echo "shallow without --fetch-history: $(times "$work/shallow-boundary" | diff - "$work/full.times" | grep -c '^<') files differ from the full clone (the boundary's time)"; fi
