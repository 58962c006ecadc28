import Glibc
import Synchronization

/// Files below a root, reached from the root's held descriptor one component at a time
/// (`openat(…, O_NOFOLLOW | O_DIRECTORY)`), never following a symlink anywhere below the root: a
/// symlinked directory is an error (`isSymlink`), and a directory swapped for a symlink while
/// we work can't redirect anything, because each path is resolved once into a held parent and every
/// later operation (stat, open, readlink, set time) is relative to that parent.
///
/// Parent directories are cached by path, so a run over 100,000 files opens each directory about
/// once. The cache is bounded (descriptors are finite); thread-safe.
public final class DirectoryTree: Sendable {
    public let root: HeldDirectory
    private let cache: Mutex<[BytePath: HeldDirectory]>
    private let capacity: Int

    /// Opens `root` (following symlinks in the root's own path: the caller chose it).
    public init(root path: BytePath) throws(SystemError) {
        root = try HeldDirectory(opening: path)
        cache = Mutex([:])
        var limit = rlimit()
        let open = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        capacity = max(16, min(DirectoryTree.largestCapacity, open / 4))
    }

    /// Grows this process's descriptor table to hold a full cache of held directories: call it while
    /// the process has one thread. The kernel grows the table by doubling, and once several threads
    /// share it each growth waits for an RCU grace period (`expand_files`: milliseconds each): a warm
    /// restore of the Linux tree, opening ~4,300 directories while other threads ran, slept through
    /// seven of them. Grown up front, the table is never grown again (it never shrinks). Returns
    /// the descriptor number the table now reaches (nil: left as it was); nothing stays open.
    @discardableResult
    public static func reserveDescriptorTable() -> Int32? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let open = Int(clamping: limit.rlim_cur)
        // The cache's capacity (`init`) and a margin for the files the run opens besides.
        let highest = Int32(clamping: min(open - 1, max(16, min(largestCapacity, open / 4)) + 64))
        // A number nothing holds (the kernel grows the table to reach it); standard error is open.
        guard highest > 2, fcntl(highest, F_GETFD) < 0, errno == EBADF, dup2(2, highest) == highest else { return nil }
        close(highest)
        return highest
    }

    /// The most directories held at once, descriptors allowing: above the Linux kernel tree's ~4,300
    /// (at 4,096 a warm restore there emptied the cache once mid-walk: ~4,000 `close`s and the reopening
    /// of every directory on the way back, on the path to the answer).
    static let largestCapacity = 16384

    /// The directory at `relative` (empty: the root).
    public func directory(_ relative: BytePath) throws(SystemError) -> HeldDirectory {
        if relative.isEmpty { return root }
        if let held = cache.withLock({ $0[relative] }) { return held }
        let parent = try directory(relative.parent)
        let held = try parent.subdirectory(relative.lastComponent)
        cache.withLock { entries in
            // Crude but bounded: a sorted walk rarely comes back to a directory it left.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[relative] = held
        }
        return held
    }

    /// The held parent of `relative` and its last component: the pair every operation on the
    /// entry uses.
    public func parent(of relative: BytePath) throws(SystemError) -> (directory: HeldDirectory, name: BytePath) {
        (try directory(relative.parent), relative.lastComponent)
    }

    /// The absolute path of `relative`, for messages.
    public func pathOf(_ relative: BytePath) -> BytePath { root.path.appending(relative) }

    /// `lstat` of `relative`; nil when it, or a directory on the way, is absent (a file where a
    /// directory should be counts as absent). A symlinked directory on the way is an error.
    public func statusIfPresent(_ relative: BytePath) throws(SystemError) -> FileStatus? {
        let location: (directory: HeldDirectory, name: BytePath)
        do { location = try parent(of: relative) } catch {
            if error.isAbsent { return nil }
            throw error
        }
        return try location.directory.statusIfPresent(location.name)
    }
}

extension FileStatus {
    /// Same device and inode: the same file, whatever its name is now.
    public func isSameFile(as other: FileStatus) -> Bool {
        device == other.device && inode == other.inode
    }

    /// The same file with the same size, mtime and ctime: nothing wrote to it or changed its
    /// metadata in between (ctime can't be set from user space).
    public func isUnchanged(since other: FileStatus) -> Bool {
        isSameFile(as: other) && size == other.size && modificationTime == other.modificationTime
            && changeTime == other.changeTime && kind == other.kind
    }
}
