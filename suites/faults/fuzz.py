#!/usr/bin/env python3
"""Seeded mutation fuzzing, end to end: the guard on damaged manifests and stamps, `git mtime manifest`
on damaged .dockerignore files.

    fuzz.py [--bin DIR] [--seconds S] [--seed X] [--iteration N]

Every input is derived from (seed, iteration), so `--seed X --iteration N` replays one case exactly.
A world directory holds the context root (a git repository with a subdirectory, an executable, a
symlink and a symlinked directory pointing outside the root) and an `outside` directory next to it.
After every run it asserts: no crash (death by signal, or an exit status outside the documented ones),
no hang (5 s), no file content changed anywhere, and nothing outside the root touched: no mtime
changed there, no file created there. The last line is `fuzz: N passed, N failed`.
"""

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scenarios"))
import snapshot  # noqa: E402

GUARD_STATUSES = {0, 1, 64, 74}
TRUSTED_STAMP_CASES = [0]  # mutated stamps the guard trusted, whose prepared times were checked
MANIFEST_STATUSES = {0, 1}

# Fragments a mutation splices in: format edge cases and ways out of the root.
DICTIONARY = [
    b"../outside/secret.txt", b"/etc/passwd", b"escape/secret.txt", b"a/../../outside/secret.txt", b"./x", b"a//b",
    b"\\x2e\\x2e/outside/secret.txt", b"\\x00", b"\\", b"\\x", b"\\xZZ", b"\\xff", b"\x00", b"\r\n", b"\n", b" ",
    b"-1", b"99999999999999999999", b"9223372036854775807", b"-9223372036854775808", b".999999999", b".1000000000",
    b"entries 10000001", b"entries 0", b"entries -1", b"dirty 99", b"head -", b"object-format sha256",
    b"untracked 0", b"untracked 99", b"tracked", b"untracked", b"git-mtime-manifest 1",
    b"git-mtime-manifest 2", b"git-mtime-stamp 2", b"100755", b"120000", b"040000", b"160000", b"0" * 40, b"f" * 41,
    b"root /", b"root ../outside", b"sealed 0.000000000", b"checksum ", b"\xe9", b"\xc3\xa9", b"*", b"**", b"!", b"[",
    b"[^a-z]", b"#", b"\xef\xbb\xbf",
]

DOCKERIGNORE_SEED = b"""# context rules
*.tmp
build
!build/keep
src/**/gen_*.c
[a-c]?/x
\\#literal
/abs/../rel
**/*.log
!important.log
"""


