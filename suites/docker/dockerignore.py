#!/usr/bin/env python3
"""Differential test: the files `git mtime manifest` lists against the files a real Docker build receives.

    suites/docker/dockerignore.py [--cases N] [--seed S] [--soak] [--jobs J] [--keep]
    suites/docker/dockerignore.py --rules          only the hand-written rule cases (Tests/MtimeDockerContextTests/EngineCases.json)
    suites/docker/dockerignore.py --record-rules   record what the engine does with them

Each case is a git repository with a random tree (spaces, UTF-8, invalid UTF-8, dot files, `[ * ? \\ + (`
in names, symlinks, tracked and untracked files) and a random `.dockerignore` (`*`, `?`, `[...]` with
ranges and `^`, `**` anywhere, `!`, leading `/` and `./`, trailing `/`, `\\` escapes, comments, blank
lines, CRLF, white space, invalid patterns now and then), sometimes a `<Dockerfile>.dockerignore`, a
Dockerfile outside the context, a lowercase `dockerfile`, or a symlinked `.dockerignore` (inside the
context, absolute, or leaving it). Every case is built by a private dockerd (scripts/docker-env,
`--network=none`, `FROM scratch` + `COPY . /`) with

    buildkit-20.10   DOCKER_BUILDKIT=1 /usr/bin/docker build -o type=tar   (docker 20.10's BuildKit client)
    classic-20.10    DOCKER_BUILDKIT=0 /usr/bin/docker build, docker save (docker 20.10's classic client)
    classic-28       DOCKER_BUILDKIT=0 /usr/local/bin/docker build         (a docker 23+ client, when installed)

and the set of non-directory entries that arrived must equal the manifest's paths for that builder
(`git mtime manifest --builder … --docker-version …`); a build Docker refuses must be a manifest
git-mtime refuses. A mismatch prints the seed, the case, its tree and patterns, and the difference.
CI runs a fixed seed; `--soak` a fresh one and 500 cases. Ends with `dockerignore: N passed, N failed`
(one count per case and builder). Needs root; binaries from $GIT_MTIME_BIN_DIR (default .build/debug).
"""
import argparse
import concurrent.futures
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DOCKER20 = "/usr/bin/docker"
DOCKER_NEW = "/usr/local/bin/docker"


class Engine:
    """One builder as docker runs it, and the manifest options that describe it."""

    def __init__(self, name, client, buildkit, manifest_options):
        self.name, self.client, self.buildkit, self.manifest_options = name, client, buildkit, manifest_options

    def received(self, case_dir, dockerfile_args, context, tag):
        """The non-directory paths (bytes) the build's COPY received, or an error string."""
        env = dict(os.environ, DOCKER_BUILDKIT="1" if self.buildkit else "0")
        if self.buildkit:
            run = subprocess.run([self.client, "build", "-q", "--network=none", "-o", "type=tar,dest=-"]
                                 + dockerfile_args + [context], cwd=case_dir, env=env, capture_output=True)
            if run.returncode != 0:
                return "build failed: " + run.stderr.decode(errors="replace").strip()[-400:]
            return tar_files(run.stdout)
        # A tag of its own: concurrent cases with equal contexts share the image (the build cache).
        run = subprocess.run([self.client, "build", "-q", "--network=none", "-t", tag] + dockerfile_args + [context],
                             cwd=case_dir, env=env, capture_output=True)
        if run.returncode != 0:
            return "build failed: " + run.stderr.decode(errors="replace").strip()[-400:]
        # Not removed afterwards: a concurrent case may be tagging the same cached image (the private
        # engine and everything in it go when the run ends).
        saved = subprocess.run([self.client, "save", tag], capture_output=True)
        if saved.returncode != 0:
            # An image without a layer (COPY of an empty context) can't be saved: nothing arrived.
            if b"empty export" in saved.stderr:
                return set()
            raise RuntimeError("docker save failed: %s" % saved.stderr.decode(errors="replace"))
        saved = saved.stdout
        files = set()
        with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
            for member in outer.getmembers():
                if member.name.endswith("/layer.tar"):
                    files |= tar_files(outer.extractfile(member).read())
        return files


