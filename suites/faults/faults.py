#!/usr/bin/env python3
"""Fault injection: signals at exact system calls, concurrent runs, permissions, vanishing files, a full disk.

    faults.py [--bin DIR] [--only NAME]...     (root: it mounts tmpfs and runs parts as `nobody`)

Signals are delivered with `strace --inject=SYSCALL:signal=SIG:when=N`, so "killed during the cache
write" means killed on entering exactly that write's rename or fsync, not "killed after some sleep".
Each test asserts file contents are byte-identical to before, that a cache or stamp is either absent,
the old version or a complete new one (its checksum holds), and that the next plain run recovers
without help. The last line is `faults: N passed, N failed`.
"""

import argparse
import fcntl
import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scenarios"))
import classes  # noqa: E402
import snapshot  # noqa: E402
from race import Racer, strace_delay  # noqa: E402
from runner import Failure, Skip, run_checks  # noqa: E402

NOBODY = 65534
TESTS = []


def test(function):
    TESTS.append(function)
    return function


def needs(name):
    """Marks a test of a generated class whose fix is not on main yet: it runs when the class is enabled
    (--classes, $RELIABILITY_CLASSES; classes.py), and is listed as skipped otherwise."""
    assert name in classes.CLASSES, name

    def mark(function):
        function.needs = name
        return function
    return mark


def opt_in(function, enabled):
    """The test itself, or (its class not enabled) a stand-in of the same name that is listed as skipped."""
    if getattr(function, "needs", None) is None or function.needs in enabled:
        return function

    def skipped(env):
        raise Skip("class %s is opt-in (its fix is not on main yet; --classes +%s)" % (function.needs, function.needs))
    skipped.__name__ = function.__name__
    return skipped


def check(condition, message):
    if not condition:
        raise Failure(message)


