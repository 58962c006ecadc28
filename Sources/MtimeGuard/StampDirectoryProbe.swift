import Glibc
import MtimeCore

/// Asks the file system where the stamp lives about its clock and its timestamp granularity, with
/// an empty probe file `.<stamp name>.clock-<pid>` created in the held stamp directory and removed
/// at once (the trust rule never counts it: it starts like the stamp's temporaries).
enum StampDirectoryProbe {
    /// The mtime the kernel gives a file created now in `directory`: the clock that stamps outputs.
    static func now(in directory: HeldDirectory, stampName: BytePath) throws(SystemError) -> Timestamp {
        try withProbe(in: directory, stampName: stampName) { file throws(SystemError) in try file.status().modificationTime }
    }

    /// The step in which the file system stores times, in nanoseconds (1 on ext4 with large inodes,
    /// xfs, btrfs, tmpfs; 10^9 on ext4 with 128-byte inodes, ext3, many NFS/SMB mounts; 2·10^9 on FAT).
    /// Found by setting a time just below a whole odd second and reading back what was kept. When the
    /// probe can't be written (a read-only or foreign directory), one second: a coarser guess only
    /// makes bump times whole seconds, a finer wrong one could make them equal to an output's.
    static func granularity(in directory: HeldDirectory, stampName: BytePath) -> Int64 {
        let probe = Timestamp(seconds: 1_000_000_001, nanoseconds: 999_999_999)
        let kept = try? withProbe(in: directory, stampName: stampName) { file throws(SystemError) in
            try file.setModificationTime(to: probe)
            return try file.status().modificationTime
        }
        guard let kept, kept <= probe else { return 1_000_000_000 }
        // Both are within a few seconds of each other: the difference fits easily.
        let lost = (probe.seconds - kept.seconds) * 1_000_000_000 + Int64(probe.nanoseconds - kept.nanoseconds)
        return lost + 1 > 1_000_000_000 ? 2_000_000_000 : lost + 1
    }

    private static func withProbe<R>(
        in directory: HeldDirectory, stampName: BytePath,
        _ body: (FileDescriptor) throws(SystemError) -> R
    ) throws(SystemError) -> R {
        let name = BytePath([UInt8(ascii: ".")] + stampName.bytes + Array(".clock-\(getpid())".utf8))
        try directory.remove(name)
        let file = try directory.createFile(name, permissions: 0o600)
        defer { try? directory.remove(name) }
        return try body(file)
    }
}