class World:
    """The fuzzing playground; rebuilt from a pristine copy whenever a run changed something."""

    def __init__(self, bin_dir):
        self.guard = os.path.join(bin_dir, "git-mtime-guard")
        self.git_mtime = os.path.join(bin_dir, "git-mtime")
        self.tmp = tempfile.mkdtemp(prefix="gm-fuzz-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Fuzz\n\temail = fuzz@example.invalid\n[init]\n\tdefaultBranch = main\n")
        self.env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C",
                        GIT_COMMITTER_DATE="@1600000000 +0000", GIT_AUTHOR_DATE="@1600000000 +0000")
        pristine = os.path.join(self.tmp, "pristine")
        root = os.path.join(pristine, "root")
        outside = os.path.join(pristine, "outside")
        os.makedirs(os.path.join(root, "src", "deep"))
        os.makedirs(outside)
        files = {"README": b"readme\n", "src/a.c": b"int a;\n", "src/deep/b.c": b"int b;\n", "tool.sh": b"#!/bin/sh\n",
                 "sp ace\tname": b"odd name\n", b"caf\xc3\xa9.txt": b"utf-8 name\n", b"lat\xe9n1": b"not utf-8\n", ".dockerignore": DOCKERIGNORE_SEED}
        for name, data in files.items():
            with open(os.path.join(root.encode(), name.encode() if isinstance(name, str) else name), "wb") as f:
                f.write(data)
        os.chmod(os.path.join(root, "tool.sh"), 0o755)
        os.symlink("README", os.path.join(root, "link"))
        with open(os.path.join(outside, "secret.txt"), "wb") as f:
            f.write(b"outside the root\n")
        os.symlink("../outside", os.path.join(root, "escape"))
        self.git(root, "init", "-q")
        self.git(root, "add", "-A")
        self.git(root, "commit", "-q", "-m", "fuzz base")
        subprocess.run([self.git_mtime, "restore"], cwd=root, env=self.env, check=True, capture_output=True)
        self.pristine = pristine
        self.world = os.path.join(self.tmp, "world")
        self.root = os.path.join(self.world, "root")
        self.outside = os.path.join(self.world, "outside")
        self.stamp = os.path.join(self.root, "target", ".git-mtime-stamp")
        self.reset()
        manifest = os.path.join(self.tmp, "base.manifest")
        subprocess.run([self.git_mtime, "manifest", "-C", self.root, "-o", manifest], env=self.env, check=True,
                       capture_output=True)
        with open(manifest, "rb") as f:
            self.manifest = f.read()
        subprocess.run([self.guard, "seal", "--manifest", manifest, "--root", self.root, "--stamp", self.stamp],
                       env=self.env, check=True, capture_output=True)
        with open(self.stamp, "rb") as f:
            self.stamp_bytes = f.read()
        # A manifest entry through the symlinked directory, with the outside file's real id: the guard
        # must refuse it (nothing outside the root may get a time set), whatever else the manifest says.
        blob = hashlib.sha1(b"blob 17\0outside the root\n").hexdigest().encode()
        self.escape_line = b"tracked 100644 " + blob + b" 1000000000.000000000 escape/secret.txt\n"
        self.reset()

    def git(self, cwd, *args):
        subprocess.run(["git"] + list(args), cwd=cwd, env=self.env, check=True, capture_output=True)

    def reset(self):
        shutil.rmtree(self.world, ignore_errors=True)
        subprocess.run(["cp", "-a", self.pristine, self.world], check=True)
        if hasattr(self, "stamp_bytes"):
            os.makedirs(os.path.dirname(self.stamp), exist_ok=True)
            with open(self.stamp, "wb") as f:
                f.write(self.stamp_bytes)
        self.outside_state = self.outside_snapshot()
        self.root_contents = snapshot.contents(self.root, skip=frozenset({".git", "target"}))

    def outside_snapshot(self):
        """Everything in the world except the root's insides: the outside files' contents and mtimes,
        and the names in the world directory (a stamp temporary landing outside would show up)."""
        state = {"names": sorted(os.listdir(self.world))}
        for path, full in snapshot._walk(self.outside, frozenset()):
            st = os.lstat(full)
            state[path] = (st.st_mtime_ns, snapshot.digest(full) if os.path.isfile(full) else None)
        return state

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def mutate(rng, data, rounds=None):
    data = bytearray(data)
    for _ in range(rounds or rng.randint(1, 6)):
        choice = rng.randrange(9)
        lines = data.split(b"\n")
        if choice == 0 and data:  # flip bits
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # insert a random byte
            data.insert(rng.randint(0, len(data)), rng.randrange(256))
        elif choice == 2 and data:  # delete a range
            i = rng.randrange(len(data))
            del data[i:i + rng.randint(1, 16)]
        elif choice == 3:  # splice in a dictionary fragment
            i = rng.randint(0, len(data))
            data[i:i] = rng.choice(DICTIONARY)
        elif choice == 4 and len(lines) > 1:  # duplicate a line
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        elif choice == 5 and len(lines) > 1:  # delete a line
            del lines[rng.randrange(len(lines))]
            data = bytearray(b"\n".join(lines))
        elif choice == 6 and len(lines) > 2:  # swap two lines
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
        elif choice == 7:  # truncate
            del data[rng.randint(0, len(data)):]
        elif choice == 8 and len(lines) > 1:  # replace one field of a line with a dictionary fragment
            i = rng.randrange(len(lines))
            fields = lines[i].split(b" ")
            fields[rng.randrange(len(fields))] = rng.choice(DICTIONARY)
            lines[i] = b" ".join(fields)
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def fix_counts(data):
    """Makes a mutated manifest's `entries` header agree with its line count, to get past that check."""
    lines = data.split(b"\n")
    header = next((i for i, line in enumerate(lines[:6]) if line.startswith(b"entries ")), None)
    if header is not None:
        lines[header] = b"entries %d" % (len(lines) - header - (2 if lines[-1] == b"" else 1))
    return b"\n".join(lines)


def fix_checksum(data):
    """Recomputes a mutated stamp's checksum line, so the parser's deeper checks get exercised."""
    body, _, _ = data.rstrip(b"\n").rpartition(b"\nchecksum ")
    body += b"\n"
    return body + b"checksum " + hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().encode() + b"\n"


def decode_path(field):
    """docs/manifest.md's escaping undone (a doubled backslash, backslash-x-HH); None when malformed."""
    out, i = bytearray(), 0
    while i < len(field):
        if field[i:i + 1] != b"\\":
            out += field[i:i + 1]
            i += 1
        elif field[i + 1:i + 2] == b"\\":
            out += b"\\"
            i += 2
        elif field[i + 1:i + 2] == b"x" and len(field) >= i + 4:
            try:
                out.append(int(field[i + 2:i + 4], 16))
            except ValueError:
                return None
            i += 4
        else:
            return None
    return bytes(out)


