#!/usr/bin/env python3
"""Seeded random stale-build scenarios: does git-mtime keep its promise?

Each scenario is a random sequence of git operations (commit, branch, checkout, merge, rebase,
cherry-pick, amend, stash, reset, clone with a restored build cache), working-tree edits, copies of the
context into a separate build directory (as Docker's COPY does), and git-mtime steps (hooks in safe and
commit mode, restore, manifest, the guard). After every step it builds the make program (and every few
steps the cargo workspace) along a path the product promises to be correct, runs the program and
compares what it prints with the markers in the current sources. Generated classes (classes.py: symlinked
output directories, races, replaced paths, partial copies, signals, git filters, orphan checkouts, code
generators, future-dated outputs, a whole-second file system, restore after sealed builds, split index,
submodules) add repository shapes and steps to a share of the scenarios. The exact rules are in
docs/RELIABILITY.md ("What the harness asserts").

    harness.py [--count N] [--steps K] [--seed S] [--jobs J] [--only I] [--bin DIR] [--stats FILE]
               [--classes SPEC] [--list-classes] [--plan]

The soak: `harness.py --seed S --count 1000 --steps 8` (add `--classes all` for the opt-in classes).

On failure it prints the seed, the scenario index and the command that replays it
(`harness.py --seed S --only I --classes SPEC`). The last line is `scenarios: N passed, N failed`.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import signal
import stat
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import classes  # noqa: E402
import fixture  # noqa: E402
import mounts  # noqa: E402
import snapshot  # noqa: E402
from race import Racer, strace_delay, write_bytes  # noqa: E402

BASE_COMMIT_TIME = 1609459200  # 2021-01-01: commits are older than every build, as in a real checkout
STAMP_NAME = ".git-mtime-stamp"


def is_stamp_or_sibling(path):
    """The stamp and what the guard keeps beside it while it works (its temporary, clock probe and build
    lock): the stamp's name, or `.<stamp name>.` and anything after it, as docs/stamp.md's trust rule says."""
    return path == STAMP_NAME or os.path.basename(path).startswith("." + STAMP_NAME + ".")
UNIT_COUNT = 4
FUTURE_2099 = 4070908800  # 2099-01-01: an output from a skewed clock
FUTURE_2037 = 2114380800  # 2037-01-01: the same on ext4 with 128-byte inodes, which stops at 2038
BUILDCMD = os.path.join(HERE, "buildcmd.py")


class Failure(Exception):
    """The promise (or a documented behaviour) was broken; the message says how."""


class Tools:
    def __init__(self, bin_dir):
        self.bin_dir = os.path.abspath(bin_dir)
        self.git_mtime = os.path.join(self.bin_dir, "git-mtime")
        self.guard = os.path.join(self.bin_dir, "git-mtime-guard")
        for tool in (self.git_mtime, self.guard):
            if not os.access(tool, os.X_OK):
                raise SystemExit("harness: %s is missing (build first, or set GIT_MTIME_BIN_DIR)" % tool)


class Location:
    """One place a build happens: a context root, its output directory and the build stamp in it."""

    def __init__(self, name, kind, root, output, copy=False):
        self.name = name
        self.kind = kind  # "make" or "cargo"
        self.root = root
        self.output = output  # relative to root
        self.copy = copy  # a separate build directory the context is copied into (never built plain)
        self.consumed = None  # path -> content digest at the last successful build
        self.last_ok = True
        self.tainted = copy  # True: a plain build is not covered by the promise
        self.disturbed = False  # another build's guard set this location's source mtimes since its last build
        self.sealed = False  # the last build here sealed the stamp at its default place, and nothing wrote outputs since
        self.sealed_any = False  # the last build here sealed a stamp (wherever it was named)
        self.hurry = None  # class coarse-fs: no wait after the last build ("edit" or "build": what may share its second)
        self.planted = set()  # output files a build left dated in the future (no build tool depends on them)
        self.link = None  # class output-links: "inside" or "outside" (where the output directory symlink leads)

    @property
    def output_dir(self):
        return os.path.join(self.root, self.output)

    @property
    def stamp(self):
        return os.path.join(self.output_dir, STAMP_NAME)

    def real_stamp(self):
        """The stamp named by its real place (what the guard's refusal message suggests)."""
        return os.path.join(os.path.realpath(self.output_dir), STAMP_NAME)

    def sources(self):
        return fixture.sources(self.root, self.kind)

    def source_digests(self):
        return {p: snapshot.digest(os.path.join(self.root, p)) for p in self.sources()}

    def output_mtimes(self, planted=False):
        """Every build output's mtime, without the stamp and its temporaries (and, unless asked, without
        the future-dated files a build planted: no build tool depends on them)."""
        found = snapshot.mtimes(self.output_dir)
        return {p: t for p, t in found.items()
                if not is_stamp_or_sibling(p) and (planted or p not in self.planted)}

    def tool(self):
        return ["make"] if self.kind == "make" else ["cargo", "build", "--offline"]

    def program(self):
        if self.kind == "make":
            return os.path.join(self.root, "build", "prog")
        return os.path.join(self.root, "target", "debug", "app")


def leaves_root(stamp, root):
    """The symlink at or below `root` through which `stamp`'s directory leaves the root, or None.
    A stamp named outside the root is the environment's choice (docs/stamp.md, "Where the stamp may live")."""
    root = os.path.realpath(root)
    relative = os.path.relpath(os.path.dirname(stamp), root)
    if relative == ".." or relative.startswith("../"):
        return None
    current = root
    for part in relative.split("/"):
        if part in ("", "."):
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            target = os.path.realpath(current)
            if target != root and not target.startswith(root + "/"):
                return current
            current = target
    return None


def present_below(root, path):
    """Whether `path` exists below `root` as a file or symlink reached through real directories only."""
    current = root
    parts = path.split("/")
    for part in parts[:-1]:
        current = os.path.join(current, part)
        if os.path.islink(current) or not os.path.isdir(current):
            return False
    full = os.path.join(current, parts[-1])
    return os.path.lexists(full) and (os.path.islink(full) or not os.path.isdir(full))


def unescape(field):
    """A manifest or stamp path field back to the path (docs/manifest.md, "Path escaping")."""
    raw = field.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 2] == b"\\\\":
            out += b"\\"
            i += 2
        elif raw[i:i + 2] == b"\\x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out).decode("utf-8", "surrogateescape")


def read_manifest(path):
    """path -> (origin, mode, object id) of a manifest (format 2 or 3, whose origin may be `submodule`; or 1,
    where every entry is tracked)."""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").split("\n")
    header = 5 if lines[0] == "git-mtime-manifest 1" else 6
    entries = {}
    for line in lines[header:]:
        if not line:
            continue
        fields = line.split(" ")
        if header == 5:
            fields = ["tracked"] + fields
        entries[unescape(fields[4])] = (fields[0], fields[1], fields[2])
    return entries


