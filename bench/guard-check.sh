#!/usr/bin/env bash
# git-mtime-guard check vs sha1sum over the same files, page cache warm, in one hyperfine run.
# Usage: bench/guard-check.sh [GUARD [BEFORE_GUARD]]
#   GUARD         default: the release tree scripts/release stages (.build-release/dist-stage/*/bin)
#   BEFORE_GUARD  optional: another build of the guard, measured in the same run; the ratio of the two
#                 is printed in wall time and in CPU time (user+sys, the number to trust on a busy machine)
# FILES=20000 (default): 20,000 files of 1-20 KiB in 100 directories plus 20 files of 4 MiB (~290 MB).
# FILES=N (other): N files of 0.5-4 KiB in N/100 directories, where per-file cost dominates.
# Trees and manifests are generated once and cached under /var/tmp/git-mtime-guard-bench[-N].
set -euo pipefail
cd "$(dirname "$0")/.."
GUARD=${1:-$(ls -d .build-release/dist-stage/git-mtime-*/bin/git-mtime-guard 2>/dev/null | head -n1)}
BEFORE=${2:-}
FILES=${FILES:-20000}
[ -n "$GUARD" ] && [ -x "$GUARD" ] || { echo "no git-mtime-guard (run scripts/release first, or name one)" >&2; exit 1; }
CACHE=/var/tmp/git-mtime-guard-bench
[ "$FILES" = 20000 ] || CACHE=$CACHE-$FILES
TREE=$CACHE/tree
MANIFEST=$CACHE/manifest

if [ ! -f "$MANIFEST" ]; then
    rm -rf "$CACHE"
    mkdir -p "$TREE"
    python3 - "$TREE" "$MANIFEST" "$FILES" <<'PY'
import hashlib, os, random, sys
tree, manifest, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(42)
if files == 20000:
    sizes = [rng.randint(1024, 20 * 1024) for _ in range(20000)] + [4 << 20] * 20
    directories = 100
else:
    sizes = [rng.randint(512, 4096) for _ in range(files)]
    directories = max(1, files // 100)
entries = []
for index, size in enumerate(sizes):
    relative = f"d{index % directories:04d}/f{index:06d}.bin"
    os.makedirs(os.path.join(tree, os.path.dirname(relative)), exist_ok=True)
    data = os.urandom(size)
    with open(os.path.join(tree, relative), "wb") as f:
        f.write(data)
    oid = hashlib.sha1(b"blob %d\0" % size + data).hexdigest()
    entries.append((relative.encode(), oid))
entries.sort()
with open(manifest, "w") as f:
    f.write(f"git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries {len(entries)}\n")
    for path, oid in entries:
        f.write(f"100644 {oid} 1600000000.{int(oid[:8], 16) % 1000000000:09d} {path.decode()}\n")
PY
fi

echo "tree: $(find "$TREE" -type f | wc -l) files, $(du -sm "$TREE" | cut -f1) MB; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$GUARD" check --manifest "$MANIFEST" --root "$TREE"   # sets the manifest's mtimes once
before=()
[ -z "$BEFORE" ] || before=(-n guard-before "$BEFORE check --manifest $MANIFEST --root $TREE")
hyperfine --warmup 2 --runs 10 --export-json "$CACHE/result.json" \
    -n guard "$GUARD check --manifest $MANIFEST --root $TREE" "${before[@]}" \
    -n sha1sum "find $TREE -type f -print0 | xargs -0 sha1sum > /dev/null" \
    -n sha1sum-P2 "find $TREE -type f -print0 | xargs -0 -P2 -n 2500 sha1sum > /dev/null"
python3 - "$CACHE/result.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
mean = {name: r["mean"] for name, r in results.items()}
cpu = {name: r["user"] + r["system"] for name, r in results.items()}
print(f"guard throughput / sha1sum throughput: {mean['sha1sum'] / mean['guard']:.2f}x")
print(f"guard throughput / sha1sum -P2 throughput: {mean['sha1sum-P2'] / mean['guard']:.2f}x")
if "guard-before" in mean:
    print(f"guard-before throughput / sha1sum throughput: {mean['sha1sum'] / mean['guard-before']:.2f}x")
    print(f"guard throughput / guard-before throughput: {mean['guard-before'] / mean['guard']:.2f}x wall, "
          f"{cpu['guard-before'] / cpu['guard']:.2f}x CPU (user+sys)")
PY
