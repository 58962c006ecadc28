import Glibc

/// An exclusive `flock` on a lock file, held until this value goes away (the kernel also drops it
/// when the process dies, so a crashed run never leaves a stale lock behind).
public final class FileLock {
    public let path: BytePath
    private let fd: Int32

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
    }

    deinit { close(fd) }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