RANDOM_DOCKERFILE = re.compile(rb"^\.dockerfile\.[0-9a-f]{20}$")


def tar_files(data):
    files = set()
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            name = member.name.encode("utf-8", "surrogateescape").lstrip(b"/")
            # The classic client adds a Dockerfile from outside the context under a random name and
            # tells the daemon to drop it; a daemon whose pattern code fails (a docker 20.10 daemon on
            # `ab++`) leaves it. The manifest never lists it and the guard does not require it.
            if not member.isdir() and not RANDOM_DOCKERFILE.match(name):
                files.add(name)
    return files


def manifest_files(binary, case_dir, context, dockerfile, options):
    command = [binary, "manifest", "--context", context] + options
    if dockerfile is not None:
        command += ["--dockerfile", dockerfile]
    run = subprocess.run(command, cwd=case_dir, capture_output=True, env=case_environment(case_dir))
    if run.returncode != 0:
        return "manifest failed: " + run.stderr.decode(errors="replace").strip()[-400:]
    lines = run.stdout.split(b"\n")
    return {decode_path(line.split(b" ")[-1]) for line in lines[6:] if line}


def decode_path(field):
    """The manifest's path escaping: `\\\\` a backslash, `\\xHH` the byte HH."""
    out, i = bytearray(), 0
    while i < len(field):
        if field[i:i + 2] == b"\\\\":
            out.append(0x5C)
            i += 2
        elif field[i:i + 2] == b"\\x":
            out.append(int(field[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return bytes(out)


def case_environment(case_dir):
    # No global git configuration (a global excludes file would hide files from the manifest).
    return dict(os.environ, HOME=case_dir, XDG_CONFIG_HOME=case_dir, GIT_CONFIG_NOSYSTEM="1",
                GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
                GIT_COMMITTER_EMAIL="t@example.com", GIT_AUTHOR_DATE="@1600000000 +0000",
                GIT_COMMITTER_DATE="@1600000000 +0000")


# --- Random cases ---------------------------------------------------------------------------------

NAME_PARTS = ["a", "b", "ab", "x", "log", "app", "src", "Doc", "é", "日本", "ü", "a b", " lead", "trail ",
              ".hidden", ".dockerignore.bak", "[x]", "a*b", "q?", "back\\slash", "c++", "f(1)", "{a}", "a|b",
              "a.b", "$x", "^c", "#h", "!bang", "-dash", "\udcff", "nl\nx", "x.log", "y.txt", "z.md", "node_modules",
              "target", "tmp", "abc", "aXc", "a-c", "1", "22", "~"]
EXTENSIONS = ["", ".log", ".txt", ".md", ".rs", ".o", ""]


def random_name(rng):
    name = rng.choice(NAME_PARTS)
    if rng.random() < 0.3:
        name += rng.choice(NAME_PARTS)
    name += rng.choice(EXTENSIONS)
    if name in (".", "..", ".git", ".gitignore", ".gitattributes", ".gitmodules") or "/" in name:
        name = "n" + name.replace("/", "_")
    return name


def random_tree(rng):
    """Relative paths (str, surrogateescape for invalid bytes) of files; dirs implied."""
    directories = [""]
    for _ in range(rng.randint(1, 6)):
        parent = rng.choice(directories)
        if parent.count("/") >= 3:
            continue
        directories.append((parent + "/" if parent else "") + random_name(rng))
    files = set()
    for _ in range(rng.randint(4, 22)):
        directory = rng.choice(directories)
        files.add((directory + "/" if directory else "") + random_name(rng))
    # A name can't be both a file and a directory.
    dirs = {d for d in directories if d}
    return sorted(f for f in files if f not in dirs)


def mutate_path(rng, path):
    parts = path.split("/")
    index = rng.randrange(len(parts))
    part = parts[index]
    choice = rng.random()
    if choice < 0.15 and part:
        i = rng.randrange(len(part))
        part = part[:i] + "?" + part[i + 1:]
    elif choice < 0.3:
        part = "*" if rng.random() < 0.5 else part[: rng.randint(0, len(part))] + "*"
    elif choice < 0.4 and part:
        i = rng.randrange(len(part))
        c = part[i]
        cls = rng.choice(["[%s]" % c, "[^%s]" % c, "[a-z]", "[^a-c]", "[%s-%s]" % (c, c), "[[:alpha:]]", "[\\%s]" % c])
        part = part[:i] + cls + part[i + 1:]
    elif choice < 0.5:
        part = "*" + part[rng.randint(0, len(part)):] if part else "*"
    elif choice < 0.55 and part:
        i = rng.randrange(len(part))
        part = part[:i] + "\\" + part[i:]
    parts[index] = part
    pattern = "/".join(parts)
    if rng.random() < 0.25:
        pattern = "**/" + "/".join(parts[index:])
    if rng.random() < 0.1:
        pattern = "**" + pattern.split("/")[-1]
    if rng.random() < 0.15:
        pattern = "/".join(parts[: index + 1]) + "/**"
    if rng.random() < 0.1:
        pattern = "/".join(parts[: index + 1])
    return pattern


def random_patterns(rng, files):
    lines = []
    candidates = files + sorted({f.rsplit("/", 1)[0] for f in files if "/" in f})
    for _ in range(rng.randint(1, 8)):
        roll = rng.random()
        if roll < 0.55 and candidates:
            pattern = mutate_path(rng, rng.choice(candidates))
        elif roll < 0.75:
            pattern = rng.choice(["*", "**", "*.log", "**.log", "**/*.txt", "?", "??", "*/*", "**/x*", "a*",
                                  ".*", "*/", "**/", "[.]*", "*[!a]", "[^.]*", "*.[mt]*", "**/*/", "**b",
                                  "x{1}", "c++", "f(1)", "a|b", "ab+", "^c", "$x", "#h", "\\#h", "a\\ b",
                                  "\\[x]", "[[]x]", "*\\*b", "q\\?", "back\\\\slash", "[a-c]*", "[\\d]"])
        elif roll < 0.8:
            pattern = rng.choice(["[", "[z-a]", "x\\", "a(", "[]]", "ab++", "[a-]", "{1,2}x"])
        else:
            pattern = rng.choice(candidates) if candidates else "a"
        decoration = rng.random()
        if decoration < 0.08:
            pattern = "/" + pattern
        elif decoration < 0.14:
            pattern = "./" + pattern
        elif decoration < 0.2:
            pattern = pattern + "/"
        elif decoration < 0.24:
            pattern = "a/../" + pattern
        if rng.random() < 0.3:
            pattern = "!" + (" " if rng.random() < 0.2 else "") + pattern
        if rng.random() < 0.1:
            pattern = " " * rng.randint(1, 2) + pattern + "\t" * rng.randint(0, 1)
        lines.append(pattern)
        if rng.random() < 0.1:
            lines.append(rng.choice(["# comment", "", "   ", "#" + pattern, " # not a comment"]))
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    if rng.random() < 0.05:
        text = "\ufeff" + text
    return text.encode("utf-8", "surrogateescape")


DOCKERFILE = b"FROM scratch\nCOPY . /\n"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def fs(path):
    return path.encode("utf-8", "surrogateescape")


def make_case(rng, case_dir):
    """Builds a random case in case_dir; returns (description, context, dockerfile arg or None)."""
    repo = os.path.join(case_dir, "repo")
    context = os.path.join(repo, "ctx")
    files = random_tree(rng)
    for path in files:
        write(fs(os.path.join(context, path)), ("content of %r\n" % path).encode("utf-8", "surrogateescape"))
    # A few symlinks to files (the walkers send them as links, never follow them).
    for _ in range(rng.randint(0, 2)):
        if not files:
            break
        target = rng.choice(files)
        link = os.path.join(os.path.dirname(target), "link-" + os.path.basename(target))
        link_path = fs(os.path.join(context, link))
        if not os.path.lexists(link_path):
            os.symlink(fs(os.path.basename(target)), link_path)
    layout = rng.random()
    dockerfile_arg = None
    notes = []
    ignore = random_patterns(rng, files)
    if layout < 0.55:
        write(os.path.join(context, "Dockerfile"), DOCKERFILE)
        write(os.path.join(context, ".dockerignore"), ignore)
        notes.append("ctx/Dockerfile, ctx/.dockerignore")
    elif layout < 0.65:
        sub = os.path.join(context, "build")
        write(os.path.join(sub, "x.Dockerfile"), DOCKERFILE)
        write(os.path.join(sub, "x.Dockerfile.dockerignore"), random_patterns(rng, files))
        write(os.path.join(context, ".dockerignore"), ignore)
        dockerfile_arg = "repo/ctx/build/x.Dockerfile"
        notes.append("-f ctx/build/x.Dockerfile with x.Dockerfile.dockerignore beside it")
    elif layout < 0.72:
        write(os.path.join(repo, "docker", "Dockerfile"), DOCKERFILE)
        if rng.random() < 0.7:
            write(os.path.join(repo, "docker", "Dockerfile.dockerignore"), random_patterns(rng, files))
        write(os.path.join(context, ".dockerignore"), ignore)
        dockerfile_arg = "repo/docker/Dockerfile"
        notes.append("-f repo/docker/Dockerfile (outside the context)")
    elif layout < 0.78:
        write(os.path.join(context, "Dockerfile"), DOCKERFILE)
        where = rng.choice(["rules", "conf/rules", "conf/deep/rules"])
        write(os.path.join(context, where), ignore)
        target = where if rng.random() < 0.6 else "/" + where
        os.symlink(target, os.path.join(context, ".dockerignore"))
        notes.append(".dockerignore -> %s" % target)
    elif layout < 0.82:
        write(os.path.join(repo, "docker", "Dockerfile"), DOCKERFILE)
        write(os.path.join(context, "rules"), ignore)
        os.symlink("rules", os.path.join(context, ".dockerignore"))
        dockerfile_arg = "repo/docker/Dockerfile"
        notes.append(".dockerignore -> rules, -f repo/docker/Dockerfile (the classic client fails)")
    elif layout < 0.87:
        write(os.path.join(context, "Dockerfile"), DOCKERFILE)
        write(os.path.join(repo, "outside-rules"), ignore)
        write(os.path.join(context, "outside-rules"), random_patterns(rng, files))
        target = rng.choice(["../outside-rules", os.path.join(repo, "outside-rules")])
        os.symlink(target, os.path.join(context, ".dockerignore"))
        notes.append(".dockerignore -> %s (outside the context; ctx/outside-rules differs)" % target)
    elif layout < 0.92:
        write(os.path.join(context, "Dockerfile"), DOCKERFILE)
        write(os.path.join(context, "Dockerfile.dockerignore"), b"" if rng.random() < 0.5 else random_patterns(rng, files))
        write(os.path.join(context, ".dockerignore"), ignore)
        notes.append("ctx/Dockerfile.dockerignore and ctx/.dockerignore")
    else:
        write(os.path.join(context, "dockerfile"), DOCKERFILE)
        write(os.path.join(context, "dockerfile.dockerignore"), random_patterns(rng, files))
        write(os.path.join(context, ".dockerignore"), ignore)
        notes.append("lowercase ctx/dockerfile (+ dockerfile.dockerignore, which nothing reads)")
    environment = case_environment(case_dir)
    subprocess.run(["git", "init", "-q", repo], check=True, env=environment)
    # Track a random part of the context; the rest stays untracked (the manifest lists both).
    everything = []
    for directory, dirnames, filenames in os.walk(fs(context)):
        everything += [os.path.relpath(os.path.join(directory, name), fs(repo)) for name in filenames + dirnames
                       if not os.path.isdir(os.path.join(directory, name)) or os.path.islink(os.path.join(directory, name))]
    tracked = [path for path in everything if rng.random() < 0.6]
    if tracked:
        subprocess.run(["git", "--literal-pathspecs", "add", "--"] + tracked, cwd=repo, check=True, env=environment)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "case"], cwd=repo, check=True, env=environment)
    return "; ".join(notes), "repo/ctx", dockerfile_arg


def describe_case(case_dir):
    lines = []
    for directory, dirnames, filenames in os.walk(fs(os.path.join(case_dir, "repo"))):
        dirnames[:] = sorted(d for d in dirnames if d != b".git")
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, fs(case_dir))
            if os.path.islink(path):
                lines.append("    %r -> %r" % (rel, os.readlink(path)))
            else:
                lines.append("    %r" % rel)
            if name.endswith(b"dockerignore") or name.endswith(b"rules"):
                if not os.path.islink(path):
                    with open(path, "rb") as handle:
                        lines.append("        patterns: %r" % handle.read())
    return "\n".join(lines)