class Env:
    """Binaries, a private HOME and git identity, temporary directories removed (and unmounted) at the end."""

    def __init__(self, bin_dir, seed="faults"):
        self.seed = seed
        self.bin_dir = os.path.abspath(bin_dir)
        self.git_mtime = os.path.join(self.bin_dir, "git-mtime")
        self.guard = os.path.join(self.bin_dir, "git-mtime-guard")
        self.tmp = tempfile.mkdtemp(prefix="gm-faults-")
        os.chmod(self.tmp, 0o755)
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Faults\n\temail = faults@example.invalid\n[init]\n\tdefaultBranch = main\n"
                    "[safe]\n\tdirectory = *\n")
        os.chmod(home, 0o755)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C",
                        PATH=self.bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
        self.mounts = []

    def run(self, argv, cwd=None, check_status=True, user=None, timeout=120, **kwargs):
        if user is not None:
            argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", "--"] + argv
        process = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, timeout=timeout, **kwargs)
        if check_status and process.returncode != 0:
            raise Failure("`%s` exited %d: %s" % (" ".join(argv), process.returncode, process.stderr.decode(errors="replace")[-1500:]))
        return process

    def injected(self, argv, syscall, sig, when, cwd=None, user=None):
        """Runs argv under strace, delivering `sig` on entering the `when`-th call of `syscall`."""
        prefix = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + syscall,
                  "-e", "inject=%s:signal=%s:when=%d" % (syscall, sig, when)]
        # A shell without job control starts background jobs with SIGINT ignored, and exec keeps that:
        # give the child the default action back, or an injected SIGINT would do nothing.
        return self.run(prefix + argv, cwd=cwd, check_status=False, user=user,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def mount_tmpfs(self, directory, size="64k"):
        os.makedirs(directory, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", directory], check=True)
        self.mounts.append(directory)

    def unmount(self, directory):
        subprocess.run(["umount", directory], check=True)
        self.mounts.remove(directory)

    def close(self):
        for directory in reversed(self.mounts):
            subprocess.run(["umount", "-l", directory])
        shutil.rmtree(self.tmp, ignore_errors=True)


# ----- repositories -----

def make_repository(env, path, files=1500, commits=60, seed=1):
    """A repository with `files` files in 30 directories and a linear history of `commits` commits,
    written with fast-import (fast), checked out."""
    rng = random.Random(seed)
    os.makedirs(path)
    env.run(["git", "init", "-q", path])
    names = ["d%02d/file%04d.txt" % (n % 30, n) for n in range(files)]
    stream = []
    when = 1600000000
    for commit in range(commits):
        when += rng.randint(60, 86400)
        changed = names if commit == 0 else rng.sample(names, max(1, files // 20))
        stream.append("commit refs/heads/main\ncommitter F <f@example.invalid> %d +0000\ndata 3\nc%d\n" % (when, commit % 10))
        for name in changed:
            data = "%s %d %d\n" % (name, commit, rng.getrandbits(32))
            stream.append("M 100644 inline %s\ndata %d\n%s\n" % (name, len(data), data))
    env.run(["git", "fast-import", "--quiet"], cwd=path, input="".join(stream).encode())
    env.run(["git", "checkout", "-q", "-f", "main"], cwd=path)
    return path


def expected_times(env, repo):
    """path -> the mtime restore must assign (linear history: the newest commit touching the path)."""
    newest = {}
    log = env.run(["git", "log", "--format=@%ct", "--name-only", "--no-renames"], cwd=repo).stdout.decode()
    seconds = None
    for line in log.splitlines():
        if line.startswith("@"):
            seconds = int(line[1:])
        elif line and line not in newest:
            newest[line] = seconds
    result = {}
    for line in env.run(["git", "ls-files", "-s"], cwd=repo).stdout.decode().splitlines():
        info, path = line.split("\t", 1)
        blob = info.split()[1]
        result[path] = newest[path] * 10 ** 9 + int(blob[:8], 16) % 10 ** 9
    return result


def assert_restored(env, repo, expected, skip=()):
    for path, want in expected.items():
        if path in skip or not os.path.lexists(os.path.join(repo, path)):
            continue
        got = os.lstat(os.path.join(repo, path)).st_mtime_ns
        check(got == want, "%s has mtime %d after recovery, expected %d" % (path, got, want))


def cache_files(repo):
    directory = os.path.join(repo, ".git", "git-mtime")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def assert_caches_whole(repo):
    """Every cache file at its final name is complete: its trailing SHA-1 covers the rest."""
    directory = os.path.join(repo, ".git", "git-mtime")
    for name in cache_files(repo):
        if name in ("lock", "filler") or name.startswith("."):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        check(len(data) > 20 and hashlib.sha1(data[:-20]).digest() == data[-20:],
              "cache file %s is half-written or damaged (%d bytes)" % (name, len(data)))


def leftover_temporaries(repo):
    return [n for n in cache_files(repo) if n.startswith(".") and ".tmp-" in n]


def assert_contents(before, root, what):
    difference = snapshot.describe_difference(before, snapshot.contents(root))
    check(difference is None, "%s changed file contents: %s" % (what, difference))


def stamp_is_whole(data):
    """A stamp is whole when its last line is `checksum <git blob id of every byte before it>`."""
    if not data.endswith(b"\n"):
        return False
    body, _, last = data[:-1].rpartition(b"\n")
    body += b"\n"
    if not last.startswith(b"checksum "):
        return False
    blob = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().encode()
    return last == b"checksum " + blob


# ----- restore: signals at exact system calls -----

@test
def restore_killed_at_syscalls(env):
    """SIGKILL and SIGINT on entering a utimensat (mid-apply), the write and rename of the history cache
    and of the stat cache: contents untouched, caches old/new/absent, the next run recovers."""
    base = make_repository(env, os.path.join(env.tmp, "killed-base"), files=400, commits=30)
    expected = expected_times(env, base)
    # A cold run writes the history cache (write, rename #1) then the stat cache (write, rename #2): both
    # are checksummed caches, written without fsync (docs/restore.md);
    # a warm run after some files were touched rewrites only the stat cache, replacing an existing version.
    cases = [(False, "utimensat", 1), (False, "utimensat", 200), (False, "write", 1),
             (False, "renameat", 1), (False, "write", 2), (False, "renameat", 2),
             (True, "write", 1), (True, "renameat", 1)]
    leftovers = []
    for sig in ("SIGKILL", "SIGINT"):
        for warm, syscall, when in cases:
            repo = os.path.join(env.tmp, "killed-%s-%s-%d-%s" % (sig, syscall, when, warm))
            shutil.copytree(base, repo, symlinks=True)
            if warm:
                env.run([env.git_mtime, "restore"], cwd=repo)
                for path in list(expected)[::7]:
                    os.utime(os.path.join(repo, path))
            before = snapshot.contents(repo)
            process = env.injected([env.git_mtime, "restore"], syscall, sig, when, cwd=repo)
            what = "%s restore with %s at %s #%d" % ("warm" if warm else "cold", sig, syscall, when)
            check(process.returncode != 0, "%s: the signal never arrived (exit 0): adjust the case" % what)
            assert_contents(before, repo, what)
            assert_caches_whole(repo)
            recovery = env.run([env.git_mtime, "restore"], cwd=repo)
            check(recovery.returncode == 0, "%s: the next restore failed" % what)
            assert_restored(env, repo, expected)
            assert_caches_whole(repo)
            assert_contents(before, repo, what + " and the recovery run")
            shutil.rmtree(repo)


@test
def killed_restore_leaves_no_litter(env):
    """After SIGKILL in the middle of a cache write, the next run removes the dead writer's temporary file
    (otherwise every crash leaves a cache-sized file in .git/git-mtime forever)."""
    repo = make_repository(env, os.path.join(env.tmp, "litter"), files=300, commits=10)
    for syscall, when in (("renameat", 1), ("renameat", 2)):
        shutil.rmtree(os.path.join(repo, ".git", "git-mtime"), ignore_errors=True)
        process = env.injected([env.git_mtime, "restore"], syscall, "SIGKILL", when, cwd=repo)
        check(process.returncode != 0, "the signal never arrived")
        check(leftover_temporaries(repo), "the kill at %s #%d left no temporary file: adjust the case" % (syscall, when))
        env.run([env.git_mtime, "restore"], cwd=repo)
        check(not leftover_temporaries(repo), "after a kill at %s #%d, the recovery run left %s in .git/git-mtime"
              % (syscall, when, ", ".join(leftover_temporaries(repo))))


# ----- the guard's seal -----

def guard_context(env, name, files=40):
    """A small repository used as a build context, with a manifest of it and an output directory."""
    repo = make_repository(env, os.path.join(env.tmp, name), files=files, commits=5)
    manifest = os.path.join(env.tmp, name + ".manifest")
    env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo)
    return repo, manifest


@test
def seal_killed_at_syscalls(env):
    """SIGKILL/SIGINT while sealing (clock probe, temporary file write, fsync, rename): the stamp is the
    old one or a whole new one, and the next `run` recovers by itself and seals a trusted stamp."""
    repo, manifest = guard_context(env, "seal")
    stamp = os.path.join(repo, "target", ".git-mtime-stamp")
    for sig in ("SIGKILL", "SIGINT"):
        for syscall, when in [("openat", 1), ("write", 1), ("fsync", 1), ("renameat", 1), ("unlinkat", 1)]:
            what = "seal with %s at %s #%d" % (sig, syscall, when)
            env.run([env.guard, "seal", "--manifest", manifest, "--stamp", stamp], cwd=repo)
            with open(stamp, "rb") as f:
                old = f.read()
            # New content for one file, so a completed seal would differ from the old stamp.
            path = os.path.join(repo, "d00", "file0000.txt")
            with open(path, "a") as f:
                f.write("more %s %s\n" % (sig, syscall))
            env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo)
            before = snapshot.contents(repo)
            process = env.injected([env.guard, "seal", "--manifest", manifest, "--stamp", stamp], syscall, sig, when, cwd=repo)
            check(process.returncode != 0, "%s: the signal never arrived (exit 0)" % what)
            assert_contents(before, repo, what)
            if os.path.exists(stamp):
                with open(stamp, "rb") as f:
                    now = f.read()
                check(now == old or stamp_is_whole(now), "%s: the stamp is half-written" % what)
            env.run([env.guard, "run", "--manifest", manifest, "--stamp", stamp, "--", "true"], cwd=repo)
            with open(stamp, "rb") as f:
                check(stamp_is_whole(f.read()), "%s: the recovery run left a damaged stamp" % what)
            trusted = env.run([env.guard, "prepare", "--manifest", manifest, "--stamp", stamp], cwd=repo)
            note = trusted.stderr.decode(errors="replace")
            check("ignoring the build stamp" not in note and "no build stamp" not in note,
                  "%s: after the recovery run the stamp is still not trusted: %s" % (what, note.strip()))
            check(b"0 of" in trusted.stderr, "%s: an unchanged context was bumped after recovery: %s" % (what, note.strip()))
            assert_contents(before, repo, what + " and the recovery")


# ----- two restores at once; the lock -----

@test
def concurrent_restores(env):
    """Two restores started together in one repository: both succeed (the second waits for the lock) or
    one exits 75 with a message naming the lock; the result is exactly right."""
    repo = make_repository(env, os.path.join(env.tmp, "concurrent"), files=1500, commits=60)
    expected = expected_times(env, repo)
    for trial in range(3):
        for path in list(expected)[trial::5]:
            os.utime(os.path.join(repo, path))
        before = snapshot.contents(repo)
        processes = [subprocess.Popen([env.git_mtime, "restore"], cwd=repo, env=env.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        results = [(p.wait(timeout=120), p.stderr.read().decode(errors="replace")) for p in processes]
        for status, message in results:
            check(status == 0 or (status == 75 and "lock" in message),
                  "concurrent restore exited %d: %s" % (status, message.strip()))
        check(any(status == 0 for status, _ in results), "neither concurrent restore succeeded")
        assert_contents(before, repo, "two concurrent restores")
        assert_restored(env, repo, expected)
        assert_caches_whole(repo)


@test
def restore_waits_for_or_reports_the_lock(env):
    """A lock held for 1 s: restore waits and succeeds. Held for 8 s: it gives up with exit 75 and one line
    naming the lock file, having changed nothing."""
    repo = make_repository(env, os.path.join(env.tmp, "locked"), files=50, commits=3)
    expected = expected_times(env, repo)
    env.run([env.git_mtime, "restore"], cwd=repo)
    lock_path = os.path.join(repo, ".git", "git-mtime", "lock")

    def hold(seconds, ready):
        with open(lock_path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            ready.set()
            time.sleep(seconds)

    for seconds, waits in ((1, True), (8, False)):
        for path in expected:
            os.utime(os.path.join(repo, path), ns=(1, 1))
        ready = threading.Event()
        holder = threading.Thread(target=hold, args=(seconds, ready))
        holder.start()
        ready.wait()
        started = time.monotonic()
        process = env.run([env.git_mtime, "restore"], cwd=repo, check_status=False)
        took = time.monotonic() - started
        holder.join()
        message = process.stderr.decode(errors="replace").strip()
        if waits:
            check(process.returncode == 0, "restore did not wait for a 1 s lock: exit %d: %s" % (process.returncode, message))
            assert_restored(env, repo, expected)
        else:
            check(process.returncode == 75, "restore under a held lock exited %d (expected 75): %s" % (process.returncode, message))
            check(len(message.splitlines()) == 1 and lock_path in message, "unclear lock message: %r" % message)
            check(took < 8, "restore waited %.1f s for the lock" % took)
            unchanged = all(os.lstat(os.path.join(repo, p)).st_mtime_ns == 1 for p in expected)
            check(unchanged, "restore changed mtimes although it could not take the lock")


# ----- permissions -----

def chown_tree(path, uid):
    for directory, dirs, files in os.walk(path):
        os.chown(directory, uid, uid)
        for name in files:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


def restore_fails_naming(env, repo, victim, what):
    """`git mtime restore` as nobody must exit 1 with one stderr line naming `victim`, contents untouched."""
    before = snapshot.contents(repo)
    process = env.run([env.git_mtime, "restore"], cwd=repo, user=NOBODY, check_status=False)
    message = process.stderr.decode(errors="replace").strip()
    check(process.returncode == 1, "exit %d (expected 1): %s" % (process.returncode, message))
    check(len(message.splitlines()) == 1 and victim in message, "the message does not name %s in one line: %r" % (victim, message))
    assert_contents(before, repo, what)


@test
def restore_file_owned_by_someone_else(env):
    """As an unprivileged user, a tracked file it does not own (utimensat: EPERM): one line naming the
    file, non-zero exit, contents untouched; what happened to the other files is reported below."""
    repo = make_repository(env, os.path.join(env.tmp, "foreign-file"), files=200, commits=5)
    expected = expected_times(env, repo)
    chown_tree(repo, NOBODY)
    victim = sorted(expected)[100]
    os.chown(os.path.join(repo, victim), 0, 0)
    for path in expected:
        os.utime(os.path.join(repo, path), ns=(7, 7))
    restore_fails_naming(env, repo, victim, "restore with a foreign file")
    # Documented partial progress (docs/RELIABILITY.md): files are set in path order, so those before the
    # failing one have their exact times and the rest are untouched. (The help's "nothing was changed" is
    # only true of errors found while planning.)
    for path in sorted(expected):
        now = os.lstat(os.path.join(repo, path)).st_mtime_ns
        if path < victim:
            check(now == expected[path], "%s, before the failing %s, has mtime %d, expected %d" % (path, victim, now, expected[path]))
        else:
            check(now == 7, "%s, after the failing %s, was changed" % (path, victim))
    os.chown(os.path.join(repo, victim), NOBODY, NOBODY)
    env.run([env.git_mtime, "restore"], cwd=repo, user=NOBODY)
    assert_restored(env, repo, expected)


@test
def restore_read_only_files_and_directories(env):
    """Read-only files (0444) and directories (0555) the user owns: setting an mtime needs ownership, not
    write permission, so restore sets every time exactly and writes no content."""
    repo = make_repository(env, os.path.join(env.tmp, "read-only"), files=120, commits=4)
    expected = expected_times(env, repo)
    chown_tree(repo, NOBODY)
    for path in expected:
        full = os.path.join(repo, path)
        os.chmod(full, 0o444)
        os.utime(full, ns=(7, 7))
    for name in os.listdir(repo):
        if name != ".git":
            os.chmod(os.path.join(repo, name), 0o555)
    before = snapshot.contents(repo)
    process = env.run([env.git_mtime, "restore"], cwd=repo, user=NOBODY, check_status=False)
    check(process.returncode == 0, "restore of read-only files exited %d: %s" % (process.returncode, process.stderr.decode()))
    assert_contents(before, repo, "restore of read-only files")
    assert_restored(env, repo, expected)


@test
def restore_unreadable_file(env):
    """A tracked file that must be hashed (its stat data changed) but cannot be read: exit 1, one line
    naming it, nothing changed."""
    repo = make_repository(env, os.path.join(env.tmp, "unreadable"), files=100, commits=4)
    expected = expected_times(env, repo)
    chown_tree(repo, NOBODY)
    victim = sorted(expected)[10]
    full = os.path.join(repo, victim)
    os.chown(full, 0, 0)
    os.chmod(full, 0o000)
    os.utime(full)  # stat data no longer matches the index: restore has to read it
    for path in expected:
        if path != victim:
            os.utime(os.path.join(repo, path), ns=(7, 7))
    restore_fails_naming(env, repo, victim, "restore with an unreadable file")
    check(all(os.lstat(os.path.join(repo, p)).st_mtime_ns == 7 for p in expected if p != victim),
          "restore changed mtimes although it failed")


@test
def restore_read_only_cache_directory(env):
    """The cache directory (.git/git-mtime) not writable by the user: restore reports it in one line naming
    the directory and leaves contents alone; after it becomes writable again, restore recovers."""
    repo = make_repository(env, os.path.join(env.tmp, "ro-cache"), files=100, commits=4)
    expected = expected_times(env, repo)
    chown_tree(repo, NOBODY)
    cache = os.path.join(repo, ".git", "git-mtime")
    os.makedirs(cache, exist_ok=True)
    os.chown(cache, 0, 0)
    os.chmod(cache, 0o755)
    before = snapshot.contents(repo)
    process = env.run([env.git_mtime, "restore"], cwd=repo, user=NOBODY, check_status=False)
    message = process.stderr.decode(errors="replace").strip()
    print("note: read-only cache directory: restore exit %d: %s" % (process.returncode, message))
    if process.returncode != 0:
        check(len(message.splitlines()) == 1 and ".git/git-mtime" in message,
              "unclear message for a read-only cache directory: %r" % message)
    else:
        assert_restored(env, repo, expected)
    assert_contents(before, repo, "restore with a read-only cache directory")
    os.chown(cache, NOBODY, NOBODY)
    env.run([env.git_mtime, "restore"], cwd=repo, user=NOBODY)
    assert_restored(env, repo, expected)


@test
def seal_into_read_only_directory(env):
    """The stamp's directory not writable: seal exits 74 naming it, the old stamp stays, contents untouched."""
    repo, manifest = guard_context(env, "ro-stamp")
    chown_tree(repo, NOBODY)
    os.chown(manifest, NOBODY, NOBODY)
    target = os.path.join(repo, "target")
    stamp = os.path.join(target, ".git-mtime-stamp")
    env.run([env.guard, "seal", "--manifest", manifest, "--stamp", stamp], cwd=repo, user=NOBODY)
    with open(stamp, "rb") as f:
        old = f.read()
    os.chown(target, 0, 0)
    before = snapshot.contents(repo)
    process = env.run([env.guard, "run", "--manifest", manifest, "--stamp", stamp, "--", "true"], cwd=repo, user=NOBODY,
                      check_status=False)
    message = process.stderr.decode(errors="replace")
    check(process.returncode == 74, "exit %d (expected 74): %s" % (process.returncode, message))
    check(target in message and "git-mtime-guard: " in message, "the message does not name %s: %r" % (target, message))
    with open(stamp, "rb") as f:
        check(f.read() == old, "the old stamp changed although sealing failed")
    assert_contents(before, repo, "a failed seal")
    os.chown(target, NOBODY, NOBODY)


# ----- files vanishing while git-mtime runs -----

@test
def files_vanish_during_restore(env):
    """Files deleted while restore runs: it finishes or fails with one line naming a path; every other
    file keeps its content; the next run sets every remaining clean file exactly."""
    base = make_repository(env, os.path.join(env.tmp, "vanish-base"), files=600, commits=20)
    expected = expected_times(env, base)
    rng = random.Random(7)
    for trial in range(4):
        repo = os.path.join(env.tmp, "vanish-%d" % trial)
        shutil.copytree(base, repo, symlinks=True)
        for path in expected:
            os.utime(os.path.join(repo, path))
        doomed = rng.sample(sorted(expected), 60)
        before = snapshot.contents(repo)
        # Slowed down by strace (2 ms per call) so the deletions land mid-run: while planning (lstat/open
        # of every file) in the first two trials, while applying (utimensat) in the last two.
        slowed = "newfstatat" if trial < 2 else "utimensat"
        process = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + slowed,
                                    "-e", "inject=%s:delay_enter=1000" % slowed, env.git_mtime, "restore"],
                                   cwd=repo, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.15 + 0.1 * (trial % 2))
        for path in doomed:
            os.unlink(os.path.join(repo, path))
        status = process.wait(timeout=120)
        message = process.stderr.read().decode(errors="replace").strip()
        check(status == 0 or (status == 1 and len(message.splitlines()) == 1 and any(p in message for p in doomed)),
              "restore with vanishing files exited %d: %r" % (status, message))
        for path in doomed:
            del before[path]
        assert_contents(before, repo, "restore with vanishing files")
        env.run([env.git_mtime, "restore"], cwd=repo)
        assert_restored(env, repo, expected, skip=set(doomed))
        assert_caches_whole(repo)
        shutil.rmtree(repo)


@test
def files_vanish_during_guard(env):
    """Files deleted while the guard hashes them: exit 1 or 74 naming a path, no time set on the others."""
    repo, manifest = guard_context(env, "vanish-guard", files=1500)
    expected = expected_times(env, repo)
    stamp = os.path.join(env.tmp, "vanish-guard-out", ".git-mtime-stamp")
    for path in expected:
        os.utime(os.path.join(repo, path), ns=(7, 7))
    doomed = sorted(expected)[::10]
    before = snapshot.contents(repo)
    # Every open is delayed by 2 ms (strace), so hashing takes seconds and the deletions land mid-run.
    process = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=openat",
                                "-e", "inject=openat:delay_enter=2000", env.guard, "prepare", "--manifest", manifest,
                                "--stamp", stamp], cwd=repo, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    for path in doomed:
        os.unlink(os.path.join(repo, path))
    status = process.wait(timeout=60)
    message = process.stderr.read().decode(errors="replace")
    for path in doomed:
        del before[path]
    assert_contents(before, repo, "guard prepare with vanishing files")
    check(status in (1, 74) and any(p in message for p in doomed), "guard exited %d: %r" % (status, message[-500:]))
    untouched = all(os.lstat(os.path.join(repo, p)).st_mtime_ns == 7 for p in expected if p not in doomed)
    check(untouched, "the guard failed but had set some mtimes")


# ----- a full disk -----

def fill(directory):
    """Fills the file system holding `directory`; returns the filler's path."""
    filler = os.path.join(directory, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


@test
def full_disk_for_caches(env):
    """.git/git-mtime on a full 64 KiB tmpfs: restore either succeeds (a cache is only speed) or fails with
    one line naming the cache file; nothing half-written is left; after space returns it recovers."""
    repo = make_repository(env, os.path.join(env.tmp, "full-cache"), files=300, commits=30)
    expected = expected_times(env, repo)
    cache = os.path.join(repo, ".git", "git-mtime")
    env.mount_tmpfs(cache)
    try:
        filler = fill(cache)
        before = snapshot.contents(repo)
        process = env.run([env.git_mtime, "restore"], cwd=repo, check_status=False)
        message = process.stderr.decode(errors="replace").strip()
        if process.returncode != 0:
            check(len(message.splitlines()) == 1 and cache in message and "No space" in message,
                  "unclear message for a full cache disk: %r" % message)
        # Documented (docs/RELIABILITY.md): the caches are written after every mtime is set.
        assert_restored(env, repo, expected)
        print("note: full cache disk: restore exit %d: %s" % (process.returncode, message))
        assert_contents(before, repo, "restore with a full cache disk")
        assert_caches_whole(repo)
        check(not leftover_temporaries(repo), "temporary files left on the full disk: %s" % leftover_temporaries(repo))
        os.unlink(filler)
        env.run([env.git_mtime, "restore"], cwd=repo)
        assert_restored(env, repo, expected)
        assert_caches_whole(repo)
    finally:
        env.unmount(cache)


@test
def full_disk_for_stamp(env):
    """The build output directory on a full 64 KiB tmpfs: sealing a bigger stamp fails with exit 74 naming
    the stamp, the old stamp stays byte-identical, no temporary is left; with space back it seals."""
    repo, manifest = guard_context(env, "full-stamp", files=40)
    big_repo, big_manifest = guard_context(env, "full-stamp-big", files=400)
    target = os.path.join(env.tmp, "full-stamp-target")
    env.mount_tmpfs(target)
    try:
        stamp = os.path.join(target, ".git-mtime-stamp")
        env.run([env.guard, "seal", "--manifest", manifest, "--root", repo, "--stamp", stamp], cwd=repo)
        with open(stamp, "rb") as f:
            old = f.read()
        filler = fill(target)
        before = snapshot.contents(big_repo)
        process = env.run([env.guard, "seal", "--manifest", big_manifest, "--root", big_repo, "--stamp", stamp],
                          cwd=big_repo, check_status=False)
        message = process.stderr.decode(errors="replace").strip()
        check(process.returncode == 74, "exit %d (expected 74): %r" % (process.returncode, message))
        check(target in message and "git-mtime-guard: " in message, "the message does not name the stamp: %r" % message)
        with open(stamp, "rb") as f:
            check(f.read() == old, "the old stamp changed although sealing failed")
        names = sorted(os.listdir(target))
        check(names == [".git-mtime-stamp", "filler"], "left behind on the full disk: %s" % names)
        assert_contents(before, big_repo, "a seal on a full disk")
        os.unlink(filler)
        env.run([env.guard, "seal", "--manifest", big_manifest, "--root", big_repo, "--stamp", stamp], cwd=big_repo)
        with open(stamp, "rb") as f:
            check(stamp_is_whole(f.read()), "the stamp sealed after space returned is damaged")
    finally:
        env.unmount(target)


@test
def full_disk_for_manifest(env):
    """`git mtime manifest -o` onto a full disk: exit 1, one line naming the file, no partial manifest."""
    repo = make_repository(env, os.path.join(env.tmp, "full-manifest"), files=1200, commits=3)
    out = os.path.join(env.tmp, "full-manifest-out")
    env.mount_tmpfs(out)
    try:
        fill(out)
        os.unlink(os.path.join(out, "filler"))
        with open(os.path.join(out, "filler"), "wb") as f:
            f.write(b"\0" * 20 * 1024)
        before = snapshot.contents(repo)
        manifest = os.path.join(out, "manifest")
        process = env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo, check_status=False)
        message = process.stderr.decode(errors="replace").strip()
        check(process.returncode == 1, "exit %d (expected 1): %r" % (process.returncode, message))
        check(len(message.splitlines()) == 1 and out in message, "unclear message: %r" % message)
        check(sorted(os.listdir(out)) == ["filler"], "left behind: %s" % sorted(os.listdir(out)))
        assert_contents(before, repo, "manifest onto a full disk")
    finally:
        env.unmount(out)


# ----- regressions for defects the scenario harness found -----

@test
def mtime_run_guards_files_outside_the_docker_context(env):
    """`git mtime run` guards a host build: a file the root .dockerignore excludes from the Docker context
    is still read by the host build, so a change to it arriving with an old mtime must be bumped too.
    (Found by the harness, seed t3 scenario 33: a stale cargo build under `git mtime run`.)"""
    repo = os.path.join(env.tmp, "run-context")
    os.makedirs(os.path.join(repo, "rs"))
    with open(os.path.join(repo, ".dockerignore"), "w") as f:
        f.write("rs\n")
    with open(os.path.join(repo, "rs", "lib.rs"), "w") as f:
        f.write("one\n")
    env.run(["git", "init", "-q"], cwd=repo)
    env.run(["git", "add", "-A"], cwd=repo)
    env.run(["git", "commit", "-q", "-m", "one"], cwd=repo)
    stamp = os.path.join(repo, "target", ".git-mtime-stamp")
    env.run([env.git_mtime, "run", "--stamp", stamp, "--", "mkdir", "-p", "target/out"], cwd=repo)
    output = os.path.join(repo, "target", "out")
    os.utime(output)
    source = os.path.join(repo, "rs", "lib.rs")
    with open(source, "w") as f:
        f.write("two\n")
    os.utime(source, ns=(10 ** 18, 10 ** 18))  # 2001: an old mtime, as `cp -p` or an archive gives
    before = snapshot.contents(repo)
    probe = env.run([env.git_mtime, "run", "--stamp", stamp, "--", "stat", "-c", "%.9Y", "rs/lib.rs"], cwd=repo)
    assert_contents(before, repo, "git mtime run")
    seconds, nanoseconds = probe.stdout.decode().strip().split(".")
    seen = int(seconds) * 10 ** 9 + int(nanoseconds)
    check(seen > os.lstat(output).st_mtime_ns,
          "the build saw rs/lib.rs (changed since the last build) with mtime %d ns, older than that build's output: "
          "`git mtime run` left it out (the root .dockerignore excludes rs)" % seen)


@test
def manifest_restore_leaves_excluded_files_alone(env):
    """`git mtime manifest --restore` sets the times of the files the manifest lists; a file the context's
    .dockerignore excludes keeps the time git gave it (a host build may read it).
    (Found by the harness, seed soak1 scenario 3: a stale plain cargo build.)"""
    repo = os.path.join(env.tmp, "restore-excluded")
    os.makedirs(os.path.join(repo, "rs"))
    for path, text in ((".dockerignore", "rs\n"), ("rs/lib.rs", "one\n"), ("main.c", "int main;\n")):
        with open(os.path.join(repo, path), "w") as f:
            f.write(text)
    env.run(["git", "init", "-q"], cwd=repo)
    env.run(["git", "add", "-A"], cwd=repo)
    env.run(["git", "commit", "-q", "-m", "one"], cwd=repo)
    for path in ("rs/lib.rs", "main.c"):
        os.utime(os.path.join(repo, path), ns=(5 * 10 ** 18 // 3, 5 * 10 ** 18 // 3))
    before = snapshot.contents(repo)
    env.run([env.git_mtime, "manifest", "--restore", "-o", os.path.join(env.tmp, "excluded.manifest")], cwd=repo)
    assert_contents(before, repo, "manifest --restore")
    check(os.lstat(os.path.join(repo, "main.c")).st_mtime_ns != 5 * 10 ** 18 // 3, "main.c (listed) was not restored")
    check(os.lstat(os.path.join(repo, "rs/lib.rs")).st_mtime_ns == 5 * 10 ** 18 // 3,
          "rs/lib.rs, excluded by .dockerignore and not in the manifest, got a commit time")


# ----- generated classes that need a fix not on main yet (opt-in: --classes, suites/scenarios/classes.py) -----

BUILDCMD = os.path.join(HERE, "..", "scenarios", "buildcmd.py")
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM, "HUP": signal.SIGHUP, "QUIT": signal.SIGQUIT}


def stamp_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def start_signal_run(env, repo, manifest, stamp, runner, mode, marker, ignored=()):
    """Starts `git-mtime-guard run` or `git mtime run` on a command that waits for a signal (buildcmd.py
    wait-signal), in a session of its own, with `ignored` signals inherited as ignored (as nohup does)."""
    tool = [sys.executable, BUILDCMD, "wait-signal", marker, mode, "--", "true"]
    if runner == "guard run":
        argv = [env.guard, "run", "--manifest", manifest, "--stamp", stamp, "--"] + tool
    else:
        argv = [env.git_mtime, "run", "--stamp", stamp, "--"] + tool

    def dispositions():
        for number in SIGNALS.values():
            signal.signal(number, signal.SIG_IGN if number in ignored else signal.SIG_DFL)

    return subprocess.Popen(argv, cwd=repo, env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=dispositions)


def wait_for(path, process, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.exists(path)


@test
@needs("signals")
def run_signals_generated(env):
    """`run` (the guard's and `git mtime run`) under signals, generated: INT, TERM, HUP or QUIT sent to the
    runner or to its whole process group while the command runs; the command traps it and exits 0 (without
    building, or after), or dies of it. A run that received such a signal never seals (the stamp stays
    byte-identical) and exits with the command's status (128+N when it died). A signal inherited as
    ignored (nohup) stays ignored: the command finishes and the run seals a stamp the next run trusts."""
    repo, manifest = guard_context(env, "signals", files=60)
    stamp = os.path.join(repo, "target", ".git-mtime-stamp")
    env.run([env.guard, "run", "--manifest", manifest, "--stamp", stamp, "--", "true"], cwd=repo)
    rng = random.Random(env.seed + ":signals")
    cases = [("HUP", "guard run", "trap", "the runner", True), ("HUP", "git mtime run", "trap", "its process group", True)]
    while len(cases) < 14:
        cases.append((rng.choice(sorted(SIGNALS)), rng.choice(["guard run", "git mtime run"]),
                      rng.choice(["trap", "trap-after", "die"]), rng.choice(["the runner", "its process group"]), False))
    for number, (name, runner, mode, target, ignored) in enumerate(cases):
        what = "case %d: %s, %s sent to %s, the command %s%s" % (
            number, runner, name, target, {"trap": "traps it and exits 0", "trap-after": "built, traps it, exits 0",
                                          "die": "dies of it"}[mode], " (inherited as ignored)" if ignored else "")
        # New content, so a seal would change the stamp.
        with open(os.path.join(repo, "d00", "file0000.txt"), "a") as f:
            f.write("%s\n" % what)
        env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo)
        old = stamp_bytes(stamp)
        before = snapshot.contents(repo)
        marker = os.path.join(env.tmp, "signal-%d" % number)
        process = start_signal_run(env, repo, manifest, stamp, runner, mode, marker,
                                   ignored=(SIGNALS[name],) if ignored else ())
        if not wait_for(marker, process):
            process.kill()
            raise Failure("%s: the command never started: %s" % (what, process.communicate()[1].decode()[-500:]))
        (os.kill if target == "the runner" else os.killpg)(process.pid, SIGNALS[name])
        if ignored:
            time.sleep(0.3)
            if process.poll() is not None:
                raise Failure("%s: the run ended (exit %s) on a signal it inherited as ignored: %s"
                              % (what, process.returncode, process.communicate()[1].decode(errors="replace")[-500:]))
            open(marker + ".release", "w").close()
        message = process.communicate(timeout=120)[1].decode(errors="replace").strip()
        status = process.returncode
        assert_contents(before, repo, what)
        if ignored:
            check(status == 0, "%s: exit %d, expected 0: %s" % (what, status, message[-500:]))
            check(stamp_bytes(stamp) != old and stamp_is_whole(stamp_bytes(stamp)), "%s: the finished run did not seal" % what)
            trusted = env.run([env.guard, "prepare", "--manifest", manifest, "--stamp", stamp], cwd=repo)
            check(b" 0 of " in trusted.stderr, "%s: the next run does not trust the stamp: %s" % (what, trusted.stderr.decode()))
            continue
        wanted = 128 + SIGNALS[name] if mode == "die" else 0
        check(status == wanted, "%s: exit %d, expected %d: %s" % (what, status, wanted, message[-500:]))
        check(stamp_bytes(stamp) == old, "%s: the stamp was sealed although the run received %s: %s" % (what, name, message[-500:]))
        check("not sealed" in message, "%s: no line says the stamp was not sealed: %r" % (what, message[-500:]))


def adjacent_pair(repo, rng):
    """Two tracked files next to each other in path order (restore and the guard set times in path order)."""
    names = sorted(p for p in subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, check=True)
                   .stdout.decode().splitlines())
    index = rng.randrange(1, len(names))
    return names[index - 1], names[index]


@test
@needs("restore-race")
def restore_write_race(env):
    """A writer changes a clean file after restore verified it and before its utimensat (strace delays each
    utimensat 300 ms; the writer waits until restore set the file before it in path order and is stopped in
    the next call). The changed file must not keep its commit time, no cache may record it as clean: the
    next restore leaves it alone, the manifest describes its new bytes, git calls it modified."""
    repo = make_repository(env, os.path.join(env.tmp, "restore-race"), files=300, commits=20)
    expected = expected_times(env, repo)
    rng = random.Random(env.seed + ":restore-race")
    hits = 0
    for trial in range(4):
        env.run([env.git_mtime, "restore"], cwd=repo)
        herald, target = adjacent_pair(repo, rng)
        if target not in expected or herald not in expected:
            continue
        for path in (herald, target):
            os.utime(os.path.join(repo, path))
        full = os.path.join(repo, target)
        racer = Racer(repo, ["restore"], full, lambda data: data + b"raced %d\n" % trial, herald=os.path.join(repo, herald))
        racer.start()
        process = env.run(strace_delay("utimensat", 300000) + [env.git_mtime, "restore"], cwd=repo, check_status=False)
        racer.finish()
        what = "trial %d: restore while %s is written (%s)" % (trial, target, racer.outcome)
        message = process.stderr.decode(errors="replace").strip()
        check(process.returncode == 0 or (process.returncode == 1 and target in message and len(message.splitlines()) == 1),
              "%s: exit %d: %r" % (what, process.returncode, message))
        if racer.written_at is None:
            continue
        hits += 1
        now = os.lstat(full).st_mtime_ns
        check(now != expected[target] and now >= racer.written_at - 50 * 10 ** 6,
              "%s: the changed file has mtime %d (its commit time is %d, it was written at %d): a plain build would "
              "not see the change" % (what, now, expected[target], racer.written_at))
        env.run([env.git_mtime, "restore"], cwd=repo)
        check(os.lstat(full).st_mtime_ns == now, "%s: the next restore changed the dirty file's mtime" % what)
        manifest = os.path.join(env.tmp, "race.manifest")
        env.run([env.git_mtime, "manifest", "-o", manifest], cwd=repo)
        disk = env.run(["git", "hash-object", "--no-filters", target], cwd=repo).stdout.decode().strip()
        with open(manifest, "rb") as f:
            listed = [line for line in f.read().decode().splitlines() if line.endswith(" " + target)]
        check(listed and disk in listed[0], "%s: the manifest records %r, the file holds %s (a cache recorded it as clean)"
              % (what, listed, disk))
        env.run(["git", "checkout", "-q", "--", target], cwd=repo)
    check(hits > 0, "no trial wrote inside the window: adjust the race")


@test
@needs("guard-write-race")
def guard_write_race(env):
    """A writer changes a file after the guard hashed it and before it sets its time (`check` sets exactly two
    touched files; each utimensat delayed 300 ms). The guard must not give the new content the manifest's
    time: it fails naming the file (exit 74), or leaves a time no older than the write."""
    repo, manifest = guard_context(env, "guard-race", files=120)
    rng = random.Random(env.seed + ":guard-race")
    hits = 0
    for trial in range(4):
        env.run([env.guard, "check", "--manifest", manifest], cwd=repo)
        herald, target = adjacent_pair(repo, rng)
        manifest_time = os.lstat(os.path.join(repo, target)).st_mtime_ns
        for path in (herald, target):
            os.utime(os.path.join(repo, path))
        full = os.path.join(repo, target)
        racer = Racer(repo, ["check"], full, lambda data: data + b"raced %d\n" % trial, herald=os.path.join(repo, herald),
                      program="git-mtime-guard")
        racer.start()
        process = env.run(strace_delay("utimensat", 300000) + [env.guard, "check", "--manifest", manifest], cwd=repo,
                          check_status=False)
        racer.finish()
        what = "trial %d: guard check while %s is written (%s)" % (trial, target, racer.outcome)
        message = process.stderr.decode(errors="replace").strip()
        if racer.written_at is None:
            continue
        hits += 1
        now = os.lstat(full).st_mtime_ns
        if process.returncode == 0:
            check(now != manifest_time and now >= racer.written_at - 50 * 10 ** 6,
                  "%s: exit 0 and the new content has the manifest's time %d: a build would not see it" % (what, now))
        else:
            check(process.returncode == 74 and target in message, "%s: exit %d: %r" % (what, process.returncode, message))
        env.run(["git", "checkout", "-q", "--", target], cwd=repo)
    check(hits > 0, "no trial wrote inside the window: adjust the race")


class Swapper(threading.Thread):
    """Keeps replacing root/DIR with a symlink to an outside copy of it and back, every `period` seconds."""

    def __init__(self, root, directory, outside, period):
        super().__init__(daemon=True)
        self.real = os.path.join(root, directory)
        self.parked = os.path.join(root, "." + directory + ".parked")
        self.outside, self.period = outside, period
        self.done = threading.Event()
        self.swaps = 0

    def run(self):
        while not self.done.is_set():
            os.rename(self.real, self.parked)
            os.symlink(self.outside, self.real)
            time.sleep(self.period)
            os.unlink(self.real)
            os.rename(self.parked, self.real)
            self.swaps += 1
            time.sleep(self.period)

    def finish(self):
        self.done.set()
        self.join()


def swap_trials(env, name, commands):
    """A tracked directory swapped for a symlink to an outside copy of it (same names, same contents) and back,
    over and over, while one of `commands` runs with one system call slowed by strace, 6 trials: nothing
    outside the root may change, whatever the timing; exit statuses stay documented."""
    repo, manifest = guard_context(env, name, files=300)
    rng = random.Random(env.seed + ":" + name)
    outside = os.path.join(env.tmp, name + "-outside")
    shutil.copytree(os.path.join(repo, "d07"), outside)
    for entry in os.listdir(outside):
        os.utime(os.path.join(outside, entry), ns=(10 ** 18, 10 ** 18))
    sentinel = snapshot.tree_state(outside)
    stamp = os.path.join(env.tmp, name + "-out", ".git-mtime-stamp")
    for trial in range(6):
        command = rng.choice(commands)
        syscall = rng.choice(["openat", "newfstatat", "utimensat", "read"])
        delay = rng.choice([200, 1000, 3000])
        for path in expected_paths(repo):
            os.utime(os.path.join(repo, path), ns=(7, 7))  # every file needs its time set
        if command[0] == "guard":
            argv = [env.guard, command[1], "--manifest", manifest] + (["--stamp", stamp] if command[1] == "prepare" else [])
            allowed = {0, 1, 64, 74}
        else:
            argv = [env.git_mtime, "restore"]
            allowed = {0, 1}
        swapper = Swapper(repo, "d07", outside, rng.choice([0.001, 0.005, 0.02]))
        swapper.start()
        process = env.run(strace_delay(syscall, delay) + argv, cwd=repo, check_status=False)
        swapper.finish()
        what = "trial %d: %s with %s slowed by %d us, d07 swapped %d times" % (
            trial, " ".join(command), syscall, delay, swapper.swaps)
        difference = snapshot.describe_difference(sentinel, snapshot.tree_state(outside))
        check(difference is None, "%s: WROTE OUTSIDE THE ROOT: %s in %s" % (what, difference, outside))
        check(process.returncode in allowed, "%s: exit %d: %s" % (what, process.returncode, process.stderr.decode()[-500:]))


@test
@needs("symlink-swap")
def parent_swapped_during_the_guard(env):
    """The swap against `guard prepare` and `guard check` (issue 10, defect 1: every operation relative to
    a held parent)."""
    swap_trials(env, "swap-guard", [["guard", "prepare"], ["guard", "check"]])


@test
@needs("restore-symlink-swap")
def parent_swapped_during_restore(env):
    """The swap against `git mtime restore` (the same class on the host side: restore's file layer)."""
    swap_trials(env, "swap-restore", [["restore"]])


def expected_paths(repo):
    return subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, check=True).stdout.decode().splitlines()


def commit_dated(env, repo, seconds, message):
    """A commit with an arbitrary committer/author time (git stores any decimal), made with hash-object."""
    tree = env.run(["git", "write-tree"], cwd=repo).stdout.decode().strip()
    parent = env.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, check_status=False).stdout.decode().strip()
    body = "tree %s\n%sauthor a <a@b> %s +0000\ncommitter a <a@b> %s +0000\n\n%s\n" % (
        tree, "parent %s\n" % parent if parent else "", seconds, seconds, message)
    commit = env.run(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], cwd=repo,
                     input=body.encode()).stdout.decode().strip()
    env.run(["git", "update-ref", "HEAD", commit], cwd=repo)
    return commit


