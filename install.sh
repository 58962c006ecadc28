#!/bin/sh
# Installs git-mtime and git-mtime-guard with their man pages and shell completions; run it again to
# update. From a release it only copies files; from a source checkout it builds first. See --help.
set -eu

usage() {
    cat <<'EOF'
usage: ./install.sh [--prefix DIR] [--from TARBALL] [--hooks REPO] [--scratch-path DIR] [--uninstall] [--help]

Installs git-mtime and git-mtime-guard into PREFIX/bin, their man pages into PREFIX/share/man/man1
(so `git mtime --help` opens them), bash, zsh and fish completions under PREFIX/share, and the hook
scripts into PREFIX/share/git-mtime/hooks.

From an unpacked release (bin/git-mtime beside this script) or with --from, it copies the prebuilt
files: no toolchain, no packages, no network. From a source checkout it first builds the release
tree with scripts/release --stage (Swift 6.3; as root it installs libgit2-dev and pkg-config from
apt if missing).

  --prefix DIR        install under DIR (default: /usr/local)
  --from TARBALL      install from a release tarball (git-mtime-VERSION-linux-ARCH.tar.gz); a
                      TARBALL.sha256 beside it is checked
  --hooks REPO        also install the git hooks into the repository REPO (git mtime hooks install)
  --scratch-path DIR  source checkout only: SwiftPM's build directory (default: .build-release)
  --uninstall         remove what the last install put under PREFIX (listed in
                      PREFIX/share/git-mtime/installed-files) and, with --hooks, the hooks from REPO
  --help              show this text

Running it again is safe: files that are already up to date are left alone, and files an older
release installed that this one no longer has are removed.
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

prefix=/usr/local
tarball=
hooks_repo=
scratch=
uninstall=false
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --from) [ $# -ge 2 ] || die "--from needs a release tarball"; tarball=$2; shift 2 ;;
        --from=*) tarball=${1#--from=}; shift ;;
        --hooks) [ $# -ge 2 ] || die "--hooks needs a repository"; hooks_repo=$2; shift 2 ;;
        --hooks=*) hooks_repo=${1#--hooks=}; shift ;;
        --scratch-path) [ $# -ge 2 ] || die "--scratch-path needs a directory"; scratch=$2; shift 2 ;;
        --scratch-path=*) scratch=${1#--scratch-path=}; shift ;;
        --uninstall) uninstall=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[ -n "$prefix" ] || die "--prefix must not be empty"
case "$prefix" in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
bin=$prefix/bin
# What the last install put under the prefix: "file PATH" and "dir PATH" lines, PATH relative to it.
record_dir=share/git-mtime
record=$prefix/$record_dir/installed-files
source_dir=$(cd "$(dirname "$0")" && pwd)