def reached_through_changed_links(world, entries, consumed):
    """The entries a symlink entry that prepare bumps (its id differs from the stamp's) leads to: make and
    cargo read through links, so those are bumped with it (docs/stamp.md, "Symlinks"). Resolved inside the
    root, as the guard resolves them: `..` at the root stays there, a link leading out reaches nothing there."""
    paths = {decode_path(escaped) for _, _, _, _, escaped in entries}
    reached = set()
    for _, mode, blob, _, escaped in entries:
        link = decode_path(escaped)
        if mode != b"120000" or link is None or consumed.get(link) == blob:
            continue
        target = os.readlink(os.path.join(world.root.encode(), link))
        # An absolute target starts again at the root.
        parts = [] if target.startswith(b"/") else [p for p in os.path.dirname(link).split(b"/") if p]
        for part in target.split(b"/"):
            if part == b"..":
                parts = parts[:-1]
            elif part not in (b"", b"."):
                parts.append(part)
        target = b"/".join(parts)
        reached |= {path for path in paths if path == target or path.startswith(target + b"/") or not target}
    return reached


def check_prepared_times(world, stamp):
    """The guard trusted a (mutated, checksum-fixed) stamp: then prepare must have given every file whose id
    differs from the one the stamp records a time after the stamp's seal time, and every other file exactly
    its manifest time. An untracked file whose id differs may also keep its own time (it is beside the
    stamp, or already newer than the seal). A file a bumped symlink leads to counts as differing."""
    lines = stamp.split(b"\n")
    try:
        sealed_text = next(l for l in lines if l.startswith(b"sealed "))[7:]
        seconds, nanos = sealed_text.split(b".")
        sealed = int(seconds) * 10 ** 9 + (int(nanos) if not seconds.startswith(b"-") else -int(nanos))
    except (StopIteration, ValueError):
        return None
    consumed = {}
    for line in lines[5:]:
        fields = line.split(b" ")
        if len(fields) == 4 and len(fields[1]) == 40:
            path = decode_path(fields[3])
            if path is not None:
                consumed[path] = fields[1]
    manifest_lines = world.manifest.split(b"\n")
    first_entry = next(i for i, line in enumerate(manifest_lines) if line.startswith(b"entries ")) + 1
    entries = [line.split(b" ", 4) for line in manifest_lines[first_entry:-1]]
    reached = reached_through_changed_links(world, entries, consumed)
    for origin, mode, blob, when, escaped in entries:
        path = decode_path(escaped)
        seconds, nanos = when.split(b".")
        manifest_time = int(seconds) * 10 ** 9 + int(nanos)
        now = os.lstat(os.path.join(world.root.encode(), path)).st_mtime_ns
        if consumed.get(path) == blob and path not in reached:
            if now != manifest_time:
                return "trusted stamp records %s unchanged, yet prepare gave it %d, not its manifest time %d" % (
                    path, now, manifest_time)
        elif now <= sealed and not (origin == b"untracked" and now == manifest_time):
            return "trusted stamp records other content for %s, yet prepare left it at %d, not after the seal %d" % (
                path, now, sealed)
    return None


