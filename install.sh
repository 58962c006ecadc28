#!/bin/sh
# Builds git-mtime and git-mtime-guard and installs them; run it again to update. See --help.
set -eu

usage() {
    cat <<'EOF'
usage: ./install.sh [--prefix DIR] [--hooks REPO] [--scratch-path DIR] [--uninstall] [--help]

Builds git-mtime and git-mtime-guard (swift build -c release) and installs them into PREFIX/bin.
As root it first installs the Debian packages the build needs (libgit2-dev, pkg-config) if missing.

  --prefix DIR        install into DIR/bin (default: /usr/local)
  --hooks REPO        also install the git hooks into the repository REPO (git mtime hooks install)
  --scratch-path DIR  SwiftPM's build directory (default: .build next to this script)
  --uninstall         remove what an install put there (and, with --hooks, the hooks from REPO)
  --help              show this text

Running it again is safe: files that are already up to date are left alone.
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

prefix=/usr/local
hooks_repo=
scratch=
uninstall=false
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
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
bin=$prefix/bin
source_dir=$(cd "$(dirname "$0")" && pwd)
programs="git-mtime git-mtime-guard"

if [ "$uninstall" = true ]; then
    if [ -n "$hooks_repo" ]; then
        if [ -x "$bin/git-mtime" ]; then
            "$bin/git-mtime" hooks uninstall --repo "$hooks_repo" || die "could not remove the hooks from $hooks_repo"
        else
            say "$bin/git-mtime is not installed: cannot remove the hooks from $hooks_repo"
        fi
    fi
    for program in $programs; do
        if [ -e "$bin/$program" ]; then
            rm -f "$bin/$program" || die "cannot remove $bin/$program"
            say "removed $bin/$program"
        else
            say "$bin/$program was not installed"
        fi
    done
    exit 0
fi

# Build dependencies: libgit2's headers and pkg-config (the Swift package finds libgit2 through it).
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

# The Swift runtime is linked statically, so the installed git-mtime doesn't depend on where the
# toolchain lives (git-mtime-guard is a fully static executable anyway).
set -- -c release --static-swift-stdlib --package-path "$source_dir"
[ -z "$scratch" ] || set -- "$@" --scratch-path "$scratch"
say "building (swift build $*)"
swift build "$@" >&2 || die "swift build failed (see above)"
products=$(swift build "$@" --show-bin-path) || die "cannot find the build's output directory"

mkdir -p "$bin" || die "cannot create $bin"
for program in $programs; do
    [ -x "$products/$program" ] || die "the build did not produce $products/$program"
    if [ -e "$bin/$program" ] && cmp -s "$products/$program" "$bin/$program"; then
        say "$bin/$program is up to date"
        continue
    fi
    # Copy beside, then rename: a running git-mtime is never overwritten in place.
    cp "$products/$program" "$bin/.$program.new" && chmod 755 "$bin/.$program.new" &&
        mv -f "$bin/.$program.new" "$bin/$program" || die "cannot install $bin/$program"
    say "installed $bin/$program"
done

if [ -n "$hooks_repo" ]; then
    "$bin/git-mtime" hooks install --repo "$hooks_repo" || die "could not install the hooks into $hooks_repo"
fi
case ":$PATH:" in
    *":$bin:"*) ;;
    *) say "note: $bin is not on PATH; add it so that \`git mtime\` (and the hooks) can find git-mtime" ;;
esac
