import Glibc

/// A read lease (`F_SETLEASE`, Linux) on an open file: while it is held nobody has the file open for
/// writing, and whoever opens it for writing or truncates it waits until it is released. Restore and
/// the guard hold one across "is the file still as checked?" and `futimens`, so a write can't land
/// between the two and be left with a time that claims old content.
public enum ReadLease {
    /// Linux's lease commands (`<fcntl.h>` defines them for `_GNU_SOURCE` only).
    private static let setLease: Int32 = 1024
    private static let readLease: Int32 = Int32(F_RDLCK)

    /// Runs `body` holding a read lease on `file`, then closes `file`, which ends the lease: a lease
    /// belongs to the open file description, and its last close removes it exactly as `F_UNLCK`
    /// does (fcntl(2); the kernel's `locks_remove_lease` calls the same `lease_modify(…, F_UNLCK)`),
    /// waking a writer waiting on the break. So no unlock call: one syscall fewer per file. A copy
    /// of the descriptor in a child forked meanwhile (`O_CLOEXEC`: until its exec) can only keep the
    /// lease longer, which makes a writer wait longer, never lets one in earlier.
    /// `leased` is false when no lease could be taken (the file is open for writing elsewhere;
    /// NFS, some FUSE mounts; another owner's file without CAP_LEASE): the caller must then not
    /// trust that nothing was written meanwhile.
    public static func holding<R>(closing file: FileDescriptor, _ body: (_ leased: Bool) throws(SystemError) -> R) throws(SystemError) -> R
    {
        defer { file.close() }
        return try body(fcntl(file.rawValue, setLease, readLease) == 0)
    }

    /// A lease break is announced with SIGIO, whose default action ends the process: ignored until
    /// `restore` (every lease is released within microseconds anyway).
    public struct IgnoredBreaks {
        fileprivate var previous = sigaction()
        public func restore() {
            var previous = previous
            sigaction(SIGIO, &previous, nil)
        }
    }

    public static func ignoreBreaks() -> IgnoredBreaks {
        var ignore = sigaction(), breaks = IgnoredBreaks()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        sigaction(SIGIO, &ignore, &breaks.previous)
        return breaks
    }

    /// `body` with lease breaks ignored.
    public static func withBreaksIgnored<R>(_ body: () throws(SystemError) -> R) throws(SystemError) -> R {
        let breaks = ignoreBreaks()
        defer { breaks.restore() }
        return try body()
    }
}