class Scenario:
    def __init__(self, tools, seed, index, steps, cargo_every, enabled=frozenset(), shares=None, keep=False):
        self.tools = tools
        self.seed = seed
        self.index = index
        self.step_count = steps
        self.cargo_every = cargo_every
        self.keep = keep
        self.rng = random.Random("%s:%d" % (seed, index))
        self.classes = classes.active(seed, index, enabled, shares or {})
        # Each class draws its own decisions, so turning one class on or off changes nothing in the others.
        self.class_rng = {name: random.Random("%s:%d:%s:steps" % (seed, index, name)) for name in self.classes}
        self.steps = []
        self.stats = {"builds": 0, "plain_builds": 0, "guarded_builds": 0, "stale_builds": 0,
                      "units_compiled": 0, "unnecessary_units": 0, "mtime_commands": 0, "git_ops": 0,
                      "ops_failed_by_git": 0, "unnecessary_units_plain": 0, "unnecessary_units_trusted_stamp": 0,
                      "unnecessary_units_untrusted_stamp": 0, "unnecessary_units_future_dates": 0,
                      "unnecessary_units_other_build": 0, "promise_violations": 0, "writes_outside_root": 0,
                      "refusals_expected": 0, "signals_delivered": 0, "races_run": 0}
        for name in self.classes:
            self.stats["class_" + name] = 1
        self.violation = None
        self.future_dated = False
        self.commit_time = BASE_COMMIT_TIME + self.rng.randint(0, 86400)
        self.hook_mode = "none"
        self.clones = 0
        self.token_history = {}
        self.filter_config = {}
        self.elapsed = {}

    def has(self, name):
        return name in self.classes

    def count(self, key, amount=1):
        self.stats[key] = self.stats.get(key, 0) + amount

    # ----- processes -----

    def run(self, argv, cwd, check=True, env=None, what=None):
        started = time.monotonic()
        process = subprocess.run(argv, cwd=cwd, env=env or self.env, capture_output=True, stdin=subprocess.DEVNULL)
        self.elapsed[argv[0] if what is None else what] = self.elapsed.get(what or argv[0], 0) + time.monotonic() - started
        if check and process.returncode != 0:
            raise Failure("`%s` (in %s) exited %d: %s" % (" ".join(argv), cwd, process.returncode,
                                                           process.stderr.decode(errors="replace").strip()[-2000:]))
        return process

    def commit_date(self):
        """The next commit's date; 3 % are dated up to 30 days in the future (a skewed clock)."""
        self.commit_time += self.rng.randint(60, 86400)
        when = self.commit_time
        if self.rng.random() < 0.03:
            when = int(time.time()) + self.rng.randint(3600, 30 * 86400)
            self.steps[-1] += " [future-dated]"
            self.future_dated = True
        return dict(self.env, GIT_COMMITTER_DATE="@%d +0000" % when, GIT_AUTHOR_DATE="@%d +0000" % when)

    def git(self, *args, check=True, date=False, prefix=()):
        env = self.commit_date() if date else self.env
        include = os.path.join(self.repo, "include")
        include_before = os.path.realpath(include)
        process = self.run(list(prefix) + ["git"] + list(args), self.repo, check=check, env=env, what="git")
        if os.path.islink(include) and os.path.realpath(include) != include_before:
            # git rewrote the symlink, not the files reached through it: make now reads a directory whose files
            # keep older times, with or without git-mtime. Rule 2 does not cover that; a guarded build does.
            self.locations["make"].tainted = True
        self.stats["git_ops"] += 1
        for line in process.stderr.decode(errors="replace").splitlines():
            if "could not set mtimes" in line or (line.startswith("git-mtime") and "error" in line):
                raise Failure("a hook failed during `git %s`: %s" % (" ".join(args), line))
        if self.hook_mode == "commit":
            # Commit-mode hooks give rewritten files old commit times: plain builds are no longer covered.
            self.locations["make"].tainted = True
            self.locations["cargo"].tainted = True
        self.check_sentinel("git " + " ".join(args))
        return process

    def git_out(self, *args, cwd=None):
        return self.run(["git"] + list(args), cwd or self.repo, what="git").stdout.decode(errors="surrogateescape")

    def mtime(self, *args, roots=(), check=True, read_only=False, prefix=(), exempt=None, after=None):
        """Runs `git mtime ARGS`, asserting it changed no file's content (nor any mtime if read_only), except
        the files in `exempt` (absolute path -> digest) that the scenario itself wrote meanwhile. `after` runs
        once the command has exited, before the contents are compared: a racing writer must have finished its
        write (it may still be between its truncating open and its write when git-mtime exits)."""
        roots = list(roots) or [self.repo]
        before = [snapshot.contents(r) for r in roots]
        times = [snapshot.mtimes(r, skip=snapshot.SKIP) for r in roots] if read_only else None
        try:
            process = self.run(list(prefix) + [self.tools.git_mtime] + list(args), self.repo, check=check, what="git-mtime")
        finally:
            if after:
                after()
        self.stats["mtime_commands"] += 1
        self.assert_unchanged(roots, before, "git mtime " + " ".join(args), exempt)
        self.check_sentinel("git mtime " + " ".join(args))
        if read_only:
            for root, was in zip(roots, times):
                now = snapshot.mtimes(root, skip=snapshot.SKIP)
                changed = sorted(p for p in was if p in now and now[p] != was[p])
                if changed:
                    raise Failure("read-only `git mtime %s` changed the mtime of %s" % (" ".join(args), changed[0]))
        return process

    def assert_unchanged(self, roots, before, what, exempt=None):
        for root, was in zip(roots, before):
            now = snapshot.contents(root)
            for path, digest in (exempt or {}).items():
                relative = os.path.relpath(path, root)
                if relative in now and now[relative][1] == digest:
                    now[relative] = was.get(relative, now[relative])  # exactly the bytes the scenario wrote
            difference = snapshot.describe_difference(was, now)
            if difference:
                raise Failure("%s changed a file's content: %s (in %s)" % (what, difference, root))

    def check_sentinel(self, what):
        """Nothing outside every root may change: the sentinel tree (which tracked symlinks and committed
        output-directory links point into) must be exactly as it was made."""
        difference = snapshot.describe_difference(self.sentinel_state, snapshot.tree_state(self.sentinel))
        if difference:
            self.stats["writes_outside_root"] += 1
            raise Failure("WROTE OUTSIDE THE ROOT during %s: %s in the sentinel tree %s"
                          % (what, difference, self.sentinel))

    # ----- setup -----

    def setup(self):
        self.base = tempfile.mkdtemp(prefix="gm-scenario-")
        self.tmp = self.base
        self.mounted = None
        if self.has("coarse-fs"):
            self.tmp = self.mounted = mounts.mount_coarse(self.base)
        self.make_sentinel()
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Scenario\n\temail = scenario@example.invalid\n"
                    "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
                    "[core]\n\tautocrlf = false\n[merge]\n\tconflictStyle = merge\n")
            if self.has("submodule"):
                # Local submodule URLs need protocol.file (git >= 2.38.1); checkouts and resets recurse.
                f.write("[protocol \"file\"]\n\tallow = always\n[submodule]\n\trecurse = true\n")
        real_home = os.path.expanduser("~")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "CARGO_TARGET", "MAKEFLAGS", "MFLAGS"))}
        env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C", GIT_EDITOR="true", CARGO_TERM_COLOR="never",
                   PATH=self.tools.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        env.setdefault("CARGO_HOME", os.path.join(real_home, ".cargo"))
        env.setdefault("RUSTUP_HOME", os.path.join(real_home, ".rustup"))
        self.env = env
        self.repo = os.path.join(self.tmp, "work")
        os.makedirs(self.repo)
        self.locations = {}
        self.bind_locations()
        self.locations["copy"] = Location("copy", "make", os.path.join(self.tmp, "copy"), "build", copy=True)
        os.makedirs(self.locations["copy"].root)
        fixture.create(self.repo, UNIT_COUNT, self.sentinel)
        self.steps.append("init: make project with %d units, cargo workspace%s" % (
            UNIT_COUNT, "; classes: " + ", ".join(sorted(self.classes)) if self.classes else ""))
        if self.has("filters"):
            self.setup_filters()
        self.git("init", "-q")
        self.configure_repo()
        if self.has("submodule"):
            self.setup_submodule()
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "initial", date=True)
        if self.has("filters"):
            # The working tree as git writes it (CRLF, expanded $Id$), not as the fixture wrote it.
            for path in self.git_out("ls-files").splitlines():
                if not path.startswith(("vendor/", "links/")):
                    os.unlink(os.path.join(self.repo, path))
            self.git("checkout", "-q", "--", ".")
        if self.has("output-links"):
            self.setup_output_links()
        mode = self.rng.choice(["none", "safe", "commit"])
        # The classes about what hooks do want hooks, mostly in safe mode (where plain builds stay covered).
        for name, wanted in (("orphan", "safe"), ("restore-race", "safe"), ("restore-stamp", "none")):
            if self.has(name) and self.class_rng[name].random() < 0.7:
                mode = wanted
        self.steps.append("hooks: %s" % mode)
        self.set_hooks(mode)

    def make_sentinel(self):
        """A tree outside every root that nothing may change; tracked symlinks and hostile output links
        point into it."""
        self.sentinel = os.path.join(self.tmp, "sentinel")
        os.makedirs(os.path.join(self.sentinel, "elsewhere"))
        os.makedirs(os.path.join(self.sentinel, "deep", "er"))
        for path, text in (("victim.txt", "outside every root\n"), ("deep/er/note", "nothing may touch this\n"),
                           ("elsewhere/.keep", "a directory a committed symlink points to\n")):
            with open(os.path.join(self.sentinel, path), "w") as f:
                f.write(text)
            os.utime(os.path.join(self.sentinel, path), ns=(10 ** 18, 10 ** 18))
        self.sentinel_state = snapshot.tree_state(self.sentinel)

    def configure_repo(self):
        """The repository settings every checkout of the project gets (after init, clone, re-init)."""
        self.git("config", "mtime.stamp", "build/" + STAMP_NAME)
        for key, value in sorted(self.filter_config.items()):
            self.git("config", key, value)
        if self.has("split-index"):
            self.git("config", "core.splitIndex", "true")
            if os.path.exists(os.path.join(self.repo, ".git", "index")):
                self.git("update-index", "--split-index")

    def setup_filters(self):
        """git's working-tree filters: the bytes on disk differ from the blob although git calls the file
        clean; and core.fileMode=false, where git ignores the executable bit on disk."""
        rng = self.class_rng["filters"]
        kinds = ["eol=crlf", "ident", "autocrlf", "driver", "working-tree-encoding"]
        chosen = [f for f in kinds if rng.random() < 0.4] or [rng.choice(kinds)]
        lines = []
        if "driver" in chosen:
            # A filter driver libgit2 can't run (as git-lfs): the smudged file on disk ends in a line the blob lacks.
            self.filter_config["filter.smudged.smudge"] = "sed '$a/* smudged */'"
            self.filter_config["filter.smudged.clean"] = "sed '/^\\/\\* smudged \\*\\/$/d'"
            lines += ["src/*.c filter=smudged"]
        if "working-tree-encoding" in chosen:
            # UTF-16 on disk, UTF-8 in the blob: a file in the make context the build doesn't compile.
            lines += ["*.utf16.txt text working-tree-encoding=UTF-16LE"]
            write_bytes(os.path.join(self.repo, "notes.utf16.txt"), "notes kept as UTF-16 in the working tree\n".encode("utf-16-le"))
        if "eol=crlf" in chosen:
            lines += ["*.h text eol=crlf", "src/*.c text eol=crlf"]
        if "ident" in chosen:
            lines += ["*.c ident", "*.h ident"]
        if "autocrlf" in chosen:
            self.filter_config["core.autocrlf"] = "true"
            lines += ["Makefile -text", "*.lock -text"]  # make and cargo's lock file keep LF
        if rng.random() < 0.5:
            self.filter_config["core.fileMode"] = "false"
            chosen.append("core.fileMode=false")
        fixture.write(self.repo, ".gitattributes", "\n".join(lines) + "\n" if lines else "# no filters\n")
        self.steps.append("filters: %s" % ", ".join(chosen))

    def setup_submodule(self):
        """A vendored C library in a submodule (its own repository and history), built into the program."""
        self.clib_origin = os.path.join(self.tmp, "clib-origin")
        os.makedirs(self.clib_origin)
        self.run(["git", "init", "-q"], self.clib_origin, what="git")
        fixture.write(self.clib_origin, "clib.c", fixture.unit_source("vendor/clib/clib.c", fixture.INITIAL_TOKEN))
        fixture.write(self.clib_origin, "README", "a vendored library\n")
        self.run(["git", "add", "-A"], self.clib_origin, what="git")
        self.run(["git", "commit", "-q", "-m", "clib"], self.clib_origin, env=self.commit_date(), what="git")
        self.git("submodule", "add", "-q", self.clib_origin, "vendor/clib")
        self.steps.append("submodule vendor/clib (a C library from %s)" % self.clib_origin)

    def setup_output_links(self):
        """The output (and stamp) directories are symlinks: to a cache inside the root, or leaving it."""
        variant = self.class_rng["output-links"].choice(["inside", "outside"])
        if variant == "inside":
            targets = {"make": ".cache/build", "cargo": ".cache/target"}
        else:
            targets = {"make": "../make-cache", "cargo": "../cache"}  # rs/target -> ../cache, as cache volumes are
        for name, target in targets.items():
            location = self.locations[name]
            real = os.path.normpath(os.path.join(location.root, target))
            if os.path.isdir(location.output_dir) and not os.path.islink(location.output_dir):
                shutil.move(location.output_dir, real)
            os.makedirs(real, exist_ok=True)
            os.symlink(target, location.output_dir)
            location.link = variant
        self.steps.append("output directories are symlinks %s the root: build -> %s, rs/target -> %s"
                          % ("inside" if variant == "inside" else "leaving", targets["make"], targets["cargo"]))

    def bind_locations(self):
        """(Re)points the repository's two build locations at self.repo, keeping their history."""
        old = dict(self.locations)
        self.locations["make"] = Location("make", "make", self.repo, "build")
        self.locations["cargo"] = Location("cargo", "cargo", os.path.join(self.repo, "rs"), "target")
        for name in ("make", "cargo"):
            if name in old:
                for field in ("consumed", "last_ok", "tainted", "disturbed", "sealed", "sealed_any", "hurry",
                              "planted", "link"):
                    setattr(self.locations[name], field, getattr(old[name], field))

    def set_hooks(self, mode):
        if mode == "none":
            self.mtime("hooks", "uninstall", "--repo", self.repo)
        else:
            self.mtime("hooks", "install", "--repo", self.repo)
            self.git("config", "mtime.hookMode", mode)
        self.hook_mode = mode

    # ----- working-tree edits -----

    def new_token(self, path):
        token = "%08x" % self.rng.getrandbits(32)
        self.token_history.setdefault(path, []).append(token)
        return token

    def editable_files(self, cargo_share=0.3):
        if self.rng.random() < cargo_share:
            return sorted(fixture.CARGO_SOURCES)
        return [p for p in fixture.make_sources(self.repo) if p.endswith((".c", ".h")) and not p.startswith("vendor/")]

    def write_token(self, path, token):
        full = os.path.join(self.repo, path)
        with open(full, "rb") as f:
            data = f.read()
        if b"this is not C" in data:
            data = fixture.unit_source(path, token).encode()
        else:
            data = fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), data, count=1)
        with open(full, "wb") as f:
            f.write(data)

    def op_edit(self):
        path = self.rng.choice(self.editable_files())
        token = self.new_token(path)
        self.steps.append("edit %s -> %s" % (path, token))
        self.write_token(path, token)

    def op_revert_edit(self):
        """Brings back content a file had before: the same bytes as something an earlier build consumed."""
        candidates = [p for p in self.token_history if os.path.exists(os.path.join(self.repo, p))]
        if not candidates:
            return self.op_edit()
        path = self.rng.choice(sorted(candidates))
        token = self.rng.choice(self.token_history[path] + [fixture.INITIAL_TOKEN])
        self.steps.append("edit %s -> %s (earlier content)" % (path, token))
        self.write_token(path, token)

    def op_add_file(self):
        existing = set(os.listdir(os.path.join(self.repo, "src")))
        number = next(n for n in range(1, 1000) if "f%d.c" % n not in existing)
        path = "src/f%d.c" % number
        # Left untracked until a commit step adds it: the manifest lists it as an untracked entry.
        self.steps.append("add untracked %s" % path)
        fixture.write(self.repo, path, fixture.unit_source(path, self.new_token(path)))

    def op_delete_file(self):
        units = [p for p in fixture.make_sources(self.repo) if p.startswith("src/f")]
        if not units:
            return self.op_add_file()
        path = self.rng.choice(units)
        self.steps.append("delete %s" % path)
        os.unlink(os.path.join(self.repo, path))

    def op_break(self):
        units = [p for p in fixture.make_sources(self.repo) if p.startswith("src/") and p.endswith(".c")]
        path = self.rng.choice(units)
        self.steps.append("break %s (the next make build must fail)" % path)
        fixture.write(self.repo, path, fixture.BROKEN_C.format(path=path, token=self.new_token(path)))

    def fix_broken(self):
        for path in fixture.make_sources(self.repo):
            if not path.endswith(".c"):
                continue
            with open(os.path.join(self.repo, path), "rb") as f:
                if b"this is not C" in f.read():
                    token = self.new_token(path)
                    self.steps.append("fix %s -> %s" % (path, token))
                    self.write_token(path, token)

    def op_import_old(self):
        """New content arriving with an old mtime (an extracted archive, `cp -p`): only the guard covers it."""
        path = self.rng.choice(self.editable_files())
        token = self.new_token(path)
        old = BASE_COMMIT_TIME - self.rng.randint(0, 10 ** 7)
        self.steps.append("edit %s -> %s with an old mtime (@%d)" % (path, token, old))
        self.write_token(path, token)
        os.utime(os.path.join(self.repo, path), ns=(old * 10 ** 9, old * 10 ** 9))
        self.taint_owner(path)

    def op_touch(self):
        path = self.rng.choice(self.editable_files())
        if self.rng.random() < 0.5:
            self.steps.append("touch %s" % path)
            os.utime(os.path.join(self.repo, path))
        else:
            old = BASE_COMMIT_TIME - self.rng.randint(0, 10 ** 7)
            self.steps.append("touch %s to an old time (@%d)" % (path, old))
            os.utime(os.path.join(self.repo, path), ns=(old * 10 ** 9, old * 10 ** 9))
            self.taint_owner(path)

    def taint_owner(self, path):
        self.locations["cargo" if path.startswith("rs/") else "make"].tainted = True

    # ----- git operations -----

    def branches(self, remote=True):
        refs = self.git_out("for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes").split()
        return [r for r in refs if r != "origin/HEAD" and (remote or not r.startswith("origin/"))] or ["HEAD"]

    def current_branch(self):
        return self.git_out("rev-parse", "--abbrev-ref", "HEAD").strip()

    def other_branch(self):
        current = self.current_branch()
        others = [b for b in self.branches() if b != current]
        return self.rng.choice(others) if others else None

    def is_dirty(self):
        return bool(self.git_out("status", "--porcelain", "--untracked-files=all").strip())

    def op_commit(self):
        if not self.is_dirty():
            return self.op_edit()
        self.steps.append("commit -a (with untracked files)")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "change %d" % len(self.steps), date=True)

    def op_branch(self):
        existing = set(self.branches(remote=False))
        name = next("b%d" % n for n in range(1, 1000) if "b%d" % n not in existing)
        if self.rng.random() < 0.5:
            self.steps.append("checkout -b %s" % name)
            self.git("checkout", "-q", "-b", name)
        else:
            self.steps.append("branch %s" % name)
            self.git("branch", name)

    def attempt(self, args, abort, description, date=False):
        """A git operation that may legitimately refuse (dirty tree) or conflict; a conflict is aborted."""
        self.steps.append(description)
        process = self.git(*args, check=False, date=date)
        if process.returncode != 0:
            self.stats["ops_failed_by_git"] += 1
            self.steps[-1] += " [git refused/conflict%s]" % (", aborted" if abort else "")
            if abort:
                self.git(*abort, check=False)

    def op_checkout(self):
        target = self.other_branch()
        if target is None:
            return self.op_branch()
        if self.rng.random() < 0.15:
            target = self.rng.choice(["HEAD~1", "HEAD~2"])
        self.attempt(["checkout", "-q", target], None, "checkout %s" % target)

    def op_merge(self):
        target = self.other_branch()
        if target is None:
            return self.op_commit()
        self.attempt(["merge", "-q", "--no-edit", target], ["merge", "--abort"], "merge %s" % target, date=True)

    def op_rebase(self):
        target = self.other_branch()
        if target is None:
            return self.op_commit()
        self.attempt(["rebase", "-q", target], ["rebase", "--abort"], "rebase onto %s" % target, date=True)

    def op_cherry_pick(self):
        target = self.other_branch()
        commits = self.git_out("rev-list", "--no-merges", "-n", "5", target, "--not", "HEAD").split() if target else []
        if not commits:
            return self.op_commit()
        commit = self.rng.choice(commits)
        self.attempt(["cherry-pick", commit], ["cherry-pick", "--abort"], "cherry-pick %s from %s" % (commit[:8], target),
                     date=True)

    def op_amend(self):
        if self.rng.random() < 0.5:
            self.op_edit()
        self.steps.append("commit --amend -a")
        self.git("add", "-A")
        self.git("commit", "-q", "--amend", "--no-edit", date=True)

    def op_stash(self):
        stashed = self.git_out("stash", "list").strip()
        if stashed and self.rng.random() < 0.6:
            self.attempt(["stash", "pop", "-q"], ["reset", "-q", "--hard"], "stash pop")
        elif self.is_dirty():
            # git refuses to stash a tracked path below a symlink that replaced its directory (replaced-paths).
            self.attempt(["stash", "-q", "-u"], None, "stash -u")
        else:
            self.op_edit()

    def op_reset(self):
        target = self.rng.choice(["HEAD~1", "HEAD"] + ([self.other_branch()] if self.other_branch() else []))
        mode = self.rng.choice(["--hard", "--hard", "--mixed"])
        self.attempt(["reset", "-q", mode, target], None, "reset %s %s" % (mode, target))

    def op_clone(self):
        """A fresh clone (CI) with the build caches of the old checkout restored into it (`cp -a`)."""
        same_path = self.rng.random() < 0.5
        self.clones += 1
        template = os.path.join(self.tmp, "template")
        if self.hook_mode != "none" and not os.path.isdir(template):
            self.mtime("hooks", "install", "--template", template)
        if same_path:
            origin = self.repo + ".old%d" % self.clones
            os.rename(self.repo, origin)
            destination = self.repo
        else:
            origin = self.repo
            destination = os.path.join(self.tmp, "clone%d" % self.clones)
        self.steps.append("clone into %s with the build caches restored" % ("the same path" if same_path else "a new path"))
        args = ["clone", "-q"] + (["--recurse-submodules"] if self.has("submodule") else [])
        if self.has("shallow-clone") and self.class_rng["shallow-clone"].random() < 0.7:
            # As CI checks out (actions/checkout: depth 1); every branch, so later steps have some to use.
            # Restore gives files last changed beyond the boundary the boundary commit's time, which is what
            # `git log -1 --first-parent` says in a shallow clone (the exact-time check's oracle).
            depth = self.class_rng["shallow-clone"].randint(1, 4)
            args += ["--depth", str(depth), "--no-single-branch"]
            origin = "file://" + origin  # --depth needs a transport, not a local copy
            self.steps[-1] += " (shallow: --depth %d)" % depth
        if self.hook_mode != "none":
            args += ["--template", template]
        self.run(["git"] + args + [origin, destination], self.tmp, what="git")
        origin = origin[len("file://"):] if origin.startswith("file://") else origin
        # The build caches; with symlinked output directories, the links and what they lead to inside the tree.
        for cache in ("build", "rs/target", ".cache", "cache", "rs/.cache"):
            if os.path.lexists(os.path.join(origin, cache)) and not os.path.lexists(os.path.join(destination, cache)):
                self.run(["cp", "-a", os.path.join(origin, cache), os.path.join(destination, cache)], self.tmp, what="cp")
        self.repo = destination
        self.bind_locations()
        self.configure_repo()
        for location in (self.locations["make"], self.locations["cargo"]):
            location.sealed = False  # copied outputs are other files (other inodes): the stamp is not trusted
        if self.hook_mode != "none":
            self.git("config", "mtime.hookMode", self.hook_mode)
            # The clone's post-checkout gave every file its commit time (a full restore).
            self.locations["make"].tainted = True
            self.locations["cargo"].tainted = True

    # ----- git-mtime steps -----

    def op_restore(self):
        choices = [[], [], ["--history", "all"], ["--dirs"], ["src"], ["rs"], [":/include"], ["-v"]]
        if self.has("restore-stamp"):
            choices += [["--ignore-stamp"], ["-v"], []]
        args = self.rng.choice(choices)
        self.steps.append("git mtime restore %s" % " ".join(args))
        self.mtime("restore", "-C", self.repo, *args)
        self.after_restore(args)

    def after_restore(self, args):
        """What a restore did to the promise (docs/RELIABILITY.md, rule 2), and its exact times."""
        whole_tree = args in ([], ["-v"], ["--dirs"], ["--ignore-stamp"])
        make = self.locations["make"]
        if not any(a in ("src", ":/include") for a in args):
            self.locations["cargo"].tainted = True
        stamp_rule = self.has("restore-stamp") and "--ignore-stamp" not in args
        # Issue 13, case 8: with a trusted stamp at mtime.stamp, a file whose content the stamp did not record
        # gets no older than now, so a plain build of the stamp's location stays covered.
        if "rs" not in args and not (stamp_rule and whole_tree and make.sealed and make.link != "outside"):
            make.tainted = True
        if whole_tree:
            self.check_restored_times(ignore_stamp="--ignore-stamp" in args)

    def kept_newer(self):
        """The paths `git mtime restore -v` says it keeps newer than the last sealed build (issue 13, case 8:
        a trusted stamp at mtime.stamp records other content for them); none with binaries without that rule."""
        listing = self.mtime("restore", "-C", self.repo, "-v", "-n", read_only=True).stdout
        prefix = "not built yet, kept newer than the last build: "
        return {line[len(prefix):] for line in listing.decode("utf-8", "surrogateescape").splitlines()
                if line.startswith(prefix)}

    @staticmethod
    def stamp_record(stamp):
        """The seal time (ns) and the object id recorded per path of a stamp (format 2, docs/stamp.md)."""
        sealed, recorded = None, {}
        if not os.path.isfile(stamp):
            return sealed, recorded
        with open(stamp, "rb") as f:
            for line in f.read().decode("utf-8", "surrogateescape").splitlines():
                fields = line.split(" ")
                if fields[0] == "sealed" and len(fields) == 2:
                    seconds, nanos = fields[1].split(".")
                    sealed = int(seconds) * 10 ** 9 + int(nanos)
                elif fields[0] in ("tracked", "untracked") and len(fields) == 4:
                    recorded[unescape(fields[3])] = fields[1]
        return sealed, recorded

    def check_restored_times(self, ignore_stamp=False):
        """Every clean tracked file has exactly the time `git log -1 --first-parent` and its blob id give, but
        for the files restore says it kept newer than the last sealed build: the stamp at mtime.stamp must
        record other content for them, or none (absent when it was sealed) for a path in the build's context,
        and their mtime must be after its seal (with --ignore-stamp: none).
        With a submodule that restore restores, the files inside it get the times of the submodule's own history,
        or are kept newer by the same rule (the stamp records them by their superproject paths: soak-1130d 14);
        one checked out at another commit than the superproject records, or with modified, staged or deleted files,
        is left alone as docs/restore.md says (its files keep whatever time they had: a dirty bump, scenario 451)."""
        kept = set() if ignore_stamp else self.kept_newer()
        self.count("restore_kept_newer", len(kept))
        self.check_times_in(self.repo, "", kept)
        submodule = os.path.join(self.repo, "vendor", "clib")
        if self.has("submodule") and os.path.exists(os.path.join(submodule, ".git")):
            at_recorded_commit = self.git_out("submodule", "status", "--", "vendor/clib").startswith(" ")
            clean = not self.git_out("status", "--porcelain", "--untracked-files=no", cwd=submodule).strip()
            if at_recorded_commit and clean:
                self.check_times_in(submodule, "vendor/clib/", kept)
            else:
                self.count("restore_submodule_left_alone")

    def check_times_in(self, repository, prefix, kept):
        """`kept` and the stamp name files by their paths in the superproject: `prefix` + the repository's path."""
        dirty = {line[3:] for line in self.git_out("status", "--porcelain", "--untracked-files=no",
                                                   cwd=repository).splitlines()}
        sealed, recorded = self.stamp_record(os.path.join(self.repo, "build", STAMP_NAME)) if kept else (None, {})
        for line in self.git_out("ls-files", "-s", cwd=repository).splitlines():
            info, path = line.split("\t", 1)
            mode, blob = info.split()[:2]
            if path in dirty or mode == "160000":
                continue
            actual = os.lstat(os.path.join(repository, path)).st_mtime_ns
            if prefix + path in kept:
                on_disk = self.git_out("hash-object", "--no-filters", "--", path, cwd=repository).strip()
                # The .dockerignore's context, unless the stamp records what it excludes (sealed by `git mtime run`).
                ignored = ("rs", "build", ".cache", "cache")
                top = (prefix + path).split("/")[0]
                outside_context = top in ignored and not any(p.split("/")[0] in ignored for p in recorded)
                unbuilt = recorded.get(prefix + path) != on_disk and not (prefix + path not in recorded and outside_context)
                if not unbuilt or sealed is None or actual <= sealed:
                    raise Failure("after restore, %s was kept newer than the last sealed build, but the stamp records "
                                  "%s (on disk: %s) and its mtime %d is not after the seal %s"
                                  % (prefix + path, recorded.get(prefix + path), on_disk, actual, sealed))
                continue
            seconds = int(self.git_out("log", "-1", "--first-parent", "--format=%ct", "--", path, cwd=repository).strip())
            expected = seconds * 10 ** 9 + int(blob[:8], 16) % 10 ** 9
            if self.mounted:
                expected -= expected % 10 ** 9  # a whole-second file system keeps whole seconds
            if actual != expected:
                raise Failure("after restore, %s%s has mtime %d, expected %d (commit time %d, blob %s)"
                              % (prefix, path, actual, expected, seconds, blob))

    def op_manifest(self):
        self.steps.append("git mtime manifest (read-only) and restore -n")
        self.mtime("manifest", "-C", self.repo, "-o", os.path.join(self.tmp, "manifest-check"), read_only=True)
        self.mtime("restore", "-C", self.repo, "-n", read_only=True)

    def op_hooks(self):
        mode = self.rng.choice([m for m in ("none", "safe", "commit") if m != self.hook_mode])
        self.steps.append("hooks: %s" % mode)
        self.set_hooks(mode)

    def op_copy(self):
        """Docker's COPY: the context, mtimes kept, into a build directory whose outputs persist (a cache mount).
        Class partial-copy: in parts, as `COPY Makefile ./` + `COPY src ./src` do; the guard gets --allow-missing."""
        location = self.locations["copy"]
        how = self.rng.choice(["cp -a", "tar (posix, ns)", "tar (gnu, whole seconds)"])
        names = sorted(n for n in os.listdir(self.repo) if n not in (".git", "rs", "build", ".cache", "cache"))
        parts = [names]
        if self.has("partial-copy") and self.class_rng["partial-copy"].random() < 0.5:
            wanted = ["Makefile", "src", "include", "vendor"] + [n for n in names if n.startswith("inc") and n != "include"]
            parts = [[n] for n in wanted if n in names]
            self.steps.append("copy the make context in parts (%s) into the build directory with %s; guarded build "
                              "there with --allow-missing" % (", ".join("COPY " + p[0] for p in parts), how))
        else:
            self.steps.append("copy the make context into the build directory with %s; guarded build there" % how)
        manifest = self.write_manifest(self.repo)
        for name in os.listdir(location.root):
            if name != "build":
                full = os.path.join(location.root, name)
                shutil.rmtree(full) if os.path.isdir(full) and not os.path.islink(full) else os.unlink(full)
        for part in parts:
            if how == "cp -a":
                self.run(["cp", "-a"] + [os.path.join(self.repo, n) for n in part] + [location.root], self.tmp, what="cp")
            else:
                fmt = "posix" if "posix" in how else "gnu"
                tar = subprocess.Popen(["tar", "-C", self.repo, "--format=" + fmt, "-cf", "-"] + part, stdout=subprocess.PIPE)
                subprocess.run(["tar", "-C", location.root, "-xf", "-"], stdin=tar.stdout, check=True)
                tar.stdout.close()
                if tar.wait() != 0:
                    raise Failure("tar of the context failed")
        if len(parts) > 1 and self.class_rng["partial-copy"].random() < 0.4:
            self.expect_missing_refusal(location, manifest)
        self.build(location, self.rng.choice(["guard-run", "guard-steps"]), manifest=manifest, allow_missing=len(parts) > 1)

    def expect_missing_refusal(self, location, manifest):
        """The documented line without --allow-missing on a context copied in parts: exit 1 before the build,
        `missing:` lines and a note naming --allow-missing; nothing changed."""
        state_file = os.path.join(self.tmp, "refused.json")
        if os.path.exists(state_file):
            os.unlink(state_file)
        times = snapshot.mtimes(location.root, skip=snapshot.SKIP)
        before = snapshot.contents(location.root)
        stamp_before = self.stamp_digest(location)
        process, _ = self.guarded(location, "guard-run", manifest, location.stamp, ["true"], state_file)
        what = "guard run without --allow-missing on a context copied in parts"
        self.steps[-1] += "; first %s (must fail naming it)" % what
        self.assert_unchanged([location.root], [before], what)
        self.check_sentinel(what)
        message = process.stderr.decode(errors="replace")
        if process.returncode != 1 or "missing: " not in message or "--allow-missing" not in message:
            raise Failure("%s: expected exit 1 with `missing:` lines and a note naming --allow-missing, got exit %d: %s"
                          % (what, process.returncode, message.strip()[-800:]))
        if os.path.exists(state_file) or self.stamp_digest(location) != stamp_before:
            raise Failure("%s: refused, but the build command ran or the stamp changed" % what)
        if snapshot.mtimes(location.root, skip=snapshot.SKIP) != times:
            raise Failure("%s: refused, but mtimes changed" % what)

    # ----- generated classes (classes.py) -----

    def dirty_paths(self):
        return {line[3:] for line in self.git_out("status", "--porcelain", "--untracked-files=no").splitlines()}

    def clean_tracked_sources(self, prefixes=("src/", "include/")):
        """Tracked C sources and headers that hold HEAD's content, are regular files and compile."""
        dirty = self.dirty_paths()
        found = []
        for path in self.git_out("ls-files").splitlines():
            full = os.path.join(self.repo, path)
            if (path.startswith(prefixes) and path.endswith((".c", ".h")) and path not in dirty
                    and present_below(self.repo, path) and os.path.isfile(full)):
                with open(full, "rb") as f:
                    if b"this is not C" not in f.read():
                        found.append(path)
        return found

    def quiet_since_build(self, location):
        """Every source holds what the last successful build of `location` consumed."""
        return location.last_ok and location.consumed is not None and location.source_digests() == location.consumed

    def tokened(self, path, token):
        with open(os.path.join(self.repo, path), "rb") as f:
            return fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), f.read(), count=1)

    def check_cached_content(self, path, what):
        """After a race on `path`: a second restore and the manifest must see its current bytes (no cache may
        have recorded it as clean with HEAD's content)."""
        self.mtime("restore", "-C", self.repo)
        self.after_restore([])
        manifest = os.path.join(self.tmp, "manifest-race")
        self.mtime("manifest", "-C", self.repo, "-o", manifest)
        listed = read_manifest(manifest).get(path)
        disk = self.run(["git", "hash-object", "--no-filters", path], self.repo, what="git").stdout.decode().strip()
        if listed is None or listed[2] != disk:
            raise Failure("RACE LOST (%s): after it, the manifest records %s for %s, but the file holds %s: a cache "
                          "recorded a file changed after its verification as clean" % (what, listed and listed[2], path, disk))

    def op_hostile_link(self):
        """A commit (on a throwaway branch) makes the output directory a symlink to a directory outside every
        root, as anyone who can push may: every guarded build must refuse before running anything, and write
        nothing there. Then the branch is left and deleted, and the real output directory comes back."""
        rng = self.class_rng["hostile-link"]
        location = self.locations["make"] if rng.random() < 0.6 else self.locations["cargo"]
        previous = self.current_branch()
        if previous == "HEAD":
            previous = self.git_out("rev-parse", "HEAD").strip()
        name = next("hostile%d" % n for n in range(1, 1000) if "hostile%d" % n not in self.branches())
        relative = os.path.relpath(location.output_dir, self.repo)
        saved = location.output_dir + ".saved"
        target = os.path.join(self.sentinel, "elsewhere")
        self.steps.append("commit %s -> %s on branch %s; guarded builds at %s must refuse" % (relative, target, name,
                                                                                              location.name))
        if os.path.lexists(location.output_dir):
            os.rename(location.output_dir, saved)
        try:
            self.git("checkout", "-q", "-b", name)
            os.symlink(target, location.output_dir)
            self.git("add", "-f", relative)
            self.git("commit", "-q", "-m", "hostile link", "--", relative, date=True)
            for _ in range(rng.randint(1, 2)):
                path = rng.choice(["guard-run", "guard-steps", "mtime-run"])
                manifest = None if path == "mtime-run" else self.write_manifest(location.root)
                self.steps[-1] += "; %s (must refuse)" % path
                self.expect_refusal(location, path, manifest, location.stamp, location.output_dir, False)
        finally:
            # Plain git here (no sentinel check), so a failure above is reported as itself.
            self.run(["git", "checkout", "-q", previous], self.repo, what="git")
            self.run(["git", "branch", "-q", "-D", name], self.repo, what="git")
            if os.path.lexists(saved):
                if os.path.islink(location.output_dir):
                    os.unlink(location.output_dir)
                os.rename(saved, location.output_dir)

    def op_race_restore(self):
        """A writer changes a clean source while `git mtime restore` is about to set its time: every clean file
        first gets its commit time, then two adjacent files (a herald and the target, in path order) are touched
        so restore sets exactly those two; each utimensat is delayed 300 ms by strace, and the writer writes the
        target once the herald got its time and restore is stopped inside the next utimensat, the target's.
        A file changed after restore verified it must not keep a commit time, nor be cached as clean."""
        make = self.locations["make"]
        if not self.quiet_since_build(make):
            return self.op_restore()
        self.settle(make)
        self.mtime("restore", "-C", self.repo)
        ordered = self.git_out("ls-files").splitlines()
        clean = set(self.clean_tracked_sources())
        dirty = self.dirty_paths()
        pairs = [(ordered[i - 1], path) for i, path in enumerate(ordered) if i > 0 and path in clean
                 and ordered[i - 1] not in dirty and present_below(self.repo, ordered[i - 1])]
        if not pairs:
            return self.op_restore()
        rng = self.class_rng["restore-race"]
        herald, path = rng.choice(pairs)
        for touched in (herald, path):
            os.utime(os.path.join(self.repo, touched), follow_symlinks=False)
        data = self.tokened(path, self.new_token(path))
        self.steps.append("git mtime restore (strace: 300 ms before each utimensat) while a writer changes %s after "
                          "restore set %s" % (path, herald))
        full = os.path.join(self.repo, path)
        racer = Racer(self.repo, ["restore"], full, lambda now: data, herald=os.path.join(self.repo, herald))
        racer.start()
        try:
            process = self.mtime("restore", "-C", self.repo, check=False, prefix=strace_delay("utimensat", 300000),
                                 exempt={full: hashlib.sha256(data).hexdigest()}, after=racer.finish)
        finally:
            racer.finish()
        self.stats["races_run"] += 1
        self.steps[-1] += " [%s]" % racer.outcome
        message = process.stderr.decode(errors="replace").strip()
        if process.returncode != 0 and (path not in message or len(message.splitlines()) != 1):
            raise Failure("restore raced by a writer exited %d without naming %s: %s" % (process.returncode, path, message))
        self.check_cached_content(path, "restore")
        # Everything else holds what the last build consumed: a plain build is covered, whatever restore did.
        make.tainted = False
        self.build(make, "plain")

    def op_race_hook(self):
        """A writer changes a file a checkout rewrote while the post-checkout hook is about to set its time (each
        utimensat delayed 300 ms; the writer waits until the hook set the file before it in path order, if any,
        and is stopped inside the next utimensat)."""
        target = self.other_branch()
        if self.hook_mode == "none" or target is None or self.is_dirty():
            return self.op_checkout()
        names = self.git_out("diff", "--name-only", "HEAD", target).splitlines()
        changed = [p for p in names if p.startswith(("src/", "include/")) and p.endswith((".c", ".h"))
                   and present_below(self.repo, p)]
        if not changed:
            return self.op_checkout()
        rng = self.class_rng["restore-race"]
        path = rng.choice(changed)
        earlier = [p for p in names if p < path and present_below(self.repo, p)]
        herald = os.path.join(self.repo, earlier[-1]) if earlier else None
        full = os.path.join(self.repo, path)
        token = self.new_token(path)
        self.steps.append("checkout %s (%s-mode hook, strace: 300 ms before each utimensat) while a writer changes %s "
                          "as the hook is about to set it" % (target, self.hook_mode, path))
        racer = Racer(self.repo, ["hooks", "run"], full,
                      lambda now: fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), now, count=1),
                      herald=herald)
        racer.start()
        try:
            process = self.git("checkout", "-q", target, check=False, prefix=strace_delay("utimensat", 300000))
        finally:
            racer.finish()
        self.stats["races_run"] += 1
        self.steps[-1] += " [%s]" % racer.outcome
        if process.returncode != 0:
            self.stats["ops_failed_by_git"] += 1
            self.steps[-1] += " [git refused]"
            return
        self.check_cached_content(path, "the %s-mode post-checkout hook" % self.hook_mode)

    def op_file_to_dir(self):
        """A tracked file replaced by a directory holding sources git doesn't track yet (and back)."""
        rng = self.class_rng["replaced-paths"]
        gen = os.path.join(self.repo, "src", "gen")
        if os.path.isdir(gen) and not os.path.islink(gen):
            if rng.random() < 0.35:
                self.steps.append("replace the directory src/gen by a file")
                shutil.rmtree(gen)
                fixture.write(self.repo, "src/gen", fixture.PLACEHOLDER)
                return
            self.steps.append("add a source to the directory src/gen")
        else:
            self.steps.append("replace %s src/gen by a directory of sources" % ("the file" if os.path.lexists(gen) else "the absent"))
            if os.path.lexists(gen):
                os.unlink(gen)
            os.mkdir(gen)
        number = next(n for n in range(1, 1000) if not os.path.exists(os.path.join(gen, "g%d.c" % n)))
        path = "src/gen/g%d.c" % number
        fixture.write(self.repo, path, fixture.unit_source(path, self.new_token(path)))
        if rng.random() < 0.5:
            old = BASE_COMMIT_TIME - rng.randint(0, 10 ** 7)
            os.utime(os.path.join(self.repo, path), ns=(old * 10 ** 9, old * 10 ** 9))
            self.steps[-1] += ": %s with an old mtime (@%d)" % (path, old)
            self.taint_owner(path)
        else:
            self.steps[-1] += ": %s" % path

    def op_dir_to_symlink(self):
        """The tracked directory include/ replaced by a symlink to an untracked copy (sometimes edited, sometimes
        with an old mtime), and back."""
        rng = self.class_rng["replaced-paths"]
        include = os.path.join(self.repo, "include")
        header = os.path.join(include, "marks.h")
        if not os.path.isfile(header):
            return self.op_edit()
        with open(header, "rb") as f:
            data = f.read()
        # Pointed back at an earlier copy: unchanged itself since it was built, so only the link changed
        # (docs/RELIABILITY.md defect 11: make stats through it and saw the old copy's old times).
        current = os.readlink(include) if os.path.islink(include) else None
        earlier = sorted(name for name in os.listdir(self.repo)
                         if re.fullmatch(r"inc[0-9]+", name) and name != current
                         and os.path.isfile(os.path.join(self.repo, name, "marks.h"))
                         and open(os.path.join(self.repo, name, "marks.h"), "rb").read() != data)
        if earlier and rng.random() < 0.4:
            copy = rng.choice(earlier)
            self.steps.append("point include at the earlier copy %s/ (another marks.h, with its own older time)" % copy)
            self.count("op_dir_to_symlink_earlier")
            self.taint_owner("include/marks.h")  # a plain build stats through the link: uncovered (rule 2)
            if os.path.islink(include):
                os.unlink(include)
            else:
                shutil.rmtree(include)
            os.symlink(copy, include)
            return
        if os.path.islink(include) and rng.random() < 0.5:
            self.steps.append("replace the symlink include by a directory again")
            os.unlink(include)
            os.mkdir(include)
            write_bytes(header, data)
            return
        number = next(n for n in range(1, 1000) if not os.path.lexists(os.path.join(self.repo, "inc%d" % n)))
        copy = "inc%d" % number
        os.makedirs(os.path.join(self.repo, copy))
        if rng.random() < 0.6:
            token = self.new_token("include/marks.h")
            data = fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), data, count=1)
        write_bytes(os.path.join(self.repo, copy, "marks.h"), data)
        self.steps.append("replace the %s include by a symlink to %s/ (marks.h %s)" % (
            "symlink" if os.path.islink(include) else "tracked directory", copy,
            "edited" if data != open(header, "rb").read() else "as it was"))
        if rng.random() < 0.5:
            old = BASE_COMMIT_TIME - rng.randint(0, 10 ** 7)
            os.utime(os.path.join(self.repo, copy, "marks.h"), ns=(old * 10 ** 9, old * 10 ** 9))
            self.steps[-1] += " with an old mtime (@%d)" % old
            self.taint_owner("include/marks.h")
        if os.path.islink(include):
            os.unlink(include)
        else:
            shutil.rmtree(include)
        os.symlink(copy, include)

    def op_signal_run(self):
        """TERM or INT reaches the guard (or `git mtime run`, or the whole process group) while the build
        command runs; the command may trap it and exit 0. The stamp must not be sealed."""
        rng = self.class_rng["signals"]
        location = self.locations["make"] if rng.random() < 0.75 else self.locations["cargo"]
        if any(b"this is not C" in open(os.path.join(self.repo, p), "rb").read() for p in fixture.make_sources(self.repo)):
            return self.op_edit()
        path = rng.choice(["guard-run", "guard-run", "mtime-run"])
        mode = rng.choice(["trap", "trap", "die", "trap-after"])
        number = rng.choice([signal.SIGTERM, signal.SIGINT])
        target = rng.choice(["the command", "the command", "its process group"])
        what = "%s at %s: %s sent to %s while the build command runs, which %s" % (
            path, location.name, signal.Signals(number).name, target,
            {"trap": "traps it and exits 0 without building", "die": "dies of it",
             "trap-after": "built, then traps it and exits 0"}[mode])
        self.steps.append("signal: " + what)
        self.stats["guarded_builds"] += 1
        self.stats["builds"] += 1
        self.stats["mtime_commands"] += 1
        stamp = self.choose_stamp(location)
        if leaves_root(stamp, self.repo if path == "mtime-run" else location.root):
            stamp = location.real_stamp()
        manifest = self.write_manifest(location.root) if path == "guard-run" else None
        digests = location.source_digests()
        expected = fixture.expected_output(location.root, location.sources())
        outputs_before = location.output_mtimes(planted=True)
        marker = os.path.join(self.tmp, "signal-ready")
        state_file = os.path.join(self.tmp, "probe.json")
        for stale in (marker, state_file):
            if os.path.exists(stale):
                os.unlink(stale)
        tool = [sys.executable, BUILDCMD, "wait-signal", marker, mode, "--"] + location.tool()
        probe = [sys.executable, "-S", os.path.join(HERE, "probe.py"), state_file, location.root, location.output_dir,
                 location.kind, "--"]
        if path == "guard-run":
            argv = [self.tools.guard, "run", "--manifest", manifest, "--root", location.root, "--stamp", stamp, "--"]
        else:
            argv = [self.tools.git_mtime, "run", "--stamp", stamp, "--"]
            other = self.locations["cargo" if location.kind == "make" else "make"]
            other.tainted = other.disturbed = True
        before = snapshot.contents(location.root)
        stamp_before = self.stamp_digest(location)

        def default_signals():
            for restored in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                signal.signal(restored, signal.SIG_DFL)

        started = time.monotonic()
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(argv + probe + tool, cwd=location.root, env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, start_new_session=True, preexec_fn=default_signals)
            while not os.path.exists(marker) and process.poll() is None and time.monotonic() < started + 300:
                time.sleep(0.01)
            if os.path.exists(marker):
                if target == "the command":
                    os.kill(process.pid, number)
                else:
                    os.killpg(process.pid, number)
                self.stats["signals_delivered"] += 1
            try:
                status = process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise Failure("%s: still running 300 s after the signal" % what)
            log.seek(0)
            output = log.read().decode(errors="replace")
        self.elapsed["signals"] = self.elapsed.get("signals", 0) + time.monotonic() - started
        if not os.path.exists(marker):
            raise Failure("%s: the build command never started (exit %d): %s" % (what, status, output.strip()[-2000:]))
        self.assert_unchanged([location.root], [before], what)
        self.check_sentinel(what)
        if self.stamp_digest(location) != stamp_before:
            raise Failure("SEALED AFTER A SIGNAL: %s, and the stamp %s was sealed (the build did not finish):\n%s"
                          % (what, location.real_stamp(), output.strip()[-1500:]))
        wanted = (0,) if mode != "die" else (128 + number, -number)
        if status not in wanted:
            raise Failure("%s: exit status %d, expected %s:\n%s" % (what, status, " or ".join(map(str, wanted)),
                                                                   output.strip()[-1500:]))
        if self.check_probe(location, digests, state_file, path) and self.violation:
            raise Failure(self.violation + " (a signal then stopped the build)")
        if mode == "trap-after":
            # The tool finished before the signal: its outputs are the build's, unsealed.
            printed = subprocess.run([location.program()], capture_output=True).stdout
            if printed != expected:
                self.stats["stale_builds"] += 1
                raise Failure("STALE BUILD at %s (%s, interrupted after building): the program prints\n%s\nbut the "
                              "sources say\n%s" % (location.name, path, printed.decode(errors="replace"),
                                                   expected.decode(errors="replace")))
            self.count_rebuilds(location, digests, outputs_before, output, "untrusted_stamp")
            location.consumed = digests
            location.last_ok = True
            location.sealed = location.sealed_any = False
            location.tainted = location.copy
            self.after_build(location)

    def op_chmod(self):
        """core.fileMode=false: the executable bit on disk changes, and git calls the file clean."""
        if self.filter_config.get("core.fileMode") != "false":
            return self.op_edit()
        candidates = [p for p in self.git_out("ls-files").splitlines()
                      if p.startswith(("src/", "include/", "README")) and present_below(self.repo, p)
                      and os.path.isfile(os.path.join(self.repo, p))]
        if not candidates:
            return self.op_edit()
        path = self.class_rng["filters"].choice(candidates)
        full = os.path.join(self.repo, path)
        mode = os.stat(full).st_mode ^ 0o111
        self.steps.append("chmod %s %s (core.fileMode=false: git calls it clean)" % ("+x" if mode & 0o100 else "-x", path))
        os.chmod(full, mode)

    def differing_target(self):
        """A branch (or HEAD~1) whose make sources differ from HEAD's, else any other branch, else None."""
        candidates = [b for b in self.branches() if b != self.current_branch()]
        if self.git("rev-parse", "-q", "--verify", "HEAD~1", check=False).returncode == 0:
            candidates.append("HEAD~1")
        differing = [b for b in candidates
                     if self.run(["git", "diff", "--quiet", "HEAD", b, "--", "src", "include"], self.repo, check=False,
                                 what="git").returncode == 1]
        return self.rng.choice(differing or candidates) if (differing or candidates) else None

    def plain_after_git(self):
        """Right after a git-only change: a plain build, where rule 2 covers it (no hook in commit mode)."""
        make = self.locations["make"]
        if not make.tainted and self.hook_mode != "commit":
            self.build(make, "plain")

    def op_orphan(self):
        """`git checkout --orphan` then `git checkout -f TARGET`: the post-checkout hook sees a null previous HEAD
        although the tree holds outputs; files git rewrote must not get old times (a plain build follows)."""
        target = self.differing_target()
        if target is None:
            return self.op_checkout()
        if target == "HEAD~1":
            target = self.git_out("rev-parse", "HEAD~1").strip()
        self.settle(self.locations["make"])
        name = next("orphan%d" % n for n in range(1, 1000) if "orphan%d" % n not in self.branches())
        self.steps.append("checkout --orphan %s, then checkout -f %s" % (name, target))
        self.git("checkout", "-q", "--orphan", name)
        process = self.git("checkout", "-q", "-f", target, check=False)
        if process.returncode != 0:
            raise Failure("`git checkout -f %s` after an orphan checkout failed: %s"
                          % (target, process.stderr.decode(errors="replace").strip()))
        self.plain_after_git()

    def op_reinit(self):
        """`git init; git fetch; git checkout -f TARGET` over the existing tree and its outputs (a CI checkout
        into a cached workspace); a plain build follows."""
        if self.has("submodule"):
            return self.op_orphan()
        target = self.differing_target() or "HEAD"
        commit = self.git_out("rev-parse", target).strip()
        branch = target if target in self.branches(remote=False) else None
        self.settle(self.locations["make"])
        self.clones += 1
        old = os.path.join(self.tmp, "old-git%d" % self.clones)
        self.steps.append("git init; git fetch; git checkout -f %s over the tree (its .git moved away)" % (branch or commit[:8]))
        os.rename(os.path.join(self.repo, ".git"), old)
        template = os.path.join(self.tmp, "template")
        if self.hook_mode != "none" and not os.path.isdir(template):
            self.mtime("hooks", "install", "--template", template)
        self.git("init", "-q", *(["--template", template] if self.hook_mode != "none" else []))
        self.configure_repo()
        if self.hook_mode != "none":
            self.git("config", "mtime.hookMode", self.hook_mode)
        self.git("fetch", "-q", old, "+refs/heads/*:refs/remotes/origin/*", "+%s:refs/remotes/origin/previous-head" % commit)
        if branch:
            self.git("checkout", "-q", "-f", "-B", branch, "origin/" + branch)
        else:
            self.git("checkout", "-q", "-f", "--detach", commit)
        shutil.rmtree(old)
        self.plain_after_git()

    def op_generator(self):
        """The build command rewrites a clean tracked source before compiling it (a code generator, `cargo fmt`);
        then the change is often reverted with `git checkout -- FILE`, which puts back the manifest's content."""
        rng = self.class_rng["generator"]
        candidates = [p for p in self.clean_tracked_sources(("src/",)) if p.endswith(".c")]
        if not candidates:
            return self.op_edit()
        path = rng.choice(candidates)
        build_path = rng.choice(["guard-run", "guard-run", "mtime-run", "guard-steps"])
        # The command puts the old bytes back itself before it ends (`run` only: standalone seal can't see it).
        put_back = rng.choice([None, None, "bytes", "mtime"]) if build_path != "guard-steps" else None
        self.build(self.locations["make"], build_path, generate=path, put_back=put_back)
        if put_back:
            return
        if rng.random() < 0.7:
            self.steps.append("git checkout -- %s (the generated change reverted)" % path)
            self.git("checkout", "--", path)

    def op_future_output(self):
        """A build leaves a file dated far in the future in its output directory (an unpacked archive, a skewed
        clock); often a detour follows (an unsealed build, then the sealed content back): no later unsealed
        build may hide behind that date."""
        make = self.locations["make"]
        guarded = self.class_rng["future-outputs"].random() < 0.7
        path = self.rng.choice(["guard-run", "guard-steps", "mtime-run"]) if guarded else self.choose_path(make)
        self.build(make, path, plant="archive-%d.dat" % (len(make.planted) + 1))
        if guarded and self.has("coarse-fs") and self.class_rng["coarse-fs"].random() < 0.5:
            # soak-1130b 137: behind the far-future output the next guarded build starts in the second the last
            # one linked in, and recompiles a unit changed with an old mtime: make relinks only if the guard waits.
            make.hurry = "build"
            path = self.rng.choice([p for p in fixture.make_sources(self.repo) if p.startswith("src/") and p.endswith(".c")])
            token = self.new_token(path)
            old = BASE_COMMIT_TIME - self.rng.randint(0, 10 ** 7)
            self.steps.append("in the same second: edit %s -> %s with an old mtime (@%d)" % (path, token, old))
            self.write_token(path, token)
            os.utime(os.path.join(self.repo, path), ns=(old * 10 ** 9, old * 10 ** 9))
            self.taint_owner(path)
            self.build(make, self.rng.choice(["guard-run", "guard-steps"]))
        elif guarded and self.class_rng["future-outputs"].random() < 0.7:
            self.op_detour()

    def op_restore_after_seal(self):
        """A commit, a sealed build of it, `git reset --hard HEAD~1` (no hook sees it), then `git mtime restore`:
        with the stamp at mtime.stamp trusted, a file whose content the stamp did not record must not get an old
        commit time, so a plain build stays covered (issue 13, case 8). The commit edits a source, or deletes a
        unit, or replaces include/ by a symlink to an edited copy: then the reset brings back a path the stamp
        does not record at all, whose old output (f3.o, make's dependency on include/marks.h) is still there
        (scenarios 101, 376, 678, 713 of soak-1130)."""
        make = self.locations["make"]
        if make.link == "outside" or any(b"this is not C" in open(os.path.join(self.repo, p), "rb").read()
                                         for p in fixture.make_sources(self.repo)):
            return self.op_restore()
        include = os.path.join(self.repo, "include")
        # Only a tracked unit: deleting an untracked one (left by a checkout) gives git nothing to commit.
        tracked = set(self.git_out("ls-files", "-z", "--", "src").split("\0"))
        units = [p for p in fixture.make_sources(self.repo) if p.startswith("src/f") and p in tracked]
        shape = self.rng.choice(["edit", "edit", "delete", "symlink"])
        submodule_clean = self.has("submodule") and os.path.exists(os.path.join(self.repo, "vendor", "clib", ".git")) and \
            self.git_out("submodule", "status", "--", "vendor/clib").startswith(" ") and \
            not self.git_out("status", "--porcelain", "--untracked-files=no", cwd=os.path.join(self.repo, "vendor", "clib")).strip()
        if submodule_clean and self.class_rng["restore-stamp"].random() < 0.5:
            # The reset moves the submodule back (submodule.recurse): restore must keep clib.c newer by its
            # superproject path in the stamp, not give it the submodule history's time (soak-1130d 14).
            token = "%08x" % self.class_rng["restore-stamp"].getrandbits(32)
            self.steps.append("bump the submodule vendor/clib (vendor/clib/clib.c -> %s) and commit" % token)
            self.advance_submodule(token)
        elif shape == "delete" and len(units) > 1:
            path = self.rng.choice(units)
            self.steps.append("delete %s and commit" % path)
            os.unlink(os.path.join(self.repo, path))
        elif shape == "symlink" and os.path.isfile(os.path.join(include, "marks.h")) and not os.path.islink(include):
            copy = next("inc%d" % n for n in range(1, 1000) if not os.path.lexists(os.path.join(self.repo, "inc%d" % n)))
            token = self.new_token("include/marks.h")
            with open(os.path.join(include, "marks.h"), "rb") as f:
                data = fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), f.read(), count=1)
            self.steps.append("replace the directory include by a symlink to %s/ (marks.h -> %s) and commit" % (copy, token))
            os.makedirs(os.path.join(self.repo, copy))
            write_bytes(os.path.join(self.repo, copy, "marks.h"), data)
            shutil.rmtree(include)
            os.symlink(copy, include)
        else:
            path = self.rng.choice([p for p in self.editable_files(cargo_share=0) if p.endswith(".c")])
            token = self.new_token(path)
            self.steps.append("edit %s -> %s and commit" % (path, token))
            self.write_token(path, token)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "change %d" % len(self.steps), date=True)
        self.build(make, self.rng.choice(["guard-run", "guard-steps", "mtime-run"]))
        self.settle(make)
        self.steps.append("reset --hard HEAD~1 (no hook sees it), then git mtime restore after the sealed build")
        self.git("reset", "-q", "--hard", "HEAD~1")
        self.mtime("restore", "-C", self.repo)
        self.after_restore([])
        if not make.tainted:
            self.build(make, "plain")

    def op_detour(self):
        """After a sealed build: an edit built by a plain (unsealed) build, then reverted (`git checkout -- FILE`
        puts back exactly what the sealed build consumed), then a guarded build. The stamp no longer describes
        the outputs (they are the edit's), so the guard must not trust it, wherever the output directory
        really is and whatever dates the files beside the stamp carry."""
        make = self.locations["make"]
        candidates = [p for p in self.clean_tracked_sources() if p.endswith(".c")]
        if not make.sealed_any or make.tainted or not candidates or any(
                b"this is not C" in open(os.path.join(self.repo, p), "rb").read() for p in fixture.make_sources(self.repo)):
            return self.op_edit()
        self.settle(make)
        rng = self.rng
        path = rng.choice(candidates)
        token = self.new_token(path)
        self.steps.append("detour: edit %s -> %s after a sealed build" % (path, token))
        self.write_token(path, token)
        self.build(make, "plain")
        self.steps.append("git checkout -- %s (back to what the sealed build consumed)" % path)
        self.git("checkout", "--", path)
        self.build(make, rng.choice(["guard-run", "guard-steps", "mtime-run"]))

    def op_bump_submodule(self):
        """The vendored library gets a new commit; the submodule is moved to it (git writes the file now), often
        with an old mtime afterwards (an archive, `cp -p`), and the bump is committed or left dirty."""
        rng = self.class_rng["submodule"]
        path = "vendor/clib/clib.c"
        token = "%08x" % rng.getrandbits(32)
        self.steps.append("bump the submodule vendor/clib to a new commit (%s -> %s)" % (path, token))
        self.advance_submodule(token)
        if rng.random() < 0.5:
            old = BASE_COMMIT_TIME - rng.randint(0, 10 ** 7)
            os.utime(os.path.join(self.repo, path), ns=(old * 10 ** 9, old * 10 ** 9))
            self.steps[-1] += " with an old mtime (@%d)" % old
            self.taint_owner(path)
        if rng.random() < 0.6:
            self.steps[-1] += "; commit the bump"
            self.git("add", "vendor/clib")
            self.git("commit", "-q", "-m", "bump clib", date=True)

    def advance_submodule(self, token):
        """A new commit of the vendored library (clib.c holding `token`), the submodule moved to it: git writes the file now."""
        fixture.write(self.clib_origin, "clib.c", fixture.unit_source("vendor/clib/clib.c", token))
        self.run(["git", "commit", "-q", "-am", "clib %s" % token], self.clib_origin, env=self.commit_date(), what="git")
        submodule = os.path.join(self.repo, "vendor", "clib")
        if not os.path.exists(os.path.join(submodule, ".git")):
            self.git("submodule", "update", "-q", "--init")
        self.run(["git", "fetch", "-q", "origin"], submodule, what="git")
        self.run(["git", "checkout", "-q", "--detach", "FETCH_HEAD"], submodule, what="git")
        self.stats["git_ops"] += 3

    # ----- builds -----

    def write_manifest(self, context):
        restore = self.rng.random() < 0.3
        path = os.path.join(self.tmp, "manifest")
        self.steps[-1] += " (manifest%s)" % (" --restore" if restore else "")
        self.mtime("manifest", "-C", self.repo, "--context", context, "-o", path, *(["--restore"] if restore else []))
        if restore:
            # It sets the context's clean files to commit times: plain builds of that context lose coverage.
            self.locations["cargo" if context.endswith("/rs") else "make"].tainted = True
        self.check_manifest_lists_the_context(path, context)
        return path

    def check_manifest_lists_the_context(self, manifest, context):
        """The manifest lists exactly the files git sees in the context (docs/manifest.md, "Which files"):
        tracked files present on disk (not below a symlink), untracked files git doesn't ignore (also below a
        tracked path replaced by a directory, and a symlink that replaced a tracked directory), minus what
        .dockerignore excludes; with a submodule, the submodule's files too."""
        listed = read_manifest(manifest)
        prefix = os.path.relpath(context, self.repo)
        prefix = "" if prefix == "." else prefix + "/"
        excluded = ("rs", "build", ".cache", "cache") if prefix == "" else ()
        expected = {}
        for record in self.git_out("ls-files", "-s", "-z").split("\0"):
            if not record:
                continue
            info, path = record.split("\t", 1)
            if info.split()[0] != "160000" and present_below(self.repo, path):
                expected[path] = "tracked"
        for path in self.git_out("ls-files", "-o", "--exclude-standard", "-z").split("\0"):
            if path:
                expected[path] = "untracked"
        if self.has("submodule") and os.path.exists(os.path.join(self.repo, "vendor", "clib", ".git")):
            submodule = os.path.join(self.repo, "vendor", "clib")
            for path in self.git_out("ls-files", "-z", cwd=submodule).split("\0"):
                if path and present_below(submodule, path):
                    expected["vendor/clib/" + path] = None  # either origin: docs/manifest.md decides
        expected = {p[len(prefix):]: origin for p, origin in expected.items()
                    if p.startswith(prefix) and p[len(prefix):].split("/")[0] not in excluded}
        for path in sorted(set(expected) | set(listed)):
            if path not in listed:
                raise Failure("MANIFEST INCOMPLETE: git sees %s (%s) in the context %s, the manifest does not list it"
                              % (path, expected[path] or "in the submodule", context))
            if path not in expected:
                raise Failure("MANIFEST LISTS %s (%s), which git does not see in the context %s"
                              % (path, listed[path][0], context))
            if expected[path] and listed[path][0] != expected[path]:
                raise Failure("the manifest lists %s as %s, git sees it %s" % (path, listed[path][0], expected[path]))

    def choose_path(self, location):
        paths = ["guard-run", "guard-run", "guard-steps"]
        if not location.copy:
            paths.append("mtime-run")
        if not location.tainted and not location.hurry:
            paths += ["plain"] * 3
        return self.rng.choice(paths)

    def choose_stamp(self, location):
        """The --stamp a guarded build passes: the default place, or (output directory leaving the root) mostly
        its real place, as the guard's refusal message says to name it."""
        if location.link == "outside" and self.class_rng["output-links"].random() < 0.75:
            return location.real_stamp()
        return location.stamp

    def stamp_digest(self, location):
        stamp = location.real_stamp()
        return snapshot.digest(stamp) if os.path.isfile(stamp) else None

    def build(self, location, path, manifest=None, allow_missing=False, generate=None, plant=None, put_back=None):
        """One build at `location` along `path` (plain, guard-run, guard-steps, mtime-run). `generate`: a tracked
        source the build command rewrites before compiling (a code generator), and with `put_back` writes back
        after the tool ran (`bytes`; `mtime`: its old mtime too); `plant`: an output file the build command leaves
        dated in the future."""
        self.stats["builds"] += 1
        sources = location.sources()
        digests = location.source_digests()
        broken = location.kind == "make" and any(
            b"this is not C" in open(os.path.join(location.root, p), "rb").read() for p in sources)
        expected = fixture.expected_output(location.root, sources)
        outputs_before = location.output_mtimes(planted=True)
        stamp_before = self.stamp_digest(location)
        description = "build %s: %s" % (location.name, path)
        tool = location.tool()
        exempt = {}
        if generate:
            token = self.new_token(generate)
            full = os.path.join(location.root, generate)
            with open(full, "rb") as f:
                generated = fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), f.read(), count=1)
            if put_back:
                consumed_generated = hashlib.sha256(generated).hexdigest()
                tool = [sys.executable, BUILDCMD, "generate", full, token, put_back, "--"] + tool
                description += " (its command rewrites %s -> %s before compiling, then puts the old bytes%s back)" % (
                    generate, token, " and mtime" if put_back == "mtime" else "")
            else:
                exempt[full] = hashlib.sha256(generated).hexdigest()
                tool = [sys.executable, BUILDCMD, "generate", full, token, "--"] + tool
                description += " (its command rewrites %s -> %s before compiling)" % (generate, token)
        if plant:
            when = FUTURE_2037 if self.has("coarse-fs") else FUTURE_2099
            tool = [sys.executable, BUILDCMD, "future", os.path.join(location.output_dir, plant), str(when), "--"] + tool
            description += " (its command leaves %s/%s dated @%d)" % (location.output, plant, when)
        if location.name != "copy":
            self.steps.append(description)
        else:
            self.steps[-1] += "; " + description
        state_file = os.path.join(self.tmp, "probe.json")
        if os.path.exists(state_file):
            os.unlink(state_file)
        before = snapshot.contents(location.root)
        sealed = False
        stamp = location.stamp

        if path == "plain":
            if location.hurry:
                raise Failure("harness error: a plain build at %s right after its last build (settle first)" % location.name)
            self.stats["plain_builds"] += 1
            self.check_promise(location, digests, fixture.source_mtimes(location.root, location.kind),
                               location.output_mtimes(), path)
            process = self.run(tool, location.root, check=False, what=location.kind)
        else:
            self.stats["guarded_builds"] += 1
            if location.hurry == "edit":
                self.wait_for_tick(location)  # the step shared the outputs' second; the build starts after it
            if manifest is None and path != "mtime-run":
                manifest = self.write_manifest(location.root)
                before = snapshot.contents(location.root)
            stamp = self.choose_stamp(location)
            leaving = leaves_root(stamp, self.repo if path == "mtime-run" else location.root)
            if leaving:
                self.expect_refusal(location, path, manifest, stamp, leaving, allow_missing)
                stamp = location.real_stamp()
                self.steps[-1] += " [refused: the stamp's directory %s leaves the root; again with --stamp %s]" % (
                    os.path.relpath(leaving, self.tmp), os.path.relpath(stamp, self.tmp))
            process, sealed = self.guarded(location, path, manifest, stamp, tool, state_file, allow_missing,
                                           seal_refuses=bool(generate) and path == "guard-steps")
            if not self.check_probe(location, digests, state_file, path) and process.returncode == 0:
                raise Failure("%s: the build command never ran, yet the exit status is 0" % description)
        self.assert_unchanged([location.root], [before], description, exempt)
        self.check_sentinel(description)

        log = (process.stdout + process.stderr).decode(errors="replace")
        location.sealed = location.sealed_any = False
        location.hurry = None
        if broken:
            if process.returncode == 0:
                raise Failure("%s succeeded although a source does not compile" % description)
            if path != "plain" and stamp_before != self.stamp_digest(location):
                raise Failure("%s failed but the stamp %s changed (it must only be sealed after success)"
                              % (description, location.stamp))
            location.last_ok = False
            if self.violation:
                raise Failure(self.violation + " (the build failed, as this source does not compile)")
            self.after_build(location)
            return
        if process.returncode != 0:
            raise Failure("%s exited %d:\n%s" % (description, process.returncode, log.strip()[-3000:]))
        printed = subprocess.run([location.program()], capture_output=True).stdout
        if generate and put_back:
            # What the build consumed: the generated content, no longer on disk; the next build must not be stale.
            digests = dict(location.source_digests(), **{generate: consumed_generated})
            expected = printed if ("#%s@@" % token).encode() in printed else b"(the generated token %s)" % token.encode()
        elif generate:
            # What the build consumed: the generated content.
            digests = location.source_digests()
            expected = fixture.expected_output(location.root, location.sources())
        if printed != expected:
            self.stats["stale_builds"] += 1
            raise Failure("STALE BUILD at %s (%s): the program prints\n%s\nbut the sources say\n%s%s\nthe build's output:\n%s"
                          % (location.name, path, printed.decode(errors="replace"), expected.decode(errors="replace"),
                             "\n(" + self.violation + ")" if self.violation else "", log.strip()[-1500:]))
        if self.violation:
            raise Failure(self.violation + " (this build happened to come out right)")
        if path == "plain":
            cause = "plain"
        elif "no build stamp" in log or "ignoring the build stamp" in log:
            cause = "untrusted_stamp"
        else:
            cause = "trusted_stamp"
        if location.disturbed:
            cause = "other_build"  # e.g. its dirty files were bumped by the other build's `git mtime run`
        if self.future_dated:
            cause = "future_dates"  # sources dated in the future look newer than every output, always
        self.count_rebuilds(location, digests, outputs_before, log, cause)
        location.consumed = digests
        location.last_ok = True
        location.disturbed = False
        location.sealed_any = sealed
        location.sealed = sealed and stamp == location.stamp and location.link != "outside"
        if plant:
            location.planted.add(plant)
            self.future_dated = True
        if path != "plain":
            location.tainted = location.copy
        self.after_build(location)

    def after_build(self, location):
        """Usually waits until the file system clock passed the outputs (the harness never edits in the same
        tick as a build). Class coarse-fs: half the time it doesn't, so the next step lands in the same second
        as the outputs; then only a guarded build may follow (make can't see a same-second change, the guard
        must bump past the outputs as the file system stores them)."""
        if self.has("coarse-fs") and self.class_rng["coarse-fs"].random() < 0.5:
            # "edit": the next step lands in the second of these outputs, the next build starts a second later;
            # "build": that build starts in the same second too (make then compares the objects it recompiles with
            # a program written in that second).
            location.hurry = self.class_rng["coarse-fs"].choice(["edit", "build"])
        else:
            self.wait_for_tick(location)

    def settle(self, location):
        """Before a step that ends in a plain build: the clock passes the outputs of the last build."""
        if location.hurry:
            self.wait_for_tick(location)
            location.hurry = None

    def guarded(self, location, path, manifest, stamp, tool, state_file, allow_missing=False, seal_refuses=False):
        """Runs one guarded build (the probe records the promise's moment, then runs `tool`); returns the
        process and whether the stamp was sealed."""
        common = ["--manifest", manifest, "--root", location.root, "--stamp", stamp] + (
            ["--allow-missing"] if allow_missing else [])
        probe = [sys.executable, "-S", os.path.join(HERE, "probe.py"), state_file, location.root, location.output_dir,
                 location.kind, "--"]
        self.stats["mtime_commands"] += 1
        if path == "guard-run":
            process = self.run([self.tools.guard, "run"] + common + ["--"] + probe + tool, location.root, check=False,
                               what="guard+" + location.kind)
            return process, process.returncode == 0
        if path == "mtime-run":
            process = self.run([self.tools.git_mtime, "run", "--stamp", stamp, "--"] + probe + tool,
                               location.root, check=False, what="mtime-run+" + location.kind)
            # It restores and guards the whole working tree: the other build's sources get old times too.
            other = self.locations["cargo" if location.kind == "make" else "make"]
            other.tainted = other.disturbed = True
            return process, process.returncode == 0
        prepared = self.run([self.tools.guard, "prepare"] + common, location.root, check=False, what="guard")
        if prepared.returncode != 0:
            return prepared, False
        self.run(probe[:-1] + ["--", "true"], location.root, what="probe")
        process = self.run(tool, location.root, check=False, what=location.kind)
        process.stderr = prepared.stderr + process.stderr
        if process.returncode != 0:
            return process, False
        before = self.stamp_digest(location)
        sealing = self.run([self.tools.guard, "seal"] + common, location.root, check=False, what="guard")
        if seal_refuses:
            # Standalone seal verifies: the build command changed a tracked source, so nothing is sealed.
            if sealing.returncode != 1 or self.stamp_digest(location) != before:
                raise Failure("`git-mtime-guard seal` after a build that rewrote a tracked source exited %d (expected 1, "
                              "stamp unchanged): %s" % (sealing.returncode, sealing.stderr.decode(errors="replace").strip()))
            return process, False
        if sealing.returncode != 0:
            raise Failure("`git-mtime-guard seal` exited %d: %s" % (sealing.returncode,
                                                                  sealing.stderr.decode(errors="replace").strip()))
        return process, True

    def expect_refusal(self, location, path, manifest, stamp, leaving, allow_missing):
        """The stamp's directory leaves the root through a symlink the context holds: the guard must refuse
        before running anything (exit 64), writing nothing anywhere (docs/stamp.md, "Where the stamp may live")."""
        self.stats["refusals_expected"] += 1
        state_file = os.path.join(self.tmp, "refused.json")
        if os.path.exists(state_file):
            os.unlink(state_file)
        root = self.repo if path == "mtime-run" else location.root
        times = snapshot.mtimes(root, skip=snapshot.SKIP)
        before = snapshot.contents(root)
        stamp_before = self.stamp_digest(location)
        process, _ = self.guarded(location, path, manifest, stamp, ["true"], state_file, allow_missing)
        what = "%s with --stamp %s (its directory %s leaves the root)" % (path, stamp, leaving)
        self.check_sentinel(what)
        self.assert_unchanged([root], [before], what)
        message = process.stderr.decode(errors="replace")
        if process.returncode != 64 or "outside the root" not in message:
            raise Failure("%s: expected a refusal before the build (exit 64, naming the way out of the root), got exit "
                          "%d: %s" % (what, process.returncode, message.strip()[-800:]))
        if os.path.exists(state_file):
            raise Failure("%s: refused, but the build command ran" % what)
        if self.stamp_digest(location) != stamp_before:
            raise Failure("%s: refused, but the stamp at %s changed" % (what, location.real_stamp()))
        if path == "mtime-run":
            self.locations["make"].tainted = self.locations["cargo"].tainted = True  # its restore may have run
        elif snapshot.mtimes(root, skip=snapshot.SKIP) != times:
            raise Failure("%s: refused, but mtimes in the root changed" % what)

    def check_probe(self, location, digests, state_file, path):
        """The promise at the moment the probe recorded (after the guard, before the tool); False when the
        build command never ran."""
        if not os.path.exists(state_file):
            return False
        with open(state_file) as f:
            state = json.load(f)
        outputs = {p: t for p, t in state["outputs"].items() if not is_stamp_or_sibling(p)}
        self.check_promise(location, digests, state["sources"], outputs, path)
        return True

    def check_promise(self, location, digests, source_mtimes, outputs, path):
        """Before the build tool reads anything: every source whose content differs from what the last
        successful build at this location consumed is strictly newer than every output of that build."""
        if location.consumed is None or not location.last_ok or not outputs:
            return
        newest_path, newest = max(outputs.items(), key=lambda item: item[1])
        for source, digest in sorted(digests.items()):
            if location.consumed.get(source) == digest:
                continue
            mtime = source_mtimes.get(source)
            if mtime is not None and mtime <= newest:
                # Recorded, not raised yet: the build still runs, so the counts say whether it went stale.
                self.violation = ("PROMISE BROKEN before the %s build at %s: %s changed since the last build but its "
                                  "mtime %d is not newer than that build's output %s (%d)"
                                  % (path, location.name, source, mtime, newest_path, newest))
                self.stats["promise_violations"] += 1
                return

    def count_rebuilds(self, location, digests, outputs_before, log, cause):
        """Units the build compiled although nothing they are built from changed since the last build."""
        if location.consumed is None or not location.last_ok:
            return
        changed = {p for p, d in digests.items() if location.consumed.get(p) != d}
        if location.kind == "make":
            after = location.output_mtimes()
            header_changed = any(p.startswith("include/") for p in changed)
            for output, mtime in after.items():
                if not output.endswith(".o"):
                    continue
                source = "src/" + output[:-2] + ".c"
                if outputs_before.get(output) == mtime:
                    continue
                self.stats["units_compiled"] += 1
                if output in outputs_before and source not in changed and not header_changed:
                    if os.environ.get("HARNESS_DEBUG"):
                        sys.stderr.write("unnecessary %s (%s) in scenario %d at step %r\n%s\n%s\n" % (output, cause, self.index, self.steps[-1], log, "\n".join(self.steps)))
                    self.stats["unnecessary_units"] += 1
                    self.stats["unnecessary_units_" + cause] += 1
        else:
            workspace_changed = any(fixture.crate_of(p) is None for p in changed)
            for line in log.splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] == "Compiling":
                    crate = words[1]
                    self.stats["units_compiled"] += 1
                    needed = workspace_changed or any(
                        fixture.crate_of(p) in fixture.CRATE_INPUTS.get(crate, [crate]) for p in changed)
                    if not needed:
                        self.stats["unnecessary_units"] += 1
                        self.stats["unnecessary_units_" + cause] += 1

    def wait_for_tick(self, location):
        """The next edit must get a later mtime than the build's outputs (the kernel's clock is coarse):
        people do not edit within milliseconds of a build finishing, so the harness doesn't either."""
        outputs = location.output_mtimes()
        newest = max(outputs.values()) if outputs else 0
        probe = os.path.join(self.tmp, "tick")
        deadline = time.monotonic() + 5  # a whole-second file system (class coarse-fs) needs up to a second
        while time.monotonic() < deadline:
            with open(probe, "w") as f:
                f.write("tick")
            if os.lstat(probe).st_mtime_ns > newest:
                return
            time.sleep(0.002 if not self.mounted else 0.05)
        raise Failure("the file system clock did not pass %d" % newest)

    # ----- the scenario -----

    OPS = [("edit", 18), ("revert_edit", 4), ("add_file", 3), ("delete_file", 2), ("break", 2), ("import_old", 3),
           ("touch", 2), ("commit", 12), ("branch", 4), ("checkout", 9), ("merge", 5), ("rebase", 4),
           ("cherry_pick", 3), ("amend", 3), ("stash", 3), ("reset", 3), ("clone", 2), ("copy", 6),
           ("restore", 6), ("manifest", 2), ("hooks", 3)]
    # The steps each class adds to the scenarios it applies to (shapes made at setup need no step).
    CLASS_OPS = {"output-links": [("detour", 8)], "coarse-fs": [("detour", 4)], "partial-copy": [("copy", 8)],
                 "hostile-link": [("hostile_link", 6)], "restore-race": [("race_restore", 8), ("race_hook", 6)],
                 "replaced-paths": [("file_to_dir", 8), ("dir_to_symlink", 6)], "signals": [("signal_run", 10)],
                 "filters": [("chmod", 6)], "orphan": [("orphan", 8), ("reinit", 5)], "generator": [("generator", 10)],
                 "future-outputs": [("future_output", 8), ("detour", 6)], "restore-stamp": [("restore_after_seal", 10)],
                 "submodule": [("bump_submodule", 10)], "shallow-clone": [("clone", 6)]}

    def execute(self):
        self.setup()
        self.build(self.locations["make"], "plain")
        ops = list(self.OPS)
        for name in sorted(self.classes):
            ops += self.CLASS_OPS.get(name, [])
        names = [name for name, _ in ops]
        weights = [weight for _, weight in ops]
        for step in range(self.step_count):
            if self.rng.random() < 0.8:
                self.fix_broken()  # otherwise the next build must fail again
            op = self.rng.choices(names, weights)[0]
            self.count("op_" + op)
            getattr(self, "op_" + op)()
            self.check_sentinel("step %d (%s)" % (step + 1, op))
            make = self.locations["make"]
            self.build(make, self.choose_path(make))
            if step % self.cargo_every == self.cargo_every - 1:
                cargo = self.locations["cargo"]
                self.build(cargo, self.choose_path(cargo))

    def cleanup(self):
        if getattr(self, "mounted", None):
            mounts.unmount(self.mounted)
        shutil.rmtree(self.base, ignore_errors=True)


