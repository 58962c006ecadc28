#!/usr/bin/env python3
"""`git-mtime-guard check` and `prepare` of several guards, alternating, on one 20,000-file context.

    python3 bench/guard-alternating.py [--rounds N] GUARD...

The context is a private copy (plain files, one link each) of bench/guard-check.sh's cached tree
(run that once first: /var/tmp/git-mtime-guard-bench), with its stamp at target/.git-mtime-stamp,
sealed once by the first GUARD, so `prepare` runs as it does before every build with nothing
changed (stamp trusted, no bump). Each round runs every GUARD's `check`, then every GUARD's
`prepare`. Prints the load, then per GUARD and command the median and minimum wall time and the
median CPU time (user+sys of the child: the number to trust on a shared machine), as ratios to the
first GUARD. Use static executables (scripts/release --stage).
"""
import os, resource, shutil, statistics, subprocess, sys, time

args = sys.argv[1:]
rounds = 10
if args[:1] == ["--rounds"]:
    rounds = int(args[1])
    args = args[2:]
if not args: sys.exit(__doc__)
source = "/var/tmp/git-mtime-guard-bench"
work = os.environ.get("GUARD_BENCH_DIR", "/var/tmp/git-mtime-guard-alternating")
tree, manifest = os.path.join(work, "tree"), os.path.join(source, "manifest")
if not os.path.isfile(manifest): sys.exit("run bench/guard-check.sh once first (it generates the tree)")
if not os.path.isdir(tree):
    os.makedirs(work, exist_ok=True)
    subprocess.run(["cp", "-a", os.path.join(source, "tree"), tree + ".tmp"], check=True)
    os.rename(tree + ".tmp", tree)
common = ["--manifest", manifest, "--root", tree]
stamp = ["--stamp", os.path.join(tree, "target/.git-mtime-stamp")]
os.makedirs(os.path.join(tree, "target"), exist_ok=True)
subprocess.run([args[0], "check"] + common, check=True, stdout=subprocess.DEVNULL)
subprocess.run([args[0], "seal"] + common + stamp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

commands = {"check": common, "prepare": common + stamp}
wall = {(guard, name): [] for guard in args for name in commands}
cpu = {key: [] for key in wall}
print("load", open("/proc/loadavg").read().strip(), "|", os.cpu_count(), "cores |", rounds, "rounds")
for _ in range(rounds):
    for name, options in commands.items():
        for guard in args:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            result = subprocess.run([guard, name] + options, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wall[(guard, name)].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[(guard, name)].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if result.returncode != 0: sys.exit(f"{guard} {name} exited with {result.returncode}: {result.stderr.decode()}")
            if name == "prepare" and b" 0 of " not in result.stderr and b"\n0 of " not in result.stderr and not result.stderr.startswith(b"0 of "):
                sys.exit(f"{guard} prepare bumped files: {result.stderr.decode()}")
print("load", open("/proc/loadavg").read().strip(), "(after)")
for name in commands:
    reference_wall = statistics.median(wall[(args[0], name)])
    reference_cpu = statistics.median(cpu[(args[0], name)])
    for guard in args:
        w, c = statistics.median(wall[(guard, name)]), statistics.median(cpu[(guard, name)])
        print("%-8s %-45s wall median %6.0f ms (min %6.0f, %.2fx), CPU median %6.0f ms (%.2fx)" % (
            name, guard, w * 1000, min(wall[(guard, name)]) * 1000, w / reference_wall, c * 1000, c / reference_cpu))