# Removes what the record $1 lists under the prefix, except the lines also in $2 (optional): the
# files, then the directories that are left empty, deepest first. The record itself goes last, so
# an interrupted uninstall can be run again.
remove_recorded() {
    if [ -n "${2:-}" ]; then grep -vxF -f "$2" "$1" >"$work/remove" || true; else cp "$1" "$work/remove"; fi
    grep '^file ' "$work/remove" | while IFS= read -r line; do
        path=${line#file }
        # The record is ours, but a path leaving the prefix is never acted on.
        case "$path" in /*|*..*|*[!A-Za-z0-9._+/-]*|"") say "ignoring a strange record line: $line"; continue ;; esac
        [ "$prefix/$path" != "$record" ] || continue
        [ -e "$prefix/$path" ] || [ -L "$prefix/$path" ] || continue
        rm -f "$prefix/$path" || die "cannot remove $prefix/$path"
        case "$path" in bin/*) say "removed $prefix/$path" ;; esac
    done
    [ -n "${2:-}" ] || rm -f "$record"
    grep '^dir ' "$work/remove" | sort -r | while IFS= read -r line; do
        case "${line#dir }" in /*|*..*|*[!A-Za-z0-9._+/-]*|"") continue ;; esac
        rmdir "$prefix/${line#dir }" 2>/dev/null || true
    done
}

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$uninstall" = true ]; then
    if [ -n "$hooks_repo" ]; then
        if [ -x "$bin/git-mtime" ]; then
            "$bin/git-mtime" hooks uninstall --repo "$hooks_repo" || die "could not remove the hooks from $hooks_repo"
        else
            say "$bin/git-mtime is not installed: cannot remove the hooks from $hooks_repo"
        fi
    fi
    if [ -f "$record" ]; then
        cp "$record" "$work/record"
        remove_recorded "$work/record"
    else
        # Installed by an install.sh that kept no record: it installed the two executables only.
        for program in git-mtime git-mtime-guard; do
            if [ -e "$bin/$program" ]; then
                rm -f "$bin/$program" || die "cannot remove $bin/$program"
                say "removed $bin/$program"
            else
                say "$bin/$program was not installed"
            fi
        done
    fi
    exit 0
fi

# Find the release tree to copy from: the tarball's, this directory (an unpacked release), or a build.
if [ -n "$tarball" ]; then
    [ -f "$tarball" ] || die "no such file: $tarball"
    if [ -f "$tarball.sha256" ]; then
        command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing: cannot check $tarball.sha256"
        expected=$(cut -d' ' -f1 <"$tarball.sha256")
        actual=$(sha256sum <"$tarball" | cut -d' ' -f1)
        [ "$expected" = "$actual" ] || die "$tarball does not match $tarball.sha256"
        say "checked $tarball against $tarball.sha256"
    fi
    mkdir "$work/unpacked"
    gzip -dc <"$tarball" | (cd "$work/unpacked" && tar -xf -) || die "cannot unpack $tarball"
    tree=
    for entry in "$work"/unpacked/*; do
        [ -z "$tree" ] && [ -d "$entry" ] && [ ! -L "$entry" ] || die "$tarball is not a git-mtime release (one top directory)"
        tree=$entry
    done
    [ -n "$tree" ] || die "$tarball is empty"
elif [ -f "$source_dir/bin/git-mtime" ] && [ ! -f "$source_dir/Package.swift" ]; then
    tree=$source_dir
else
    [ -f "$source_dir/Package.swift" ] || die "neither a release (bin/git-mtime) nor a source checkout (Package.swift) beside this script"
    # Build dependencies: libgit2's headers and static library, pkg-config (scripts/release finds libgit2 through it).
    missing=
    command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
    if ! pkg-config --exists libgit2 2>/dev/null; then
        dpkg-query -W -f='${Status}' libgit2-dev 2>/dev/null | grep -q "install ok installed" || missing="$missing libgit2-dev"
    fi
    if [ -n "$missing" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            die "missing packages:$missing (run this script as root, or: sudo apt-get install$missing)"
        fi
        command -v apt-get >/dev/null 2>&1 || die "missing packages:$missing, and apt-get is not available to install them"
        say "installing packages:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null; } ||
            die "apt-get could not install:$missing (install them by hand: apt-get install$missing)"
    else
        say "build dependencies present (libgit2-dev, pkg-config)"
    fi
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH: install a Swift 6 toolchain from swift.org first"
    tree=$work/git-mtime
    set -- --stage "$tree"
    [ -z "$scratch" ] || set -- "$@" --scratch-path "$scratch"
    say "building (scripts/release $*)"
    "$source_dir/scripts/release" "$@" || die "the build failed (see above)"
fi
[ -f "$tree/bin/git-mtime" ] && [ -f "$tree/bin/git-mtime-guard" ] || die "$tree has no bin/git-mtime and bin/git-mtime-guard"

# The files to install: every regular file under bin/ and share/ (symlinks and odd names are refused).
names=$work/names
(cd "$tree" && find bin share -type f) | LC_ALL=C sort >"$names"
if LC_ALL=C grep -q '[^A-Za-z0-9._+/-]' "$names"; then die "$tree holds a file name install.sh does not expect"; fi
if (cd "$tree" && find bin share ! -type f ! -type d | grep -q .); then die "$tree holds something other than files and directories"; fi

# The new record: the directories this install or the recorded one created, then the files.
new_record=$work/record
: >"$new_record"
for path in $(sed 's|/[^/]*$||' "$names" | sort -u) $record_dir; do
    sub=
    for part in $(echo "$path" | tr '/' ' '); do
        sub=${sub:+$sub/}$part
        if grep -qxF "dir $sub" "$new_record"; then continue; fi
        if [ ! -d "$prefix/$sub" ]; then
            mkdir -p "$prefix/$sub" || die "cannot create $prefix/$sub"
            echo "dir $sub" >>"$new_record"
        elif [ -f "$record" ] && grep -qxF "dir $sub" "$record"; then
            echo "dir $sub" >>"$new_record"
        fi
    done
done
sed 's/^/file /' "$names" >>"$new_record"
echo "file $record_dir/installed-files" >>"$new_record"

changed=0 unchanged=0
while IFS= read -r path; do
    target=$prefix/$path
    case "$path" in bin/*|share/git-mtime/hooks/*) mode=755 ;; *) mode=644 ;; esac
    if [ -f "$target" ] && [ ! -L "$target" ] && cmp -s "$tree/$path" "$target"; then
        chmod "$mode" "$target"
        case "$path" in bin/*) say "$target is up to date" ;; *) unchanged=$((unchanged + 1)) ;; esac
        continue
    fi
    # Copy beside, then rename: a running git-mtime is never overwritten in place.
    dir=${target%/*} base=${target##*/}
    cp "$tree/$path" "$dir/.$base.new" && chmod "$mode" "$dir/.$base.new" && mv -f "$dir/.$base.new" "$target" ||
        { rm -f "$dir/.$base.new"; die "cannot install $target"; }
    case "$path" in bin/*) say "installed $target" ;; *) changed=$((changed + 1)) ;; esac
done <"$names"
# What an older release installed and this one no longer has.
[ ! -f "$record" ] || remove_recorded "$record" "$new_record"
cp "$new_record" "$record.new" && mv -f "$record.new" "$record" || die "cannot write $record"
say "man pages, completions and hooks under $prefix/share: $changed installed or updated, $unchanged up to date"

if [ -n "$hooks_repo" ]; then
    "$bin/git-mtime" hooks install --repo "$hooks_repo" || die "could not install the hooks into $hooks_repo"
fi
case ":$PATH:" in
    *":$bin:"*) ;;
    *) say "note: $bin is not on PATH; add it so that \`git mtime\` (and the hooks) can find git-mtime" ;;
esac