FAILURE_KINDS = [("not the null device", "machine_dev_null"), ("STALE BUILD", "stale_build"), ("PROMISE BROKEN", "promise"), ("WROTE OUTSIDE", "outside_root"),
                 ("RACE LOST", "race"), ("MANIFEST", "manifest"), ("SEALED AFTER", "sealed_after_signal"),
                 ("expected a refusal", "no_refusal"), ("--allow-missing", "no_missing_note"), ("changed a file's content", "content"),
                 ("a hook failed", "hook"), ("harness error", "harness_error"), ("after restore", "restore_times"),
                 ("build ", "build_failed")]


def failure_kind(message):
    """A short name for a failure, for the summary counts."""
    for words, kind in FAILURE_KINDS:
        if words in message:
            return kind
    return "other"


def init_worker(coarse):
    """Each worker process gets a private mount namespace when scenarios may mount images (coarse-fs)."""
    if coarse:
        mounts.enter_private_namespace()


def run_scenario(job):
    bin_dir, seed, index, steps, cargo_every, keep, enabled, shares = job
    scenario = Scenario(Tools(bin_dir), seed, index, steps, cargo_every, enabled, shares, keep)
    started = time.monotonic()
    failure = None
    try:
        scenario.execute()
    except Failure as error:
        failure = str(error)
    except Exception:
        failure = "harness error:\n" + traceback.format_exc()
    finally:
        if not (keep and failure):
            scenario.cleanup()
    if failure and not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        # Seen on the shared machine: a process elsewhere replaced /dev/null by a regular file, and every
        # child reading it (rustc - under cargo) read that file's bytes.
        failure = "harness error: /dev/null is not the null device (a regular file?): fix the machine first\n" + failure
    return {"index": index, "failure": failure, "steps": scenario.steps, "stats": scenario.stats,
            "seconds": time.monotonic() - started, "elapsed": getattr(scenario, "elapsed", {}),
            "tmp": getattr(scenario, "base", None), "mounted": getattr(scenario, "mounted", None)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", "--count", dest="scenarios", type=int, default=200,
                        help="how many scenarios (indices 0..N-1 of the seed; the soak: --seed S --count 1000)")
    parser.add_argument("--steps", type=int, default=6, help="operations per scenario (each followed by a make build)")
    parser.add_argument("--cargo-every", type=int, default=3, help="build the cargo workspace every N steps")
    parser.add_argument("--seed", default=None, help="default: random (printed)")
    parser.add_argument("--only", type=int, action="append", help="run only this scenario index (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--bin", default=os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug"))
    parser.add_argument("--stats", help="write the aggregated counts as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep a failed scenario's directory")
    parser.add_argument("--verbose", action="store_true", help="print every scenario's steps")
    parser.add_argument("--classes", default=os.environ.get("RELIABILITY_CLASSES"),
                        help="generated classes to enable (default: those whose fix is on main; see --list-classes)")
    parser.add_argument("--list-classes", action="store_true", help="list the generated classes and exit")
    parser.add_argument("--plan", action="store_true",
                        help="print the classes each scenario of the seed gets, and their counts, without running any")
    args = parser.parse_args()
    if args.list_classes:
        print("class             share default  what it generates\n" + classes.describe())
        return 0
    enabled, shares = classes.parse(args.classes)
    if "coarse-fs" in enabled and mounts.available():
        print("harness: class coarse-fs skipped: %s (it loop-mounts ext4 images)" % mounts.available(), flush=True)
        enabled.discard("coarse-fs")
    spec = classes.spec_of(enabled, shares)
    Tools(args.bin)  # fail early when a binary is missing
    seed = args.seed or "%08x" % random.SystemRandom().getrandbits(32)
    indices = args.only or list(range(args.scenarios))
    print("harness: seed %s, %d scenario(s) of %d steps, %d job(s), binaries in %s, classes %s"
          % (seed, len(indices), args.steps, args.jobs, args.bin, spec), flush=True)
    if args.plan:
        counts = {}
        for index in indices:
            active = sorted(classes.active(seed, index, enabled, shares))
            for name in active:
                counts[name] = counts.get(name, 0) + 1
            print("scenario %d: %s" % (index, ", ".join(active) or "-"))
        print("harness: plan: scenarios per class: %s" % (", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none"))
        return 0
    jobs = [(args.bin, seed, i, args.steps, args.cargo_every, args.keep, enabled, shares) for i in indices]
    totals, elapsed = {}, {}
    passed = failed = 0
    started = time.monotonic()
    def write_stats(final):
        if args.stats:
            snapshot_totals = dict(totals, seconds=round(time.monotonic() - started, 1), seed=seed, passed=passed,
                                   failed=failed, scenarios=passed + failed, steps=args.steps, complete=final)
            with open(args.stats, "w") as f:
                json.dump(snapshot_totals, f, indent=1, sort_keys=True)

    with multiprocessing.Pool(args.jobs, initializer=init_worker, initargs=("coarse-fs" in enabled,)) as pool:
        for result in pool.imap_unordered(run_scenario, jobs):
            if (passed + failed) % 50 == 49:
                print("harness: %d scenarios done, %d failed, %.0f s" % (passed + failed + 1, failed,
                                                                        time.monotonic() - started), flush=True)
            for key, value in result["stats"].items():
                totals[key] = totals.get(key, 0) + value
            for key, value in result["elapsed"].items():
                elapsed[key] = elapsed.get(key, 0) + value
            if result["failure"]:
                failed += 1
                kind = "failures_" + failure_kind(result["failure"])
                totals[kind] = totals.get(kind, 0) + 1
                for key in result["stats"]:
                    if key.startswith("class_"):
                        totals["failed_" + key] = totals.get("failed_" + key, 0) + 1
                print("\nFAILED scenario %d (seed %s): %s" % (result["index"], seed, result["failure"]))
                print("  reproduce: suites/scenarios/harness.py --seed %s --only %d --steps %d --cargo-every %d "
                      "--classes %s --keep" % (seed, result["index"], args.steps, args.cargo_every, spec))
                if result["tmp"] and args.keep:
                    print("  kept: %s%s" % (result["tmp"], " (it ran on fs.img there, a whole-second ext4: mount -o loop "
                                                          "fs.img DIR to look)" if result["mounted"] else ""))
                for number, step in enumerate(result["steps"]):
                    print("  %3d. %s" % (number, step))
                sys.stdout.flush()
            else:
                passed += 1
                if args.verbose:
                    print("scenario %d: %.1fs: %s" % (result["index"], result["seconds"], "; ".join(result["steps"])))
            if (passed + failed) % 10 == 0:
                write_stats(False)
    totals["seconds"] = round(time.monotonic() - started, 1)
    totals.update(seed=seed, scenarios=passed + failed, passed=passed, failed=failed, steps=args.steps, classes=spec)
    print("harness: %s" % json.dumps(totals, sort_keys=True))
    print("harness: %d builds (%d guarded, %d plain); stale builds %d; promise violations %d; writes outside a root %d; "
          "unnecessary units %d of %d compiled (untrusted_stamp %d, future_dates %d, other_build %d, plain %d, "
          "trusted_stamp %d)" % tuple(totals.get(k, 0) for k in (
              "builds", "guarded_builds", "plain_builds", "stale_builds", "promise_violations", "writes_outside_root",
              "unnecessary_units", "units_compiled", "unnecessary_units_untrusted_stamp",
              "unnecessary_units_future_dates", "unnecessary_units_other_build", "unnecessary_units_plain",
              "unnecessary_units_trusted_stamp")))
    print("harness: scenarios per class (failed): %s" % ", ".join(
        "%s %d (%d)" % (name, totals.get("class_" + name, 0), totals.get("failed_class_" + name, 0))
        for name in sorted(enabled) if shares.get(name) is not None) or "none")
    print("harness: failures by kind: %s" % (", ".join("%s %d" % (k[len("failures_"):], v) for k, v in sorted(totals.items())
                                                      if k.startswith("failures_")) or "none"))
    print("harness: %d scenarios in %.0f s with %d job(s): %.1f s per scenario"
          % (passed + failed, totals["seconds"], args.jobs, totals["seconds"] / max(1, passed + failed)))
    print("harness: time by tool (s): %s" % ", ".join("%s %.1f" % (k, v) for k, v in sorted(elapsed.items(), key=lambda kv: -kv[1])))
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(dict(totals, complete=True), f, indent=1, sort_keys=True)
    print("scenarios: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
