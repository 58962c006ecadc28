#!/usr/bin/env python3
"""Red-team regression checks: one executable check per attack or accident class of issues 10 and 13
that the guard, the stamp and the time type must withstand (docs/RELIABILITY.md, "Threat model").

    redteam.py [--bin DIR] [--only NAME]...     (root: loop mounts, mount namespaces, `nobody` via setpriv)

Each check asserts exact outcomes: nothing outside the root changed (a sentinel tree next to it is
snapshotted: names, contents, mtimes), contents inside the root byte-identical, the exit code and the
message. Races are widened with strace's `inject=…:delay_enter=` rather than left to luck. A check that
needs root or a loop device and can't have it says `skip` with the reason (not counted as passed).
The last line is `redteam: N passed, N failed`.
"""

import argparse
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
from runner import Failure, Skip, run_checks  # noqa: E402

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


def expect(condition, message):
    if not condition:
        raise Failure(message)


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class World:
    """A root and, beside it, an `outside` sentinel tree nothing may ever touch."""

    SENTINEL_TIME = 1_111_111_111_000_000_111

    def __init__(self, env, name):
        self.env = env
        self.base = os.path.join(env.tmp, name)
        self.root = os.path.join(self.base, "root")
        self.outside = os.path.join(self.base, "outside")
        os.makedirs(self.root)
        os.makedirs(os.path.join(self.outside, "sub"))
        for relative, data in (("victim", b"inside\n"), ("sub/secret", b"secret\n"), (".git-mtime-stamp", b"not a stamp\n")):
            path = os.path.join(self.outside, relative)
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, ns=(self.SENTINEL_TIME, self.SENTINEL_TIME))
        self.manifest = os.path.join(self.base, "manifest")
        self.sentinel = self.outside_state()

    def outside_state(self):
        """Everything but the root's insides: names anywhere in the world, and the outside's bytes and times."""
        # A stamp, temporary or probe landing beside the root would show up here.
        state = {"world": sorted(set(os.listdir(self.base)) - {"root", "outside", "manifest", "cache"})}
        for directory, dirs, files in os.walk(self.outside):
            for name in sorted(dirs + files):
                full = os.path.join(directory, name)
                st = os.lstat(full)
                data = b""
                if stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as f:
                        data = f.read()
                state[os.path.relpath(full, self.outside)] = (st.st_mode, st.st_mtime_ns, hashlib.sha256(data).hexdigest())
        return state

    def expect_outside_untouched(self, what):
        after = self.outside_state()
        if after != self.sentinel:
            changed = sorted(k for k in set(after) | set(self.sentinel) if after.get(k) != self.sentinel.get(k))
            raise Failure("%s changed something outside the root: %s" % (what, ", ".join(changed)))

    def contents(self, skip=("target", "build", "cache", ".git")):
        result = {}
        for directory, dirs, files in os.walk(self.root):
            if directory == self.root:
                dirs[:] = [d for d in dirs if d not in skip]
            for name in files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
                full = os.path.join(directory, name)
                if os.path.islink(full):
                    data = os.readlink(full).encode()
                else:
                    with open(full, "rb") as f:
                        data = f.read()
                result[os.path.relpath(full, self.root)] = hashlib.sha256(data).hexdigest()
        return result

    def write(self, relative, data, mtime_ns=None):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        if mtime_ns is not None:
            os.utime(path, ns=(mtime_ns, mtime_ns))

    def write_manifest(self, entries, raw=None):
        """entries: (path, mode, data, seconds.nanos text, origin); data None reads the file."""
        lines = []
        for path, mode, data, when, origin in sorted(entries):
            if data is None:
                full = os.path.join(self.root, path)
                data = os.readlink(full).encode() if os.path.islink(full) else open(full, "rb").read()
            lines.append("%s %s %s %s %s\n" % (origin, mode, blob_id(data), when, path))
        untracked = sum(1 for line in lines if line.startswith("untracked"))
        text = raw if raw is not None else (
            "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked %d\nentries %d\n" % (untracked, len(lines))
            + "".join(lines))
        with open(self.manifest, "w") as f:
            f.write(text)

    def manifest_of(self, paths, when="1600000000.000000000"):
        self.write_manifest([(p, "100644", None, when, "tracked") for p in paths])

    def guard(self, *args, **kwargs):
        subcommand, rest = args[0], list(args[1:])
        return self.env.run([self.env.guard, subcommand, "--manifest", self.manifest] + rest, cwd=self.root, **kwargs)


class Env:
    def __init__(self, bin_dir):
        self.bin_dir = os.path.abspath(bin_dir)
        self.guard = os.path.join(self.bin_dir, "git-mtime-guard")
        self.git_mtime = os.path.join(self.bin_dir, "git-mtime")
        self.tmp = tempfile.mkdtemp(prefix="gm-redteam-")
        os.chmod(self.tmp, 0o755)
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Red\n\temail = red@example.invalid\n[init]\n\tdefaultBranch = main\n[safe]\n\tdirectory = *\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C",
                        PATH=self.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))

    def run(self, argv, cwd=None, timeout=120, user=None, **kwargs):
        if user is not None:
            argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", "--"] + argv
        return subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, timeout=timeout, **kwargs)

    def git(self, cwd, *args, **kwargs):
        process = self.run(["git"] + list(args), cwd=cwd, **kwargs)
        expect(process.returncode == 0, "git %s: %s" % (" ".join(args), process.stderr.decode(errors="replace")))
        return process.stdout.decode()

    def repository(self, name, files, commit=True):
        """A new repository under the temporary directory holding `files` (name -> text), staged, and
        committed unless `commit` is off."""
        repo = os.path.join(self.tmp, name)
        os.makedirs(repo)
        self.git(repo, "init", "-q")
        for path, text in files.items():
            with open(os.path.join(repo, path), "w") as f:
                f.write(text)
        self.git(repo, "add", "-A")
        if commit:
            self.git(repo, "commit", "-q", "-m", name)
        return repo

    def close(self):
        subprocess.run(["chmod", "-R", "u+rwx", self.tmp])
        shutil.rmtree(self.tmp, ignore_errors=True)


def stderr(process):
    return process.stderr.decode(errors="replace")


def expect_status(process, status, what):
    expect(process.returncode == status, "%s exited %d, expected %d: %s" % (what, process.returncode, status, stderr(process)[-1200:]))


def expect_line(process, line, what):
    expect(("git-mtime-guard: " + line) in stderr(process).splitlines(),
           "%s: no line %r in:\n%s" % (what, "git-mtime-guard: " + line, stderr(process)))


# ----- issue 10, defect 1: the guard must never write outside its root, even under a racing swapper -----

class Swapper(threading.Thread):
    """Keeps replacing root/a with a symlink to the outside directory and back (5 ms each)."""

    def __init__(self, world):
        super().__init__(daemon=True)
        self.world = world
        self.stop = threading.Event()
        self.swaps = 0

    def run(self):
        a, real = os.path.join(self.world.root, "a"), os.path.join(self.world.root, "a.real")
        while not self.stop.is_set():
            os.rename(a, real)
            os.symlink(self.world.outside, a)
            time.sleep(0.005)
            os.unlink(a)
            os.rename(real, a)
            self.swaps += 1
            time.sleep(0.005)


def swap_rounds(env, world, rounds, argv_prefix):
    statuses = {}
    for _ in range(rounds):
        os.utime(os.path.join(world.root, "a", "victim"))  # not the manifest's time: the guard will set it
        swapper = Swapper(world)
        swapper.start()
        try:
            process = env.run(argv_prefix + [env.guard, "check", "--manifest", world.manifest, "--root", world.root], timeout=60)
        finally:
            swapper.stop.set()
            swapper.join()
        expect(process.returncode in (0, 1, 64, 74), "check exited %d under the swapper: %s" % (process.returncode, stderr(process)))
        statuses[process.returncode] = statuses.get(process.returncode, 0) + 1
        world.expect_outside_untouched("`check` with a racing swapper (statuses so far %s)" % statuses)
    return statuses


@check
def parent_swapped_for_a_symlink_while_the_guard_runs(env):
    world = World(env, "swap")
    world.write("a/victim", b"inside\n")
    world.manifest_of(["a/victim"], when="1000000000.000000000")
    before = world.contents()
    # Every time-setting call waits 20 ms on entry: the swapper gets its window every round.
    strace = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=utimensat", "-e", "inject=utimensat:delay_enter=20000"]
    statuses = swap_rounds(env, world, 40, strace)
    expect(world.contents() == before, "contents changed in the root")
    expect(statuses.get(0, 0) > 0, "no round got through (statuses %s): the check tests nothing" % statuses)


