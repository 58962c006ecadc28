"""The generated classes of the reliability suites: repository shapes and steps beyond the base scenario.

Each class is one kind of situation a defect was found in (issues 10, 13 and 14). A class is *enabled*
for a run (default: the classes whose fix is on main; `--classes` changes the set), and an enabled
class then applies to its *share* of the scenarios: the choice comes from its own random stream,
`Random("SEED:INDEX:CLASS")`, so enabling one class never changes which scenarios another applies to.

    --classes default          the default set (below)
    --classes all              every class
    --classes signals,orphan   exactly these
    --classes +signals,-coarse-fs   the default set plus/minus some
    --classes signals=1        only this class, in every scenario (a share from 0 to 1)
    --classes all,coarse-fs=0.5     every class, one of them with another share

The fault suite uses the same names to mark its tests that need a fix that is not on main yet.
"""

import random

# name: (share of scenarios, on by default, what it generates); a share of None marks a class only the
# fault suite generates.
CLASSES = {
    "output-links": (0.2, True,
                     "the build output and stamp directories are symlinks: inside the root (build -> .cache/build) "
                     "or leaving it (rs/target -> ../cache, build -> ../make-cache)"),
    "hostile-link": (0.1, True,
                     "a committed symlink `build -> /elsewhere` (into the sentinel tree): guarded builds must refuse "
                     "and write nothing outside the root"),
    "restore-race": (0.15, True,
                     "a writer races `git mtime restore` and the hooks (strace widens the window): a file changed "
                     "after it was verified never keeps a commit time or is cached as clean"),
    "replaced-paths": (0.2, True,
                       "a tracked file replaced by a directory of untracked sources, a tracked directory by a symlink"),
    "partial-copy": (0.25, True,
                     "the copy location receives the context in parts (COPY Makefile ./, COPY src ./src, ...) and the "
                     "guard runs with --allow-missing"),
    "signals": (0.15, True,
                "TERM/INT reach the guard (or `git mtime run`, or the whole process group) while the build runs; "
                "builds that trap the signal and exit 0 included: the stamp is never sealed"),
    "filters": (0.2, True,
                "git's working-tree filters (.gitattributes eol=crlf and ident, core.autocrlf=true, a filter= driver "
                "libgit2 can't run, working-tree-encoding) and "
                "core.fileMode=false with executable bits changed on disk"),
    "orphan": (0.2, True,
               "`git checkout --orphan` then `checkout -f`, and `git init; git fetch; git checkout -f` over a tree "
               "with outputs"),
    "generator": (0.2, True,
                  "the build command rewrites a tracked source before compiling it, which is then reverted (by git "
                  "checkout, or by the command itself before it ends: the bytes, or the bytes and the mtime)"),
    "future-outputs": (0.15, True, "a build leaves a file dated 2099 (2037 on a 1-second file system) in its output directory"),
    "coarse-fs": (0.06, True,
                  "the scenario lives on a loop-mounted ext4 with 128-byte inodes (whole-second mtimes), in a private "
                  "mount namespace; after half the builds the next step, or also the next build, comes in the same second"),
    "restore-stamp": (0.2, True,
                      "`git mtime restore` after sealed builds with mtime.stamp configured: plain builds stay covered "
                      "(issue 13, case 8); `--ignore-stamp` keeps the exact commit times"),
    "split-index": (0.1, True, "core.splitIndex=true in the project"),
    "submodule": (0.15, True,
                  "a vendored C library in a git submodule, bumped to new commits (sometimes with an old mtime)"),
    "shallow-clone": (0.2, True,
                      "the fresh clones of the scenario (with the build caches restored) are shallow, --depth 1 to 4, "
                      "every branch; later steps run in the shallow repository"),
    "symlink-swap": (None, True,
                     "fault suite: a tracked directory swapped for a symlink to an outside copy and back while the "
                     "guard runs (strace slows one system call): nothing outside the root changes"),
    "restore-symlink-swap": (None, True,
                             "fault suite: the same swap while `git mtime restore` runs"),
    "guard-write-race": (None, True,
                         "fault suite: a write between the guard's check of a file and its utimensat: the new content "
                         "never gets the manifest's time"),
    "special-outputs": (None, True,
                        "fault suite: manifest -o and the stamp onto a character device or a symlink to one (as "
                        "/dev/null, /dev/stdout): never replaced by a regular file"),
    "hostile-numbers": (None, True,
                        "fault suite: commit dates from 2^63 up, stamp seal times and manifest times at and beyond "
                        "the ends of the time range, header counts beyond 10^7, 2^63 and 2^64 (and zero, negative, "
                        "other spellings), manifests and stamps over 1 GiB, end to end"),
}

# Where the fix of each opt-in class is (2026-11-30): turn the class on (its default above) once that branch
# is on main. None: an open finding, no fix yet (docs/RELIABILITY.md, "Open findings").
WAITS_FOR = {}


def parse(spec):
    """The enabled classes and their shares, from a --classes value (None: the default set)."""
    enabled = {name for name, (_, default, _) in CLASSES.items() if default}
    shares = {name: share for name, (share, _, _) in CLASSES.items()}
    if not spec:
        return enabled, shares
    words = [w.strip() for w in spec.split(",") if w.strip()]
    if words and words[0][0] not in "+-" and words[0] not in ("default", "all", "none"):
        enabled = set()  # a list that starts with a bare name replaces the default set
    for word in words:
        if word in ("all", "none", "default"):
            enabled = set(CLASSES) if word == "all" else set() if word == "none" else enabled
            continue
        sign = word[0] if word[0] in "+-" else "+"
        name, _, value = word.lstrip("+-").partition("=")
        if name not in CLASSES:
            raise SystemExit("--classes: unknown class %r (known: %s)" % (name, ", ".join(sorted(CLASSES))))
        if sign == "-":
            enabled.discard(name)
            continue
        enabled.add(name)
        if value and shares[name] is not None:
            shares[name] = float(value)
            if not 0 <= shares[name] <= 1:
                raise SystemExit("--classes: the share of %s must be between 0 and 1" % name)
    return enabled, shares


def spec_of(enabled, shares):
    """The --classes value that reproduces (enabled, shares) exactly."""
    words = []
    for name in sorted(enabled):
        default_share = CLASSES[name][0]
        words.append(name if shares[name] == default_share or shares[name] is None else "%s=%g" % (name, shares[name]))
    return ",".join(words) or "none"


def active(seed, index, enabled, shares):
    """The classes that apply to scenario (seed, index)."""
    return {name for name in sorted(enabled)
            if shares[name] is not None and random.Random("%s:%d:%s" % (seed, index, name)).random() < shares[name]}


def describe():
    def waiting(name, default):
        if default:
            return ""
        branch = WAITS_FOR.get(name)
        return " [waits for branch %s]" % branch if branch else " [open finding, no fix yet]"
    return "\n".join("  %-17s %4s %s  %s%s" % (name, "%d%%" % round(share * 100) if share is not None else "-",
                                               "on " if default else "off", text, waiting(name, default))
                     for name, (share, default, text) in CLASSES.items())
