#!/usr/bin/env bash
# git-mtime-guard check vs sha1sum over the same files, page cache warm, in one hyperfine run.
# Usage: bench/guard-check.sh [GUARD [BEFORE_GUARD]]
#   GUARD         default: the release tree scripts/release stages (.build-release/dist-stage/*/bin)
#   BEFORE_GUARD  optional: another build of the guard, measured in the same run
# The tree (20,000 files of 1-20 KiB plus 20 files of 4 MiB, ~290 MB) and its manifest are generated
# once and cached under /var/tmp/git-mtime-guard-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
GUARD=${1:-$(ls -d .build-release/dist-stage/git-mtime-*/bin/git-mtime-guard 2>/dev/null | head -n1)}
BEFORE=${2:-}
[ -n "$GUARD" ] && [ -x "$GUARD" ] || { echo "no git-mtime-guard (run scripts/release first, or name one)" >&2; exit 1; }
CACHE=/var/tmp/git-mtime-guard-bench
TREE=$CACHE/tree
MANIFEST=$CACHE/manifest

if [ ! -f "$MANIFEST" ]; then
    rm -rf "$CACHE"
    mkdir -p "$TREE"
    python3 - "$TREE" "$MANIFEST" <<'PY'
import hashlib, os, random, sys
tree, manifest = sys.argv[1], sys.argv[2]
rng = random.Random(42)
sizes = [rng.randint(1024, 20 * 1024) for _ in range(20000)] + [4 << 20] * 20
entries = []
for index, size in enumerate(sizes):
    relative = f"d{index % 100:02d}/f{index:05d}.bin"
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

echo "tree: $(find "$TREE" -type f | wc -l) files, $(du -sm "$TREE" | cut -f1) MB; $(nproc) cores"
"$GUARD" check --manifest "$MANIFEST" --root "$TREE"   # sets the manifest's mtimes once
before=()
[ -z "$BEFORE" ] || before=(-n guard-before "$BEFORE check --manifest $MANIFEST --root $TREE")
hyperfine --warmup 2 --runs 10 --export-json "$CACHE/result.json" \
    -n guard "$GUARD check --manifest $MANIFEST --root $TREE" "${before[@]}" \
    -n sha1sum "find $TREE -type f -print0 | xargs -0 sha1sum > /dev/null" \
    -n sha1sum-P2 "find $TREE -type f -print0 | xargs -0 -P2 -n 2500 sha1sum > /dev/null"
python3 - "$CACHE/result.json" <<'PY'
import json, sys
results = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
print(f"guard throughput / sha1sum throughput: {results['sha1sum'] / results['guard']:.2f}x")
print(f"guard throughput / sha1sum -P2 throughput: {results['sha1sum-P2'] / results['guard']:.2f}x")
if "guard-before" in results:
    print(f"guard-before throughput / sha1sum throughput: {results['sha1sum'] / results['guard-before']:.2f}x")
    print(f"guard throughput / guard-before throughput: {results['guard-before'] / results['guard']:.2f}x")
PY