@check
def parent_swapped_while_a_large_file_is_hashed(env):
    world = World(env, "swap-large")
    world.write("a/victim", os.urandom(1 << 20) * 48)  # 48 MiB: hashing it is the window
    with open(os.path.join(world.outside, "victim"), "wb") as f:
        f.write(open(os.path.join(world.root, "a", "victim"), "rb").read())
    os.utime(os.path.join(world.outside, "victim"), ns=(World.SENTINEL_TIME, World.SENTINEL_TIME))
    world.sentinel = world.outside_state()
    world.manifest_of(["a/victim"], when="1000000000.000000000")
    statuses = swap_rounds(env, world, 12, [])
    expect(statuses.get(0, 0) + statuses.get(64, 0) + statuses.get(74, 0) > 0, "statuses %s" % statuses)


def restore_swap_rounds(env, world, rounds, strace_filter, prepare):
    """`git mtime restore` (and `manifest --restore`) under the swapper, each round after `prepare`."""
    statuses = {}
    for round_number in range(rounds):
        prepare()
        swapper = Swapper(world)
        swapper.start()
        argv = [env.git_mtime, "restore"] if round_number % 2 == 0 else \
            [env.git_mtime, "manifest", "--restore", "-o", os.path.join(world.base, "cache")]
        try:
            process = env.run(["strace", "-f", "-qq", "-o", "/dev/null"] + strace_filter + argv, cwd=world.root, timeout=60)
        finally:
            swapper.stop.set()
            swapper.join()
        expect(process.returncode in (0, 1), "%s exited %d under the swapper: %s" % (argv[1], process.returncode, stderr(process)))
        statuses[process.returncode] = statuses.get(process.returncode, 0) + 1
        world.expect_outside_untouched("`git mtime %s` with a racing swapper (statuses so far %s)" % (argv[1], statuses))
    return statuses


def restore_world(env, name):
    """A World whose root is a repository tracking a/victim, committed long ago; its time is stale."""
    world = World(env, name)
    world.write("a/victim", b"inside\n")
    env.git(world.root, "init", "-q")
    env.git(world.root, "add", "a/victim")
    dated = dict(env.env, GIT_COMMITTER_DATE="@1000000000 +0000", GIT_AUTHOR_DATE="@1000000000 +0000")
    commit = subprocess.run(["git", "commit", "-q", "-m", "victim"], cwd=world.root, env=dated, capture_output=True)
    expect(commit.returncode == 0, "git commit: %s" % stderr(commit))
    world.sentinel = world.outside_state()
    return world


@check
def parent_swapped_for_a_symlink_while_restore_sets_times(env):
    """restore plans, then sets a/victim's time while a/ keeps turning into a symlink to the outside."""
    world = restore_world(env, "restore-swap")
    before = world.contents()
    victim = os.path.join(world.root, "a", "victim")
    statuses = restore_swap_rounds(env, world, 30, ["-e", "trace=utimensat", "-e", "inject=utimensat:delay_enter=20000"],
                                   lambda: os.utime(victim))  # a time restore must set again
    expect(world.contents() == before, "contents changed in the root")
    expect(statuses.get(0, 0) > 0, "no round got through (statuses %s): the check tests nothing" % statuses)


@check
def parent_swapped_for_a_symlink_while_restore_checks_files(env):
    """The window between restore's stat, hash and open of a/victim: every openat and fstatat waits."""
    world = restore_world(env, "restore-swap-check")
    victim = os.path.join(world.root, "a", "victim")
    statuses = restore_swap_rounds(env, world, 20, ["-e", "trace=openat,newfstatat,fstat,utimensat",
                                                    "-e", "inject=openat,newfstatat:delay_enter=3000"],
                                   lambda: os.utime(victim))
    expect(statuses.get(0, 0) + statuses.get(1, 0) > 0, "statuses %s" % statuses)


# ----- defect 2 and 6: where the stamp may live -----

@check
def committed_stamp_directory_symlink_leaving_the_root(env):
    world = World(env, "stamp-escape")
    world.write("src.c", b"int x;\n")
    os.symlink("../outside", os.path.join(world.root, "target"))
    world.write_manifest([("src.c", "100644", None, "1600000000.000000000", "tracked"),
                          ("target", "120000", b"../outside", "1600000000.000000000", "tracked")])
    real_root = os.path.realpath(world.root)
    for argv in (["run", "--", "touch", "ran"], ["seal"], ["prepare"]):
        process = world.guard(*argv)
        expect_status(process, 64, " ".join(argv))
        expect_line(process, "the build stamp %s/target/.git-mtime-stamp would be written outside the root: %s/target is a symlink "
                    "to ../outside, which leaves the root %s; nothing was changed. To keep the stamp there, name that place: "
                    "--stamp (or GIT_MTIME_STAMP) %s/.git-mtime-stamp" % (real_root, real_root, real_root, os.path.realpath(world.outside)), " ".join(argv))
    expect(not os.path.exists(os.path.join(world.root, "ran")), "the command ran")
    world.expect_outside_untouched("a stamp through target -> ../outside")


@check
def symlinked_stamp_directory_inside_the_root_is_walked(env):
    world = World(env, "stamp-inside")
    world.write("src.c", b"int x;\n")
    os.makedirs(os.path.join(world.root, "cache", "out"))
    os.symlink("cache/out", os.path.join(world.root, "target"))
    world.manifest_of(["src.c"])
    expect_status(world.guard("run", "--", "sh", "-c", "echo v1 > target/app"), 0, "sealed run")
    expect(os.path.isfile(os.path.join(world.root, "cache", "out", ".git-mtime-stamp")), "stamp not in the real directory")
    trusted = world.guard("prepare")
    expect("warning" not in stderr(trusted) and "0 of 1 files changed since the last sealed build" in stderr(trusted),
           "prepare after the sealed run: %s" % stderr(trusted))
    with open(os.path.join(world.root, "cache", "out", "app"), "w") as f:
        f.write("v2 from an unsealed build\n")
    untrusted = world.guard("prepare")
    expect("warning: ignoring the build stamp: the files beside %s/cache/out/.git-mtime-stamp changed after the stamp was sealed"
           % os.path.realpath(world.root) in stderr(untrusted), stderr(untrusted))
    world.expect_outside_untouched("a symlinked stamp directory")


@check
def stamp_directory_named_outside_the_root_is_walked(env):
    world = World(env, "stamp-cache")
    world.write("src.c", b"int x;\n")
    cache = os.path.join(world.base, "cache")
    os.makedirs(cache)
    os.symlink("../cache", os.path.join(world.root, "target"))
    world.manifest_of(["src.c"])
    expect_status(world.guard("run", "--", "true"), 64, "default stamp through target -> ../cache")
    named = os.path.join(cache, ".git-mtime-stamp")
    expect_status(world.guard("run", "--stamp", named, "--", "sh", "-c", "echo v1 > target/app"), 0, "stamp named in the cache")
    expect_status(world.guard("prepare", "--stamp", named), 0, "prepare")
    with open(os.path.join(cache, "app"), "w") as f:
        f.write("v2\n")
    expect("warning: ignoring the build stamp: the files beside %s changed" % named in stderr(world.guard("prepare", "--stamp", named)),
           "an unsealed build in the named cache went unnoticed")


@check
def unusable_stamp_paths_are_refused_before_the_command(env):
    world = World(env, "stamp-paths")
    world.write("src.c", b"int x;\n")
    world.manifest_of(["src.c"])
    for stamp, line in (("", "--stamp '' is empty: name a file"),
                        ("/", "--stamp '/' ends in '/': name a file in that directory"),
                        ("target/", "--stamp 'target/' ends in '/': name a file in that directory")):
        process = world.guard("run", "--stamp", stamp, "--", "touch", "ran")
        expect_status(process, 64, "--stamp %r" % stamp)
        expect_line(process, line, "--stamp %r" % stamp)
        expect(not os.path.exists(os.path.join(world.root, "ran")), "--stamp %r: the command ran" % stamp)
    expect(sorted(os.listdir(world.root)) == ["src.c"], "something was created: %s" % os.listdir(world.root))


@check
def unreadable_directory_beside_the_stamp(env):
    if os.geteuid() != 0:
        raise Skip("needs root to run the guard as nobody")
    world = World(env, "unreadable")
    world.write("src.c", b"int x;\n")
    world.manifest_of(["src.c"])
    os.makedirs(os.path.join(world.root, "target", "private"))
    subprocess.run(["chown", "-R", "65534:65534", world.root], check=True)
    nobody = dict(user=65534)
    expect_status(env.run([env.guard, "run", "--manifest", world.manifest, "--", "true"], cwd=world.root, **nobody), 0, "sealed run")
    os.chmod(os.path.join(world.root, "target", "private"), 0)
    prepared = env.run([env.guard, "prepare", "--manifest", world.manifest], cwd=world.root, **nobody)
    expect_status(prepared, 0, "prepare beside an unreadable directory")
    expect("warning: ignoring the build stamp: cannot read every file beside the stamp" in stderr(prepared), stderr(prepared))
    ran = env.run([env.guard, "run", "--manifest", world.manifest, "--", "touch", "ran"], cwd=world.root, **nobody)
    expect_status(ran, 0, "run beside an unreadable directory")
    expect(os.path.exists(os.path.join(world.root, "ran")), "the build did not run")
    expect("warning: not sealing the build stamp: " in stderr(ran), stderr(ran))