def no_crash(process, what, allowed):
    """Exited (not killed by a signal, not a trap turned into 128+N) with a documented status; a failure
    says why in lines that start with the program's name."""
    message = process.stderr.decode(errors="replace").strip()
    check(process.returncode in allowed, "%s: exit %d (allowed: %s): %r" % (what, process.returncode, sorted(allowed),
                                                                         message[-500:]))
    if process.returncode != 0:
        check(message and all(line.startswith(("git-mtime", "error", "warning")) for line in message.splitlines()),
              "%s: exit %d without a clear message: %r" % (what, process.returncode, message[-500:]))


HOSTILE_SECONDS = ["9223372036854775808", "9223372036854775807", "18446744073709551615", "9223372036854787654",
                   "253402300800", "1000000000000000000", "99999999999999999999"]


@test
@needs("hostile-numbers")
def hostile_commit_dates(env):
    """Commits dated 2^63 and beyond (git stores any decimal; a hostile clone can bring one): restore, restore
    -n, manifest, status, the hooks and `git mtime run` end with a documented status and a message, never a
    crash; contents never change; nothing outside the repository is touched."""
    outside = os.path.join(env.tmp, "dates-outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "victim"), "w") as f:
        f.write("outside\n")
    sentinel = snapshot.tree_state(outside)
    for number, seconds in enumerate(HOSTILE_SECONDS):
        repo = os.path.join(env.tmp, "dates-%d" % number)
        os.makedirs(repo)
        env.run(["git", "init", "-q"], cwd=repo)
        for name, text in (("a.c", "int a;\n"), ("b.c", "int b;\n")):
            with open(os.path.join(repo, name), "w") as f:
                f.write(text)
        env.run(["git", "add", "-A"], cwd=repo)
        commit_dated(env, repo, "1600000000", "ordinary")
        with open(os.path.join(repo, "a.c"), "w") as f:
            f.write("int a = 1;\n")
        env.run(["git", "add", "-A"], cwd=repo)
        commit_dated(env, repo, seconds, "dated %s" % seconds)
        before = snapshot.contents(repo)
        stamp = os.path.join(repo, "target", ".git-mtime-stamp")
        for argv in (["restore"], ["restore", "-n"], ["manifest", "-o", os.path.join(env.tmp, "dates.manifest")],
                     ["status"], ["run", "--stamp", stamp, "--", "true"]):
            process = env.run([env.git_mtime] + argv, cwd=repo, check_status=False)
            no_crash(process, "commit dated %s: git mtime %s" % (seconds, " ".join(argv)), {0, 1})
            assert_contents(before, repo, "git mtime %s with a commit dated %s" % (argv[0], seconds))
        env.run([env.git_mtime, "hooks", "install"], cwd=repo)
        env.run(["git", "config", "mtime.hookMode", "commit"], cwd=repo)
        process = env.run(["git", "checkout", "-q", "HEAD~1"], cwd=repo, check_status=False)
        check(process.returncode == 0, "commit dated %s: checkout with hooks failed: %s" % (seconds, process.stderr.decode()))
        process = env.run(["git", "checkout", "-q", "-"], cwd=repo, check_status=False)
        message = process.stderr.decode(errors="replace")
        check(process.returncode == 0 and "Illegal instruction" not in message and "core dumped" not in message,
              "commit dated %s: a hook crashed: %r" % (seconds, message[-500:]))
        check(snapshot.describe_difference(sentinel, snapshot.tree_state(outside)) is None,
              "commit dated %s: something outside the repository changed" % seconds)


def sealed_context(env, name):
    """A guard context with a sealed stamp: (repo, manifest, stamp, the stamp's bytes, the manifest's bytes,
    the contents snapshot of the repository)."""
    repo, manifest = guard_context(env, name, files=30)
    stamp = os.path.join(repo, "target", ".git-mtime-stamp")
    env.run([env.guard, "seal", "--manifest", manifest, "--stamp", stamp], cwd=repo)
    with open(stamp, "rb") as f:
        sealed = f.read()
    with open(manifest, "rb") as f:
        good_manifest = f.read()
    return repo, manifest, stamp, sealed, good_manifest, snapshot.contents(repo)


def with_checksum(lines):
    """A stamp's lines with its checksum line recomputed (docs/stamp.md), so only the edited number is hostile."""
    body = b"\n".join(line for line in lines if not line.startswith(b"checksum ") and line) + b"\n"
    return body + b"checksum " + hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().encode() + b"\n"


def with_sealed_time(stamp, sealed):
    """The stamp with its `sealed` line replaced and its checksum recomputed (so only the time is hostile)."""
    return with_checksum([b"sealed " + sealed.encode() if line.startswith(b"sealed ") else line
                          for line in stamp.split(b"\n")])


LIMIT_TIMES = ["253402300799.999999999", "-62135596800.000000000", "9223372036854775807.999999999",
               "-9223372036854775808.000000000", "253402300800.000000000", "-62135596801.999999999",
               "18446744073709551615.999999999", "0.000000000"]


@test
@needs("hostile-numbers")
def stamp_and_manifest_times_at_the_limits(env):
    """Stamp seal times and manifest times at the ends of the time range and beyond (checksums and counts
    correct, so only the number is hostile): prepare, run and check end with a documented status (a stamp
    that can't be used is untrusted or refused, a manifest time out of range is refused), never a crash;
    contents never change."""
    repo, manifest, stamp, sealed, good_manifest, before = sealed_context(env, "limits")
    for value in LIMIT_TIMES:
        with open(stamp, "wb") as f:
            f.write(with_sealed_time(sealed, value))
        for command in ("prepare", "run"):
            argv = [env.guard, command, "--manifest", manifest, "--stamp", stamp] + (["--", "true"] if command == "run" else [])
            no_crash(env.run(argv, cwd=repo, check_status=False), "stamp sealed at %s: %s" % (value, command), {0, 1, 64, 74})
            assert_contents(before, repo, "%s with a stamp sealed at %s" % (command, value))
        lines = good_manifest.split(b"\n")
        header = 6 if lines[0] == b"git-mtime-manifest 2" else 5
        fields = lines[header].split(b" ")
        fields[-2] = value.encode()
        lines[header] = b" ".join(fields)
        hostile = os.path.join(env.tmp, "limits.manifest")
        with open(hostile, "wb") as f:
            f.write(b"\n".join(lines))
        for command in ("check", "prepare"):
            argv = [env.guard, command, "--manifest", hostile] + (["--stamp", stamp] if command == "prepare" else [])
            no_crash(env.run(argv, cwd=repo, check_status=False), "manifest time %s: %s" % (value, command), {0, 1, 64, 74})
            assert_contents(before, repo, "%s with a manifest time %s" % (command, value))


HOSTILE_COUNTS = ["10000001", "9223372036854775807", "9223372036854775808", "18446744073709551616",
                  "99999999999999999999", "0", "-1", "+30", "030", "1e3"]


def with_header(data, name, value, checksum=False):
    """`data` with the value of its `name` header line replaced (the first field after the name); with
    `checksum`, a stamp's checksum recomputed so only the number is hostile."""
    lines = [name + b" " + value.encode() + b" " + b" ".join(line.split(b" ")[2:]) if line.startswith(name + b" ")
             else line for line in data.split(b"\n")]
    lines = [line.rstrip(b" ") for line in lines]
    return with_checksum(lines) if checksum else b"\n".join(lines)


@test
@needs("hostile-numbers")
def hostile_counts_and_sizes(env):
    """Counts a manifest or stamp header claims (entries, untracked, outputs: beyond 10,000,000, beyond 2^63
    and 2^64, zero, negative, other spellings) and files beyond the 1 GiB limit (sparse): the manifest is
    refused (64) and the stamp untrusted or refused, before anything is allocated for them; never a crash
    and never a changed file."""
    repo, manifest, stamp, sealed, good_manifest, before = sealed_context(env, "counts")
    hostile = os.path.join(env.tmp, "counts.manifest")
    for header in (b"entries", b"untracked"):
        for value in HOSTILE_COUNTS:
            mutated = with_header(good_manifest, header, value)
            if mutated == good_manifest:
                continue  # the true count (`untracked 0`)
            with open(hostile, "wb") as f:
                f.write(mutated)
            for command in ("check", "prepare"):
                argv = [env.guard, command, "--manifest", hostile] + (["--stamp", stamp] if command == "prepare" else [])
                what = "manifest header %s %s: %s" % (header.decode(), value, command)
                process = env.run(argv, cwd=repo, check_status=False, timeout=60)
                no_crash(process, what, {64})
                assert_contents(before, repo, what)
    for header in (b"entries", b"outputs"):
        for value in HOSTILE_COUNTS:
            mutated = with_header(sealed, header, value, checksum=True)
            if mutated == sealed:
                continue
            with open(stamp, "wb") as f:
                f.write(mutated)
            what = "stamp header %s %s: prepare" % (header.decode(), value)
            process = env.run([env.guard, "prepare", "--manifest", manifest, "--stamp", stamp], cwd=repo,
                              check_status=False, timeout=60)
            no_crash(process, what, {0, 64})
            check(process.returncode != 0 or b"stamp" in process.stderr,
                  "%s: exit 0 without a word about the stamp (was it trusted?): %r" % (what, process.stderr[-300:]))
            assert_contents(before, repo, what)
    for target, argv in ((hostile, [env.guard, "check", "--manifest", hostile]),
                         (stamp, [env.guard, "prepare", "--manifest", manifest, "--stamp", stamp])):
        with open(target, "wb") as f:
            f.truncate((1 << 30) + 1)  # sparse: the size is hostile, the disk holds nothing
        process = env.run(argv, cwd=repo, check_status=False, timeout=60)
        no_crash(process, "a %s of 1 GiB + 1 byte" % os.path.basename(target), {0, 64, 74} if target == stamp else {64, 74})
        assert_contents(before, repo, "a %s of 1 GiB + 1 byte" % os.path.basename(target))
        os.unlink(target)


@test
@needs("special-outputs")
def outputs_onto_special_files(env):
    """`manifest -o PATH` and a stamp at PATH, where PATH is a character device (a private copy of /dev/null,
    1:3), or a symlink to one (as /dev/stdout is a symlink): the node and the link stay what they were
    (written through, or a refusal with a message), never replaced by a regular file. Found on the shared
    machine: a test's `manifest --restore -o /dev/null`, run as root, left /dev/null a regular file, and every
    later reader of /dev/null (rustc under cargo) read its bytes."""
    repo, manifest = guard_context(env, "special", files=10)
    before = snapshot.contents(repo)
    for kind in ("device", "symlink to a device"):
        node = os.path.join(env.tmp, "null-copy")
        link = os.path.join(env.tmp, "stdout-like")
        for path in (node, link):
            if os.path.lexists(path):
                os.unlink(path)
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        target = node
        if kind != "device":
            os.symlink(node, link)
            target = link
        for argv in ([env.git_mtime, "manifest", "-o", target], [env.git_mtime, "manifest", "--restore", "-o", target],
                     [env.guard, "seal", "--manifest", manifest, "--stamp", target]):
            what = "%s onto a %s" % (" ".join(os.path.basename(a) if a in (target, manifest) else a for a in argv[1:]), kind)
            process = env.run(argv, cwd=repo, check_status=False, timeout=60)
            no_crash(process, what, {0, 1, 64, 74})
            st = os.lstat(node)
            check(stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3),
                  "%s: the device node was replaced (now mode %o, %d bytes)" % (what, st.st_mode, st.st_size))
            if kind != "device":
                check(os.path.islink(link) and os.readlink(link) == node, "%s: the symlink was replaced" % what)
            assert_contents(before, repo, what)
            if not stat.S_ISCHR(st.st_mode):
                os.unlink(node)
                os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug"))
    parser.add_argument("--only", action="append")
    parser.add_argument("--seed", default="faults", help="seed of the generated cases (default: faults)")
    parser.add_argument("--classes", default=os.environ.get("RELIABILITY_CLASSES"),
                        help="generated classes to enable, as for harness.py (default: those whose fix is on main)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("faults: needs root (tmpfs mounts, an unprivileged user via setpriv)")
        print("faults: 0 passed, 1 failed")
        return 1
    enabled, _ = classes.parse(args.classes)
    checks = [opt_in(function, enabled) for function in TESTS]
    return run_checks("faults", checks, lambda: Env(args.bin, args.seed), args.only)


if __name__ == "__main__":
    sys.exit(main())
