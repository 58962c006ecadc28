#!/usr/bin/env bash
# `git mtime docker build` on a real Docker engine (a private dockerd started here, no network).
#
#   GIT_MTIME_BIN_DIR=.build/debug suites/docker/run.sh [SCENARIO NUMBER…]
#
# Needs root (dockerd), docker.io, debootstrap, buildah (scenario 9), podman (scenario 12) and a host Rust toolchain; 13 puts a crate in a submodule. The base image (Debian bookworm
# minbase + gcc + the host's rustc/cargo) is built once and cached by scripts/docker-env.
# Ends with exactly one line `docker: N passed, N failed`; exits non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "$ROOT" && cd "${GIT_MTIME_BIN_DIR:-.build/debug}" 2>/dev/null && pwd) || BIN=""
DOCKER_CLIENT=/usr/bin/docker   # Debian's 20.10 client: BuildKit with DOCKER_BUILDKIT=1, classic with 0
export PATH="$HOME/.cargo/bin:$PATH"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for detail in "$@"; do echo "       $detail"; done; }
summary() { echo "docker: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# An engine that cannot start is a failure in CI and a visible skip elsewhere.
unavailable() {
  if [ "${CI:-}" = "true" ]; then
    fail "docker engine" "$1"
  else
    echo "SKIPPED: the docker suite needs a local engine: $1"
  fi
  summary
}
[ -n "$BIN" ] && [ -x "$BIN/git-mtime" ] && [ -x "$BIN/git-mtime-guard" ] \
  || { fail "binaries" "git-mtime and git-mtime-guard not found in ${GIT_MTIME_BIN_DIR:-.build/debug} (run swift build)"; summary; }
[ "$(id -u)" -eq 0 ] || unavailable "not running as root (dockerd needs root)"
command -v dockerd >/dev/null && [ -x "$DOCKER_CLIENT" ] || unavailable "docker.io is not installed (scripts/install-test-deps)"
command -v rustc >/dev/null || unavailable "no host Rust toolchain (rustc) to put into the base image"

WORK=$(mktemp -d /tmp/git-mtime-docker-tests.XXXXXX)
cleanup() {
  "$ROOT/scripts/docker-env" stop "$WORK/engine"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

env_line=$("$ROOT/scripts/docker-env" start "$WORK/engine") || unavailable "dockerd did not start"
eval "$env_line"
export DOCKER="$DOCKER_CLIENT"
"$ROOT/scripts/docker-env" rust-base rust-base:local || unavailable "could not load the Rust base image"
# Every temporary file the wrapper makes goes here, so the suite can prove none is left.
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

docker() { "$DOCKER_CLIENT" "$@"; }
git_mtime() { "$BIN/git-mtime" "$@"; }

# A git repository with every commit at a fixed old date, so restored mtimes are years in the past.
commit_all() {  # DIR SECONDS MESSAGE
  (cd "$1" && git add -A && GIT_AUTHOR_DATE="@$2 +0000" GIT_COMMITTER_DATE="@$2 +0000" git commit -q -m "$3")
}
new_repo() {  # DIR
  mkdir -p "$1"
  (cd "$1" && git init -q -b main && git config user.name Test && git config user.email test@example.com)
}
content_digest() {  # DIR: every file's bytes outside .git
  (cd "$1" && find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
}
images() { docker image ls --all --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort; }
# The classic builder keeps untagged intermediate images of the user's own build steps.
tagged_images() { images | grep -v '^<none>:<none> '; }
compiled() {  # LOG: crate names cargo compiled, sorted, space-separated
  grep -o 'Compiling [a-z_-]* v' "$1" | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# A quick context: the guard runs `cat input.txt` into /out; the image prints /out.
quick_dockerfile() {  # FILE
  cat >"$1" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'cat input.txt >/out'
CMD ["cat", "/out"]
EOF
}
quick_context() {  # DIR TEXT [DOCKERFILE NAME]
  new_repo "$1"
  echo "$2" >"$1/input.txt"
  quick_dockerfile "$1/${3:-Dockerfile}"
  commit_all "$1" 1600000000 "quick"
}
wrapped_output() {  # TAG LOG WRAPPER-ARGUMENTS…: the wrapped build's image output, or nothing when it failed
  local tag=$1 log=$2
  shift 2
  git_mtime docker "$@" >"$log" 2>&1 && docker run --rm --network=none "$tag"
}

# --- The single-crate project and its Dockerfiles -----------------------------------------------------------
APP="$WORK/app"
new_repo "$APP"
cat >"$APP/Cargo.toml" <<'EOF'
[package]
name = "app"
version = "0.1.0"
edition = "2021"
EOF
mkdir -p "$APP/src"
echo 'fn main() { println!("the real app, version 1"); }' >"$APP/src/main.rs"
printf '.git\ntarget\n' >"$APP/.dockerignore"
commit_all "$APP" 1600000000 "app"
(cd "$APP" && cargo generate-lockfile --offline -q) && commit_all "$APP" 1600000100 "lockfile"

DOCKERFILES="$WORK/dockerfiles"
mkdir -p "$DOCKERFILES"
# The seed's Dockerfile: a dummy main.rs layer caches the dependencies, then the real sources arrive.
cat >"$DOCKERFILES/seed.Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY Cargo.toml ./
RUN mkdir src && echo 'fn main(){println!("Hello, world!");}' > src/main.rs && cargo build --release
COPY . .
RUN cargo build --release
CMD ["/app/target/release/app"]
EOF
sed 's|^RUN cargo build --release$|RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release|' \
  "$DOCKERFILES/seed.Dockerfile" >"$DOCKERFILES/guarded.Dockerfile"

# --- 1. The bug: plain docker build of restored sources runs the dummy binary ----------------------------------
scenario_1() {
  local name="1. plain docker build after git mtime restore prints the dummy's output (the bug exists)"
  local out="$WORK/s1.log" before after
  before=$(content_digest "$APP")
  git_mtime restore -C "$APP" >"$out" 2>&1 || { fail "$name" "git mtime restore failed: $(tail -n 3 "$out")"; return; }
  local mtime; mtime=$(stat -c %Y "$APP/src/main.rs")
  [ "$mtime" = 1600000000 ] || { fail "$name" "src/main.rs mtime after restore is $mtime, expected 1600000000"; return; }
  DOCKER_BUILDKIT=1 docker build --network=none -q -t s1 -f "$DOCKERFILES/seed.Dockerfile" "$APP" >"$out" 2>&1 \
    || { fail "$name" "docker build failed: $(tail -n 5 "$out")"; return; }
  local printed; printed=$(docker run --rm --network=none s1)
  after=$(content_digest "$APP")
  if [ "$printed" = "Hello, world!" ] && [ "$before" = "$after" ]; then pass "$name"
  else fail "$name" "program printed: $printed" "contents unchanged: $([ "$before" = "$after" ] && echo yes || echo no)"; fi
}

# --- 2. The guard line through the wrapper (BuildKit, image tagged git-mtime) ----------------------------------
scenario_2() {
  local name="2. wrapped BuildKit build with the guard line prints the real program's output"
  local out="$WORK/s2.log" before after images_before images_after
  before=$(content_digest "$APP")
  images_before=$(images)
  DOCKER_BUILDKIT=1 git_mtime docker build --network=none -t s2 -f "$DOCKERFILES/guarded.Dockerfile" "$APP" >"$out" 2>&1 \
    || { fail "$name" "wrapper failed: $(tail -n 8 "$out")"; return; }
  local printed; printed=$(docker run --rm --network=none s2)
  after=$(content_digest "$APP")
  images_after=$(images | grep -v '^s2:latest ')
  if [ "$printed" = "the real app, version 1" ] && [ "$before" = "$after" ] \
     && [ "$images_before" = "$images_after" ] && [ -z "$(ls -A "$TMPDIR")" ]; then pass "$name"
  else fail "$name" "program printed: $printed" "contents unchanged: $([ "$before" = "$after" ] && echo yes || echo no)" \
              "images left: $(diff <(echo "$images_before") <(echo "$images_after") | grep '^>' | tr '\n' ' ')" \
              "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')" "log: $(grep -i 'git-mtime\|error' "$out" | head -n 5 | tr '\n' ' ')"; fi
}

# --- 3. Cache mount on target/, three-crate workspace: only what changed compiles -----------------------------
WS="$WORK/workspace"
cache_mount_dockerfile() {  # DIR: a guarded cargo build of the binary `app` with a cache mount on target/
  printf '.git\ntarget\nDockerfile\n' >"$1/.dockerignore"
  cat >"$1/Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
# Changing this build argument makes the RUN execute without dropping the cache mount (--no-cache would empty it).
ARG RERUN=0
RUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release && cp target/release/app /usr/local/bin/
CMD ["app"]
EOF
}
write_workspace() {  # [DIR] (default $WS)
  local WS=${1:-$WS}
  new_repo "$WS"
  cat >"$WS/Cargo.toml" <<'EOF'
[workspace]
members = ["alpha", "beta", "app"]
resolver = "2"
EOF
  local crate
  for crate in alpha beta; do
    mkdir -p "$WS/$crate/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n' "$crate" >"$WS/$crate/Cargo.toml"
    echo "pub fn version() -> u32 { 1 }" >"$WS/$crate/src/lib.rs"
  done
  mkdir -p "$WS/app/src"
  printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nalpha = { path = "../alpha" }\nbeta = { path = "../beta" }\n' >"$WS/app/Cargo.toml"
  echo 'fn main() { println!("alpha {} beta {}", alpha::version(), beta::version()); }' >"$WS/app/src/main.rs"
  cache_mount_dockerfile "$WS"
  (cd "$WS" && cargo generate-lockfile --offline -q)
  commit_all "$WS" 1600000000 "workspace"
}
wrapped_workspace_build() {  # TAG LOG [extra docker options]; WRAPPER_OPTIONS go before `build`
  local tag=$1 log=$2
  shift 2
  DOCKER_BUILDKIT=1 git_mtime docker ${WRAPPER_OPTIONS:-} build --network=none --progress=plain "$@" -t "$tag" "$WS" >"$log" 2>&1
}
scenario_3() {
  write_workspace
  local log="$WORK/s3" before printed
  local name="3a. cache mount, first build: all three crates compile"
  wrapped_workspace_build s3 "$log.1" || { fail "$name" "wrapper failed: $(tail -n 8 "$log.1")"; return; }
  printed=$(docker run --rm --network=none s3)
  if [ "$(compiled "$log.1")" = "alpha app beta" ] && [ "$printed" = "alpha 1 beta 1" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.1")" "printed: $printed"; fi

  # The guard says what it decided in the build log: one summary line always, and with `git mtime docker
  # --explain` (through the file the wrapper injects, the Dockerfile unchanged) each bumped file and why.
  name="3b. cache mount, one file changed in beta: only beta and app compile; the guard's log names the file and why"
  echo "pub fn version() -> u32 { 2 }" >"$WS/beta/src/lib.rs"
  commit_all "$WS" 1600000500 "beta 2"
  before=$(content_digest "$WS")
  WRAPPER_OPTIONS=--explain wrapped_workspace_build s3 "$log.2" || { fail "$name" "wrapper failed: $(tail -n 8 "$log.2")"; return; }
  printed=$(docker run --rm --network=none s3)
  # The manifest lists every tracked file but the Dockerfile, which .dockerignore leaves out.
  local files; files=$(cd "$WS" && git ls-files | grep -cv '^Dockerfile$')
  if [ "$(compiled "$log.2")" = "app beta" ] && [ "$printed" = "alpha 1 beta 2" ] && [ "$before" = "$(content_digest "$WS")" ] \
     && grep -q "git-mtime-guard: 1 of $files files changed since the last sealed build; stamp trusted$" "$log.2" \
     && grep -q "git-mtime-guard: bumped beta/src/lib.rs: content differs from the stamp's [0-9a-f]\{12\}$" "$log.2" \
     && [ "$(grep -c 'git-mtime-guard: bumped ' "$log.2")" -eq 1 ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.2")" "printed: $printed" "guard: $(grep 'git-mtime-guard' "$log.2" | tr '\n' ' ')"; fi

  name="3c. cache mount, nothing changed (a new --build-arg so the RUN executes): nothing compiles"
  wrapped_workspace_build s3 "$log.3" --build-arg RERUN=1 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.3")"; return; }
  printed=$(docker run --rm --network=none s3)
  if [ -z "$(compiled "$log.3")" ] && grep -q 'Finished' "$log.3" && [ "$printed" = "alpha 1 beta 2" ] \
     && grep -q "git-mtime-guard: 0 of [0-9]* files changed since the last sealed build; stamp trusted$" "$log.3" \
     && ! grep -q 'git-mtime-guard: bumped ' "$log.3"; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.3")" "printed: $printed" "guard: $(grep 'git-mtime' "$log.3" | tr '\n' ' ')"; fi

  # An untracked module (never `git add`ed) is part of the context: the manifest lists it as untracked.
  name="3d. cache mount, a new untracked module in beta: beta and app compile"
  echo "pub const N: u32 = 3;" >"$WS/beta/src/extra.rs"
  printf 'mod extra;\npub fn version() -> u32 { extra::N }\n' >"$WS/beta/src/lib.rs"
  (cd "$WS" && git add beta/src/lib.rs && GIT_AUTHOR_DATE="@1600000600 +0000" GIT_COMMITTER_DATE="@1600000600 +0000" git commit -q -m "beta uses extra")
  wrapped_workspace_build s3 "$log.4" --build-arg RERUN=2 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.4")"; return; }
  printed=$(docker run --rm --network=none s3)
  if [ "$(compiled "$log.4")" = "app beta" ] && [ "$printed" = "alpha 1 beta 3" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.4")" "printed: $printed"; fi

  name="3e. cache mount, the untracked module changed with an old mtime: rebuilt, not stale"
  echo "pub const N: u32 = 4;" >"$WS/beta/src/extra.rs"
  touch -d @1600000000 "$WS/beta/src/extra.rs"
  before=$(content_digest "$WS")
  wrapped_workspace_build s3 "$log.5" --build-arg RERUN=3 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.5")"; return; }
  printed=$(docker run --rm --network=none s3)
  if [ "$(compiled "$log.5")" = "app beta" ] && [ "$printed" = "alpha 1 beta 4" ] && [ "$before" = "$(content_digest "$WS")" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.5")" "printed: $printed" "guard: $(grep 'git-mtime' "$log.5" | tr '\n' ' ')"; fi
}

# --- 4. The classic builder: same Dockerfile, rewritten in a temporary copy -----------------------------------
scenario_4() {
  local name="4. wrapped classic build (DOCKER_BUILDKIT=0) prints the real program's output"
  local out="$WORK/s4.log" before after images_before images_after dockerfile_before
  before=$(content_digest "$APP")
  dockerfile_before=$(sha256sum <"$DOCKERFILES/guarded.Dockerfile")
  images_before=$(tagged_images)
  DOCKER_BUILDKIT=0 git_mtime docker build --network=none -t s4 -f "$DOCKERFILES/guarded.Dockerfile" "$APP" >"$out" 2>&1 \
    || { fail "$name" "wrapper failed: $(tail -n 8 "$out")"; return; }
  local printed; printed=$(docker run --rm --network=none s4)
  after=$(content_digest "$APP")
  # The classic builder keeps intermediate images of the build itself (untagged, children of s4); only
  # tagged images are compared.
  images_after=$(tagged_images | grep -v '^s4:latest ')
  if [ "$printed" = "the real app, version 1" ] && [ "$before" = "$after" ] \
     && [ "$dockerfile_before" = "$(sha256sum <"$DOCKERFILES/guarded.Dockerfile")" ] \
     && [ "$images_before" = "$images_after" ] && [ -z "$(ls -A "$TMPDIR")" ] \
     && ! docker run --rm --network=none --entrypoint /bin/sh s4 -c 'test -e /git-mtime'; then pass "$name"
  else fail "$name" "program printed: $printed" "images left: $(diff <(echo "$images_before") <(echo "$images_after") | grep '^>' | tr '\n' ' ')" \
              "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')" "log: $(grep -i 'git-mtime\|error' "$out" | head -n 5 | tr '\n' ' ')"; fi
  # The guarded line as people write it: a parser directive, a continuation, a trailing shell comment.
  local ctx="$WORK/decorated" buildkit
  new_repo "$ctx"
  echo "decorated" >"$ctx/input.txt"
  cat >"$ctx/Dockerfile" <<'EOF'
# escape=`
FROM rust-base:local
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime `
    /git-mtime/guard run -- sh -c 'cat input.txt >/out' # keep the output
CMD ["cat", "/out"]
EOF
  commit_all "$ctx" 1600000000 "decorated"
  for buildkit in 0 1; do
    name="4b. escape directive, continuation and trailing comment on the guarded line (DOCKER_BUILDKIT=$buildkit): built, no guard left in the image"
    printed=$(DOCKER_BUILDKIT=$buildkit wrapped_output s4b "$WORK/s4b.log" build --network=none -t s4b "$ctx")
    if [ "$printed" = "decorated" ] && grep -q "git-mtime-guard: [0-9,]* of [0-9,]* files changed since the last sealed build; " "$WORK/s4b.log" \
       && ! docker run --rm --network=none --entrypoint /bin/sh s4b -c 'test -e /git-mtime/guard'; then pass "$name"
    else fail "$name" "printed: $printed" "log: $(grep -i 'git-mtime\|error' "$WORK/s4b.log" | tail -n 3 | tr '\n' ' ')"; fi
  done
}

# --- 5. A failing build: docker's exit status, nothing left behind --------------------------------------------
# A client that records each call's exit status, so the wrapper's status is compared with the client's own.
recording_client() {  # CLIENT RECORD: the script on stdout
  cat <<EOF
#!/bin/sh
"$1" "\$@"
status=\$?
echo "\$status \$*" >>"$2"
exit \$status
EOF
}
failing_context() {  # the context whose guarded command fails, made once
  local ctx="$WORK/failing"
  [ -d "$ctx" ] && return
  new_repo "$ctx"
  echo "data" >"$ctx/input.txt"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'echo failing on purpose; exit 3'
EOF
  commit_all "$ctx" 1600000000 "failing"
}
scenario_5() {
  local ctx="$WORK/failing" record="$WORK/docker-calls"
  failing_context
  recording_client "$DOCKER_CLIENT" "$record" >"$WORK/recording-docker"
  chmod +x "$WORK/recording-docker"
  local mode buildkit
  for mode in buildkit classic; do
    [ "$mode" = buildkit ] && buildkit=1 || buildkit=0
    local name="5. failing build ($mode): the wrapper exits with docker's status, leaves no file, image or tag"
    local before images_before status docker_status
    : >"$record"
    before=$(content_digest "$ctx")
    images_before=$(tagged_images)
    DOCKER_BUILDKIT=$buildkit git_mtime docker --docker "$WORK/recording-docker" build --network=none -t s5 "$ctx" >"$WORK/s5.log" 2>&1
    status=$?
    docker_status=$(grep " build --network=none -t s5 " "$record" | awk '{print $1}')
    if [ "$status" -ne 0 ] && [ "$status" = "$docker_status" ] && grep -q "failing on purpose" "$WORK/s5.log" \
       && [ "$images_before" = "$(tagged_images)" ] \
       && [ -z "$(ls -A "$TMPDIR")" ] && [ "$before" = "$(content_digest "$ctx")" ] \
       && ! images | grep -q '^git-mtime'; then pass "$name"
    else fail "$name" "wrapper status $status, docker status ${docker_status:-none}" "images: $(images | grep git-mtime | tr '\n' ' ')" \
                "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')" "log: $(tail -n 4 "$WORK/s5.log" | tr '\n' ' ')"; fi
  done
}

# --- 6. Ctrl-C during the build: forwarded to docker, which cancels; everything removed --------------------------
scenario_6() {
  local ctx="$WORK/interrupted" name="6. SIGINT during a wrapped build stops docker and leaves no file, image or tag"
  new_repo "$ctx"
  echo "data" >"$ctx/input.txt"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'echo now sleeping; sleep 60'
EOF
  commit_all "$ctx" 1600000000 "interrupted"
  local images_before; images_before=$(tagged_images)
  # Started directly (not through a shell function) so that $! is the wrapper itself. A background job
  # of a shell without job control starts with SIGINT ignored, and git-mtime (like any program) keeps an
  # inherited ignored signal ignored: give it the default action, as an interactive Ctrl-C would find it.
  DOCKER_BUILDKIT=1 env --default-signal=INT "$BIN/git-mtime" docker build --network=none --progress=plain -t s6 "$ctx" >"$WORK/s6.log" 2>&1 &
  local pid=$! i
  for i in $(seq 1 300); do grep -q "now sleeping" "$WORK/s6.log" && break; sleep 0.1; done
  local started_at; started_at=$(date +%s)
  kill -INT "$pid"
  wait "$pid"
  local status=$? took=$(($(date +%s) - started_at))
  # docker cancels the build on SIGINT and exits 1; the wrapper exits with docker's status.
  if grep -q "now sleeping" "$WORK/s6.log" && grep -q "CANCELED" "$WORK/s6.log" && [ "$status" -eq 1 ] && [ "$took" -lt 30 ] \
     && [ -z "$(ls -A "$TMPDIR")" ] && [ "$images_before" = "$(tagged_images)" ] && ! images | grep -q '^git-mtime'; then pass "$name"
  else fail "$name" "status $status after ${took}s" "images: $(images | grep git-mtime | tr '\n' ' ')" \
              "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')" "log: $(tail -n 4 "$WORK/s6.log" | tr '\n' ' ')"; fi
}

# --- 7. The Dockerfile on stdin (`-f -`), in both BuildKit and classic mode ------------------------------------
scenario_7() {
  local buildkit
  for buildkit in 1 0; do
    local name="7. Dockerfile on stdin (-f -, DOCKER_BUILDKIT=$buildkit) prints the real program's output"
    DOCKER_BUILDKIT=$buildkit git_mtime docker build --network=none -t s7 -f - "$APP" <"$DOCKERFILES/guarded.Dockerfile" >"$WORK/s7.log" 2>&1 \
      || { fail "$name" "wrapper failed: $(tail -n 8 "$WORK/s7.log")"; continue; }
    local printed; printed=$(docker run --rm --network=none s7)
    if [ "$printed" = "the real app, version 1" ] && [ -z "$(ls -A "$TMPDIR")" ] && ! images | grep -q '^git-mtime'; then pass "$name"
    else fail "$name" "program printed: $printed" "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')"; fi
  done
}

# --- 8. A daemon shared by two clients that share nothing else: every build gets its own guard and manifest ------
# Two CI jobs (or users) on one daemon socket, with their own TMPDIR and XDG_RUNTIME_DIR: each wrapped build,
# BuildKit or classic, must see exactly its own manifest, and nothing either made may be left on the daemon.
SHARED_ROUNDS=${GIT_MTIME_SHARED_ROUNDS:-6}
scenario_8() {
  local name="8. two clients sharing only the daemon, $SHARED_ROUNDS rounds of concurrent wrapped builds: each sees its own manifest, nothing is left"
  local who
  for who in a b; do
    local ctx="$WORK/shared-$who"
    new_repo "$ctx"
    echo "context $who" >"$ctx/$who.txt"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
ARG ROUND
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'sleep 1; cp /git-mtime/manifest /manifest'
CMD ["cat", "/manifest"]
EOF
    commit_all "$ctx" 1600000000 "shared $who"
    mkdir -p "$WORK/client-$who/tmp" "$WORK/client-$who/run"
  done
  # One client's rounds: BuildKit and classic builds in turn (both clients in step), each checked against its own manifest.
  client_rounds() {  # WHO FIRST_BUILDKIT
    local who=$1 buildkit=$2 round status expected
    for round in $(seq 1 "$SHARED_ROUNDS"); do
      echo "$round" >"$WORK/shared-$who/round.txt"
      commit_all "$WORK/shared-$who" $((1600000000 + round)) "round $round"
      TMPDIR="$WORK/client-$who/tmp" XDG_RUNTIME_DIR="$WORK/client-$who/run" DOCKER_BUILDKIT=$buildkit \
        "$BIN/git-mtime" docker build --network=none --build-arg "ROUND=$round" -t "s8$who" "$WORK/shared-$who" \
        >"$WORK/s8$who.$round.log" 2>&1
      status=$?
      expected=$("$BIN/git-mtime" manifest -C "$WORK/shared-$who")
      if [ "$status" -ne 0 ]; then echo "round $round (DOCKER_BUILDKIT=$buildkit): wrapper exit $status: $(grep -i 'error\|git-mtime' "$WORK/s8$who.$round.log" | tail -n 3 | tr '\n' ' ')"
      elif [ "$(docker run --rm --network=none "s8$who")" != "$expected" ]; then echo "round $round (DOCKER_BUILDKIT=$buildkit): the build saw another manifest"
      fi
      buildkit=$((1 - buildkit))
    done
  }
  client_rounds a 1 >"$WORK/s8a.result" 2>&1 &
  local first=$!
  client_rounds b 1 >"$WORK/s8b.result" 2>&1
  wait "$first"
  local left; left=$(docker image ls --all --filter label=git-mtime.inject --format '{{.Repository}}:{{.Tag}}'; images | grep '^git-mtime' || true)
  if [ ! -s "$WORK/s8a.result" ] && [ ! -s "$WORK/s8b.result" ] && [ -z "$left" ] \
     && [ -z "$(ls -A "$WORK/client-a/tmp")$(ls -A "$WORK/client-b/tmp")" ]; then pass "$name"
  else fail "$name" "client a: $(tr '\n' ';' <"$WORK/s8a.result")" "client b: $(tr '\n' ';' <"$WORK/s8b.result")" "left on the daemon: $(echo "$left" | tr '\n' ' ')"; fi
}

# A missing builder is a failure in CI and a visible skip elsewhere (then it returns non-zero).
have_client() {  # SCENARIO-NAME PROGRAM
  command -v "$2" >/dev/null && return 0
  if [ "${CI:-}" = "true" ]; then fail "$1" "$2 is not installed (scripts/install-test-deps)"
  else echo "SKIPPED: $1: $2 is not installed (scripts/install-test-deps)"; fi
  return 1
}

# --- 9. buildah: the --build-context mode on a real builder ----------------------------------------------------
scenario_9() {
  local name="9. wrapped buildah build (--build-context mode) runs the guard and the command"
  have_client "$name" buildah || return
  # Private storage (vfs, chroot isolation: no daemon, nothing outside $WORK).
  export CONTAINERS_STORAGE_CONF="$WORK/buildah/storage.conf" BUILDAH_ISOLATION=chroot
  mkdir -p "$WORK/buildah/base/bin"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$WORK/buildah/root" "$WORK/buildah/run" >"$CONTAINERS_STORAGE_CONF"
  cp /bin/busybox "$WORK/buildah/base/bin/sh"
  local container; container=$(buildah from scratch) && buildah copy "$container" "$WORK/buildah/base" / >/dev/null \
    && buildah config --env PATH=/bin "$container" && buildah commit -q "$container" busybox-base >/dev/null && buildah rm "$container" >/dev/null \
    || { fail "$name" "could not make the busybox base image"; return; }
  local ctx="$WORK/buildah-ctx"
  new_repo "$ctx"
  echo "buildah data" >"$ctx/input.txt"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox-base
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'cat input.txt'
EOF
  commit_all "$ctx" 1600000000 "buildah"
  local before; before=$(content_digest "$ctx")
  git_mtime docker --docker buildah build -t s9 "$ctx" >"$WORK/s9.log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ] && grep -q "^buildah data$" "$WORK/s9.log" && grep -q "through: --build-context" "$WORK/s9.log" \
     && grep -q "^git-mtime-guard: 2 of 2 files changed since the last sealed build; no stamp$" "$WORK/s9.log" && [ -z "$(ls -A "$TMPDIR")" ] && [ "$before" = "$(content_digest "$ctx")" ]; then
    pass "$name"
  else fail "$name" "status $status" "temporary files left: $(ls -A "$TMPDIR" | tr '\n' ' ')" "log: $(grep -v '^Copying' "$WORK/s9.log" | tail -n 6 | tr '\n' ' ')"; fi
  buildah rm --all >/dev/null 2>&1
  buildah rmi --all --force >/dev/null 2>&1
  unset CONTAINERS_STORAGE_CONF BUILDAH_ISOLATION
}

# --- 10. What docker accepts, the wrapper accepts: Dockerfile lookup, paths named like URLs, help, client options --
scenario_10() {
  local buildkit name out
  for buildkit in 1 0; do
    # A lowercase `dockerfile`, which docker/cli and BuildKit fall back to.
    name="10a. only a lowercase dockerfile in the context (DOCKER_BUILDKIT=$buildkit): built with the guard"
    quick_context "$WORK/lower-$buildkit" "lowercase" dockerfile
    out=$(DOCKER_BUILDKIT=$buildkit wrapped_output s10 "$WORK/s10a.log" build --network=none -t s10 "$WORK/lower-$buildkit")
    if [ "$out" = "lowercase" ] && grep -q "git-mtime-guard: [0-9,]* of [0-9,]* files changed since the last sealed build; " "$WORK/s10a.log"; then pass "$name"
    else fail "$name" "printed: $out" "log: $(grep -i 'git-mtime\|error' "$WORK/s10a.log" | tail -n 3 | tr '\n' ' ')"; fi

    # `-f` is relative to the working directory, not to the context.
    name="10b. -f relative to the working directory, not the context (DOCKER_BUILDKIT=$buildkit)"
    quick_context "$WORK/relative-$buildkit/ctx" "context" && mkdir -p "$WORK/relative-$buildkit/ctx/docker" "$WORK/relative-$buildkit/docker"
    sed 's|cat input.txt >/out|echo from-the-context >/out|' "$WORK/relative-$buildkit/ctx/Dockerfile" >"$WORK/relative-$buildkit/ctx/docker/app.Dockerfile"
    sed 's|cat input.txt >/out|echo from-the-working-directory >/out|' "$WORK/relative-$buildkit/ctx/Dockerfile" >"$WORK/relative-$buildkit/docker/app.Dockerfile"
    commit_all "$WORK/relative-$buildkit/ctx" 1600000100 "dockerfiles"
    out=$(cd "$WORK/relative-$buildkit" && DOCKER_BUILDKIT=$buildkit wrapped_output s10 "$WORK/s10b.log" build --network=none -t s10 -f docker/app.Dockerfile ctx)
    if [ "$out" = "from-the-working-directory" ]; then pass "$name"
    else fail "$name" "printed: $out" "log: $(grep -i 'git-mtime\|error' "$WORK/s10b.log" | tail -n 3 | tr '\n' ' ')"; fi
  done

  name="10c. a local directory named github.com/x/y is a local context, not a URL"
  quick_context "$WORK/lookalike/github.com/x/y" "local, named like a URL"
  out=$(cd "$WORK/lookalike" && DOCKER_BUILDKIT=1 wrapped_output s10 "$WORK/s10c.log" build --network=none -t s10 github.com/x/y)
  if [ "$out" = "local, named like a URL" ]; then pass "$name"
  else fail "$name" "printed: $out" "log: $(tail -n 3 "$WORK/s10c.log" | tr '\n' ' ')"; fi

  name="10d. git mtime docker build --help is docker's own help"
  local help status
  help=$(git_mtime docker build --help 2>&1)
  status=$?
  if [ "$status" -eq 0 ] && [ "$help" = "$(docker build --help 2>&1)" ] && [[ "$help" == *"Usage:  docker build [OPTIONS] PATH | URL | -"* ]]; then pass "$name"
  else fail "$name" "status $status" "output: $(echo "$help" | head -n 3 | tr '\n' ' ')"; fi

  # Client options before `build` reach every call the wrapper makes (here -H: no DOCKER_HOST at all), and
  # option forms the old parser refused pass through as typed.
  name="10e. client options before build (-H) and pflag forms (-q=false, --network none, --iidfile=) pass through"
  quick_context "$WORK/options" "options"
  local images_before; images_before=$(tagged_images)
  out=$(env -u DOCKER_HOST DOCKER_BUILDKIT=1 "$BIN/git-mtime" docker -H "$DOCKER_HOST" build -q=false --network none \
          --iidfile="$WORK/s10e.iid" -t s10e "$WORK/options" 2>"$WORK/s10e.log" >/dev/null && docker run --rm --network=none s10e)
  if [ "$out" = "options" ] && [ "$(docker image inspect --format '{{.Id}}' s10e)" = "$(cat "$WORK/s10e.iid")" ] \
     && [ "$images_before" = "$(tagged_images | grep -v '^s10e:latest ')" ]; then pass "$name"
  else fail "$name" "printed: $out" "log: $(tail -n 4 "$WORK/s10e.log" | tr '\n' ' ')"; fi
}

# --- 11. Contexts without history: no commit yet, or no repository at all --------------------------------------
scenario_11() {
  local kind buildkit ctx out name
  for kind in no-commit no-repository; do
    ctx="$WORK/history-$kind"
    if [ "$kind" = no-commit ]; then new_repo "$ctx"; else mkdir -p "$ctx"; fi
    echo "$kind" >"$ctx/input.txt"
    quick_dockerfile "$ctx/Dockerfile"
    sed -i 's|cat input.txt >/out|cat input.txt >/out; grep -c "^untracked 1" /git-mtime/manifest >>/out; grep "^head " /git-mtime/manifest >>/out|' "$ctx/Dockerfile"
    for buildkit in 1 0; do
      name="11. a context with $kind (DOCKER_BUILDKIT=$buildkit): built under the guard, every file untracked, one note"
      out=$(DOCKER_BUILDKIT=$buildkit wrapped_output s11 "$WORK/s11.log" build --network=none -t s11 "$ctx")
      # Classic: the manifest leaves out the .dockerignore the client rewrites; there is none here.
      if [ "$out" = "$(printf '%s\n2\nhead -' "$kind")" ] && grep -q "^git-mtime: note: times not restored (" "$WORK/s11.log" \
         && grep -q "git-mtime-guard: [0-9,]* of [0-9,]* files changed since the last sealed build; " "$WORK/s11.log"; then pass "$name"
      else fail "$name" "printed: $(echo "$out" | tr '\n' ' ')" "log: $(grep -i 'git-mtime\|error' "$WORK/s11.log" | tail -n 3 | tr '\n' ' ')"; fi
    done
  done
}

# --- 12. podman: the seed, the cache mount and a failing build through `git mtime docker --docker podman` -------
# Rootful podman with private vfs storage, --network=none, the base image imported from the same rootfs tarball;
# --layers=false as buildah builds by default (vfs copies the whole image for every committed layer).
# GIT_MTIME_PODMAN_DRIVER=overlay uses overlay storage instead: the same scenarios, a third of the time.
scenario_12() {
  local name="12. podman"
  have_client "$name" podman || return
  local storage="$WORK/podman"
  mkdir -p "$storage/tmp"
  printf '[storage]\ndriver = "%s"\ngraphroot = "%s"\nrunroot = "%s"\n' "${GIT_MTIME_PODMAN_DRIVER:-vfs}" "$storage/root" "$storage/run" >"$storage/storage.conf"
  # podman and buildah keep their own temporary files (cache mounts among them) in TMPDIR: a directory of their own.
  local -x CONTAINERS_STORAGE_CONF="$storage/storage.conf" TMPDIR="$storage/tmp"
  DOCKER=podman "$ROOT/scripts/docker-env" rust-base rust-base:local 2>"$WORK/podman-import.log" \
    || { fail "$name" "could not import the base image into podman: $(tail -n 3 "$WORK/podman-import.log" | tr '\n' ' ')"; return; }
  podman_build() {  # LOG ARGUMENTS…
    local log=$1
    shift
    git_mtime docker --docker podman build --layers=false --network=none "$@" >"$log" 2>&1
  }
  leftovers() { find "$TMPDIR" -maxdepth 1 -name 'git-mtime-*'; }

  name="12a. podman: the seed's guarded build prints the real program's output"
  sed 's|^RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release$|& \&\& ./target/release/app|' \
    "$DOCKERFILES/guarded.Dockerfile" >"$DOCKERFILES/podman-seed.Dockerfile"
  local before; before=$(content_digest "$APP")
  if podman_build "$WORK/s12a.log" -t s12 -f "$DOCKERFILES/podman-seed.Dockerfile" "$APP" \
     && grep -q "^the real app, version 1$" "$WORK/s12a.log" && ! grep -q "^Hello, world!$" "$WORK/s12a.log" \
     && grep -q "through: --build-context" "$WORK/s12a.log" && [ -z "$(leftovers)" ] && [ "$before" = "$(content_digest "$APP")" ]; then pass "$name"
  else fail "$name" "leftovers: $(leftovers | tr '\n' ' ')" "log: $(grep -v '^Copying\|^Writing\|^Storing' "$WORK/s12a.log" | tail -n 6 | tr '\n' ' ')"; fi

  local ws="$WORK/podman-workspace" log="$WORK/s12b"
  write_workspace "$ws"
  sed 's|cp target/release/app /usr/local/bin/$|& \&\& app|' "$ws/Dockerfile" >"$DOCKERFILES/podman-workspace.Dockerfile"
  name="12b. podman, cache mount, first build: all three crates compile"
  podman_build "$log.1" -t s12 -f "$DOCKERFILES/podman-workspace.Dockerfile" "$ws"
  if [ "$(compiled "$log.1")" = "alpha app beta" ] && grep -q "^alpha 1 beta 1$" "$log.1"; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.1")" "log: $(tail -n 4 "$log.1" | tr '\n' ' ')"; fi
  name="12b. podman, cache mount, one file changed in beta: only beta and app compile"
  echo "pub fn version() -> u32 { 2 }" >"$ws/beta/src/lib.rs"
  commit_all "$ws" 1600000500 "beta 2"
  podman_build "$log.2" -t s12 -f "$DOCKERFILES/podman-workspace.Dockerfile" "$ws"
  if [ "$(compiled "$log.2")" = "app beta" ] && grep -q "^alpha 1 beta 2$" "$log.2"; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.2")" "log: $(tail -n 4 "$log.2" | tr '\n' ' ')"; fi
  name="12b. podman, cache mount, nothing changed: nothing compiles"
  podman_build "$log.3" -t s12 -f "$DOCKERFILES/podman-workspace.Dockerfile" "$ws"
  if [ -z "$(compiled "$log.3")" ] && grep -q "Finished" "$log.3" && grep -q "^alpha 1 beta 2$" "$log.3" && [ -z "$(leftovers)" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.3")" "leftovers: $(leftovers | tr '\n' ' ')"; fi

  name="12c. podman, failing build: the wrapper exits with podman's status, leaves no file"
  failing_context
  local record="$WORK/podman-calls"
  : >"$record"
  recording_client podman "$record" >"$WORK/recording-podman"
  chmod +x "$WORK/recording-podman"
  git_mtime docker --docker "$WORK/recording-podman" build --layers=false --network=none -t s12c "$WORK/failing" >"$WORK/s12c.log" 2>&1
  local status=$? client_status
  client_status=$(grep " build --layers=false --network=none " "$record" | awk '{print $1}')
  if [ "$status" -ne 0 ] && [ "$status" = "$client_status" ] && grep -q "failing on purpose" "$WORK/s12c.log" && [ -z "$(leftovers)" ]; then pass "$name"
  else fail "$name" "wrapper status $status, podman status ${client_status:-none}" "log: $(tail -n 4 "$WORK/s12c.log" | tr '\n' ' ')"; fi

  podman rm --all --force >/dev/null 2>&1
  podman rmi --all --force >/dev/null 2>&1
}

# --- 13. A crate in a submodule, cache mount on target/: a submodule bump with an old mtime is rebuilt --------
scenario_13() {
  local gamma="$WORK/gamma" sm="$WORK/with-submodule" log="$WORK/s13" printed
  new_repo "$gamma"
  mkdir -p "$gamma/src"
  printf '[package]\nname = "gamma"\nversion = "0.1.0"\nedition = "2021"\n' >"$gamma/Cargo.toml"
  echo "pub fn version() -> u32 { 1 }" >"$gamma/src/lib.rs"
  commit_all "$gamma" 1500000000 "gamma 1"
  new_repo "$sm"
  mkdir -p "$sm/src"
  printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ngamma = { path = "vendor/gamma" }\n' >"$sm/Cargo.toml"
  echo 'fn main() { println!("gamma {}", gamma::version()); }' >"$sm/src/main.rs"
  cache_mount_dockerfile "$sm"
  (cd "$sm" && git -c protocol.file.allow=always submodule add -q "$gamma" vendor/gamma && cargo generate-lockfile --offline -q)
  commit_all "$sm" 1600000000 "app with gamma in a submodule"
  build13() {  # LOG RERUN
    DOCKER_BUILDKIT=1 git_mtime docker build --network=none --progress=plain --build-arg "RERUN=$2" -t s13 "$sm" >"$1" 2>&1
  }

  local name="13a. a crate in a submodule, first build: gamma and app compile"
  build13 "$log.1" 0 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.1")"; return; }
  printed=$(docker run --rm --network=none s13)
  if [ "$(compiled "$log.1")" = "app gamma" ] && [ "$printed" = "gamma 1" ] && grep -q "in 1 submodule(s)" "$log.1"; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.1")" "printed: $printed" "wrapper: $(grep 'git-mtime' "$log.1" | head -n 3 | tr '\n' ' ')"; fi

  name="13b. the submodule bumped to a commit older than the build, its source copied with that old mtime: rebuilt"
  echo "pub fn version() -> u32 { 2 }" >"$gamma/src/lib.rs"
  commit_all "$gamma" 1500000500 "gamma 2"
  (cd "$sm/vendor/gamma" && git -c protocol.file.allow=always fetch -q && git checkout -q origin/main)
  commit_all "$sm" 1600000500 "bump gamma"
  touch -d @1500000500 "$sm/vendor/gamma/src/lib.rs"
  build13 "$log.2" 1 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.2")"; return; }
  printed=$(docker run --rm --network=none s13)
  if [ "$(compiled "$log.2")" = "app gamma" ] && [ "$printed" = "gamma 2" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.2")" "printed: $printed" "guard: $(grep 'git-mtime' "$log.2" | tr '\n' ' ')"; fi

  name="13c. nothing changed: nothing compiles"
  build13 "$log.3" 2 || { fail "$name" "wrapper failed: $(tail -n 8 "$log.3")"; return; }
  printed=$(docker run --rm --network=none s13)
  if [ -z "$(compiled "$log.3")" ] && grep -q 'Finished' "$log.3" && [ "$printed" = "gamma 2" ]; then pass "$name"
  else fail "$name" "compiled: $(compiled "$log.3")" "printed: $printed"; fi
}

# --- 14. The ignore file each builder reads, as it reads it, reaches the guard (issue 11: 1, 2, 4) ---------------
# Each guarded build lists what it received; the guard has already compared that with the manifest.
rules_context() {  # DIR: a symlinked .dockerignore (notes), app.Dockerfile.dockerignore (**/*.log)
  new_repo "$1"
  mkdir -p "$1/logs" "$1/notes" "$1/rules"
  echo rules >"$1/input.txt"; echo x >"$1/x.log"; echo app >"$1/logs/app.log"; echo a >"$1/notes/a.txt"
  printf '.git\nnotes\n' >"$1/rules/context.rules"
  ln -s rules/context.rules "$1/.dockerignore"
  printf '.git\n**/*.log\n' >"$1/app.Dockerfile.dockerignore"
  cat >"$1/Dockerfile" <<'DOCKERFILE'
FROM rust-base:local
WORKDIR /app
COPY . .
RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'find . ! -type d | sort | tr "\n" " " >/out'
CMD ["cat", "/out"]
DOCKERFILE
  cp "$1/Dockerfile" "$1/app.Dockerfile"
  commit_all "$1" 1600000000 "rules"
}
scenario_14() {
  local name out ctx="$WORK/rules" before status client
  rules_context "$ctx"
  before=$(content_digest "$ctx")

  name="14a. BuildKit with -f app.Dockerfile reads app.Dockerfile.dockerignore instead of .dockerignore"
  out=$(DOCKER_BUILDKIT=1 wrapped_output s14 "$WORK/s14a.log" build --network=none -t s14 -f "$ctx/app.Dockerfile" "$ctx")
  if [ "$out" = "./.dockerignore ./Dockerfile ./app.Dockerfile ./app.Dockerfile.dockerignore ./input.txt ./notes/a.txt ./rules/context.rules " ] \
     && grep -q "git-mtime-guard: .* files changed since the last sealed build" "$WORK/s14a.log"; then pass "$name"
  else fail "$name" "received: $out" "log: $(grep -i 'git-mtime\|error\|missing' "$WORK/s14a.log" | tail -n 4 | tr '\n' ' ')"; fi

  name="14b. BuildKit follows a symlinked .dockerignore inside the context"
  out=$(DOCKER_BUILDKIT=1 wrapped_output s14 "$WORK/s14b.log" build --network=none -t s14 "$ctx")
  if [ "$out" = "./.dockerignore ./Dockerfile ./app.Dockerfile ./app.Dockerfile.dockerignore ./input.txt ./logs/app.log ./rules/context.rules ./x.log " ] \
     && grep -q "git-mtime-guard: .* files changed since the last sealed build" "$WORK/s14b.log"; then pass "$name"
  else fail "$name" "received: $out" "log: $(grep -i 'git-mtime\|error\|missing' "$WORK/s14b.log" | tail -n 4 | tr '\n' ' ')"; fi

  # The classic client sends the wrapper's Dockerfile (outside the context) by appending its name to
  # .dockerignore in the tar stream, which fails for a symlink ("archive/tar: write too long"): refused first.
  name="14c. classic builder, symlinked .dockerignore: refused before docker builds, with the reason"
  DOCKER_BUILDKIT=0 git_mtime docker build --network=none -t s14 "$ctx" >"$WORK/s14c.log" 2>&1
  status=$?
  if [ "$status" -ne 0 ] && grep -q "is a symlink, and the classic builder's client cannot send it" "$WORK/s14c.log" \
     && ! grep -q "^Step 1/" "$WORK/s14c.log"; then pass "$name"
  else fail "$name" "status $status" "log: $(tail -n 3 "$WORK/s14c.log" | tr '\n' ' ')"; fi

  # A regular .dockerignore: the classic builder ignores app.Dockerfile.dockerignore. `**.log` is a suffix
  # match for the 23+ client (moby/patternmatcher) and a `(.*/)?\.log` regexp for the 20.10 one (fileutils);
  # the 20.10 daemon re-applies .dockerignore to the Dockerfile and itself with fileutils.
  rm "$ctx/.dockerignore" && printf '.git\nnotes\n**.log\n' >"$ctx/.dockerignore"
  local expected
  for client in /usr/bin/docker /usr/local/bin/docker; do
    [ -x "$client" ] || continue
    expected="./.dockerignore ./Dockerfile ./app.Dockerfile ./app.Dockerfile.dockerignore ./input.txt ./logs/app.log ./rules/context.rules ./x.log "
    [ "$("$client" --version | sed 's/^Docker version \([0-9]*\).*/\1/')" -ge 23 ] \
      && expected="./.dockerignore ./Dockerfile ./app.Dockerfile ./app.Dockerfile.dockerignore ./input.txt ./rules/context.rules "
    name="14d. classic builder, $("$client" --version | cut -d, -f1): only .dockerignore applies, **.log as that client matches it"
    out=$(DOCKER="$client" DOCKER_BUILDKIT=0 wrapped_output s14 "$WORK/s14d.log" build --network=none -t s14 -f "$ctx/app.Dockerfile" "$ctx")
    if [ "$out" = "$expected" ] \
       && grep -q "git-mtime-guard: .* files changed since the last sealed build" "$WORK/s14d.log"; then pass "$name"
    else fail "$name" "received: $out" "log: $(grep -i 'git-mtime\|error\|missing' "$WORK/s14d.log" | tail -n 4 | tr '\n' ' ')"; fi
  done
  rm "$ctx/.dockerignore" && ln -s rules/context.rules "$ctx/.dockerignore"

  name="14e. the context's contents are unchanged by every build above"
  if [ "$before" = "$(content_digest "$ctx")" ]; then pass "$name"; else fail "$name" "contents changed"; fi
}

# --- 15. doctor names the hazard of two real shapes; its fixes, applied as printed, build the right program ---------
apply_fix() {  # REPORT RULE DOCKERFILE OUT: OUT is DOCKERFILE with the first RULE finding's line replacements made
  python3 -c '
import json, sys
report, rule, source, target = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
finding = next(f for f in report["findings"] if f["rule"] == rule)
lines = open(source).read().split("\n")
for change in sorted(finding["fix"]["lines"], key=lambda c: -(c["line"] or 0)):
    if change["action"] == "replace":
        lines[change["line"] - 1:change["endLine"]] = [change["text"]]
open(target, "w").write("\n".join(lines))
' "$@"
}
scenario_15() {
  local name="15a. doctor names the seed's hazard; its fix, applied as printed, builds the real program"
  local report="$WORK/s15a.json" fixed="$DOCKERFILES/doctor-fixed.Dockerfile" status printed
  (cd "$APP" && git_mtime doctor --dockerfile "$DOCKERFILES/seed.Dockerfile" --format json) >"$report"
  status=$?
  if [ "$status" -ne 1 ] || ! grep -q '"rule":"stale-after-copy","cause":"`cargo build --release` runs after `COPY . .` (line 5)' "$report"; then
    fail "$name" "doctor exit $status: $(head -c 600 "$report")"
  else
    apply_fix "$report" stale-after-copy "$DOCKERFILES/seed.Dockerfile" "$fixed"
    if DOCKER_BUILDKIT=1 git_mtime docker build --network=none -t s15 -f "$fixed" "$APP" >"$WORK/s15a.log" 2>&1; then
      printed=$(docker run --rm --network=none s15)
      (cd "$APP" && git_mtime doctor --dockerfile "$fixed" >"$WORK/s15a.doctor")
      status=$?
      if [ "$printed" = "the real app, version 1" ] && [ "$status" -eq 0 ]; then pass "$name"
      else fail "$name" "printed: $printed" "doctor on the fixed file: exit $status $(tail -n 1 "$WORK/s15a.doctor")"; fi
    else
      fail "$name" "wrapper failed on the fixed Dockerfile: $(tail -n 8 "$WORK/s15a.log")"
    fi
  fi

  # Sources bind-mounted from the context, outputs in a cache mount (the shape `docker init` writes).
  local ctx="$WORK/bind-mounted"
  new_repo "$ctx"
  printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n' >"$ctx/Cargo.toml"
  mkdir -p "$ctx/src"
  echo 'fn main() { println!("version 1"); }' >"$ctx/src/main.rs"
  printf '.git\ntarget\n' >"$ctx/.dockerignore"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM rust-base:local
WORKDIR /app
ARG RERUN=0
RUN --mount=type=bind,source=src,target=src \
    --mount=type=bind,source=Cargo.toml,target=Cargo.toml \
    --mount=type=bind,source=Cargo.lock,target=Cargo.lock \
    --mount=type=cache,target=/app/target \
    cargo build --release && cp target/release/app /usr/local/bin/app
CMD ["app"]
DOCKERFILE
  (cd "$ctx" && cargo generate-lockfile --offline -q)
  commit_all "$ctx" 1600000000 "bind-mounted app"
  bind_build() {  # RERUN LOG
    DOCKER_BUILDKIT=1 git_mtime docker build --network=none --progress=plain --build-arg "RERUN=$1" -t s15b "$ctx" >"$2" 2>&1
  }
  new_version() {  # N SECONDS: commit src/main.rs printing "version N" at an old commit time
    echo "fn main() { println!(\"version $1\"); }" >"$ctx/src/main.rs"
    commit_all "$ctx" "$2" "version $1"
  }
  name="15b. cache mount over bind-mounted sources, unguarded: a change with its commit time is not rebuilt (the hazard is real)"
  local log="$WORK/s15b"
  if bind_build 1 "$log.1" && new_version 2 1600000500 && bind_build 2 "$log.2"; then
    printed=$(docker run --rm --network=none s15b)
    if [ "$printed" = "version 1" ] && [ -z "$(compiled "$log.2")" ]; then pass "$name"
    else fail "$name" "printed: $printed (expected the stale version 1)" "compiled: $(compiled "$log.2")"; fi
  else
    fail "$name" "build failed: $(tail -n 8 "$log.1" "$log.2" 2>/dev/null)"
  fi

  name="15c. doctor's fix for that RUN (rw bind mounts, --allow-missing, the guard) rebuilds exactly what changed"
  report="$WORK/s15c.json"
  (cd "$ctx" && git_mtime doctor --format json) >"$report"
  status=$?
  if [ "$status" -ne 1 ] || ! grep -q '"rule":"unguarded-cache-mount"' "$report"; then
    fail "$name" "doctor exit $status: $(head -c 600 "$report")"
    return
  fi
  apply_fix "$report" unguarded-cache-mount "$ctx/Dockerfile" "$ctx/Dockerfile.fixed"
  mv "$ctx/Dockerfile.fixed" "$ctx/Dockerfile"
  commit_all "$ctx" 1600000550 "doctor's fix"
  local first second third
  bind_build 3 "$log.3" && first=$(docker run --rm --network=none s15b)
  new_version 3 1600000600
  bind_build 4 "$log.4" && second=$(docker run --rm --network=none s15b)
  bind_build 5 "$log.5" && third=$(docker run --rm --network=none s15b)
  # The builds here use BuildKit (DOCKER_BUILDKIT=1); with docker 20.10 and no setting, the classic builder
  # would refuse the extra mounts, and doctor says so.
  (cd "$ctx" && DOCKER_BUILDKIT=1 git_mtime doctor >"$WORK/s15c.doctor") && (cd "$ctx" && ! git_mtime doctor >/dev/null)
  status=$?
  if [ "$first" = "version 2" ] && [ "$second" = "version 3" ] && [ "$(compiled "$log.4")" = "app" ] \
     && [ "$third" = "version 3" ] && [ -z "$(compiled "$log.5")" ] && [ "$status" -eq 0 ]; then pass "$name"
  else fail "$name" "printed: ${first:-?} / ${second:-?} / ${third:-?}" "compiled: $(compiled "$log.4") / $(compiled "$log.5")" \
              "doctor after the fix: exit $status: $(grep -v '^ ' "$WORK/s15c.doctor" | head -n 3 | tr '\n' ' ')" \
              "log: $(grep -i 'git-mtime\|error' "$log.3" | head -n 5 | tr '\n' ' ')"; fi
}

# --- 16. Two builds of different sources at once, one cache mount (BuildKit's default sharing) ---------------------
# B's guard starts while A sleeps before cargo; B's cargo runs after A's. Unless the guards take turns, B prepares
# against the stamp A is about to replace, keeps its source's old time, and cargo hands B the program A built.
concurrent_context() {  # DIR VERSION
  new_repo "$1"
  printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n' >"$1/Cargo.toml"
  mkdir -p "$1/src"
  echo "fn main() { println!(\"version $2\"); }" >"$1/src/main.rs"
  printf '.git\ntarget\nDockerfile\n' >"$1/.dockerignore"
  cat >"$1/Dockerfile" <<'EOF'
FROM rust-base:local
WORKDIR /app
COPY . .
ARG DELAY=0
ARG RERUN=0
RUN --mount=type=cache,target=/app/target,id=s16 --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c "sleep $DELAY && cargo build --release --offline && cp target/release/app /usr/local/bin/"
CMD ["app"]
EOF
  (cd "$1" && cargo generate-lockfile --offline -q)
  commit_all "$1" 1600000000 "version $2"
}
scenario_16() {
  local name="16. two BuildKit builds of different sources at once sharing a cache mount: each image runs its own program, the second guard waits"
  concurrent_context "$WORK/s16a" 1
  concurrent_context "$WORK/s16b" 0
  concurrent_build() {  # WHO DELAY RERUN
    DOCKER_BUILDKIT=1 git_mtime docker build --network=none --progress=plain --build-arg "DELAY=$2" --build-arg "RERUN=$3" \
      -t "s16$1" "$WORK/s16$1" >"$WORK/s16$1.$3.log" 2>&1
  }
  concurrent_build b 0 seed || { fail "$name" "seed build failed: $(tail -n 8 "$WORK/s16b.seed.log")"; return; }
  concurrent_build a 20 1 &
  local first=$! waited=0
  # B starts once A's guard has prepared (its summary line is in A's log).
  while ! grep -q 'git-mtime-guard: .* files changed since the last sealed build' "$WORK/s16a.1.log" 2>/dev/null && [ "$waited" -lt 120 ]; do
    sleep 1
    waited=$((waited + 1))
  done
  concurrent_build b 25 1
  local second=$?
  wait "$first"
  local first_status=$? printed_a printed_b
  printed_a=$(docker run --rm --network=none s16a)
  printed_b=$(docker run --rm --network=none s16b)
  if [ "$first_status" -eq 0 ] && [ "$second" -eq 0 ] && [ "$printed_a" = "version 1" ] && [ "$printed_b" = "version 0" ] \
     && grep -q 'git-mtime-guard: waiting for another build that shares /app/target to finish' "$WORK/s16b.1.log"; then pass "$name"
  else fail "$name" "exit A $first_status, B $second; A printed: $printed_a; B printed: $printed_b" \
              "B: $(grep 'git-mtime-guard\|Compiling\|Finished' "$WORK/s16b.1.log" | tr '\n' ' ')"; fi
  docker image rm -f s16a s16b >/dev/null 2>&1 || true
}

started=$(date +%s)
# Arguments pick scenarios by number (default: all); 2 and 4 need nothing from 1, 3 runs 3a-3c in order.
for scenario in "${@:-1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16}"; do
  for number in $scenario; do "scenario_$number"; done
done
echo "runtime: $(($(date +%s) - started)) s (engine and base image excluded)"
summary