# ----- defect 4 and 5: hostile numbers -----

@check
def commit_dated_two_to_the_63(env):
    repo = env.repository("hostile-date", {"f": "x\n"}, commit=False)
    tree = env.git(repo, "write-tree").strip()
    body = "tree %s\nauthor a <a@b> 9223372036854775808 +0000\ncommitter a <a@b> 9223372036854775808 +0000\n\nm\n" % tree
    commit = env.run(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], cwd=repo, input=body.encode()).stdout.decode().strip()
    env.git(repo, "update-ref", "HEAD", commit)
    for argv in (["restore"], ["manifest", "-o", os.path.join(env.tmp, "hostile.manifest")], ["status"], ["hooks", "install"]):
        process = env.run([env.git_mtime] + argv, cwd=repo)
        expect_status(process, 0, "git mtime %s" % argv[0])
    expect(os.lstat(os.path.join(repo, "f")).st_mtime_ns // 10 ** 9 == 0, "f did not get the epoch, as git shows the date")
    env.git(repo, "checkout", "-q", "-b", "other")
    env.git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    for target in ("main", "other"):
        process = env.run(["git", "checkout", "-q", target], cwd=repo)
        expect_status(process, 0, "checkout with the hooks")


@check
def stamp_sealed_at_the_end_of_time(env):
    world = World(env, "end-of-time")
    world.write("src.c", b"int y;\n")
    world.manifest_of(["src.c"])
    os.makedirs(os.path.join(world.root, "target"))
    root = os.path.realpath(world.root)
    empty = hashlib.sha1(b"").hexdigest()
    # Format 1 as issue 10 reproduced it (nextNanosecond of Int64.max crashed prepare), then format 2
    # out of range and at the very end of the range.
    v1 = "git-mtime-stamp 1\nroot %s\nsealed 9223372036854775807.999999999\nentries 1\n%s 1.000000000 src.c\n" % (root, blob_id(b"int x;\n"))
    v2 = "git-mtime-stamp 2\nroot %s\nsealed %s\noutputs 0 %s\nentries 1\ntracked %s 1.000000000 src.c\n"
    for body, trusted in ((v1, False), (v2 % (root, "9223372036854775807.999999999", empty, blob_id(b"int x;\n")), False),
                          (v2 % (root, "253402300799.999999999", empty, blob_id(b"int x;\n")), True)):
        sealed = body.split("sealed ")[1].split("\n")[0]
        with open(os.path.join(world.root, "target", ".git-mtime-stamp"), "w") as f:
            f.write(body + "checksum %s\n" % blob_id(body.encode()))
        process = world.guard("prepare", "--explain")
        expect_status(process, 0, "prepare after a stamp sealed at %s" % sealed)
        if trusted:
            expect_line(process, "1 of 1 files changed since the last sealed build; stamp trusted", sealed)
            expect_line(process, "changed files got mtime 253402300799.999999999; 1 mtimes set", sealed)
        else:
            expect("warning: ignoring the build stamp: " in stderr(process) and "1 of 1 files changed" in stderr(process), stderr(process))


@check
def manifest_spellings_the_writer_never_uses(env):
    world = World(env, "spellings")
    world.write("src.c", b"int x;\n")
    good = "tracked 100644 %s 1600000000.000000000 src.c\n" % blob_id(b"int x;\n")
    header = "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 1\n"
    for text, line in ((header + good.replace(blob_id(b"int x;\n"), blob_id(b"int x;\n").upper()), "line 7: object id is not 40 lowercase hex digits"),
                       (header + good.replace(" 100644 ", " 0100644 "), "line 7: mode '0100644' is not 100644, 100755 or 120000"),
                       (header.replace("entries 1", "entries +1") + good, "line 6: entry count is not a number in range"),
                       (header.replace("git-mtime-manifest 2", "git-mtime-manifest +2") + good, "line 1: not a git-mtime manifest")):
        world.write_manifest([], raw=text)
        process = world.guard("check")
        expect_status(process, 64, line)
        expect_line(process, "%s: %s" % (world.manifest, line), line)


# ----- defect 9, 15, 16: run and signals -----

def default_signals():
    """A script started in the background may have inherited INT and QUIT ignored, and the guard
    (rightly) keeps them ignored: give the children the default actions these checks signal."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start_guard(world, script, extra=(), prefix=()):
    process = subprocess.Popen(list(prefix) + [world.env.guard, "run", "--manifest", world.manifest] + list(extra) + ["--", "sh", "-c", script],
                               cwd=world.root, env=world.env.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True, preexec_fn=default_signals)
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(world.root, "started")) and time.monotonic() < deadline:
        time.sleep(0.02)
    expect(os.path.exists(os.path.join(world.root, "started")), "the command never started")
    return process


@check
def signal_trapped_by_a_command_that_exits_0(env):
    world = World(env, "trapped")
    world.write("src.c", b"int x;\n")
    world.manifest_of(["src.c"])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        if os.path.exists(os.path.join(world.root, "started")):
            os.unlink(os.path.join(world.root, "started"))
        process = start_guard(world, "trap 'exit 0' %d; touch started; while :; do sleep 0.05; done" % sig)
        os.kill(process.pid, sig)
        _, err = process.communicate(timeout=30)
        expect(process.returncode == 0, "%s: exit %d: %s" % (sig.name, process.returncode, err.decode()))
        expect(("git-mtime-guard: sh was sent signal %d (%s) and exited with status 0; the stamp was not sealed" % (sig, sig.name))
               in err.decode().splitlines(), err.decode())
        expect(not os.path.exists(os.path.join(world.root, "target", ".git-mtime-stamp")), "%s: sealed anyway" % sig.name)


@check
def nohup_survives_a_hangup(env):
    world = World(env, "nohup")
    world.write("src.c", b"int x;\n")
    world.manifest_of(["src.c"])
    # The whole session gets the hangup, as a closing terminal sends it.
    process = start_guard(world, "touch started; sleep 1; touch finished", prefix=["nohup"])
    os.killpg(process.pid, signal.SIGHUP)
    _, err = process.communicate(timeout=30)
    expect(process.returncode == 0, "nohup guard run: exit %d: %s" % (process.returncode, err.decode()))
    expect(os.path.exists(os.path.join(world.root, "finished")), "the command died of the hangup")
    expect(os.path.isfile(os.path.join(world.root, "target", ".git-mtime-stamp")), "not sealed")
    # And `git mtime run`, through the same process code.
    repo = env.repository("nohup-repo", {"a": "a\n"})
    process = subprocess.Popen(["nohup", env.git_mtime, "run", "--", "sh", "-c", "touch started; sleep 1; touch finished"],
                               cwd=repo, env=env.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=default_signals)
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(repo, "started")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGHUP)
    _, err = process.communicate(timeout=30)
    expect(process.returncode == 0 and os.path.exists(os.path.join(repo, "finished")),
           "nohup git mtime run: exit %d: %s" % (process.returncode, err.decode()))


@check
def context_copied_in_parts(env):
    world = World(env, "partial")
    for path in ("Cargo.toml", "src/main.rs", "README.md", "docs/guide.md"):
        world.write(path, path.encode())
    world.manifest_of(["Cargo.toml", "src/main.rs", "README.md", "docs/guide.md"])
    shutil.rmtree(os.path.join(world.root, "docs"))
    os.unlink(os.path.join(world.root, "README.md"))
    refused = world.guard("run", "--", "touch", "ran")
    expect_status(refused, 1, "run without --allow-missing")
    expect_line(refused, "2 of 4 files differ from the manifest; no times were set (if the build context holds only part of the "
                "files on purpose, --allow-missing skips absent ones)", "run")
    expect(not os.path.exists(os.path.join(world.root, "ran")), "ran")
    expect_status(world.guard("prepare", "--allow-missing"), 0, "prepare --allow-missing")
    expect_status(world.guard("run", "--allow-missing", "--", "touch", "ran"), 0, "run --allow-missing")
    expect(os.path.exists(os.path.join(world.root, "ran")), "the build did not run")


# ----- issue 13: trust rule and clocks -----

@check
def future_dated_output_does_not_blind_the_stamp(env):
    world = World(env, "future")
    world.write("src.c", b"int x;\n")
    world.manifest_of(["src.c"])
    future = 4070908800 * 10 ** 9 + 5  # 2099
    expect_status(world.guard("run", "--", "sh", "-c", "mkdir -p target && echo v1 > target/out && "
                              "touch -d @4070908800.000000005 target/unpacked"), 0, "sealed build with a 2099 output")
    with open(os.path.join(world.root, "target", "out"), "w") as f:
        f.write("v2 from an unsealed build\n")
    process = world.guard("prepare")
    expect("warning: ignoring the build stamp: the files beside" in stderr(process), "blinded: %s" % stderr(process))
    expect(os.lstat(os.path.join(world.root, "src.c")).st_mtime_ns > future, "the bump fell behind the 2099 output")


COARSE_SCRIPT = r"""
set -e
mount -o loop "$IMAGE" "$MOUNT"
trap 'cd /; umount "$MOUNT"' EXIT
mkdir -p "$MOUNT/root/target"
cd "$MOUNT/root"
printf 'target/out: src.c\n\tcp src.c target/out\n' > Makefile
echo v1 > src.c
"$GUARD" run --manifest "$M1" -- make -s
# An output whose stored second is later than now (the worst case: same second as the bump, or a
# clock a little ahead): a bump that ignores the granularity lands in that very second.
touch -d "@$(( $(date +%s) + 3 ))" target/out
echo v2 > src.c
touch -d @1000000000 src.c
"$GUARD" run --explain --manifest "$M2" -- make -s
cat target/out
stat -c '%Y %y' src.c target/out
"""


def coarse_image_and_manifests(base, source="src.c"):
    """Skips unless root with loop devices; an ext4 image with 128-byte inodes (whole-second times) in
    `base`, and the manifests of the Makefile with `source` holding v1 and v2."""
    if os.geteuid() != 0:
        raise Skip("needs root for a loop mount in a private mount namespace")
    if not os.path.exists("/dev/loop-control") or shutil.which("mkfs.ext4") is None:
        raise Skip("no loop devices or mkfs.ext4")
    image = os.path.join(base, "ext4-128.img")
    subprocess.run(["truncate", "-s", "16M", image], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", image], check=True, capture_output=True)
    manifests = []
    for index, data in ((1, b"v1\n"), (2, b"v2\n")):
        path = os.path.join(base, "m%d" % index)
        with open(path, "w") as f:
            f.write("git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 2\n"
                    "tracked 100644 %s 1000000000.000000000 Makefile\ntracked 100644 %s 1000000000.000000000 %s\n"
                    % (blob_id(b"target/out: %s\n\tcp %s target/out\n" % ((source.encode(),) * 2)), blob_id(data), source))
        manifests.append(path)
    return image, manifests


@check
def one_second_file_system(env):
    base = os.path.join(env.tmp, "coarse")
    os.makedirs(os.path.join(base, "mnt"))
    image, manifests = coarse_image_and_manifests(base)
    variables = dict(env.env, IMAGE=image, MOUNT=os.path.join(base, "mnt"), GUARD=env.guard, M1=manifests[0], M2=manifests[1])
    process = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", COARSE_SCRIPT],
                             env=variables, capture_output=True, timeout=120)
    expect("no later time can be stored" not in stderr(process) and "truncated the bump" not in stderr(process),
           "a whole-second bump lost to the output: %s" % stderr(process))
    expect_status(process, 0, "the coarse file system script")
    lines = process.stdout.decode().splitlines()
    expect(lines[0] == "v2", "stale on a 1-second file system: target/out holds %r after the guarded build\n%s" % (lines[0], stderr(process)))
    expect("got mtime " in stderr(process) and ".000000000;" in stderr(process).split("got mtime ")[-1],
           "the bump is not a whole second: %s" % stderr(process))


MIXED_GRANULARITY_SCRIPT = r"""
set -e
mount -o loop "$IMAGE" "$COARSE"
trap 'cd /; [ "$COARSE_SIDE" != below ] || umount "$ROOT/src"; umount "$ROOT/target" 2>/dev/null; umount "$COARSE"' EXIT
case "$COARSE_SIDE" in
root) ROOT="$COARSE/root"; OUTPUTS="$FINE";;
target) ROOT="$FINE/root"; OUTPUTS="$COARSE/outputs";;
below) ROOT="$FINE/root"; OUTPUTS="$FINE/outputs"; mkdir -p "$ROOT/src" "$COARSE/src"; mount --bind "$COARSE/src" "$ROOT/src";;
esac
mkdir -p "$ROOT/target" "$OUTPUTS"
mount --bind "$OUTPUTS" "$ROOT/target"
cd "$ROOT"
printf 'target/out: %s\n\tcp %s target/out\n' "$SOURCE" "$SOURCE" > Makefile
echo v1 > "$SOURCE"
"$GUARD" run --manifest "$M1" -- make -s
[ "$AHEAD" = 0 ] || touch -d "@$(( $(date +%s) + AHEAD ))" target/out
# Within the second of that output: the new content, with the old time Docker's COPY keeps.
echo v2 > "$SOURCE"
touch -d @1000000000 "$SOURCE"
"$GUARD" run --manifest "$M2" -- make -s
cat target/out
stat -c '%.9Y' "$SOURCE" target/out
"""


@check
def sources_and_outputs_on_file_systems_of_different_granularity(env):
    """The sources on a whole-second file system and the outputs on a nanosecond one (a working tree on
    ext3, NFS or FAT with CARGO_TARGET_DIR on tmpfs), or the other way round. b8007f0 probed only where
    the stamp lives: with the outputs on the finer side it bumped src.c to a time the sources' file system
    truncated into the second of the last output, older than it, and make left the v1 program in place.
    Also the source directory alone mounted from the whole-second file system below a nanosecond root
    (`below`): main 3f0bbdf probed the root and the stamp's directory only, its bump was truncated
    into the output's second, and every build within that second was refused (exit 74, "no later time
    can be stored": the wrong reason; a truncated bump is now told as one, `BumpShortfall`)."""
    for coarse_side in ("root", "target", "below"):
        for ahead in (0, 1):
            base = os.path.join(env.tmp, "mixed-%s-%d" % (coarse_side, ahead))
            os.makedirs(os.path.join(base, "coarse"))
            os.makedirs(os.path.join(base, "fine"))
            source = "src/src.c" if coarse_side == "below" else "src.c"
            image, manifests = coarse_image_and_manifests(base, source)
            variables = dict(env.env, IMAGE=image, COARSE=os.path.join(base, "coarse"), FINE=os.path.join(base, "fine"),
                             COARSE_SIDE=coarse_side, AHEAD=str(ahead), GUARD=env.guard, M1=manifests[0], M2=manifests[1],
                             SOURCE=source)
            process = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", MIXED_GRANULARITY_SCRIPT],
                                     env=variables, capture_output=True, timeout=120)
            what = "the %s on a whole-second file system, the output %d s ahead" % (
                {"root": "sources", "target": "outputs", "below": "source directory"}[coarse_side], ahead)
            # A bump the file system truncated is never reported as the latest storable time (defect 14's
            # refusals said "no later time can be stored"; the message now says it was truncated).
            expect("no later time can be stored" not in stderr(process),
                   "%s: a truncated bump reported as the latest storable time: %s" % (what, stderr(process)))
            expect_status(process, 0, what)
            lines = process.stdout.decode().splitlines()
            expect(lines[0] == "v2", "stale with %s: target/out holds %r after the guarded build (mtimes src.c, out: %s)\n%s"
                   % (what, lines[0], " ".join(lines[1:]), stderr(process)))


