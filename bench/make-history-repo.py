#!/usr/bin/env python3
"""Writes a deterministic synthetic history as a `git fast-import` stream on stdout.

Two shapes; same arguments, same stream, byte for byte.

`--shape flat` (default: 50,000 commits, 5,000 files): files four levels deep, about a quarter of the
commits merges of short-lived feature branches (up to three open at once, forked from different points
of main). Change frequency is skewed: a few hot files change all the time, most files rarely, and a
block of files is created once and never touched again.

`--shape kernel` (default: 520,000 commits, 64,000 files): the Linux kernel's shape. Directories
nested two to nine levels deep under two dozen top-level directories (~15 files per directory);
most work lands through merges: up to 16 subsystem branches open at once, each forked from main when
it opens and working mostly inside its own subtree, with heavy-tailed lengths (most branches a few
commits, a few hundreds), so about a quarter of the commits lie on main's first-parent line and
most of those are merges whose diff against the first parent is a whole branch. Direct commits on
main, occasional tree-wide changes touching hundreds of files, files created and deleted over time,
and a block of files never touched after the initial import (so every cold walk reaches the root).
Branch refs are reused (`refs/heads/sub0`..): only `main` matters afterwards.
"""
import argparse
import random
import sys


def flat_shape(args, write):
    rng = random.Random(args.seed)

    # Paths: top/mid/leaf directories, ~10 files per leaf directory.
    paths = []
    i = 0
    while len(paths) < args.files:
        top, mid, leaf = i // 100, (i // 10) % 10, i % 10
        for f in range(10):
            if len(paths) < args.files:
                paths.append(f"src/mod{top:02d}/part{mid}/unit{leaf}/file{f}.txt")
        i += 1
    rng.shuffle(paths)
    frozen = paths[: args.files // 5]          # created in the first commit, never changed again
    hot = paths[args.files // 5: args.files // 5 + 40]
    warm = paths[args.files // 5 + 40: args.files // 2]
    late = paths[args.files // 2:]             # created over time, then changed rarely
    created = set(frozen) | set(hot) | set(warm)

    out = []
    mark = 0
    clock = 1_500_000_000
    counter = 0

    def emit(branch, parents, changes, message):
        nonlocal mark, clock, counter
        mark += 1
        clock += rng.randint(30, 900)
        out.append(f"commit refs/heads/{branch}\nmark :{mark}\n")
        out.append(f"author Dev <dev@example.com> {clock - rng.randint(0, 7200)} +0000\n")
        out.append(f"committer Dev <dev@example.com> {clock} +0000\n")
        out.append(f"data {len(message)}\n{message}\n")
        if parents:
            out.append(f"from :{parents[0]}\n")
            for p in parents[1:]:
                out.append(f"merge :{p}\n")
        for path, data in changes:
            out.append(f"M 100644 inline {path}\ndata {len(data)}\n{data}\n")
        return mark

    def pick():
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(hot)
        if roll < 0.9 or not late:
            return rng.choice(warm)
        return rng.choice(late)

    def edits():
        nonlocal counter
        changes = []
        for _ in range(rng.randint(1, 4)):
            counter += 1
            if late and rng.random() < 0.05:
                path = late.pop(rng.randrange(len(late)))
                if path not in created:
                    created.add(path)
                    changes.append((path, f"created {counter}\n"))
                    continue
            changes.append((pick(), f"edit {counter}\n"))
        return changes

    def content(path):
        return f"initial {path}\n"

    main_head = emit("main", [], [(p, content(p)) for p in sorted(created)], "initial import")
    features = []  # [name, head mark, changed files {path: data}]
    feature_id = 0
    while mark < args.commits:
        roll = rng.random()
        if roll < 0.23 and len(features) < 3:
            feature_id += 1
            features.append([f"feature{feature_id}", main_head, {}])
        elif roll < 0.47 and features:
            # Merge the oldest feature: its own changes on top of main's tree.
            name, head, changed = features.pop(0)
            main_head = emit("main", [main_head, head], sorted(changed.items()), f"merge {name}")
        elif roll < 0.80 and features:
            feature = rng.choice(features)
            changes = edits()
            feature[1] = emit(feature[0], [feature[1]], changes, "feature work")
            feature[2].update(changes)
        else:
            main_head = emit("main", [main_head], edits(), "main work")
    for name, head, changed in features:
        main_head = emit("main", [main_head, head], sorted(changed.items()), f"merge {name}")
    out.append("reset refs/heads/main\nfrom :%d\n" % main_head)
    write("".join(out))


WORDS = ("drivers net fs arch kernel mm sound include block crypto security tools lib firmware ethernet "
         "wireless usb gpu drm media platform power scsi staging input video pci clk iio phy pinctrl "
         "regulator soc hid i2c spi mtd infiniband hw core common mach boot dts bindings misc char tty "
         "serial watchdog thermal hwmon leds nfc bluetooth can remoteproc dma irqchip gpio mfd mmc ata "
         "nvme target vhost virtio xen acpi cpufreq cpuidle devfreq edac fpga intel amd nvidia qcom "
         "mediatek rockchip samsung renesas ti broadcom mellanox marvell realtek atheros iwlwifi mt76 "
         "amdgpu i915 nouveau display ext4 btrfs xfs nfs smb ceph f2fs ipv4 ipv6 netfilter sched bpf "
         "trace events locking rcu time irq cgroup").split()
SUFFIXES = (".c", ".c", ".c", ".h", ".h", ".S", ".rst", ".yaml", "")


def kernel_shape(args, write):
    rng = random.Random(args.seed)

    # Directories: 24 top-level ones, then each new directory under a random existing one less than
    # eight levels deep, so depths spread from 1 to 8 (files one level further).
    directories = [(w, 1) for w in WORDS[:24]]
    names_under = {}
    target_directories = max(24, args.files // 15)
    while len(directories) < target_directories:
        parent, depth = directories[rng.randrange(len(directories))]
        if depth >= 8:
            continue
        siblings = names_under.setdefault(parent, set())
        name = rng.choice(WORDS)
        while name in siblings:
            name = f"{rng.choice(WORDS)}{rng.randint(0, 99)}"
        siblings.add(name)
        directories.append((f"{parent}/{name}", depth + 1))
    # Files: each directory gets a skewed share; names unique within their directory.
    weights = [rng.paretovariate(1.5) for _ in directories]
    chosen = rng.choices(range(len(directories)), weights=weights, k=args.files)
    paths, taken = [], set()
    for index in chosen:
        directory = directories[index][0]
        while True:
            name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}{rng.choice(SUFFIXES)}"
            if rng.random() < 0.3:
                name = f"{rng.randint(0, 999)}-{name}"
            path = f"{directory}/{name}"
            if path not in taken and name not in names_under.get(directory, ()):
                break
        taken.add(path)
        paths.append(path)
    paths.sort()

    # Subsystems: the directories two or three levels down that hold at least 40 files.
    under = {}
    for path in paths:
        parts = path.split("/")
        for depth in (2, 3):
            if len(parts) > depth:
                under.setdefault("/".join(parts[:depth]), []).append(path)
    subsystems = [files for _, files in sorted(under.items()) if len(files) >= 40]
    rng.shuffle(subsystems)
    subsystems = subsystems[:400]

    frozen = set(rng.sample(paths, len(paths) // 10))  # in the initial import, never touched again
    initial = set(rng.sample(paths, len(paths) * 4 // 10)) | frozen
    exists = set(initial)
    hot_core = rng.sample([p for p in paths if p not in frozen], 60)

    mark = 0
    clock = 1_100_000_000
    counter = 0
    buffer = []

    def emit(branch, parents, changes, message):
        nonlocal mark, clock
        mark += 1
        clock += rng.randint(20, 600)
        buffer.append(f"commit refs/heads/{branch}\nmark :{mark}\n"
                      f"author Dev <dev@example.com> {clock - rng.randint(0, 86400 * 20)} +0000\n"
                      f"committer Dev <dev@example.com> {clock} +0000\n"
                      f"data {len(message)}\n{message}\n")
        if parents:
            buffer.append(f"from :{parents[0]}\n")
            for parent in parents[1:]:
                buffer.append(f"merge :{parent}\n")
        for path, data in changes:
            if data is None:
                buffer.append(f"D {path}\n")
            else:
                buffer.append(f"M 100644 inline {path}\ndata {len(data)}\n{data}\n")
        if len(buffer) > 4096:
            write("".join(buffer))
            buffer.clear()
        return mark

    def edit(path):
        nonlocal counter
        counter += 1
        if path in exists and rng.random() < 0.004:
            exists.discard(path)
            return (path, None)
        verb = "edit" if path in exists else "create"
        exists.add(path)
        return (path, f"{verb} {counter}\n")

    def pick(files, hot):
        while True:
            roll = rng.random()
            path = rng.choice(hot) if roll < 0.35 else files[min(len(files) - 1, int(rng.paretovariate(0.7)) - 1)] \
                if roll < 0.55 else rng.choice(files)
            if path not in frozen:
                return path

    def edits(files, hot):
        if rng.random() < 0.002:  # a tree-wide change
            return sorted({edit(p) for p in rng.sample(paths, 300) if p not in frozen})
        changed = {}
        for _ in range(rng.choices((1, 2, 3, 4, 8), weights=(40, 25, 15, 12, 8))[0]):
            path, data = edit(pick(files, hot))
            changed[path] = data
        return sorted(changed.items())

    def length():
        roll = rng.random()
        if roll < 0.6:
            return rng.randint(1, 4)
        if roll < 0.9:
            return rng.randint(5, 20)
        if roll < 0.995:
            return rng.randint(21, 100)
        return rng.randint(101, 1000)

    main_head = emit("main", [], [(p, f"initial {p}\n") for p in sorted(initial)], "initial import")
    free_slots = list(range(args.open_branches))
    branches = []  # dicts: slot, head, files, hot, changes {path: data}, left
    while mark < args.commits:
        while free_slots:
            files = rng.choice(subsystems)
            hot = [p for p in rng.sample(files, 3)]
            branches.append({"slot": free_slots.pop(), "head": main_head, "files": files, "hot": hot,
                             "changes": {}, "left": length()})
        if rng.random() < 0.12:
            main_head = emit("main", [main_head], edits(paths, hot_core), "main work")
            continue
        branch = rng.choice(branches)
        work = edits(branch["files"], branch["hot"]) if rng.random() < 0.9 else edits(paths, hot_core)
        branch["head"] = emit(f"sub{branch['slot']}", [branch["head"]], work, "subsystem work")
        branch["changes"].update(work)
        branch["left"] -= 1
        if branch["left"] == 0:
            branches.remove(branch)
            free_slots.append(branch["slot"])
            main_head = emit("main", [main_head, branch["head"]], sorted(branch["changes"].items()),
                             f"merge subsystem {branch['slot']}")
    for branch in branches:
        main_head = emit("main", [main_head, branch["head"]], sorted(branch["changes"].items()),
                         f"merge subsystem {branch['slot']}")
    buffer.append(f"reset refs/heads/main\nfrom :{main_head}\n")
    write("".join(buffer))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=("flat", "kernel"), default="flat")
    parser.add_argument("--commits", type=int)
    parser.add_argument("--files", type=int)
    parser.add_argument("--open-branches", type=int, default=16, help="kernel shape: subsystem branches open at once")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    kernel = args.shape == "kernel"
    if args.commits is None:
        args.commits = 520000 if kernel else 50000
    if args.files is None:
        args.files = 64000 if kernel else 5000
    out = sys.stdout
    (kernel_shape if kernel else flat_shape)(args, out.write)
    out.flush()


if __name__ == "__main__":
    main()