RULES_FILE = os.path.join(ROOT, "Tests", "MtimeDockerContextTests", "EngineCases.json")


def unescape(text):
    """The fixture's strings: `\\xHH` is the byte HH, `\\\\` a backslash (the manifest's escaping), the rest UTF-8."""
    return decode_path(text.encode("utf-8"))


def escape(data):
    out = []
    for character in data.decode("utf-8", "surrogateescape"):
        if character == "\\":
            out.append("\\\\")
        elif "\udc80" <= character <= "\udcff":
            out.append("\\x%02x" % (ord(character) - 0xDC00))
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            out.append("\\x%02x" % ord(character))
        else:
            out.append(character)
    return "".join(out)


def rule_case(work, index, case):
    case_dir = os.path.join(work, "rule-%d" % index)
    repo = os.path.join(case_dir, "repo")
    context = os.path.join(repo, "ctx")
    for name in case["files"]:
        write(os.path.join(context.encode(), unescape(name)), b"x\n")
    write(os.path.join(context, "Dockerfile"), DOCKERFILE)
    write(os.path.join(context, ".dockerignore"), unescape(case["ignore"]))
    environment = case_environment(case_dir)
    subprocess.run(["git", "init", "-q", repo], check=True, env=environment)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "case"], cwd=repo, check=True, env=environment)
    return case_dir