BIND_ALIAS_SCRIPT = r"""
set -e
cd "$ROOT"
"$GIT_MTIME" run -- make -s
"$GIT_MTIME" restore
# The changed name first in path order, or last; the inode keeps the unchanged name's commit time.
if [ "$CHANGED" = first ]; then mount --bind src/b.c src/a.c; else mount --bind src/a.c src/b.c; fi
"$GIT_MTIME" run -- make -s
cat build/out
"""


@check
def file_bind_mounted_over_another_name(env):
    """A tracked file bind-mounted over another tracked path inside the root (`mount --bind src/b.c
    src/a.c`) makes two names one file with one link: the changed name (now holding the other's bytes)
    and the unchanged one share an mtime. main 3f0bbdf set them name by name and the unchanged name,
    set last, dated the changed one back: `git mtime run` refused the build (exit 74, "no later time
    can be stored"). Names of one file now get the newest time any of them needs, also without a
    second link when something is mounted below the root (`MountTable`)."""
    if os.geteuid() != 0:
        raise Skip("needs root for bind mounts in a private mount namespace")
    for changed in ("first", "last"):
        root = os.path.join(env.tmp, "bind-alias-" + changed)
        os.makedirs(os.path.join(root, "src"))
        for relative, data in (("Makefile", b"build/out: src/a.c src/b.c\n\tmkdir -p build && cat src/a.c src/b.c > build/out\n"),
                               ("src/a.c", b"X\n"), ("src/b.c", b"Y\n"), (".gitignore", b"build/\n")):
            with open(os.path.join(root, relative), "wb") as f:
                f.write(data)
        git = ["git", "-C", root, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(git[:3] + ["init", "-q"], check=True, env=env.env)
        subprocess.run(git + ["add", "-A"], check=True, env=env.env)
        subprocess.run(git + ["commit", "-q", "-m", "first"], check=True, env=dict(env.env, GIT_COMMITTER_DATE="@1600000000 +0000",
                                                                                    GIT_AUTHOR_DATE="@1600000000 +0000"))
        subprocess.run(git[:3] + ["config", "mtime.stamp", "build/.git-mtime-stamp"], check=True, env=env.env)
        variables = dict(env.env, ROOT=root, GIT_MTIME=env.git_mtime, CHANGED=changed)
        process = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", BIND_ALIAS_SCRIPT],
                                 env=variables, capture_output=True, timeout=120)
        what = "src/%s.c bind-mounted over src/%s.c" % (("b", "a") if changed == "first" else ("a", "b"))
        expect_status(process, 0, what)
        built = process.stdout.decode()
        expected = "Y\nY\n" if changed == "first" else "X\nX\n"
        expect(built == expected, "stale with %s: build/out holds %r\n%s" % (what, built, stderr(process)))


