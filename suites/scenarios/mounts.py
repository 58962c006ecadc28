"""A file system with whole-second timestamps for the scenarios that need one (class coarse-fs).

ext4 with 128-byte inodes has no room for nanoseconds: it stores mtimes in whole seconds (and only up
to 2038), like ext3 and many NFS, SMB and FAT mounts. Each scenario of the class gets its own
loop-mounted image. The mount happens in a private mount namespace of the worker process (entered once,
`unshare(CLONE_NEWNS)` and `mount --make-rprivate /`), so the host never sees it and a worker that dies
takes its mounts with it; a scenario that ends unmounts its image (lazily) and the loop device is freed
with it (`-o loop` sets autoclear).
"""

import ctypes
import os
import subprocess

CLONE_NEWNS = 0x00020000
_private = []


def available():
    """None when loop-mounted images can be used here, else the reason they can't."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("mkfs.ext4", "mount", "umount"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in ("/sbin", "/usr/sbin", "/bin", "/usr/bin")):
            return "%s is missing" % tool
    if not os.path.exists("/dev/loop-control"):
        return "no /dev/loop-control"
    return None


def enter_private_namespace():
    """Gives this process (and its children) a mount namespace of its own, once."""
    if _private:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True, capture_output=True)
    _private.append(True)


def mount_coarse(base, size="512M"):
    """Creates base/fs.img (ext4, 128-byte inodes) and mounts it on base/fs; returns that directory."""
    image = os.path.join(base, "fs.img")
    directory = os.path.join(base, "fs")
    os.makedirs(directory)
    subprocess.run(["truncate", "-s", size, image], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", "-O", "^has_journal", image], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", image, directory], check=True, capture_output=True)
    return directory


def unmount(directory):
    subprocess.run(["umount", "-l", directory], capture_output=True)
