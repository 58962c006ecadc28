"""Build commands with a twist, run by the scenario harness in place of the plain build tool.

    buildcmd.py generate FILE TOKEN [PUT_BACK] -- TOOL ARGS...
        a code generator: rewrites FILE's marker token, then execs TOOL. PUT_BACK `bytes`: runs TOOL, then
        writes FILE's old bytes back in place (a version stamped in for one build, `cargo hack` restoring
        Cargo.toml); `mtime`: the same, then FILE's old mtime too (only ctime still tells). Exits as TOOL.
    buildcmd.py future FILE SECONDS -- TOOL ARGS...   runs TOOL; if it succeeds, leaves FILE dated SECONDS (2099)
    buildcmd.py wait-signal MARKER MODE -- TOOL ARGS...
        writes MARKER, then waits (at most 60 s) for TERM, INT, HUP or QUIT, or for the file MARKER.release.
        MODE `trap`: on the signal, exit 0 without building; `die`: the default action (killed by it);
        `trap-after`: run TOOL first, then wait, and exit 0 on the signal. A signal this process started
        with ignored (nohup) stays ignored, as in any well-behaved tool. On MARKER.release: exit 0.
        Otherwise, after 60 s: exit 3.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402


def split(argv):
    separator = argv.index("--")
    return argv[:separator], argv[separator + 1:]


def generate(args, tool):
    path, token, put_back = (args + [None])[:3]
    old = os.stat(path)
    with open(path, "rb") as f:
        original = f.read()
    data = fixture.TOKEN.sub(lambda m: m.group(1) + token.encode() + m.group(3), original, count=1)
    with open(path, "wb") as f:
        f.write(data)
    if not put_back:
        os.execvp(tool[0], tool)
    status = subprocess.run(tool).returncode
    with open(path, "wb") as f:
        f.write(original)
    if put_back == "mtime":
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    sys.exit(status)


def future(args, tool):
    path, seconds = args
    status = subprocess.run(tool).returncode
    if status == 0:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("an output from a skewed clock\n")
        os.utime(path, ns=(int(seconds) * 10 ** 9, int(seconds) * 10 ** 9))
    sys.exit(status)


def wait_signal(args, tool):
    marker, mode = args
    received = []
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        if signal.getsignal(number) == signal.SIG_IGN:
            continue
        signal.signal(number, signal.SIG_DFL if mode == "die" else lambda number, frame: received.append(number))
    if mode == "trap-after":
        status = subprocess.run(tool).returncode
        if status != 0:
            sys.exit(status)
    with open(marker + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(marker + ".tmp", marker)
    deadline = time.monotonic() + 60
    while not received and time.monotonic() < deadline and not os.path.exists(marker + ".release"):
        time.sleep(0.01)
    if received or os.path.exists(marker + ".release"):
        # A signal sent to the process group arrives twice (directly, and forwarded by the guard): the second
        # must not kill the interpreter while it shuts down.
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, signal.SIG_IGN)
        os._exit(0)
    sys.stderr.write("buildcmd: no signal arrived within 60 s\n")
    sys.exit(3)


def main():
    command = sys.argv[1]
    args, tool = split(sys.argv[2:])
    {"generate": generate, "future": future, "wait-signal": wait_signal}[command](args, tool)


if __name__ == "__main__":
    main()