SHARED_MOUNT_SCRIPT = r"""
mount --bind "$CONTEXT" "$ROOT" && mount --bind "$SHARED" "$ROOT/target" && cd "$ROOT" || exit 99
exec "$GUARD" run --manifest "$MANIFEST" -- sh -c "sleep $DELAY && make -s && cat target/out > $RESULT"
"""


@check
def concurrent_builds_sharing_a_cache_mount(env):
    """Two builds of different sources at the same root, their outputs in one shared directory (a
    BuildKit cache mount without `sharing=locked`): whichever order the guards and the two makes run
    in, each build's program is built from its own sources. Unlocked, the second build prepared
    against the stamp the first was about to replace, found the first one's output newer than its
    own unbumped source, and shipped it."""
    if os.geteuid() != 0:
        raise Skip("needs root for bind mounts in private mount namespaces")
    base = os.path.join(env.tmp, "shared-mount")
    makefile = b"target/out: src\n\tcp src target/out\n"
    contexts = {}
    for name, source in (("seed", b"v0\n"), ("a", b"v1\n"), ("b", b"v0\n")):
        context = os.path.join(base, name)
        os.makedirs(os.path.join(context, "target"))
        for relative, data in (("Makefile", makefile), ("src", source)):
            with open(os.path.join(context, relative), "wb") as f:
                f.write(data)
            os.utime(os.path.join(context, relative), ns=(1_600_000_000 * 10 ** 9,) * 2)  # COPY keeps the commit time
        manifest = os.path.join(base, name + ".manifest")
        with open(manifest, "w") as f:
            f.write("git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 2\n"
                    "tracked 100644 %s 1600000000.000000000 Makefile\ntracked 100644 %s 1600000000.000000000 src\n"
                    % (blob_id(makefile), blob_id(source)))
        contexts[name] = (context, manifest)
    root, shared = os.path.join(base, "app"), os.path.join(base, "cache")
    os.makedirs(root)
    os.makedirs(shared)

    def start(name, delay):
        context, manifest = contexts[name]
        variables = dict(env.env, CONTEXT=context, SHARED=shared, ROOT=root, GUARD=env.guard, MANIFEST=manifest,
                         DELAY=str(delay), RESULT=os.path.join(base, name + ".result"))
        return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", SHARED_MOUNT_SCRIPT],
                                env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(process, what):
        out, err = process.communicate(timeout=120)
        expect(process.returncode == 0, "%s exited %d: %s" % (what, process.returncode, err.decode(errors="replace")))
        return err.decode(errors="replace")

    finish(start("seed", 0), "the seeding build")
    # B starts while A sleeps before its make: B's guard prepares before A's make writes and runs its
    # own make after it. Offsets vary so the class is covered, not one interleaving.
    waited = 0
    for a_delay, b_start, b_delay in ((1.0, 0.3, 1.5), (0.6, 0.2, 1.0), (0.2, 0.1, 0.5), (0.0, 0.0, 0.0)):
        first = start("a", a_delay)
        time.sleep(b_start)
        second = start("b", b_delay)
        first_err, second_err = finish(first, "build A"), finish(second, "build B")
        waited += ("waiting for another build" in first_err) + ("waiting for another build" in second_err)
        for name, source, err in (("a", "v1\n", first_err), ("b", "v0\n", second_err)):
            built = open(os.path.join(base, name + ".result")).read()
            expect(built == source, "build %s (source %r) shipped a program built from %r (offsets %s, %s, %s)\n%s"
                   % (name.upper(), source, built, a_delay, b_start, b_delay, err))
        # A third build of B's sources is told nothing changed only if the outputs are B's.
        finish(start("b", 0), "a rebuild of B's sources")
        expect(open(os.path.join(base, "b.result")).read() == "v0\n", "the rebuild of B shipped another program")
    expect(waited > 0, "no build ever waited for the other: the offsets did not overlap the builds")
    expect(sorted(os.listdir(shared)) == [".git-mtime-stamp", "out"],
           "the shared directory holds %s" % sorted(os.listdir(shared)))


@check
def planted_build_lock(env):
    """A context (or an earlier build) that puts a symlink to the outside, or a FIFO, at the build lock's
    name can neither redirect nor block a build: the name is removed, never followed or opened, and a
    directory there is refused before the command runs."""
    for kind in ("symlink", "fifo", "directory"):
        world = World(env, "planted-lock-" + kind)
        world.write("src", b"v1\n")
        world.manifest_of(["src"])
        os.makedirs(os.path.join(world.root, "target"))
        lock = os.path.join(world.root, "target", "..git-mtime-stamp.lock")
        if kind == "symlink":
            os.symlink(os.path.join(world.outside, "victim"), lock)
        elif kind == "fifo":
            os.mkfifo(lock)
        else:
            os.makedirs(lock)
        process = world.guard("run", "--", "sh", "-c", "echo built > target/out", timeout=60)
        world.expect_outside_untouched("a run with a planted %s lock" % kind)
        if kind == "directory":
            expect_status(process, 64, "run with a directory at the lock's name")
            expect_line(process, "the build lock %s is a directory; remove it; nothing was changed" % lock, "run")
            expect(not os.path.exists(os.path.join(world.root, "target", "out")), "the command ran")
        else:
            expect_status(process, 0, "run with a planted %s lock" % kind)
            expect(not os.path.lexists(lock), "the planted %s is still there" % kind)
            expect(open(os.path.join(world.root, "target", "out")).read() == "built\n", "the command did not run")


