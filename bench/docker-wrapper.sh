#!/usr/bin/env bash
# What the wrapper adds to a build: `git mtime docker build` against plain `docker build` of the same
# fully cached context, on a private engine (BuildKit, DOCKER_BUILDKIT=1, and the classic builder: both
# through a per-build image named in a temporary Dockerfile). Reported as ratios (docs/BENCHMARKS.md, ## docker).
#   GIT_MTIME_BIN_DIR=.build/release bench/docker-wrapper.sh     (root; hyperfine)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$ROOT" && cd "${GIT_MTIME_BIN_DIR:-.build/release}" && pwd)
WORK=$(mktemp -d /tmp/git-mtime-docker-bench.XXXXXX)
trap '"$ROOT/scripts/docker-env" stop "$WORK/engine"; rm -rf "$WORK"' EXIT
eval "$("$ROOT/scripts/docker-env" start "$WORK/engine")"
export DOCKER=/usr/bin/docker

# A context of 2,000 small files in one commit, an image that copies them and runs the guard.
mkdir -p "$WORK/ctx" && cd "$WORK/ctx"
git init -q -b main && git config user.name B && git config user.email b@example.com
for i in $(seq 1 2000); do mkdir -p "d$((i % 40))"; echo "file $i" >"d$((i % 40))/f$i.txt"; done
busybox_dir="$WORK/busybox" && mkdir -p "$busybox_dir/bin" && cp /bin/busybox "$busybox_dir/bin/sh"
tar -C "$busybox_dir" -c bin | "$DOCKER" import -c 'ENV PATH=/bin' - bench-base:local >/dev/null
printf 'FROM bench-base:local\nWORKDIR /ctx\nCOPY . .\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- /bin/sh -c true\n' >"$WORK/guarded.Dockerfile"
printf 'FROM bench-base:local\nWORKDIR /ctx\nCOPY . .\nRUN ["/bin/sh", "-c", "true"]\n' >"$WORK/plain.Dockerfile"
printf '.git\n' >.dockerignore
git add -A && GIT_COMMITTER_DATE="@1600000000 +0000" git commit -q -m bench
for buildkit in 1 0; do
  export DOCKER_BUILDKIT=$buildkit
  # Warm both caches first: each measured run is a fully cached build.
  "$DOCKER" build -q --network=none -f "$WORK/plain.Dockerfile" -t plain . >/dev/null
  "$BIN/git-mtime" docker build -q --network=none -f "$WORK/guarded.Dockerfile" -t guarded . >/dev/null
  hyperfine --warmup 2 --runs 10 --export-markdown "$WORK/buildkit-$buildkit.md" \
    -n "docker build (DOCKER_BUILDKIT=$buildkit)" "$DOCKER build -q --network=none -f $WORK/plain.Dockerfile -t plain ." \
    -n "git mtime docker build (DOCKER_BUILDKIT=$buildkit)" "$BIN/git-mtime docker build -q --network=none -f $WORK/guarded.Dockerfile -t guarded . 2>/dev/null" \
    -n "the wrapper's own work (client: true)" "DOCKER=true $BIN/git-mtime docker build -q --network=none -f $WORK/plain.Dockerfile -t guarded . 2>/dev/null"
  cat "$WORK/buildkit-$buildkit.md"
done
