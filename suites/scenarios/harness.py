#!/usr/bin/env python3
"""Seeded random stale-build scenarios: does git-mtime keep its promise?

Each scenario is a random sequence of git operations (commit, branch, checkout, merge, rebase,
cherry-pick, amend, stash, reset, clone with a restored build cache), working-tree edits, copies of the
context into a separate build directory (as Docker's COPY does), and git-mtime steps (hooks in safe and
commit mode, restore, manifest, the guard). After every step it builds the make program (and every few
steps the cargo workspace) along a path the product promises to be correct, runs the program and
compares what it prints with the markers in the current sources. The exact rules are in
docs/RELIABILITY.md ("What the harness asserts").

    harness.py [--scenarios N] [--steps K] [--seed S] [--jobs J] [--only I] [--bin DIR] [--stats FILE]

On failure it prints the seed, the scenario index and the steps that reproduce it
(`harness.py --seed S --only I`). The last line is `scenarios: N passed, N failed`.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixture  # noqa: E402
import snapshot  # noqa: E402

BASE_COMMIT_TIME = 1609459200  # 2021-01-01: commits are older than every build, as in a real checkout
STAMP_NAME = ".git-mtime-stamp"
UNIT_COUNT = 4


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

    @property
    def output_dir(self):
        return os.path.join(self.root, self.output)

    @property
    def stamp(self):
        return os.path.join(self.output_dir, STAMP_NAME)

    def sources(self):
        if self.kind == "make":
            return fixture.make_sources(self.root)
        return fixture.cargo_sources(self.root)

    def source_digests(self):
        return {p: snapshot.digest(os.path.join(self.root, p)) for p in self.sources()}

    def output_mtimes(self):
        """Every build output's mtime, without the stamp and its temporaries."""
        found = snapshot.mtimes(self.output_dir)
        return {p: t for p, t in found.items()
                if p != STAMP_NAME and not os.path.basename(p).startswith(STAMP_NAME + ".")}

    def tool(self):
        return ["make"] if self.kind == "make" else ["cargo", "build", "--offline"]

    def program(self):
        if self.kind == "make":
            return os.path.join(self.root, "build", "prog")
        return os.path.join(self.root, "target", "debug", "app")


