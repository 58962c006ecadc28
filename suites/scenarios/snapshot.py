"""File-tree snapshots: contents (to prove git-mtime never writes them) and mtimes (to check the promise)."""

import hashlib
import os
import stat

# Never part of a context's sources: git's own data, build outputs and the directories symlinked
# output directories point to (.cache, cache).
SKIP = frozenset({".git", "build", "target", ".cache", "cache"})


def _walk(root, skip):
    """(relative path, full path) of every file and symlink below `root`; `skip` names top-level
    directories to leave out, and the cargo workspace's rs/target and rs/.cache are always left out."""
    if not os.path.isdir(root):
        return
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        if relative == ".":
            dirs[:] = [d for d in dirs if d not in skip]
        elif relative == "rs":
            dirs[:] = [d for d in dirs if d not in ("target", ".cache")]
        links = [d for d in dirs if os.path.islink(os.path.join(directory, d))]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in sorted(files + links):
            full = os.path.join(directory, name)
            yield os.path.relpath(full, root), full


def contents(root, skip=SKIP):
    """path -> (file type and permission bits, sha256 of the bytes or the link target)."""
    result = {}
    for path, full in _walk(root, skip):
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            data = os.readlink(full).encode("utf-8", "surrogateescape")
        else:
            with open(full, "rb") as f:
                data = f.read()
        result[path] = (st.st_mode, hashlib.sha256(data).hexdigest())
    return result


def mtimes(root, skip=frozenset()):
    """path -> mtime in nanoseconds, of every file (not directory) below `root`."""
    return {path: os.lstat(full).st_mtime_ns for path, full in _walk(root, skip)}


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def describe_difference(before, after):
    """One line naming what changed between two `contents` (or `tree_state`) snapshots, or None."""
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            if path not in after:
                return "%s disappeared" % path
            if path not in before:
                return "%s appeared" % path
            if before[path][0] != after[path][0]:
                return "%s changed mode %o -> %o" % (path, before[path][0], after[path][0])
            if before[path][1] != after[path][1]:
                return "%s changed content" % path
            return "%s changed mtime %d -> %d" % (path, before[path][2], after[path][2])
    return None


def tree_state(root):
    """Everything about a tree that a write could change: every name (directories included), its type and
    permission bits, the bytes (or link target) of each file, and its mtime. For the sentinel tree;
    `describe_difference` compares two."""
    state = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(directory, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(full).encode("utf-8", "surrogateescape")
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    data = f.read()
            else:
                data = b""
            state[os.path.relpath(full, root)] = (st.st_mode, hashlib.sha256(data).hexdigest(), st.st_mtime_ns)
    top = os.lstat(root)
    state["."] = (top.st_mode, "", top.st_mtime_ns)
    return state
