#!/usr/bin/env bash
# The release (scripts/release) as a user gets it: the tarball in a chroot with nothing but busybox,
# the .deb in a Debian minbase root, install.sh --from without a toolchain, static executables,
# sizes, man pages and completions.
#
#   GIT_MTIME_BIN_DIR=.build/debug suites/release/run.sh
#
# Builds the release with scripts/release (scratch .build-release, shared with install.sh's test in
# swift test). The source build in GIT_MTIME_BIN_DIR is the reference the release must agree with.
# Needs root (chroot, mount), busybox-static, dpkg-deb, lintian, man-db, and the Debian rootfs that
# scripts/docker-env caches (the .deb test adds git and man-db to a copy of it, cached beside it).
# Ends with exactly one line `release: N passed, N failed`; exits non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "$ROOT" && cd "${GIT_MTIME_BIN_DIR:-.build/debug}" 2>/dev/null && pwd) || BIN=""
# The sizes issue 12 set, in bytes (stripped): a regression fails here, sizes are not noisy.
GIT_MTIME_MAX_BYTES=25000000
GUARD_MAX_BYTES=16000000

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; shift; for detail in "$@"; do echo "       $detail"; done; }
check() {  # LABEL COMMAND…: passes when COMMAND succeeds; its output is shown on failure
  local label=$1 output
  shift
  if output=$("$@" 2>&1); then pass "$label"; else fail "$label" "$(printf '%s' "$output" | tail -n 15)"; fi
}
summary() { echo "release: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
unavailable() {  # in CI a missing prerequisite is a failure; elsewhere a visible skip
  if [ "${CI:-}" = "true" ]; then fail "prerequisites" "$1"; else echo "SKIPPED: the release suite $1"; fi
  summary
}

[ -n "$BIN" ] && [ -x "$BIN/git-mtime" ] && [ -x "$BIN/git-mtime-guard" ] \
  || { fail "source build" "git-mtime and git-mtime-guard not found in ${GIT_MTIME_BIN_DIR:-.build/debug} (run swift build)"; summary; }
[ "$(id -u)" -eq 0 ] || unavailable "needs root (chroot and mount)"
for tool in busybox dpkg-deb lintian man chroot; do
  command -v "$tool" >/dev/null || unavailable "needs $tool (scripts/install-test-deps)"
done
file /bin/busybox 2>/dev/null | grep -q "statically linked" || unavailable "needs busybox-static"

WORK=$(mktemp -d /tmp/git-mtime-release-tests.XXXXXX)
MOUNTS=()
cleanup() {
  local mount
  for mount in "${MOUNTS[@]}"; do umount -l "$mount" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mount_proc() { mkdir -p "$1/proc" && mount -t proc proc "$1/proc" && MOUNTS+=("$1/proc"); }

# --- the build -----------------------------------------------------------------------------------
started=$(date +%s)
if ! "$ROOT/scripts/release" --out "$WORK/dist" >"$WORK/release.log" 2>&1; then
  fail "scripts/release builds the release" "$(tail -n 20 "$WORK/release.log")"
  summary
fi
echo "# scripts/release took $(($(date +%s) - started)) s"
version=$("$BIN/git-mtime" --version)
arch=$(uname -m)
deb_arch=$(dpkg --print-architecture)
name=git-mtime-$version-linux-$arch
tarball=$WORK/dist/$name.tar.gz
deb=$WORK/dist/git-mtime_${version}_$deb_arch.deb
check "release artefacts are named after the source's version ($version)" \
  test -s "$tarball" -a -s "$tarball.sha256" -a -s "$deb"
check "the .sha256 matches the tarball" sh -c "cd '$WORK/dist' && sha256sum -c '$name.tar.gz.sha256'"

mkdir -p "$WORK/unpacked"
tar -C "$WORK/unpacked" -xzf "$tarball"
tree=$WORK/unpacked/$name
expected_layout() {
  local missing=() path
  for path in bin/git-mtime bin/git-mtime-guard install.sh README.md LICENSE \
      share/git-mtime/hooks/post-checkout share/git-mtime/hooks/post-merge share/git-mtime/hooks/post-rewrite \
      share/man/man1/git-mtime.1 share/man/man1/git-mtime.restore.1 share/man/man1/git-mtime.manifest.1 \
      share/man/man1/git-mtime.docker.1 share/man/man1/git-mtime.run.1 share/man/man1/git-mtime.status.1 \
      share/man/man1/git-mtime.hooks.1 share/man/man1/git-mtime.hooks.install.1 share/man/man1/git-mtime.hooks.uninstall.1 \
      share/man/man1/git-mtime.doctor.1 share/man/man1/git-mtime.explain.1 \
      share/man/man1/git-mtime-guard.1 share/man/man1/git-mtime-guard.check.1 share/man/man1/git-mtime-guard.prepare.1 \
      share/man/man1/git-mtime-guard.seal.1 share/man/man1/git-mtime-guard.run.1 \
      share/bash-completion/completions/git-mtime share/bash-completion/completions/git-mtime-guard \
      share/zsh/site-functions/_git-mtime share/zsh/site-functions/_git-mtime-guard \
      share/fish/vendor_completions.d/git-mtime.fish share/fish/vendor_completions.d/git-mtime-guard.fish; do
    [ -s "$tree/$path" ] || missing+=("$path")
  done
  [ ${#missing[@]} -eq 0 ] || { echo "missing: ${missing[*]}"; return 1; }
}
check "the tarball holds binaries, hooks, man pages, completions, install.sh, README and LICENSE" expected_layout
check "both executables print the source's version" \
  sh -c "[ \"\$('$tree/bin/git-mtime' --version)\" = '$version' ] && [ \"\$('$tree/bin/git-mtime-guard' --version)\" = '$version' ]"
for program in git-mtime git-mtime-guard; do
  check "$program: ldd says not a dynamic executable" sh -c "ldd '$tree/bin/$program' 2>&1 | grep -q 'not a dynamic executable'"
  check "$program is stripped" sh -c "file '$tree/bin/$program' | grep -q ', stripped'"
done
size_within() {  # FILE LIMIT
  local size
  size=$(stat -c %s "$1")
  echo "# $(basename "$1"): $size bytes stripped (limit $2)"
  [ "$size" -le "$2" ] || { echo "$1 is $size bytes, over the limit of $2"; return 1; }
}
check "git-mtime is at most $GIT_MTIME_MAX_BYTES bytes" size_within "$tree/bin/git-mtime" "$GIT_MTIME_MAX_BYTES"
check "git-mtime-guard is at most $GUARD_MAX_BYTES bytes" size_within "$tree/bin/git-mtime-guard" "$GUARD_MAX_BYTES"

# Packaging is reproducible: a second run (no source change) writes the same bytes.
reproducible() {
  "$ROOT/scripts/release" --out "$WORK/dist2" >"$WORK/release2.log" 2>&1 || { tail -n 20 "$WORK/release2.log"; return 1; }
  cmp "$tarball" "$WORK/dist2/$name.tar.gz" && cmp "$deb" "$WORK/dist2/$(basename "$deb")"
}
check "scripts/release run twice writes identical tarball and .deb" reproducible

# --- man pages and completions agree with --help ---------------------------------------------------
# Every option `--help` lists appears in the rendered man page, for every command and subcommand
# (the pages are generated from the same executables; this catches a page that went missing or stale).
pages_match_help() {
  local program command page option bad=0
  for command in "git-mtime" "git-mtime restore" "git-mtime manifest" "git-mtime docker" "git-mtime run" \
      "git-mtime status" "git-mtime hooks install" "git-mtime hooks uninstall" "git-mtime doctor" "git-mtime explain" \
      "git-mtime-guard" "git-mtime-guard check" "git-mtime-guard prepare" "git-mtime-guard seal" "git-mtime-guard run"; do
    program=${command%% *}
    page=$(echo "$command" | tr ' ' '.')
    # shellcheck disable=SC2086
    for option in $("$tree/bin/$program" ${command#"$program"} --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
      MANWIDTH=200 man --nh --nj -l "$tree/share/man/man1/$page.1" 2>/dev/null | grep -qF -- "$option" ||
        { echo "$page.1 does not mention $option"; bad=1; }
    done
  done
  return $bad
}
check "each command's man page lists every option its --help lists" pages_match_help
check "the bash completions load and register git-mtime and git-mtime-guard" bash -c "
  source '$tree/share/bash-completion/completions/git-mtime' &&
  source '$tree/share/bash-completion/completions/git-mtime-guard' &&
  complete -p git-mtime && complete -p git-mtime-guard"
check "the zsh and fish completions name their command" sh -c "
  head -n1 '$tree/share/zsh/site-functions/_git-mtime' | grep -qx '#compdef git-mtime' &&
  head -n1 '$tree/share/zsh/site-functions/_git-mtime-guard' | grep -qx '#compdef git-mtime-guard' &&
  grep -q \"^complete -c 'git-mtime' \" '$tree/share/fish/vendor_completions.d/git-mtime.fish' &&
  grep -q \"^complete -c 'git-mtime-guard' \" '$tree/share/fish/vendor_completions.d/git-mtime-guard.fish'"

# --- a small repository, made with git on the host -------------------------------------------------
repo=$WORK/repo
mkdir -p "$repo"
(
  cd "$repo" && git init -q -b main && git config user.name t && git config user.email t@example.com &&
  mkdir -p src docs && echo 'fn main() {}' >src/main.rs && echo one >docs/a.md && ln -s src/main.rs link &&
  git add -A && GIT_AUTHOR_DATE='@1600000000 +0000' GIT_COMMITTER_DATE='@1600000000 +0000' git commit -q -m one &&
  echo two >docs/b.md && printf '#!/bin/sh\n' >tool.sh && chmod +x tool.sh &&
  git add -A && GIT_AUTHOR_DATE='@1600086400 +0000' GIT_COMMITTER_DATE='@1600086400 +0000' git commit -q -m two
) || { fail "test repository" "git failed"; summary; }
times_of() {  # DIR: every file's mtime (seconds.nanoseconds; symlinks' own) but git's and the guard's stamp
  (cd "$1" && find . \( -path ./.git -o -path ./target \) -prune -o ! -type d -printf '%P %T@\n' | LC_ALL=C sort)
}
same_times() { diff <(times_of "$1") <(times_of "$2"); }

# The reference: the source build on a copy of the repository.
cp -a "$repo" "$WORK/reference"
(
  cd "$WORK/reference" && "$BIN/git-mtime" restore && "$BIN/git-mtime" manifest -o "$WORK/reference.manifest" &&
  "$BIN/git-mtime-guard" run --manifest "$WORK/reference.manifest" --root . -- true &&
  "$BIN/git-mtime-guard" run --manifest "$WORK/reference.manifest" --root . -- true
) >"$WORK/reference.log" 2>&1 || { fail "reference run with the source build" "$(tail -n 5 "$WORK/reference.log")"; summary; }

# --- the tarball in a chroot holding only busybox, the release and the repository ------------------
jail=$WORK/jail
mkdir -p "$jail/bin" "$jail/opt" "$jail/tmp" "$jail/dev" "$jail/usr/local"
cp /bin/busybox "$jail/bin/busybox"
mknod -m 666 "$jail/dev/null" c 1 3
chroot "$jail" /bin/busybox --install -s /bin
cp -a "$tree" "$jail/opt/git-mtime"
cp -a "$repo" "$jail/repo"
mount_proc "$jail" || { fail "mount /proc in the chroot"; summary; }
in_jail() { chroot "$jail" /bin/sh -c "cd /repo && $1"; }
check "the chroot has no git, libgit2 or Swift" sh -c "
  ! chroot '$jail' /bin/sh -c 'command -v git' && [ -z \"\$(find '$jail' -xdev \( -name 'libgit2*' -o -name 'libswift*' \) | head -n1)\" ]"
check "chroot: git-mtime restore" in_jail "/opt/git-mtime/bin/git-mtime restore -v"
commit_seconds() {  # DIR: the seconds of each file's mtime are its last commit's (symlinks' own time)
  local path expected
  for path in src/main.rs:1600000000 docs/a.md:1600000000 link:1600000000 docs/b.md:1600086400 tool.sh:1600086400; do
    expected=${path#*:}
    [ "$(stat -c %Y "$1/${path%%:*}")" = "$expected" ] || { echo "${path%%:*}: $(stat -c %Y "$1/${path%%:*}") != $expected"; return 1; }
  done
}
check "chroot: restore gave every file its last commit's time" commit_seconds "$jail/repo"
check "chroot: restore set the same times as the source build, nanoseconds included" same_times "$jail/repo" "$WORK/reference"
check "chroot: git-mtime manifest writes the source build's manifest, byte for byte" \
  sh -c "chroot '$jail' /bin/sh -c 'cd /repo && /opt/git-mtime/bin/git-mtime manifest -o /tmp/manifest' &&
         cmp '$jail/tmp/manifest' '$WORK/reference.manifest'"
check "chroot: git-mtime-guard run -- true (no stamp yet: every file bumped, stamp sealed)" \
  in_jail "/opt/git-mtime/bin/git-mtime-guard run --manifest /tmp/manifest --root /repo -- true"
check "chroot: git-mtime-guard run -- true again (trusted stamp: every file back to its commit time)" \
  in_jail "/opt/git-mtime/bin/git-mtime-guard run --manifest /tmp/manifest --root /repo -- true"
check "chroot: after restore, manifest and two guard runs the times equal the source build's" \
  same_times "$jail/repo" "$WORK/reference"
check "chroot: ... and are the commit times again" commit_seconds "$jail/repo"
stamp_entries() { sed -n '/^entries /,/^checksum /p' "$1" | sed '1d;$d' | awk '{print $1, $3}'; }
check "chroot: the sealed stamp records the same files and contents as the source build's" \
  diff <(stamp_entries "$jail/repo/target/.git-mtime-stamp") <(stamp_entries "$WORK/reference/target/.git-mtime-stamp")

# install.sh needs only POSIX sh and the tools busybox has (as on Alpine): install, then uninstall.
jail_listing() { chroot "$jail" /bin/sh -c "find / -xdev | sort"; }
jail_before=$(jail_listing)
check "chroot: busybox sh runs install.sh (default prefix /usr/local)" in_jail "
  /opt/git-mtime/install.sh && /usr/local/bin/git-mtime --version && [ -s /usr/local/share/man/man1/git-mtime.1 ]"
uninstalled_jail() { chroot "$jail" /opt/git-mtime/install.sh --uninstall >/dev/null && [ "$(jail_listing)" = "$jail_before" ]; }
check "chroot: install.sh --uninstall leaves the chroot as it was" uninstalled_jail

# --- install.sh --from, with no toolchain on PATH ---------------------------------------------------
prefix=$WORK/prefix
mkdir -p "$prefix"
plain_path=/usr/sbin:/usr/bin:/sbin:/bin
install_from() { env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix" --from "$tarball"; }
check "install.sh --from finds no swift on its PATH (nothing to build with)" env PATH="$plain_path" sh -c '! command -v swift'
listing() { (cd "$prefix" && find . -printf '%P %y %m\n' | LC_ALL=C sort); }
empty_listing=$(listing)
check "install.sh --from TARBALL installs into an empty prefix" install_from
installed_layout() {
  local path
  for path in bin/git-mtime bin/git-mtime-guard share/man/man1/git-mtime.1 share/man/man1/git-mtime-guard.run.1 \
      share/bash-completion/completions/git-mtime share/zsh/site-functions/_git-mtime \
      share/fish/vendor_completions.d/git-mtime.fish share/git-mtime/hooks/post-checkout; do
    [ -s "$prefix/$path" ] || { echo "missing $prefix/$path"; return 1; }
  done
  cmp "$prefix/bin/git-mtime" "$tree/bin/git-mtime" && [ -x "$prefix/bin/git-mtime" ] && [ -x "$prefix/share/git-mtime/hooks/post-checkout" ]
}
check "install.sh put binaries, man pages, completions and hooks under the prefix" installed_layout
first_listing=$(listing)
second_install() {
  local output
  output=$(install_from) || return 1
  echo "$output"
  echo "$output" | grep -q "bin/git-mtime is up to date" && echo "$output" | grep -q ": 0 installed or updated" &&
    [ "$(listing)" = "$first_listing" ]
}
check "install.sh --from again changes nothing" second_install
check "git mtime --help opens the installed man page (manpath from PATH)" sh -c "
  PATH='$prefix/bin:$plain_path' MANPAGER=cat git mtime --help >'$WORK/page' 2>&1 && grep -q 'GIT-MTIME(1)' '$WORK/page' &&
  grep -q 'Deterministic file mtimes' '$WORK/page' && grep -q 'git-mtime.restore(1)' '$WORK/page'"
check "git mtime restore, through git, from the prefix" sh -c "
  cd '$WORK/reference' && PATH='$prefix/bin:$plain_path' git mtime restore"
# The docker wrapper injects the guard it finds next to git-mtime. The "docker" here is a script
# that keeps the injected directory's guard for comparison.
wrapper_finds_guard() {
  cat >"$WORK/fake-docker" <<EOF
#!/bin/sh
case "\$1" in version) echo "Docker version 28.0.0, build test"; exit 0 ;; esac
for argument in "\$@"; do case "\$argument" in git-mtime=*) cp "\${argument#git-mtime=}/guard" '$WORK/injected-guard' ;; esac; done
EOF
  chmod +x "$WORK/fake-docker"
  printf 'FROM scratch\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- true\n' >"$WORK/reference/Dockerfile"
  (cd "$WORK/reference" && env -u GIT_MTIME_GUARD PATH="$plain_path" "$prefix/bin/git-mtime" docker --docker "$WORK/fake-docker" buildx build .) &&
    rm "$WORK/reference/Dockerfile" && cmp "$WORK/injected-guard" "$prefix/bin/git-mtime-guard"
}
check "git mtime docker injects the git-mtime-guard installed next to git-mtime" wrapper_finds_guard
check "the unpacked release's own install.sh installs too (no --from)" \
  env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix"
# An upgrade to a release without some file removes that file; the record lists exactly what is there.
upgrade_drops_stale() {
  cp -a "$tree" "$WORK/smaller"
  rm "$WORK/smaller/share/man/man1/git-mtime.status.1"
  env PATH="$plain_path" "$WORK/smaller/install.sh" --prefix "$prefix" >/dev/null || return 1
  [ ! -e "$prefix/share/man/man1/git-mtime.status.1" ] || { echo "stale page kept"; return 1; }
  ! grep -q "git-mtime.status.1" "$prefix/share/git-mtime/installed-files"
}
check "installing a release without a file removes that file" upgrade_drops_stale
check "install.sh --uninstall" env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix" --uninstall
check "--uninstall leaves the prefix exactly as it was before the first install" \
  sh -c "[ \"\$(cd '$prefix' && find . -printf '%P %y %m\n' | LC_ALL=C sort)\" = '$empty_listing' ]"
# A record line naming a path outside the prefix (a tampered record) is never acted on.
tampered_record() {
  echo outside >"$WORK/outside-file"
  env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix" >/dev/null || return 1
  echo "file ../outside-file" >>"$prefix/share/git-mtime/installed-files"
  env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix" --uninstall | grep -q "ignoring a strange record line" &&
    [ -f "$WORK/outside-file" ] && [ "$(listing)" = "$empty_listing" ]
}
check "--uninstall ignores a record line that leaves the prefix" tampered_record
bad_checksum() {
  cp "$tarball" "$WORK/tampered.tar.gz"
  # Another first digit: one that already was 0 stays the same under a plain s/^./0/ (1 build in 16).
  sed 's/^0/1/; t; s/^./0/' "$tarball.sha256" >"$WORK/tampered.tar.gz.sha256"
  cmp -s "$tarball.sha256" "$WORK/tampered.tar.gz.sha256" && return 1
  if env PATH="$plain_path" "$tree/install.sh" --prefix "$prefix" --from "$WORK/tampered.tar.gz" 2>"$WORK/tampered.err"; then
    echo "installed despite a wrong checksum"; return 1
  fi
  grep -q "does not match" "$WORK/tampered.err" && [ "$(listing)" = "$empty_listing" ]
}
check "install.sh --from refuses a tarball whose .sha256 does not match, installing nothing" bad_checksum

# --- the .deb in a Debian minbase root --------------------------------------------------------------
check "lintian: no errors or warnings (overrides: docs/release.md)" sh -c "
  lintian --fail-on error,warning '$deb'"
base=$("$ROOT/scripts/docker-env" rootfs 2>"$WORK/rootfs.log") || { fail "the Debian rootfs" "$(tail -n 5 "$WORK/rootfs.log")"; summary; }
# The docker suite's rootfs, without its Rust toolchain, plus git and man-db: built once, cached beside it.
debroot_tar=$(dirname "$base")/release-test-$(basename "$base" .tar)-git-man.tar
if [ ! -s "$debroot_tar" ]; then
  build=$WORK/debroot-build
  mkdir -p "$build"
  tar -C "$build" --exclude=./usr/local/bin --exclude=./usr/local/lib -xf "$base"
  mkdir -p "$build/usr/local/bin" "$build/usr/local/lib"
  cp /etc/resolv.conf "$build/etc/resolv.conf"
  mount_proc "$build"
  mount --bind /dev "$build/dev" && MOUNTS+=("$build/dev")
  if chroot "$build" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git man-db' \
      >"$WORK/debroot.log" 2>&1; then
    umount "$build/proc" "$build/dev"
    rm -rf "$build/var/lib/apt/lists"/* "$build/var/cache/apt/archives"/*.deb
    tar -C "$build" -cf "$debroot_tar.tmp" . && mv "$debroot_tar.tmp" "$debroot_tar"
  else
    fail "git and man-db in the Debian root" "$(tail -n 5 "$WORK/debroot.log")"
    summary
  fi
  rm -rf "$build"
fi
debroot=$WORK/debroot
mkdir -p "$debroot"
tar -C "$debroot" -xf "$debroot_tar"
mount_proc "$debroot"
in_debroot() { chroot "$debroot" /bin/sh -c "$1"; }
snapshot() {  # everything outside the places dpkg and man-db keep their own records
  (cd "$debroot" && find . -xdev \( -path ./proc -o -path ./var/lib/dpkg -o -path ./var/log -o -path ./var/cache/man \
    -o -path ./tmp -o -path ./root \) -prune -o -type d -printf '%P d\n' -o -printf '%P %y %s\n' | LC_ALL=C sort)
}
before=$(snapshot)
cp "$deb" "$debroot/tmp/git-mtime.deb"
check "Debian: dpkg -i the .deb" in_debroot "dpkg -i /tmp/git-mtime.deb"
check "Debian: the package installs under /usr" in_debroot "
  [ -x /usr/bin/git-mtime ] && [ -x /usr/bin/git-mtime-guard ] && [ -s /usr/share/man/man1/git-mtime.1.gz ] &&
  [ -s /usr/share/bash-completion/completions/git-mtime ] && [ -s /usr/share/zsh/vendor-completions/_git-mtime ] &&
  [ -s /usr/share/doc/git-mtime/copyright ] && ! dpkg -L git-mtime | grep -v '^/usr' | grep -qv '^/\.\$'"
check "Debian: git mtime restore in a repository" in_debroot "
  mkdir /tmp/r && cd /tmp/r && git init -q && git config user.name t && git config user.email t@example.com &&
  echo a >a.txt && git add a.txt && GIT_COMMITTER_DATE='@1500000000 +0000' git commit -q -m a &&
  git mtime restore && [ \$(stat -c %Y a.txt) = 1500000000 ]"
check "Debian: MANPAGER=cat git mtime --help renders the man page" in_debroot "
  MANPAGER=cat git mtime --help >/tmp/page 2>&1 && grep -q 'GIT-MTIME(1)' /tmp/page && grep -q 'git-mtime.restore(1)' /tmp/page"
check "Debian: git help mtime and man git-mtime.restore" in_debroot "
  MANPAGER=cat git help mtime | grep -q 'Deterministic file mtimes' && MANPAGER=cat man git-mtime.restore | grep -q -- '--author-date'"
check "Debian: dpkg -r removes the package" in_debroot "dpkg -r git-mtime && ! dpkg -s git-mtime 2>/dev/null | grep -q '^Status: install'"
rm -rf "$debroot/tmp/git-mtime.deb"
check "Debian: dpkg -r leaves nothing behind" diff <(echo "$before") <(snapshot)

summary