def directory_chain(base, depth):
    """base/d/d/…/d (`depth` levels) holding one file, made through descriptors: its path is far beyond PATH_MAX."""
    fd = os.open(base, os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.write(leaf, b"x")
        os.close(leaf)
    finally:
        os.close(fd)


@check
def deep_directory_beside_the_stamp(env):
    """An earlier build (or anyone sharing the cache mount) leaves a directory chain as deep as the descriptor
    limit allows beside the stamp; every guard step walks that directory. The walk must not overflow the
    stack (the guard died of SIGSEGV, exit 139, at ~19,000 levels with 8 MiB: a container's default
    descriptor limit of 2^20 allows far more; here a 256 KiB stack stands in for the deeper chain), and a
    chain deeper than the descriptor limit makes the stamp untrusted, never a crash."""
    # (levels, `ulimit -s` KiB, `ulimit -n`, outcome): the stamp trusted, or untrusted for lack of descriptors.
    for depth, stack_kib, descriptors, outcome in (
            (3000, 256, 4096, "trusted"), (3000, 256, 1024, "untrusted"), (600, 256, 4096, "trusted")):
        world = World(env, "deep-%d-%d" % (depth, descriptors))
        world.write("src.c", b"int x;\n")
        world.manifest_of(["src.c"])
        os.makedirs(os.path.join(world.root, "target"))
        limits = "ulimit -s %d && ulimit -n %d && exec \"$@\"" % (stack_kib, descriptors)
        limited = ["sh", "-c", limits, "sh", env.guard]
        directory_chain(os.path.join(world.root, "target"), depth)
        try:
            what = "a %d-level chain beside the stamp, %d KiB of stack, %d descriptors" % (depth, stack_kib, descriptors)
            sealed = env.run(limited + ["run", "--manifest", world.manifest, "--", "true"], cwd=world.root)
            expect(sealed.returncode == 0, "run with %s exited %d: %s" % (what, sealed.returncode, stderr(sealed)[-300:]))
            prepared = env.run(limited + ["prepare", "--manifest", world.manifest], cwd=world.root)
            expect(prepared.returncode == 0, "prepare with %s exited %d: %s" % (what, prepared.returncode, stderr(prepared)[-300:]))
            if outcome == "trusted":
                expect("0 of 1 files changed since the last sealed build; stamp trusted" in stderr(prepared), stderr(prepared)[-300:])
            else:
                expect("warning: not sealing the build stamp: " in stderr(sealed), stderr(sealed)[-300:])
                expect("stamp trusted" not in stderr(prepared), stderr(prepared)[-300:])
            world.expect_outside_untouched(what)
        finally:
            subprocess.run(["rm", "-rf", os.path.join(world.root, "target")], check=True)  # shutil.rmtree recurses


@check
def tracked_files_named_like_the_stamps_own(env):
    """A commit holds a file whose name the guard keeps beside the stamp for itself: the stamp, its lock,
    its clock probe (`.<stamp>.clock-<pid>`: the guard is PID 1 in a build container), a temporary. With the
    stamp in a directory of tracked files (an in-tree build's root, or target/ committed), b8007f0 removed or
    replaced it (the probe deleted `..git-mtime-stamp.clock-1`). Refused before anything changes (64)."""
    if os.geteuid() != 0:
        raise Skip("needs root for a PID namespace (the guard as PID 1, as in a container)")
    for stamp in (".git-mtime-stamp", "target/.git-mtime-stamp"):
        directory, name = os.path.split(stamp)
        for reserved in (name, "." + name + ".lock", "." + name + ".clock-1", "." + name + ".tmp-1"):
            for subcommand in ("run", "prepare", "seal"):
                world = World(env, "reserved-%s-%s-%s" % (directory or "root", reserved, subcommand))
                world.write("src.c", b"int x;\n")
                world.write(os.path.join(directory, reserved), b"precious\n")
                world.manifest_of(["src.c", os.path.join(directory, reserved)])
                before = world.contents(skip=())
                extra = ["--", "touch", "ran"] if subcommand == "run" else []
                process = env.run(["unshare", "--pid", "--fork", env.guard, subcommand, "--manifest", world.manifest,
                                   "--stamp", stamp] + extra, cwd=world.root)
                what = "%s with a tracked %s beside the stamp %s" % (subcommand, reserved, stamp)
                expect_status(process, 64, what)
                expect("is tracked, and the guard keeps that name for the build stamp" in stderr(process), stderr(process))
                expect(world.contents(skip=()) == before, "%s changed the context" % what)
                expect(not os.path.exists(os.path.join(world.root, "ran")), "%s: the command ran" % what)
                world.expect_outside_untouched(what)


@check
def build_that_rewrites_a_tracked_source(env):
    world = World(env, "rewriter")
    makefile = b"out.txt: src.txt\n\tif [ -f regenerate ]; then echo v2 > src.txt; fi\n\tcat src.txt > out.txt\n"
    world.write("Makefile", makefile)
    world.write("src.txt", b"v1\n")
    world.manifest_of(["Makefile", "src.txt"])
    world.write("regenerate", b"")
    process = world.guard("run", "--", "make", "-s")
    expect_status(process, 0, "build that regenerates src.txt")
    expect_line(process, "warning: 1 tracked files changed while make ran (src.txt); not recorded as consumed: "
                "the next build treats them as changed", "run")
    os.unlink(os.path.join(world.root, "regenerate"))
    world.write("src.txt", b"v1\n", mtime_ns=10 ** 18)  # `git checkout src.txt`, old time
    expect_status(world.guard("run", "--", "make", "-s"), 0, "build after the revert")
    expect(open(os.path.join(world.root, "out.txt")).read() == "v1\n", "stale: out.txt still built from the regenerated v2")


@check
def stamp_at_the_root_of_an_in_tree_build(env):
    repo = env.repository("in-tree", {"Makefile": "prog: main.o\n\tcc -o prog main.o\n%.o: %.c\n\tcc -c -o $@ $<\n",
                                      "main.c": "int main(void) { return 0; }\n", ".gitignore": "*.o\nprog\n"})
    env.git(repo, "config", "mtime.stamp", ".git-mtime-stamp")
    first = env.run([env.git_mtime, "run", "--", "make"], cwd=repo)
    expect_status(first, 0, "first git mtime run -- make")
    second = env.run([env.git_mtime, "run", "--", "make"], cwd=repo)
    expect_status(second, 0, "second git mtime run -- make")
    compiled = [line for line in second.stdout.decode().splitlines() if line.startswith("cc ")]
    expect(compiled == [], "the second run compiled %s: %s" % (compiled, stderr(second)))
    # (make may warn about clock skew: a commit made this second gets restored with id-derived nanoseconds.)
    expect("git-mtime-guard: warning" not in stderr(second) and "0 of 3 files changed" in stderr(second), stderr(second))


# ----- issue 10, defects 3, 10, 11, 12: the hooks never recurse and never lose a user's work -----

def hooks_repository(env, name):
    """A repository on main whose a.txt differs on branch other."""
    repo = env.repository(name, {"a.txt": "main\n"})
    env.git(repo, "checkout", "-q", "-b", "other")
    with open(os.path.join(repo, "a.txt"), "w") as f:
        f.write("other\n")
    env.git(repo, "commit", "-qam", "other")
    env.git(repo, "checkout", "-q", "main")
    return repo


def our_script(env, hook):
    """The bytes `hooks install` writes for `hook` (taken from a template install)."""
    template = os.path.join(env.tmp, "template")
    if not os.path.isdir(template):
        expect_status(env.run([env.git_mtime, "hooks", "install", "--template", template]), 0, "hooks install --template")
    with open(os.path.join(template, "hooks", hook), "rb") as f:
        return f.read()


def write_executable(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)


def bounded_git(env, repo, *args, seconds=30):
    """git in its own process group, killed whole after `seconds`: a hook chaining itself used to fork until
    fork failed (as root: until pid_max), and killing git alone would leave the chain running."""
    process = subprocess.Popen(["git"] + list(args), cwd=repo, env=env.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise Failure("`git %s` was still running after %d s (a hook chaining itself?)" % (" ".join(args), seconds))
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def tree_state(directory):
    """Names, modes, bytes (or link targets) of everything under `directory`."""
    state = {}
    for parent, dirs, files in os.walk(directory):
        for name in sorted(dirs + files):
            full = os.path.join(parent, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(full).encode()
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    data = f.read()
            else:
                data = b""
            state[os.path.relpath(full, directory)] = (st.st_mode, hashlib.sha256(data).hexdigest())
    return state


@check
def hook_that_chains_itself(env):
    """Every way our script can end up running itself: a symlink to a shared copy at the hook's name
    (install must recognise it), and at the chained name a symlink to our hook, a copy of it, and wrappers
    calling it by a relative or an absolute path. A checkout must end, with the files git wrote."""
    script = our_script(env, "post-checkout")
    shared = os.path.join(env.tmp, "shared-hooks")
    os.makedirs(shared)
    write_executable(os.path.join(shared, "post-checkout"), script)
    for form in ("symlinked hook", "chained symlink", "chained copy", "chained wrapper", "chained absolute wrapper"):
        repo = hooks_repository(env, "chain-" + form.replace(" ", "-"))
        hooks = os.path.join(repo, ".git", "hooks")
        ours, chained = os.path.join(hooks, "post-checkout"), os.path.join(hooks, "post-checkout.git-mtime-chained")
        if form == "symlinked hook":
            os.symlink(os.path.join(shared, "post-checkout"), ours)
        expect_status(env.run([env.git_mtime, "hooks", "install"], cwd=repo), 0, "hooks install (%s)" % form)
        if form == "symlinked hook":
            expect(os.path.islink(ours) and os.readlink(ours) == os.path.join(shared, "post-checkout")
                   and not os.path.lexists(chained),
                   "install replaced or chained a symlink to our own script: %s" % sorted(os.listdir(hooks)))
        elif form == "chained symlink":
            os.symlink(ours, chained)
        elif form == "chained copy":
            write_executable(chained, script)
        elif form == "chained wrapper":
            write_executable(chained, b'#!/bin/sh\nexec "${0%/*}/post-checkout" "$@"\n')
        else:
            write_executable(chained, b"#!/bin/sh\nexec '%s' \"$@\"\n" % ours.encode())
        for branch, content in (("other", "other\n"), ("main", "main\n")):
            process = bounded_git(env, repo, "checkout", "-q", branch)
            expect_status(process, 0, "git checkout %s (%s)" % (branch, form))
            with open(os.path.join(repo, "a.txt")) as f:
                expect(f.read() == content, "%s: a.txt is not %r after the checkout" % (form, content))
    expect(open(os.path.join(shared, "post-checkout"), "rb").read() == script, "the shared script changed")


@check
def hook_edits_are_never_lost(env):
    """A user's own hook and lines appended to ours: install never replaces them, uninstall never deletes
    them; the user's hook comes back byte for byte with its mode."""
    repo = hooks_repository(env, "hook-edits")
    hooks = os.path.join(repo, ".git", "hooks")
    users = b'#!/bin/sh\necho "user hook $*" >> "$(git rev-parse --git-dir)/user.log"\n'
    with open(os.path.join(hooks, "post-checkout"), "wb") as f:
        f.write(users)
    os.chmod(os.path.join(hooks, "post-checkout"), 0o750)
    expect_status(env.run([env.git_mtime, "hooks", "install"], cwd=repo), 0, "first install")
    edited = os.path.join(hooks, "post-merge")
    with open(edited, "ab") as f:
        f.write(b"echo my own post-merge step\n")
    before = tree_state(hooks)
    install = env.run([env.git_mtime, "hooks", "install"], cwd=repo)
    expect_status(install, 1, "install over an edited script")
    expect(edited in stderr(install), "install does not name %s: %s" % (edited, stderr(install)))
    expect(tree_state(hooks) == before, "install changed the hooks directory although a script holds edits")
    uninstall = env.run([env.git_mtime, "hooks", "uninstall"], cwd=repo)
    expect_status(uninstall, 1, "uninstall with an edited script")
    expect(edited in stderr(uninstall), "uninstall does not name %s: %s" % (edited, stderr(uninstall)))
    expect(tree_state(hooks).get("post-merge") == before["post-merge"], "uninstall changed the edited post-merge")
    user_hook = os.path.join(hooks, "post-checkout")
    expect(open(user_hook, "rb").read() == users and stat.S_IMODE(os.lstat(user_hook).st_mode) == 0o750,
           "the user's post-checkout did not come back byte for byte with mode 750")
    expect(not os.path.lexists(user_hook + ".git-mtime-chained"), "the chained name is left behind")


@check
def tracked_hooks_path_is_never_rewritten(env):
    """core.hooksPath naming a directory git tracks, however it is spelled (relative, ./x/, absolute,
    through a symlink outside the tree): install refuses, nothing in the tree changes, git sees no change."""
    repo = env.repository("tracked-hooks", {"a.txt": "a\n"})
    os.makedirs(os.path.join(repo, ".githooks"))
    write_executable(os.path.join(repo, ".githooks", "post-checkout"), b"#!/bin/sh\necho team hook\n")
    env.git(repo, "add", ".githooks")
    env.git(repo, "commit", "-q", "-m", "team hooks")
    link = os.path.join(env.tmp, "hooks-link")
    os.symlink(os.path.join(repo, ".githooks"), link)
    before = tree_state(os.path.join(repo, ".githooks"))
    for spelling in (".githooks", "./.githooks/", os.path.join(repo, ".githooks"), link):
        env.git(repo, "config", "core.hooksPath", spelling)
        process = env.run([env.git_mtime, "hooks", "install"], cwd=repo)
        expect_status(process, 1, "install with core.hooksPath=%s" % spelling)
        expect("git tracks files in it" in stderr(process) and "--global" in stderr(process),
               "core.hooksPath=%s: the refusal does not say why and what instead: %s" % (spelling, stderr(process)))
        expect(tree_state(os.path.join(repo, ".githooks")) == before, "core.hooksPath=%s: the team's hooks changed" % spelling)
        expect(env.git(repo, "status", "--porcelain") == "", "core.hooksPath=%s: git status is not clean" % spelling)


@check
def post_rewrite_input_byte_for_byte(env):
    """The chained post-rewrite hook gets exactly the bytes git gave ours: empty, blank lines, no final
    newline, CR, backslashes, printf directives, a leading dash; and a real amend's line."""
    repo = hooks_repository(env, "post-rewrite-input")
    hooks = os.path.join(repo, ".git", "hooks")
    received = os.path.join(repo, ".git", "received")
    write_executable(os.path.join(hooks, "post-rewrite"), b'#!/bin/sh\ncat > "$(git rev-parse --git-dir)/received"\n')
    expect_status(env.run([env.git_mtime, "hooks", "install"], cwd=repo), 0, "hooks install")
    head = env.git(repo, "rev-parse", "HEAD").strip().encode()
    for data in (b"", b"\n", b"%s %s\n\n\n" % (head, head), b"%s %s" % (head, head), b"-n", b"%s\\n\\t\\\\ \r\n", b"  lead\n\n"):
        process = env.run(["sh", os.path.join(hooks, "post-rewrite"), "amend"], cwd=repo, input=data)
        expect_status(process, 0, "post-rewrite with input %r" % data)
        expect(open(received, "rb").read() == data, "input %r reached the chained hook as %r" % (data, open(received, "rb").read()))
    env.git(repo, "commit", "-q", "--amend", "-m", "amended")
    new = env.git(repo, "rev-parse", "HEAD").strip().encode()
    expect(open(received, "rb").read() == b"%s %s\n" % (head, new), "a real amend's line changed on its way")


# ----- issue 10, defect 7: a write racing restore is never recorded clean -----

@check
def write_racing_restore_is_never_recorded_clean(env):
    """A write lands while restore (or manifest --restore) sets that file's time (strace holds every
    utimensat 1.5 s): by a new writer, and by one that held the file open before. Afterwards git, restore,
    the manifest and the mtime all see the new content."""
    if shutil.which("strace") is None:
        raise Skip("strace is not installed")
    for command in (["restore"], ["manifest", "--restore", "-o", "/dev/null"]):
        for writer in ("new writer", "open writer"):
            repo = env.repository("race-%s-%s" % (command[0], writer.split()[0]), {"f": "hello\n", "other": "other\n"})
            commit_time = int(env.git(repo, "log", "-1", "--format=%ct").strip())
            os.utime(os.path.join(repo, "f"), (1_900_000_000, 1_900_000_000))
            trace = os.path.join(repo, ".git", "trace")
            held = open(os.path.join(repo, "f"), "ab") if writer == "open writer" else None
            process = subprocess.Popen(["strace", "-f", "-o", trace, "-e", "trace=utimensat",
                                        "-e", "inject=utimensat:delay_enter=1500000", env.git_mtime] + command,
                                       cwd=repo, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(1000):
                if os.path.exists(trace) and "utimensat(" in open(trace, errors="replace").read():
                    break
                time.sleep(0.01)
            else:
                process.kill()
                raise Failure("%s never reached utimensat" % command[0])
            if held is None:
                with open(os.path.join(repo, "f"), "wb") as f:
                    f.write(b"HELLO\n")
                written = b"HELLO\n"
            else:
                held.write(b"MORE\n")
                held.close()
                written = b"hello\nMORE\n"
            out, err = process.communicate(timeout=120)
            what = "%s with a %s" % (" ".join(command[:2]), writer)
            expect(process.returncode == 0, "%s exited %d: %s" % (what, process.returncode, err.decode(errors="replace")))
            expect(open(os.path.join(repo, "f"), "rb").read() == written, "%s: the contents are not what was written" % what)
            expect(env.git(repo, "status", "--porcelain", "--untracked-files=no") == " M f\n", "%s: git status" % what)
            expect(os.lstat(os.path.join(repo, "f")).st_mtime > commit_time, "%s: f has its commit time" % what)
            verbose = env.run([env.git_mtime, "restore", "-v", "-n"], cwd=repo)
            expect("modified: f" in verbose.stdout.decode(), "%s: restore -v does not call f modified: %s" % (what, verbose.stdout.decode()))
            manifest = env.run([env.git_mtime, "manifest"], cwd=repo).stdout.decode()
            expect(any(line.split(" ")[2:3] == [blob_id(written)] and line.endswith(" f") for line in manifest.splitlines()),
                   "%s: the manifest does not describe the written content:\n%s" % (what, manifest))


# ----- issue 10, defect 8: untracked entries under replaced paths -----

@check
def untracked_entries_under_replaced_paths(env):
    """Tracked paths replaced by directories, symlinks and files of another kind, nested: the manifest's
    untracked entries are exactly what `git status` calls untracked, so the guard watches each one."""
    repo = env.repository("replaced", {"gen": "tracked file\n", "keep": "k\n"}, commit=False)
    for relative in ("d/a.c", "d/sub/b.c", "e/c.c", "lnk"):
        os.makedirs(os.path.dirname(os.path.join(repo, relative)) or repo, exist_ok=True)
        with open(os.path.join(repo, relative), "w") as f:
            f.write(relative + "\n")
    env.git(repo, "add", "-A")
    env.git(repo, "commit", "-q", "-m", "tree")
    os.unlink(os.path.join(repo, "gen"))
    os.makedirs(os.path.join(repo, "gen", "deeper"))  # a file replaced by a directory of sources
    for relative in ("gen/main.c", "gen/deeper/x.c"):
        with open(os.path.join(repo, relative), "w") as f:
            f.write("int %s;\n" % relative.replace("/", "_").replace(".", "_"))
    shutil.rmtree(os.path.join(repo, "d"))
    os.symlink("e", os.path.join(repo, "d"))  # a directory replaced by a symlink
    shutil.rmtree(os.path.join(repo, "e"))
    with open(os.path.join(repo, "e"), "w") as f:  # a directory replaced by a file
        f.write("now a file\n")
    os.unlink(os.path.join(repo, "lnk"))
    os.makedirs(os.path.join(repo, "lnk"))  # a file replaced by an (empty) directory: git lists nothing there
    expected = set(env.git(repo, "ls-files", "-z", "--others", "--exclude-standard").split("\0")) - {""}
    expect(expected == {"gen/main.c", "gen/deeper/x.c", "d", "e"}, "git itself lists %s" % sorted(expected))
    process = env.run([env.git_mtime, "manifest"], cwd=repo)
    expect_status(process, 0, "git mtime manifest")
    listed = {line.split(" ", 4)[4] for line in process.stdout.decode().splitlines()
              if line.startswith("untracked ") and line.count(" ") >= 4}  # entries, not the header
    expect(listed == expected, "the manifest's untracked entries %s are not git's %s" % (sorted(listed), sorted(expected)))
    expect("untracked %d\n" % len(expected) in process.stdout.decode(), "the header's untracked count")


# ----- issue 10, "Also": errors that name the problem -----

@check
def missing_or_wrong_directories_are_named(env):
    repo = env.repository("named-errors", {"a": "a\n"})
    for argv, text in ((["manifest", "--context", "a"], "a is not a directory"),
                       (["restore", "-C", "/nonexistent-gm"], "/nonexistent-gm: no such directory"),
                       (["manifest", "-C", "/nonexistent-gm"], "/nonexistent-gm: no such directory")):
        process = env.run([env.git_mtime] + argv, cwd=repo)
        expect(process.returncode != 0 and process.stdout == b"", "git mtime %s exited %d with output %r"
               % (" ".join(argv), process.returncode, process.stdout[:200]))
        expect(text in stderr(process), "git mtime %s: %r not in %s" % (" ".join(argv), text, stderr(process)))



# ----- names crossing a boundary (defects 30-32): a path is bytes wherever it goes -----

# One of each kind of name that a conversion to text, an argument, a line or a pattern could change.
ODD_NAMES = [b"caf\xe9.c", b"\x80lone.c", b"over\xc0\xaf.c", b"surrogate\xed\xa0\x80.c", b"nl\nx.c", b"tab\tx.c",
             b"back\\x.c", b'dq"x.c', b"sq'x.c", b"-dash.c", b":(top)x.c", b"star*.c", b"q?x.c", b"br[ab].c",
             b"trail.c ", b" lead.c", b"esc\\x41.c",
             # One name in NFC and in NFD: two files on Linux, for git even with core.precomposeUnicode.
             "\u00e9t\u00e9.c".encode(), "e\u0301te\u0301.c".encode()]
# The directories the repository lives in: the root's own name crosses every boundary too.
ODD_PARENTS = [b"plain", b"back\\slash", b"caf\xe9", b"trail ", b"nl\nparent"]


def dated(env, repo, seconds, *args):
    """git with its commit dated at `seconds` (arguments may be bytes)."""
    process = subprocess.run(["git"] + list(args), cwd=repo, capture_output=True,
                             env=dict(env.env, GIT_COMMITTER_DATE="@%d +0000" % seconds))
    expect(process.returncode == 0, "git %r: %s" % (args, stderr(process)))


def odd_repository(env, parent, split):
    """A repository at PARENT/r whose files have every odd name, behind a `filter=` driver git runs
    (smudge to upper case, clean to lower: hashed by git as their paths), the second commit changing
    half of them; checked out afresh, every file dated 2017."""
    repo = os.path.join(env.tmp.encode(), parent, b"split" if split else b"whole", b"r")
    os.makedirs(repo)
    env.git(repo, "init", "-q")
    env.git(repo, "config", "filter.up.smudge", "tr a-z A-Z")
    env.git(repo, "config", "filter.up.clean", "tr A-Z a-z")
    env.git(repo, "config", "core.precomposeUnicode", "true")
    with open(os.path.join(repo, b".gitattributes"), "wb") as f:
        f.write(b"* filter=up\n.gitattributes -filter\n")
    for index, name in enumerate(ODD_NAMES):
        with open(os.path.join(repo, name), "wb") as f:
            f.write(b"v1 %d\n" % index)
    env.git(repo, "add", "-A")
    dated(env, repo, 1000000000, "commit", "-q", "-m", "one")
    for name in ODD_NAMES[::2]:
        with open(os.path.join(repo, name), "ab") as f:
            f.write(b"v2\n")
    dated(env, repo, 1100000000, "commit", "-q", "-a", "-m", "two")
    if split:
        env.git(repo, "update-index", "--split-index")
    for name in ODD_NAMES:
        os.unlink(os.path.join(repo, name))
    env.git(repo, "checkout", "-q", "--", ".")
    for name in ODD_NAMES + [b".gitattributes"]:
        os.utime(os.path.join(repo, name), ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    return repo


@check
def names_that_are_not_text(env):
    """Every odd name, in a repository under every odd directory name, with and without a split
    index: restore gives each file the time `git log -- NAME` gives it (main 834c817: names that
    aren't UTF-8 kept their old time, a repository below such a directory failed every command, one
    below a backslash failed with a split index), the manifest calls none dirty, `git mtime run`
    hands the build command its arguments and the guard its root byte for byte, and status, explain
    and hooks install work there."""
    for parent in ODD_PARENTS:
        for split in (False, True):
            repo = odd_repository(env, parent, split)
            where = "%r%s" % (parent, " (split index)" if split else "")
            before = {name: open(os.path.join(repo, name), "rb").read() for name in ODD_NAMES}
            process = env.run([env.git_mtime, "restore"], cwd=repo)
            expect_status(process, 0, "restore in %s" % where)
            for name in ODD_NAMES:
                process = env.run(["git", "--literal-pathspecs", "log", "-1", "--format=%ct", "--", name], cwd=repo)
                git_time = int(process.stdout)
                ours = os.lstat(os.path.join(repo, name)).st_mtime_ns
                expect(ours // 1_000_000_000 == git_time,
                       "%s: %r got %d, git log says %d" % (where, name, ours // 1_000_000_000, git_time))
                expect(open(os.path.join(repo, name), "rb").read() == before[name], "%s: %r's bytes changed" % (where, name))
            status = subprocess.run(["git", "status", "--porcelain", "-z"], cwd=repo, capture_output=True,
                                    env=dict(env.env, GIT_OPTIONAL_LOCKS="0"))
            expect(status.stdout == b"", "%s: git status is not clean: %r" % (where, status.stdout))
            manifest = os.path.join(repo, b".git", b"m")
            process = env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo)
            expect_status(process, 0, "manifest in %s" % where)
            header = open(manifest, "rb").read()
            expect(b"\ndirty 0\n" in header, "%s: the manifest calls files dirty:\n%s" % (where, header.decode(errors="replace")))
            for name in (ODD_NAMES[0], ODD_NAMES[4], ODD_NAMES[9]):
                out = os.path.join(repo, b".git", b"argument")
                process = env.run([env.git_mtime, "run", "--", "sh", "-c", 'printf %s "$1" > "$2"', "sh", name, out], cwd=repo)
                expect_status(process, 0, "git mtime run in %s" % where)
                expect(open(out, "rb").read() == name, "%s: the build command got %r for %r" % (where, open(out, "rb").read(), name))
            expect(os.path.exists(os.path.join(repo, b"target", b".git-mtime-stamp")), "%s: no stamp sealed at the root" % where)
            for argv in (["status"], ["hooks", "install"]):
                process = env.run([env.git_mtime] + argv, cwd=repo)
                expect_status(process, 0, "git mtime %s in %s" % (argv[0], where))
            # Each name typed as a pathspec, to explain, and the repository given with -C from outside.
            for name in ODD_NAMES[:4]:
                os.utime(os.path.join(repo, name), ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
                process = env.run([env.git_mtime, "restore", "-C", repo, "--", name], cwd=env.tmp)
                expect_status(process, 0, "restore -C REPO -- %r in %s" % (name, where))
                expect(os.lstat(os.path.join(repo, name)).st_mtime_ns // 1_000_000_000 < 1_500_000_000,
                       "%s: restore -- %r left its time" % (where, name))
                process = env.run([env.git_mtime, "explain", "-z", name], cwd=repo)
                expect_status(process, 0, "explain %r in %s" % (name, where))
                expect(process.stdout.startswith(name + b"\0clean\0"), "%s: explain %r said %r" % (where, name, process.stdout[:80]))
            expect(os.path.exists(os.path.join(repo, b".git", b"hooks", b"post-checkout")), "%s: no hook installed" % where)
            # A hooks path git answers with a trailing blank or bytes that aren't UTF-8 is where they go.
            hooks = b"hooks \xe9 "
            dated(env, repo, 0, "config", "core.hooksPath", hooks)
            process = env.run([env.git_mtime, "hooks", "install"], cwd=repo)
            expect_status(process, 0, "hooks install into %r in %s" % (hooks, where))
            expect(os.path.exists(os.path.join(repo, hooks, b"post-checkout")),
                   "%s: no hook in %r: %r" % (where, hooks, sorted(os.listdir(repo))))
            env.git(repo, "config", "--unset", "core.hooksPath")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug"))
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    return run_checks("redteam", CHECKS, lambda: Env(args.bin), args.only)


if __name__ == "__main__":
    sys.exit(main())