class Scenario:
    def __init__(self, tools, seed, index, steps, cargo_every):
        self.tools = tools
        self.seed = seed
        self.index = index
        self.step_count = steps
        self.cargo_every = cargo_every
        self.rng = random.Random("%s:%d" % (seed, index))
        self.steps = []
        self.stats = {"builds": 0, "plain_builds": 0, "guarded_builds": 0, "stale_builds": 0,
                      "units_compiled": 0, "unnecessary_units": 0, "mtime_commands": 0, "git_ops": 0,
                      "ops_failed_by_git": 0, "unnecessary_units_plain": 0, "unnecessary_units_trusted_stamp": 0,
                      "unnecessary_units_untrusted_stamp": 0, "unnecessary_units_future_dates": 0,
                      "unnecessary_units_other_build": 0, "promise_violations": 0, "restore_kept_newer": 0}
        self.violation = None
        self.future_dated = False
        self.commit_time = BASE_COMMIT_TIME + self.rng.randint(0, 86400)
        self.hook_mode = "none"
        self.clones = 0
        self.token_history = {}

    # ----- processes -----

    def run(self, argv, cwd, check=True, env=None, what=None):
        started = time.monotonic()
        process = subprocess.run(argv, cwd=cwd, env=env or self.env, capture_output=True, stdin=subprocess.DEVNULL)
        self.elapsed[argv[0] if what is None else what] = self.elapsed.get(what or argv[0], 0) + time.monotonic() - started
        if check and process.returncode != 0:
            raise Failure("`%s` (in %s) exited %d: %s" % (" ".join(argv), cwd, process.returncode,
                                                           process.stderr.decode(errors="replace").strip()[-2000:]))
        return process

    def git(self, *args, check=True, date=False):
        env = self.env
        if date:
            self.commit_time += self.rng.randint(60, 86400)
            when = self.commit_time
            if self.rng.random() < 0.03:
                when = int(time.time()) + self.rng.randint(3600, 30 * 86400)  # a skewed clock: a future date
                self.steps[-1] += " [future-dated]"
                self.future_dated = True
            env = dict(env, GIT_COMMITTER_DATE="@%d +0000" % when, GIT_AUTHOR_DATE="@%d +0000" % when)
        process = self.run(["git"] + list(args), self.repo, check=check, env=env, what="git")
        self.stats["git_ops"] += 1
        for line in process.stderr.decode(errors="replace").splitlines():
            if "could not set mtimes" in line or (line.startswith("git-mtime") and "error" in line):
                raise Failure("a hook failed during `git %s`: %s" % (" ".join(args), line))
        if self.hook_mode == "commit":
            # Commit-mode hooks give rewritten files old commit times: plain builds are no longer covered.
            self.locations["make"].tainted = True
            self.locations["cargo"].tainted = True
        return process

    def git_out(self, *args):
        return self.run(["git"] + list(args), self.repo, what="git").stdout.decode()

    def mtime(self, *args, roots=(), check=True, read_only=False):
        """Runs `git mtime ARGS`, asserting it changed no file's content (nor any mtime if read_only)."""
        roots = list(roots) or [self.repo]
        before = [snapshot.contents(r) for r in roots]
        times = [snapshot.mtimes(r, skip=snapshot.SKIP) for r in roots] if read_only else None
        process = self.run([self.tools.git_mtime] + list(args), self.repo, check=check, what="git-mtime")
        self.stats["mtime_commands"] += 1
        self.assert_unchanged(roots, before, "git mtime " + " ".join(args))
        if read_only:
            for root, was in zip(roots, times):
                now = snapshot.mtimes(root, skip=snapshot.SKIP)
                changed = sorted(p for p in was if p in now and now[p] != was[p])
                if changed:
                    raise Failure("read-only `git mtime %s` changed the mtime of %s" % (" ".join(args), changed[0]))
        return process

    def assert_unchanged(self, roots, before, what):
        for root, was in zip(roots, before):
            difference = snapshot.describe_difference(was, snapshot.contents(root))
            if difference:
                raise Failure("%s changed a file's content: %s (in %s)" % (what, difference, root))

    # ----- setup -----

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="gm-scenario-")
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Scenario\n\temail = scenario@example.invalid\n"
                    "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
                    "[core]\n\tautocrlf = false\n[merge]\n\tconflictStyle = merge\n")
        real_home = os.path.expanduser("~")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "CARGO_TARGET", "MAKEFLAGS", "MFLAGS"))}
        env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C", GIT_EDITOR="true", CARGO_TERM_COLOR="never",
                   PATH=self.tools.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        env.setdefault("CARGO_HOME", os.path.join(real_home, ".cargo"))
        env.setdefault("RUSTUP_HOME", os.path.join(real_home, ".rustup"))
        self.env = env
        self.elapsed = {}
        self.repo = os.path.join(self.tmp, "work")
        os.makedirs(self.repo)
        self.locations = {}
        self.bind_locations()
        self.locations["copy"] = Location("copy", "make", os.path.join(self.tmp, "copy"), "build", copy=True)
        os.makedirs(self.locations["copy"].root)
        fixture.create(self.repo, UNIT_COUNT)
        self.steps.append("init: make project with %d units, cargo workspace" % UNIT_COUNT)
        self.git("init", "-q")
        self.git("config", "mtime.stamp", "build/" + STAMP_NAME)
        self.choose_shape()
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "initial", date=True)
        if {"filters", "autocrlf"} & set(self.shape):
            # As a clone would have them: written by git, through the filters (CRLF, an expanded $Id$).
            for path in self.git_out("ls-files", "-z").split("\0"):
                if path:
                    os.unlink(os.path.join(self.repo, path))
            self.git("checkout", "-q", "--", ".")
            self.apply_shape_config()  # README's mode on disk again
        mode = self.rng.choice(["none", "safe", "commit"])
        self.steps.append("hooks: %s" % mode)
        self.set_hooks(mode)

    def choose_shape(self):
        """Repository shapes issue 13 found stale or failing builds in, each in a share of the scenarios
        (drawn from their own stream, so a seed's operations don't depend on them): git's checkout filters
        (`eol=crlf`, `ident`, `core.autocrlf`), `core.fileMode=false` with a mode on disk that differs
        from the index, and a split index. The manifest must describe the bytes and modes on disk."""
        shape_rng = random.Random("%s:%d:shape" % (self.seed, self.index))
        self.shape = [name for name in ("filters", "autocrlf", "filemode", "splitindex") if shape_rng.random() < 0.2]
        if "filters" in self.shape:
            # Headers checked out with CRLF; README carries an expanded $Id$ on disk, never in the blob.
            fixture.write(self.repo, ".gitattributes", "*.h text eol=crlf\nREADME ident\n")
            fixture.write(self.repo, "README", "scenario project $Id$\n")
        if "autocrlf" in self.shape:
            # make and cargo's lock file need LF; every other text file is written with CRLF by checkouts.
            with open(os.path.join(self.repo, ".gitattributes"), "a") as f:
                f.write("Makefile -text\nrs/Cargo.lock -text\n")
        if self.shape:
            self.steps.append("shape: %s" % ", ".join(self.shape))
        self.apply_shape_config()

    def apply_shape_config(self):
        """The shape's settings, which live in .git/config (again after a clone)."""
        shape = getattr(self, "shape", [])
        if "autocrlf" in shape:
            self.git("config", "core.autocrlf", "true")
        if "filemode" in shape:
            self.git("config", "core.fileMode", "false")
            readme = os.path.join(self.repo, "README")
            if os.path.isfile(readme) and not os.path.islink(readme):
                os.chmod(readme, 0o755)  # git keeps calling it 100644, clean
        if "splitindex" in shape:
            self.git("config", "core.splitIndex", "true")
            self.git("update-index", "--split-index")

    def bind_locations(self):
        """(Re)points the repository's two build locations at self.repo, keeping their history."""
        old = dict(self.locations)
        self.locations["make"] = Location("make", "make", self.repo, "build")
        self.locations["cargo"] = Location("cargo", "cargo", os.path.join(self.repo, "rs"), "target")
        for name in ("make", "cargo"):
            if name in old:
                for field in ("consumed", "last_ok", "tainted", "disturbed"):
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
        return [p for p in fixture.make_sources(self.repo) if p.endswith((".c", ".h"))]

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
        units = [p for p in fixture.make_sources(self.repo) if p.startswith("src/")]
        path = self.rng.choice(units)
        self.steps.append("break %s (the next make build must fail)" % path)
        fixture.write(self.repo, path, fixture.BROKEN_C.format(path=path, token=self.new_token(path)))

    def fix_broken(self):
        for path in fixture.make_sources(self.repo):
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
            self.steps.append("stash -u")
            self.git("stash", "-q", "-u")
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
        args = ["clone", "-q"]
        if self.hook_mode != "none":
            args += ["--template", template]
        self.run(["git"] + args + [origin, destination], self.tmp, what="git")
        for cache in ("build", "rs/target"):
            if os.path.isdir(os.path.join(origin, cache)):
                self.run(["cp", "-a", os.path.join(origin, cache), os.path.join(destination, cache)], self.tmp, what="cp")
        self.repo = destination
        self.bind_locations()
        self.git("config", "mtime.stamp", "build/" + STAMP_NAME)
        if self.index_exists():
            self.apply_shape_config()
        if self.hook_mode != "none":
            self.git("config", "mtime.hookMode", self.hook_mode)
            # The clone's post-checkout gave every file its commit time (a full restore).
            self.locations["make"].tainted = True
            self.locations["cargo"].tainted = True

    def index_exists(self):
        return os.path.exists(os.path.join(self.repo, ".git", "index"))

    def op_orphan_checkout(self):
        """Issue 13 case 1: `checkout --orphan` then `checkout -f BRANCH`. The hook sees a null previous
        HEAD, yet this is a rewrite of a tree with outputs, not a clone: rewritten files must stay new."""
        current = self.current_branch()
        targets = self.branches(remote=False)
        target = current if current != "HEAD" and self.rng.random() < 0.6 else self.rng.choice(targets)
        if target == "HEAD":
            return self.op_checkout()
        existing = set(self.branches(remote=False))
        name = next("orphan%d" % n for n in range(1, 1000) if "orphan%d" % n not in existing)
        self.steps.append("checkout --orphan %s, then checkout -f %s" % (name, target))
        self.git("checkout", "-q", "--orphan", name)
        self.git("checkout", "-q", "-f", target)

    def op_replace_path(self):
        """Issue 10 defect 8: a tracked path replaced by a directory of files or a symlink (or put back).
        README is in the make context but no build input; op_manifest checks the untracked entries."""
        readme = os.path.join(self.repo, "README")
        if os.path.isfile(readme) and not os.path.islink(readme):
            kind = self.rng.choice(["directory", "symlink"])
            self.steps.append("replace tracked README by a %s" % kind)
            os.unlink(readme)
            if kind == "directory":
                fixture.write(self.repo, "README/notes.txt", "notes %s\n" % self.new_token("README/notes.txt"))
                fixture.write(self.repo, "README/more/deeper.txt", "deeper\n")
            else:
                os.symlink(self.rng.choice(["include", "Makefile", "missing-target"]), readme)
        else:
            self.steps.append("put README back")
            if os.path.isdir(readme) and not os.path.islink(readme):
                shutil.rmtree(readme)
            elif os.path.lexists(readme):
                os.unlink(readme)
            if self.git("checkout", "-q", "HEAD", "--", "README", check=False).returncode != 0:
                fixture.write(self.repo, "README", "scenario project\n")

    def op_restore_racing_write(self):
        """Issue 10 defect 7: a source is written while `git mtime restore` runs (strace holds each
        utimensat, so the write usually lands inside one). Whichever way it lands, the file ends up no
        older than the write, `git status` calls it modified, and restore doesn't call it right."""
        if shutil.which("strace") is None:
            return self.op_edit()
        path = self.rng.choice(self.editable_files())
        token = self.new_token(path)
        self.steps.append("git mtime restore with %s -> %s written while it runs" % (path, token))
        trace = os.path.join(self.tmp, "restore-trace")
        if os.path.exists(trace):
            os.unlink(trace)
        before = snapshot.contents(self.repo)
        process = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, "-e", "trace=utimensat",
                                    "-e", "inject=utimensat:delay_enter=20000", self.tools.git_mtime, "restore",
                                    "-C", self.repo], cwd=self.repo, env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(200):
            if process.poll() is not None or (os.path.exists(trace) and "utimensat(" in open(trace, errors="replace").read()):
                break
            time.sleep(0.005)
        probe = os.path.join(self.tmp, "write-started")
        with open(probe, "w") as f:
            f.write("now")
        started = os.lstat(probe).st_mtime_ns  # the file system's clock, as the write will see it
        self.write_token(path, token)
        out, err = process.communicate(timeout=300)
        self.stats["mtime_commands"] += 1
        if process.returncode != 0:
            raise Failure("`git mtime restore` with a racing write exited %d: %s" % (process.returncode, err.decode(errors="replace")))
        after = snapshot.contents(self.repo)
        after.pop(path, None)
        before.pop(path, None)
        difference = snapshot.describe_difference(before, after)
        if difference:
            raise Failure("git mtime restore changed a file's content: %s" % difference)
        self.locations["make"].tainted = self.locations["cargo"].tainted = True
        mtime = os.lstat(os.path.join(self.repo, path)).st_mtime_ns
        if mtime < started:
            raise Failure("%s was written during restore at %d or later, but has mtime %d" % (path, started, mtime))
        if self.git_out("status", "--porcelain", "--untracked-files=no", "--", path).strip():
            listing = self.mtime("restore", "-C", self.repo, "-n", "-v", read_only=True).stdout.decode(errors="replace")
            if "modified: %s\n" % path not in listing:
                raise Failure("after a write racing restore, git calls %s modified but `restore -n -v` does not:\n%s"
                              % (path, listing))

    # ----- git-mtime steps -----

    def op_restore(self):
        args = self.rng.choice([[], [], ["--history", "all"], ["--dirs"], ["src"], ["rs"], [":/include"], ["-v"]])
        self.steps.append("git mtime restore %s" % " ".join(args))
        process = self.mtime("restore", "-C", self.repo, *args)
        if not any(a in ("src", ":/include") for a in args):
            self.locations["cargo"].tainted = True
        if "rs" not in args:
            self.locations["make"].tainted = True
        if not args or args in (["-v"], ["--dirs"]):
            # With a trusted mtime.stamp, restore keeps files whose content differs from what that build
            # consumed later than it (docs/restore.md, "After a sealed build"); -v names them.
            listing = self.mtime("restore", "-C", self.repo, "-v", "-n", read_only=True).stdout.decode("utf-8", "surrogateescape")
            kept = {line.split(": ", 1)[1] for line in listing.splitlines()
                    if line.startswith("not built yet, kept newer than the last build: ")}
            self.stats["restore_kept_newer"] += len(kept)
            self.check_restored_times(kept)

    def check_restored_times(self, kept=frozenset()):
        """Every clean tracked file has exactly the time `git log -1 --first-parent` and its blob id give,
        but for `kept`: paths the trusted stamp records with other content, which must be later than its seal."""
        dirty = {line[3:] for line in self.git_out("status", "--porcelain", "--untracked-files=no").splitlines()}
        sealed, recorded = self.stamp_record(os.path.join(self.repo, "build", STAMP_NAME)) if kept else (None, {})
        for line in self.git_out("ls-files", "-s").splitlines():
            info, path = line.split("\t", 1)
            if path in dirty:
                continue
            if path in kept:
                actual = os.lstat(os.path.join(self.repo, path)).st_mtime_ns
                on_disk = self.git_out("hash-object", "--no-filters", "--", path).strip()
                if path not in recorded or recorded[path] == on_disk or sealed is None or actual <= sealed:
                    raise Failure("after restore, %s was kept newer than the last sealed build, but the stamp records %s "
                                  "(on disk: %s) and its mtime %d is not after the seal %s"
                                  % (path, recorded.get(path), on_disk, actual, sealed))
                continue
            blob = info.split()[1]
            seconds = int(self.git_out("log", "-1", "--first-parent", "--format=%ct", "--", path).strip())
            expected = seconds * 10 ** 9 + int(blob[:8], 16) % 10 ** 9
            actual = os.lstat(os.path.join(self.repo, path)).st_mtime_ns
            if actual != expected:
                raise Failure("after restore, %s has mtime %d, expected %d (commit time %d, blob %s)"
                              % (path, actual, expected, seconds, blob))

    @staticmethod
    def stamp_record(stamp):
        """The seal time (ns) and the recorded id per path of a stamp file (version 1 or 2 layout)."""
        sealed, recorded = None, {}
        with open(stamp, "rb") as handle:
            for line in handle.read().decode("utf-8", "surrogateescape").splitlines():
                fields = line.split(" ")
                if fields[0] == "sealed" and len(fields) == 2:
                    seconds, nanos = fields[1].split(".")
                    sealed = int(seconds) * 10 ** 9 + int(nanos)
                elif len(fields) >= 3 and len(fields[-3]) == 40:
                    path = re.sub(r"\\(\\|x[0-9a-f]{2})",
                                  lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), fields[-1])
                    recorded[path] = fields[-3]
        return sealed, recorded

    def op_manifest(self):
        self.steps.append("git mtime manifest (read-only) and restore -n")
        listing = os.path.join(self.tmp, "manifest-check")
        self.mtime("manifest", "-C", self.repo, "-o", listing, read_only=True)
        self.mtime("restore", "-C", self.repo, "-n", read_only=True)
        # Every untracked file git reports in the context is an entry (replaced paths included), no other.
        with open(listing, "rb") as f:
            listed = {line.split(b" ", 4)[4].decode("utf-8", "surrogateescape") for line in f.read().splitlines()
                      if line.startswith(b"untracked ") and line.count(b" ") >= 4}
        others = self.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], self.repo, what="git").stdout
        expected = {p for p in others.decode("utf-8", "surrogateescape").split("\0") if p and not p.startswith("rs/")}
        if listed != expected:
            raise Failure("the manifest's untracked entries differ from git's: only in the manifest %s, only in git %s"
                          % (sorted(listed - expected), sorted(expected - listed)))

    def op_hooks(self):
        mode = self.rng.choice([m for m in ("none", "safe", "commit") if m != self.hook_mode])
        self.steps.append("hooks: %s" % mode)
        self.set_hooks(mode)

    def op_copy(self):
        """Docker's COPY: the context, mtimes kept, into a build directory whose outputs persist (a cache mount)."""
        location = self.locations["copy"]
        how = self.rng.choice(["cp -a", "tar (posix, ns)", "tar (gnu, whole seconds)"])
        self.steps.append("copy the make context into the build directory with %s; guarded build there" % how)
        manifest = self.write_manifest(self.repo)
        for name in os.listdir(location.root):
            if name != "build":
                full = os.path.join(location.root, name)
                shutil.rmtree(full) if os.path.isdir(full) and not os.path.islink(full) else os.unlink(full)
        names = sorted(n for n in os.listdir(self.repo) if n not in (".git", "rs", "build"))
        if how == "cp -a":
            self.run(["cp", "-a"] + [os.path.join(self.repo, n) for n in names] + [location.root], self.tmp, what="cp")
        else:
            fmt = "posix" if "posix" in how else "gnu"
            tar = subprocess.Popen(["tar", "-C", self.repo, "--format=" + fmt, "-cf", "-"] + names, stdout=subprocess.PIPE)
            subprocess.run(["tar", "-C", location.root, "-xf", "-"], stdin=tar.stdout, check=True)
            tar.stdout.close()
            if tar.wait() != 0:
                raise Failure("tar of the context failed")
        self.build(location, self.rng.choice(["guard-run", "guard-steps"]), manifest=manifest)

    # ----- builds -----

    def write_manifest(self, context):
        restore = self.rng.random() < 0.3
        path = os.path.join(self.tmp, "manifest")
        self.steps[-1] += " (manifest%s)" % (" --restore" if restore else "")
        self.mtime("manifest", "-C", self.repo, "--context", context, "-o", path, *(["--restore"] if restore else []))
        if restore:
            # It sets the context's clean files to commit times: plain builds of that context lose coverage.
            self.locations["cargo" if context.endswith("/rs") else "make"].tainted = True
        return path

    def choose_path(self, location):
        paths = ["guard-run", "guard-run", "guard-steps"]
        if not location.copy:
            paths.append("mtime-run")
        if not location.tainted:
            paths += ["plain"] * 3
        return self.rng.choice(paths)

    def build(self, location, path, manifest=None):
        self.stats["builds"] += 1
        sources = location.sources()
        digests = location.source_digests()
        broken = location.kind == "make" and any(
            b"this is not C" in open(os.path.join(location.root, p), "rb").read() for p in sources)
        expected = fixture.expected_output(location.root, sources)
        outputs_before = location.output_mtimes()
        stamp_before = snapshot.digest(location.stamp) if os.path.exists(location.stamp) else None
        description = "build %s: %s" % (location.name, path)
        if location.name != "copy":
            self.steps.append(description)
        else:
            self.steps[-1] += "; " + description
        tool = location.tool()
        state_file = os.path.join(self.tmp, "probe.json")
        if os.path.exists(state_file):
            os.unlink(state_file)
        before = snapshot.contents(location.root)

        if path == "plain":
            self.stats["plain_builds"] += 1
            self.check_promise(location, digests, snapshot.mtimes(location.root, skip=snapshot.SKIP), outputs_before, path)
            process = self.run(tool, location.root, check=False, what=location.kind)
        else:
            self.stats["guarded_builds"] += 1
            if manifest is None and path != "mtime-run":
                manifest = self.write_manifest(location.root)
                before = snapshot.contents(location.root)
            common = ["--manifest", manifest, "--root", location.root, "--stamp", location.stamp]
            probe = [sys.executable, "-S", os.path.join(HERE, "probe.py"), state_file, location.root, location.output_dir, "--"]
            if path == "guard-run":
                process = self.run([self.tools.guard, "run"] + common + ["--"] + probe + tool, location.root, check=False,
                                   what="guard+" + location.kind)
            elif path == "mtime-run":
                process = self.run([self.tools.git_mtime, "run", "--stamp", location.stamp, "--"] + probe + tool,
                                   location.root, check=False, what="mtime-run+" + location.kind)
                # It restores and guards the whole working tree: the other build's sources get old times too.
                other = self.locations["cargo" if location.kind == "make" else "make"]
                other.tainted = other.disturbed = True
            else:
                prepared = self.run([self.tools.guard, "prepare"] + common, location.root, what="guard")
                self.run(probe[:-1] + ["--", "true"], location.root, what="probe")
                process = self.run(tool, location.root, check=False, what=location.kind)
                if process.returncode == 0:
                    self.run([self.tools.guard, "seal"] + common, location.root, what="guard")
                process.stderr = prepared.stderr + process.stderr
            self.stats["mtime_commands"] += 1
            if os.path.exists(state_file):
                with open(state_file) as f:
                    state = json.load(f)
                outputs = {p: t for p, t in state["outputs"].items()
                           if p != STAMP_NAME and not os.path.basename(p).startswith(STAMP_NAME + ".")}
                self.check_promise(location, digests, state["sources"], outputs, path)
            elif process.returncode == 0:
                raise Failure("%s: the build command never ran, yet the exit status is 0" % description)
        self.assert_unchanged([location.root], [before], description)

        log = (process.stdout + process.stderr).decode(errors="replace")
        if broken:
            if process.returncode == 0:
                raise Failure("%s succeeded although a source does not compile" % description)
            if path != "plain" and stamp_before != (snapshot.digest(location.stamp) if os.path.exists(location.stamp) else None):
                raise Failure("%s failed but the stamp %s changed (it must only be sealed after success)"
                              % (description, location.stamp))
            location.last_ok = False
            if self.violation:
                raise Failure(self.violation + " (the build failed, as this source does not compile)")
            return
        if process.returncode != 0:
            raise Failure("%s exited %d:\n%s" % (description, process.returncode, log.strip()[-3000:]))
        printed = subprocess.run([location.program()], capture_output=True).stdout
        if printed != expected:
            self.stats["stale_builds"] += 1
            raise Failure("STALE BUILD at %s (%s): the program prints\n%s\nbut the sources say\n%s%s"
                          % (location.name, path, printed.decode(errors="replace"), expected.decode(errors="replace"),
                             "\n(" + self.violation + ")" if self.violation else ""))
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
        if path != "plain":
            location.tainted = location.copy
        self.wait_for_tick(location)

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
        for _ in range(1000):
            with open(probe, "w") as f:
                f.write("tick")
            if os.lstat(probe).st_mtime_ns > newest:
                return
            time.sleep(0.002)
        raise Failure("the file system clock did not pass %d" % newest)

    # ----- the scenario -----

    OPS = [("edit", 18), ("revert_edit", 4), ("add_file", 3), ("delete_file", 2), ("break", 2), ("import_old", 3),
           ("touch", 2), ("commit", 12), ("branch", 4), ("checkout", 9), ("merge", 5), ("rebase", 4),
           ("cherry_pick", 3), ("amend", 3), ("stash", 3), ("reset", 3), ("clone", 2), ("copy", 6),
           ("restore", 6), ("manifest", 2), ("hooks", 3), ("orphan_checkout", 2), ("replace_path", 2),
           ("restore_racing_write", 2)]

    def execute(self):
        self.setup()
        self.build(self.locations["make"], "plain")
        names = [name for name, _ in self.OPS]
        weights = [weight for _, weight in self.OPS]
        for step in range(self.step_count):
            if self.rng.random() < 0.8:
                self.fix_broken()  # otherwise the next build must fail again
            op = self.rng.choices(names, weights)[0]
            getattr(self, "op_" + op)()
            make = self.locations["make"]
            self.build(make, self.choose_path(make))
            if step % self.cargo_every == self.cargo_every - 1:
                cargo = self.locations["cargo"]
                self.build(cargo, self.choose_path(cargo))

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_scenario(job):
    bin_dir, seed, index, steps, cargo_every, keep = job
    scenario = Scenario(Tools(bin_dir), seed, index, steps, cargo_every)
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
    return {"index": index, "failure": failure, "steps": scenario.steps, "stats": scenario.stats,
            "seconds": time.monotonic() - started, "elapsed": getattr(scenario, "elapsed", {}),
            "tmp": getattr(scenario, "tmp", None)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--steps", type=int, default=6, help="operations per scenario (each followed by a make build)")
    parser.add_argument("--cargo-every", type=int, default=3, help="build the cargo workspace every N steps")
    parser.add_argument("--seed", default=None, help="default: random (printed)")
    parser.add_argument("--only", type=int, action="append", help="run only this scenario index (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--bin", default=os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug"))
    parser.add_argument("--stats", help="write the aggregated counts as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep a failed scenario's directory")
    parser.add_argument("--verbose", action="store_true", help="print every scenario's steps")
    args = parser.parse_args()
    Tools(args.bin)  # fail early when a binary is missing
    seed = args.seed or "%08x" % random.SystemRandom().getrandbits(32)
    indices = args.only or list(range(args.scenarios))
    print("harness: seed %s, %d scenario(s) of %d steps, %d job(s), binaries in %s"
          % (seed, len(indices), args.steps, args.jobs, args.bin), flush=True)
    jobs = [(args.bin, seed, i, args.steps, args.cargo_every, args.keep) for i in indices]
    totals, elapsed = {}, {}
    passed = failed = 0
    started = time.monotonic()
    def write_stats(final):
        if args.stats:
            snapshot_totals = dict(totals, seconds=round(time.monotonic() - started, 1), seed=seed, passed=passed,
                                   failed=failed, scenarios=passed + failed, steps=args.steps, complete=final)
            with open(args.stats, "w") as f:
                json.dump(snapshot_totals, f, indent=1, sort_keys=True)

    with multiprocessing.Pool(args.jobs) as pool:
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
                totals["failures_" + result["failure"].split(" ")[0].split(":")[0].lower()] = \
                    totals.get("failures_" + result["failure"].split(" ")[0].split(":")[0].lower(), 0) + 1
                print("\nFAILED scenario %d (seed %s): %s" % (result["index"], seed, result["failure"]))
                print("  reproduce: suites/scenarios/harness.py --seed %s --only %d --steps %d --cargo-every %d --keep"
                      % (seed, result["index"], args.steps, args.cargo_every))
                if result["tmp"] and args.keep:
                    print("  kept: %s" % result["tmp"])
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
    totals.update(seed=seed, scenarios=passed + failed, passed=passed, failed=failed, steps=args.steps)
    print("harness: %s" % json.dumps(totals, sort_keys=True))
    print("harness: time by tool (s): %s" % ", ".join("%s %.1f" % (k, v) for k, v in sorted(elapsed.items(), key=lambda kv: -kv[1])))
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(dict(totals, complete=True), f, indent=1, sort_keys=True)
    print("scenarios: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