def run_case(world, seed, iteration):
    """One fuzz case; returns None or a failure description."""
    rng = random.Random("%s:%d" % (seed, iteration))
    kind = rng.choice(["manifest", "manifest", "stamp", "stamp", "escape", "dockerignore"])
    manifest = world.manifest
    stamp = world.stamp_bytes
    if kind == "manifest":
        manifest = mutate(rng, manifest)
        if rng.random() < 0.5:
            manifest = fix_counts(manifest)
    elif kind == "stamp":
        if rng.random() < 0.5:
            stamp = mutate(rng, stamp, rounds=rng.randint(1, 3))
            if rng.random() < 0.7:
                stamp = fix_checksum(stamp)
        else:
            # Only the entry lines, then a consistent count and checksum: the parser's deeper checks and,
            # when it accepts the result, prepare's use of it.
            lines = stamp.split(b"\n")
            entries = mutate(rng, b"\n".join(lines[5:-2]), rounds=rng.randint(1, 2)).split(b"\n")
            stamp = b"\n".join(lines[:4] + [b"entries %d" % len(entries)] + entries + [b"checksum x", b""])
            stamp = fix_checksum(stamp)
    elif kind == "escape":
        lines = manifest.split(b"\n")
        header = next(i for i, line in enumerate(lines) if line.startswith(b"entries "))
        entries = sorted(lines[header + 1:-1] + [world.escape_line.rstrip(b"\n")],
                         key=lambda line: line.split(b" ", 4)[4])
        manifest = b"\n".join(lines[:header] + [b"entries %d" % len(entries)] + entries) + b"\n"
        if rng.random() < 0.5:
            manifest = mutate(rng, manifest, rounds=1)
    manifest_path = os.path.join(world.tmp, "case.manifest")
    with open(manifest_path, "wb") as f:
        f.write(manifest)
    with open(world.stamp, "wb") as f:
        f.write(stamp)

    command = None
    if kind == "dockerignore":
        data = mutate(rng, DOCKERIGNORE_SEED, rounds=rng.randint(1, 10))
        with open(os.path.join(world.root, ".dockerignore"), "wb") as f:
            f.write(data)
        argv = [world.git_mtime, "manifest", "-o", os.path.join(world.tmp, "out.manifest")]
        allowed = MANIFEST_STATUSES
        before = snapshot.contents(world.root, skip=frozenset({".git", "target", ".dockerignore"}))
    else:
        command = rng.choice(["check", "prepare", "seal", "run"])
        argv = [world.guard, command, "--manifest", manifest_path, "--root", world.root]
        if command != "check":
            argv += ["--stamp", world.stamp]
        if command == "run":
            argv += ["--", "true"]
        allowed = GUARD_STATUSES
        before = world.root_contents
    try:
        process = subprocess.run(argv, cwd=world.root, env=world.env, capture_output=True, timeout=5)
    except subprocess.TimeoutExpired:
        return "%s %s: hung (> 5 s)" % (kind, " ".join(argv[1:2]))
    message = process.stderr.decode(errors="replace").strip()
    failure = None
    if process.returncode < 0 or process.returncode not in allowed:
        failure = "crash: `%s` exited %d: %s" % (" ".join(argv[:2]), process.returncode, message[-800:])
    elif process.returncode != 0 and not message:
        failure = "`%s` failed (exit %d) without saying why" % (" ".join(argv[:2]), process.returncode)
    elif kind == "escape" and process.returncode == 0 and b"escape/secret.txt" in manifest:
        failure = "`%s` accepted a manifest entry through a symlink leading outside the root" % " ".join(argv[:2])
    if failure is None and kind == "stamp" and command in ("prepare", "run") and process.returncode == 0 \
            and "build stamp" not in message:
        failure = check_prepared_times(world, stamp)
        TRUSTED_STAMP_CASES[0] += 1
    if failure is None:
        skip = frozenset({".git", "target", ".dockerignore"}) if kind == "dockerignore" else frozenset({".git", "target"})
        difference = snapshot.describe_difference(before, snapshot.contents(world.root, skip=skip))
        if difference:
            failure = "file content changed in the root: %s" % difference
        elif world.outside_snapshot() != world.outside_state:
            failure = "something outside the root changed (mtime, content or a new file)"
    if failure:
        saved = os.path.join(tempfile.gettempdir(), "gm-fuzz-failure-%s-%d" % (seed, iteration))
        os.makedirs(saved, exist_ok=True)
        with open(os.path.join(saved, "manifest"), "wb") as f:
            f.write(manifest)
        with open(os.path.join(saved, "stamp"), "wb") as f:
            f.write(stamp)
        return "%s case: %s (inputs saved in %s)" % (kind, failure, saved)
    if kind == "dockerignore":
        with open(os.path.join(world.root, ".dockerignore"), "wb") as f:
            f.write(DOCKERIGNORE_SEED)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug"))
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", default=None)
    parser.add_argument("--iteration", type=int, help="replay exactly this case")
    args = parser.parse_args()
    seed = args.seed or "%08x" % random.SystemRandom().getrandbits(32)
    world = World(os.path.abspath(args.bin))
    passed = failed = 0
    print("fuzz: seed %s, %s" % (seed, "iteration %d" % args.iteration if args.iteration is not None
                                 else "%.0f s" % args.seconds), flush=True)
    try:
        iterations = [args.iteration] if args.iteration is not None else range(10 ** 9)
        deadline = time.monotonic() + args.seconds
        for iteration in iterations:
            if args.iteration is None and time.monotonic() > deadline:
                break
            failure = run_case(world, seed, iteration)
            if failure:
                failed += 1
                print("FAIL iteration %d: %s\n  replay: suites/faults/fuzz.py --seed %s --iteration %d"
                      % (iteration, failure, seed, iteration), flush=True)
                world.reset()
            else:
                passed += 1
                if world.outside_snapshot() != world.outside_state:
                    world.reset()
            if failed >= 20:
                print("fuzz: stopping after 20 failures")
                break
    finally:
        world.close()
    print("fuzz: %d mutated stamps were trusted and had every prepared mtime checked" % TRUSTED_STAMP_CASES[0])
    print("fuzz: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
