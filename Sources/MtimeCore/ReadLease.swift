import Glibc

/// A read lease (`F_SETLEASE`, Linux) on an open file: while it is held nobody has the file open for
/// writing, and whoever opens it for writing or truncates it waits until it is released. Restore and
/// the guard hold one across "is the file still as checked?" and `futimens`, so a write can't land
/// between the two and be left with a time that claims old content.
public enum ReadLease {
    /// Linux's lease commands (`<fcntl.h>` defines them for `_GNU_SOURCE` only).
    private static let setLease: Int32 = 1024
    private static let readLease: Int32 = Int32(F_RDLCK)
    private static let noLease: Int32 = Int32(F_UNLCK)

    /// Runs `body` holding a read lease on `file`; `leased` is false when none could be taken (the
    /// file is open for writing elsewhere; NFS, some FUSE mounts; another owner's file without
    /// CAP_LEASE): the caller must then not trust that nothing was written meanwhile.
    public static func holding<R>(_ file: FileDescriptor, _ body: (_ leased: Bool) throws(SystemError) -> R) throws(SystemError) -> R {
        let leased = fcntl(file.rawValue, setLease, readLease) == 0
        defer { if leased { _ = fcntl(file.rawValue, setLease, noLease) } }
        return try body(leased)
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
