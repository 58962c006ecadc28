import Glibc

/// An exclusive `flock` on a lock file, held until this value goes away (the kernel also drops it
/// when the process dies, so a crashed run never leaves a stale lock behind).
public final class FileLock {
    public let path: BytePath
    private let fd: Int32
    /// The descriptor's owner and where the lock file is, for a lock that removes its file when
    /// released (the held-directory lock); nil for a lock file that stays.
    private let removable: (file: FileDescriptor, directory: HeldDirectory, name: BytePath)?

    /// Creates `path` if needed and waits up to `timeout` seconds for the exclusive lock;
    /// nil when another process still holds it after that.
    public init?(exclusive path: BytePath, timeout: Double) throws(SystemError) {
        let fd = try path.withCString { open($0, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        guard fd >= 0 else { throw SystemError.last("open lock file", path) }
        let deadline = FileLock.monotonicSeconds() + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            guard failure == EWOULDBLOCK else {
                close(fd)
                throw SystemError(operation: "lock", path: path, code: failure)
            }
            if FileLock.monotonicSeconds() >= deadline {
                close(fd)
                return nil
            }
            usleep(20_000)
        }
        self.path = path
        self.fd = fd
        removable = nil
    }

    /// An exclusive lock on `name` in `directory`, made there as an empty regular file (`O_EXCL`,
    /// never through a symlink) and removed again when released, so nothing is left beside the
    /// caller's files. A regular file already there (its holder was killed) is taken over; a
    /// symlink, FIFO, socket or device in its place is removed, never opened or followed; a
    /// directory is refused (`isNotRegularFile`). Waits as long as the holder works (a build may take an hour), calling `waiting` once
    /// first; a signal whose handler interrupts the wait ends it with `isInterrupted`.
    ///
    /// A holder removes the name before it lets go, so a waiter can end up holding a file that is no
    /// longer there while a newcomer locks a new one: a lock counts only while `name` still is the
    /// locked file, else it is taken again.
    public init(exclusive name: BytePath, in directory: HeldDirectory, waiting: () -> Void) throws(SystemError) {
        var announced = false
        while true {
            let file = try FileLock.openOrCreate(name, in: directory)
            if flock(file.rawValue, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK else { throw SystemError.last("lock", file.path) }
                if !announced { waiting() }
                announced = true
                guard flock(file.rawValue, LOCK_EX) == 0 else { throw SystemError.last("lock", file.path) }
            }
            guard let current = try directory.statusIfPresent(name), current.isSameFile(as: try file.status()) else { continue }
            path = file.path
            fd = file.rawValue
            removable = (file, directory, name)
            return
        }
    }

    private static func openOrCreate(_ name: BytePath, in directory: HeldDirectory) throws(SystemError) -> FileDescriptor {
        while true {
            do { return try directory.createFile(name) } catch  where error.kind == .exists {}
            guard let status = try directory.statusIfPresent(name) else { continue }  // removed meanwhile
            switch status.kind {
            case .regular: break
            case .symlink, .other:
                // Never a lock (only regular files are locked here): its name is removed, not what it
                // points to, and never opened, so a planted one can't stop every later build.
                try directory.remove(name)
                continue
            case .directory:
                throw SystemError(operation: "lock \(status.kindDescription)", path: directory.pathOf(name), errno: .notRegularFile)
            }
            do {
                let file = try directory.openFile(name)
                _ = try file.requireRegularFile()
                return file
            } catch  where error.isAbsent {}  // removed between the stat and the open
        }
    }

    deinit {
        guard let removable else {
            close(fd)
            return
        }
        // Still holding it: every other holder removes the name only while it holds the lock. The
        // descriptor closes with `removable.file` right after, releasing the lock.
        try? removable.directory.remove(removable.name)
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
