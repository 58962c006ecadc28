#!/usr/bin/env python3
"""Writes a deterministic synthetic history as a `git fast-import` stream on stdout.

Shape (defaults): 50,000 commits, 5,000 files in nested directories, about a quarter of the commits
merges of short-lived feature branches (up to three open at once, forked from different points of main).
Change frequency is skewed: a few hot files change all the time, most files rarely, and a block of
files is created once and never touched again. Same arguments, same stream, byte for byte.
"""
import argparse
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=50000)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
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
    print("".join(out), end="")


if __name__ == "__main__":
    main()
