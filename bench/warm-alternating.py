#!/usr/bin/env python3
"""Warm `git mtime restore` of several executables, alternating in one clone.

    cd CLONE && python3 bench/warm-alternating.py [--noop] [--rounds N] [--cache-dir DIR] [--priority] BIN...

Each round runs every BIN once (in the order given), after a new commit of one file (`wf`), or with
nothing new (`--noop`); `git diff-files --quiet` (read the index, `lstat` every file: the floor of
the same work) runs in each round too. Prints, per executable, the median and minimum wall time
(`time.perf_counter` around the run) and the median CPU time (`getrusage` of the children).
After every run, the mtimes of every tracked file but `wf` must be the ones the first run left
(`git ls-files` + `lstat`): the executables must agree, and stay agreed.

`--priority` (root): the whole benchmark runs in a session of its own whose scheduler autogroup has
nice -20, so that other sessions' builds on a shared machine take the spare cycles, not these runs'
(an idle-machine proxy; the figures still show the load in `/proc/loadavg`, printed first).
Use static executables: a dynamic one pays tens of milliseconds of symbol binding per run.
"""
import os, resource, statistics, subprocess, sys, time

args = sys.argv[1:]
noop, rounds, cache_dir, priority = False, 10, None, False
while args and args[0].startswith("--"):
    option = args.pop(0)
    if option == "--noop": noop = True
    elif option == "--rounds": rounds = int(args.pop(0))
    elif option == "--cache-dir": cache_dir = args.pop(0)
    elif option == "--priority": priority = True
    else: sys.exit(f"unknown option {option}")
if not args: sys.exit(__doc__)
if priority and os.environ.get("WARM_ALTERNATING_CHILD") != "1":
    # A new session gets a new autogroup; its nice is set before anything is timed.
    script = 'echo -20 > /proc/self/autogroup && exec "$@"'
    env = dict(os.environ, WARM_ALTERNATING_CHILD="1")
    os.execvpe("setsid", ["setsid", "sh", "-c", script, "sh", sys.executable] + sys.argv, env)

def tracked_times():
    paths = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout.split(b"\0")
    return {path: os.lstat(path).st_mtime_ns for path in paths if path and path != b"wf"}

restore = ["restore"] + (["--cache-dir", cache_dir] if cache_dir else [])
floor = "git diff-files"
names = args + [floor]
wall = {name: [] for name in names}
cpu = {name: [] for name in names}
expected = None
print("load", open("/proc/loadavg").read().strip(), "(nothing new)" if noop else "(one new commit per run)")
for _ in range(rounds):
    for name in names:
        if name != floor and not noop:
            with open("wf", "w") as f: f.write(str(time.time_ns()))
            subprocess.run(["git", "add", "wf"], check=True)
            subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@e", "commit", "-qm", "w"], check=True)
        command = ["git", "diff-files", "--quiet"] if name == floor else [name] + restore
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall[name].append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if name == floor: continue
        if result.returncode != 0: sys.exit(f"{name} exited with {result.returncode}")
        times = tracked_times()
        if expected is None: expected = times
        elif times != expected:
            changed = [path for path in times if times[path] != expected.get(path)]
            sys.exit(f"{name} left other mtimes than the first run: {len(changed)} files, e.g. {changed[:3]}")
reference = statistics.median(wall[names[0]])
for name in names:
    median = statistics.median(wall[name])
    print("%-50s wall median %5.0f ms (min %5.0f, %.2fx the first), CPU median %5.0f ms" % (
        name, median * 1000, min(wall[name]) * 1000, median / reference, statistics.median(cpu[name]) * 1000))
print("answers identical across", len(args), "executables and", rounds, "rounds")