def record_rules(work, builders):
    with open(RULES_FILE, encoding="utf-8") as handle:
        fixture = json.load(handle)
    for index, case in enumerate(fixture["cases"]):
        case_dir = rule_case(work, index, case)
        case["expected"] = {}
        for engine in builders:
            got = engine.received(case_dir, [], "repo/ctx", "gm-dockerignore:rule-%d-%s" % (index, engine.name))
            case["expected"][engine.name] = "error" if isinstance(got, str) else sorted(escape(p) for p in got)
        print("recorded: %s" % case["name"])
    with open(RULES_FILE, "w", encoding="utf-8") as handle:
        json.dump(fixture, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def check_rules(work, builders, binary, jobs):
    """Each recorded rule case, per builder: the engine still does what was recorded, and so does the manifest."""
    with open(RULES_FILE, encoding="utf-8") as handle:
        fixture = json.load(handle)

    def check(index, case):
        case_dir = rule_case(work, index, case)
        results, messages = [], []
        for engine in builders:
            recorded = case.get("expected", {}).get(engine.name)
            if recorded is None:
                messages.append("FAIL - rule case %r has no recording for %s (run --record-rules)" % (case["name"], engine.name))
                results.append(False)
                continue
            expected = "error" if recorded == "error" else {unescape(p) for p in recorded}
            got = engine.received(case_dir, [], "repo/ctx", "gm-dockerignore:rule-%d-%s" % (index, engine.name))
            got = "error" if isinstance(got, str) else got
            listed = manifest_files(binary, case_dir, "repo/ctx", None, engine.manifest_options)
            listed = "error" if isinstance(listed, str) else listed
            results.append(got == expected and listed == expected)
            if not results[-1]:
                messages.append("FAIL - rule case %r, %s: recorded %r, the engine now %r, the manifest %r"
                                % (case["name"], engine.name, recorded, got if got == "error" else sorted(got),
                                   listed if listed == "error" else sorted(listed)))
        shutil.rmtree(case_dir, ignore_errors=True)
        return results, messages

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for case_results, messages in pool.map(lambda item: check(*item), enumerate(fixture["cases"])):
            results += case_results
            for message in messages:
                print(message)
    print("rule cases: %d of %d agree" % (results.count(True), len(results)))
    return results


def engines(bin_dir):
    found = [Engine("buildkit-20.10", DOCKER20, True, ["--docker-version", "20.10"]),
             Engine("classic-20.10", DOCKER20, False, ["--builder", "classic", "--docker-version", "20.10"])]
    if os.access(DOCKER_NEW, os.X_OK):
        version = subprocess.run([DOCKER_NEW, "--version"], capture_output=True, text=True).stdout
        major = int("".join(c for c in version.split("version ", 1)[-1].split(".")[0] if c.isdigit()) or 0)
        if major >= 23:
            found.append(Engine("classic-%d" % major, DOCKER_NEW, False,
                                ["--builder", "classic", "--docker-version", str(major), "--daemon-version", "20.10"]))
    return found


DOCUMENTED_DIFFERENCES = []


def truncated_by_docker(engine, got, expected):
    """The classic client of docker 23+ (go-archive) stops its walk at the first pattern error and sends
    what it has, without failing: git-mtime refuses such a pattern instead (a documented difference)."""
    return (not engine.buildkit and "--daemon-version" in engine.manifest_options and isinstance(got, set)
            and isinstance(expected, str) and "is not a valid Go regular expression" in expected)


def run_case(index, seed, work, binary, builders, lock, keep):
    rng = random.Random("%s-%d" % (seed, index))
    case_dir = os.path.join(work, "case-%d" % index)
    os.makedirs(case_dir)
    notes, context, dockerfile = make_case(rng, case_dir)
    results = []
    for engine in builders:
        dockerfile_args = ["-f", dockerfile] if dockerfile else []
        got = engine.received(case_dir, dockerfile_args, context, "gm-dockerignore:%d-%s" % (index, engine.name))
        expected = manifest_files(binary, case_dir, context, dockerfile, engine.manifest_options)
        both_failed = isinstance(got, str) and isinstance(expected, str)
        agree = both_failed or got == expected
        if not agree and truncated_by_docker(engine, got, expected):
            with lock:
                print("note: seed=%s case=%d builder=%s: a pattern Go's regexp rejects, evaluated in the middle of the "
                      "classic client's walk, cut the context short (docs/docker.md, differences); git-mtime refuses it"
                      % (seed, index, engine.name))
            DOCUMENTED_DIFFERENCES.append(index)
            agree = True
        results.append(agree)
        if not agree:
            with lock:
                print("MISMATCH seed=%s case=%d builder=%s (%s)" % (seed, index, engine.name, notes))
                print("  replay: suites/docker/dockerignore.py --seed %s --only %d --keep" % (seed, index))
                print("  tree and patterns:\n" + describe_case(case_dir))
                if isinstance(got, str) or isinstance(expected, str):
                    print("  docker: %s\n  manifest: %s" % (got if isinstance(got, str) else sorted(got),
                                                            expected if isinstance(expected, str) else sorted(expected)))
                else:
                    print("  only docker sent: %r" % sorted(got - expected))
                    print("  only the manifest lists: %r" % sorted(expected - got))
                sys.stdout.flush()
    if not keep:
        shutil.rmtree(case_dir, ignore_errors=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int)
    parser.add_argument("--seed")
    parser.add_argument("--soak", action="store_true")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--only", type=int, help="run just this case number (with --seed)")
    parser.add_argument("--keep", action="store_true", help="keep the case directories (printed)")
    parser.add_argument("--rules", action="store_true",
                        help="only the hand-written rule cases of %s (engine and manifest against the recording)" % RULES_FILE)
    parser.add_argument("--record-rules", action="store_true", help="re-record what the engine does with the rule cases")
    arguments = parser.parse_args()

    passed = failed = 0

    def summary():
        print("dockerignore: %d passed, %d failed" % (passed, failed))
        sys.exit(0 if failed == 0 else 1)

    bin_dir = os.path.abspath(os.path.join(ROOT, os.environ.get("GIT_MTIME_BIN_DIR", ".build/debug")))
    binary = os.path.join(bin_dir, "git-mtime")
    if not os.access(binary, os.X_OK):
        print("FAIL - git-mtime not found in %s (run swift build)" % bin_dir)
        failed += 1
        summary()
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        reason = "not running as root" if os.geteuid() != 0 else "dockerd is not installed (scripts/install-test-deps)"
        if os.environ.get("CI") == "true":
            print("FAIL - docker engine: " + reason)
            failed += 1
        else:
            print("SKIPPED: the .dockerignore differential test needs a local engine: " + reason)
        summary()

    seed = arguments.seed or (os.urandom(4).hex() if arguments.soak else "ci-1")
    count = arguments.cases or (500 if arguments.soak else 60)
    work = tempfile.mkdtemp(prefix="gm-dockerignore.")
    engine_dir = os.path.join(work, "engine")
    started = subprocess.run([os.path.join(ROOT, "scripts/docker-env"), "start", engine_dir], capture_output=True, text=True)
    if started.returncode != 0:
        print("FAIL - docker engine did not start: " + started.stderr.strip())
        failed += 1
        shutil.rmtree(work, ignore_errors=True)
        summary()
    os.environ["DOCKER_HOST"] = started.stdout.strip().split("=", 1)[1]
    try:
        builders = engines(bin_dir)
        if arguments.record_rules:
            record_rules(work, builders)
            count = 0
        if arguments.only is None:
            rule_results = check_rules(work, builders, binary, arguments.jobs)
            passed += rule_results.count(True)
            failed += rule_results.count(False)
        if arguments.rules:
            count = 0
        print("dockerignore: seed %s, %d cases, builders: %s" % (seed, count, ", ".join(e.name for e in builders)))
        if len(builders) < 3:
            print("note: no docker 23+ client at %s: the patternmatcher classic builder is not compared" % DOCKER_NEW)
        lock = threading.Lock()
        indices = [arguments.only] if arguments.only is not None else range(count)
        started_cases = time.monotonic()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, arguments.jobs))
        try:
            futures = [pool.submit(run_case, index, seed, work, binary, builders, lock, arguments.keep) for index in indices]
            for future in futures:
                try:
                    for agree in future.result():
                        if agree:
                            passed += 1
                        else:
                            failed += 1
                except Exception as error:  # a harness failure is a failure, with its reason
                    print("FAIL - case raised: %r" % (error,))
                    failed += 1
        finally:
            # Ctrl-C: the cases not started yet are dropped, the engine is stopped below.
            pool.shutdown(wait=True, cancel_futures=True)
        if len(indices):
            elapsed = time.monotonic() - started_cases
            print("dockerignore: %d random cases in %.0f s (%.2f s a case, %d jobs)" % (len(indices), elapsed, elapsed / len(indices), arguments.jobs))
        if DOCUMENTED_DIFFERENCES:
            print("dockerignore: %d case(s) with the documented truncation difference" % len(DOCUMENTED_DIFFERENCES))
        if arguments.keep:
            print("cases kept in %s" % work)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts/docker-env"), "stop", engine_dir], capture_output=True)
        if not arguments.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary()


if __name__ == "__main__":
    main()
