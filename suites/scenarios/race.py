"""Races for the reliability suites: a writer that lands inside a window strace holds open.

`strace_delay(SYSCALL, US)` prefixes a command so that every SYSCALL it (or a child) makes is delayed on
entry; with `--seccomp-bpf` only that system call stops the tracee, so a thread in a tracing stop ("t" in
/proc/PID/task/TID/stat) is inside the delayed call. `Racer` waits for exactly that moment (after the
process set the time of a "herald" file, if given) and then writes its file: between the process's last
check of the file and its utimensat.
"""

import os
import threading
import time


def strace_delay(syscall, microseconds):
    """A prefix that delays every `syscall` of the command (and its children) on entry: widens a race window."""
    return ["strace", "-f", "-qq", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=" + syscall,
            "-e", "inject=%s:delay_enter=%d" % (syscall, microseconds)]


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


class Racer(threading.Thread):
    """Writes a file at the moment a `program` process (run in `cwd`, its command line holding `words`) is
    stopped inside an strace-delayed system call, after it has set the time of `herald` (if given), so the
    write lands between that process's last check of the file and its utimensat. `make(bytes) -> bytes`
    gives the new content from the current one."""

    def __init__(self, cwd, words, path, make, herald=None, timeout=60, program="git-mtime"):
        super().__init__(daemon=True)
        self.cwd, self.words, self.path, self.make, self.herald = os.path.realpath(cwd), words, path, make, herald
        self.program = program
        self.written_at = None
        self.deadline = time.monotonic() + timeout
        self.done = threading.Event()
        self.outcome = "no window: the writer did not write"

    def find(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/cwd" % pid) != self.cwd:
                    continue
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            if os.path.basename(argv[0]) == self.program and all(w in argv for w in self.words):
                return pid
        return None

    @staticmethod
    def stopped(pid):
        """Whether a thread of `pid` is in a tracing stop (inside a delayed system call); None once it is gone."""
        try:
            tasks = os.listdir("/proc/%s/task" % pid)
        except OSError:
            return None
        for task in tasks:
            try:
                with open("/proc/%s/task/%s/stat" % (pid, task)) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "t":
                        return True
            except (OSError, IndexError):
                pass
        return False

    def run(self):
        pid = None
        while pid is None:
            if self.done.is_set() or time.monotonic() > self.deadline:
                return
            pid = self.find()
            time.sleep(0.002)
        herald_time = os.lstat(self.herald).st_mtime_ns if self.herald and os.path.lexists(self.herald) else None
        while time.monotonic() < self.deadline:
            state = self.stopped(pid)
            if state is None:
                self.outcome = "no window: the process ended first"
                return
            herald_set = herald_time is None or (os.path.lexists(self.herald) and os.lstat(self.herald).st_mtime_ns != herald_time)
            if state and herald_set:
                time.sleep(0.02)
                if self.stopped(pid):  # still stopped: inside the delay, not a passing ptrace event
                    with open(self.path, "rb") as f:
                        data = f.read()
                    self.written_at = time.time_ns()
                    write_bytes(self.path, self.make(data))
                    self.outcome = "written inside the window"
                    return
            time.sleep(0.002)

    def finish(self):
        self.done.set()
        self.join()
