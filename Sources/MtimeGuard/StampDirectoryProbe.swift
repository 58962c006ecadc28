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
        (try? probedGranularity(in: directory, stampName: stampName)) ?? 1_000_000_000
    }

    /// `replacing`: an entry already at the probe's name is removed first (in the stamp's directory
    /// such names are the guard's own temporaries); elsewhere it is left alone and the probe fails.
    private static func probedGranularity(in directory: HeldDirectory, stampName: BytePath, replacing: Bool = true) throws(SystemError)
        -> Int64
    {
        let probe = Timestamp(seconds: 1_000_000_001, nanoseconds: 999_999_999)
        let kept = try withProbe(in: directory, stampName: stampName, replacing: replacing) { file throws(SystemError) in
            try file.setModificationTime(to: probe)
            return try file.status().modificationTime
        }
        guard kept <= probe else { return 1_000_000_000 }
        // Both are within a few seconds of each other: the difference fits easily.
        let lost = (probe.seconds - kept.seconds) * 1_000_000_000 + Int64(probe.nanoseconds - kept.nanoseconds)
        return lost + 1 > 1_000_000_000 ? 2_000_000_000 : lost + 1
    }

    /// The step bump times must be multiples of: the stamp directory's, and that of every other file
    /// system the files to bump are on — the root's, and any mounted below it (`files`: the context's
    /// present files). A working tree on a whole-second file system with its outputs on a finer one
    /// (`CARGO_TARGET_DIR` on tmpfs), or a source directory mounted from one, would otherwise get a
    /// bump the sources' file system truncates to the second the last outputs were written in: older
    /// than them, and make skips the change. A file system is probed only when the directory probed
    /// has a whole-second mtime; the probe is named like the stamp's temporaries, so an in-tree stamp
    /// never counts it.
    static func granularity(
        bumping tree: DirectoryTree, beside location: RootedLocation, files: some Sequence<(path: BytePath, status: FileStatus)> = []
    ) -> Int64 {
        let stampStep = location.directory.map { granularity(in: $0, stampName: location.name) } ?? 1
        var seen = Set<UInt64>()
        if let directory = location.directory, let here = try? directory.status() { seen.insert(here.device) }
        var step = stampStep
        func include(_ other: Int64) {
            // Each step is 1, 10^k or 2·10^9 ns, so the larger is a multiple of the smaller; the lcm says so anyway.
            var (a, b) = (step, other)
            while b != 0 { (a, b) = (b, a % b) }
            step = step / a * other
        }
        func probe(_ directory: HeldDirectory, device: UInt64) {
            guard seen.insert(device).inserted else { return }
            // Whatever set it, a file system stores an mtime in its own step: a fraction of a second on
            // the directory means it is no whole-second one (FAT keeps 2 s), and nothing need be written there.
            if let status = try? directory.status(), status.modificationTime.nanoseconds != 0 { return }
            // The context names these files: one that happens to have the probe's name is never removed.
            do { include(try probedGranularity(in: directory, stampName: location.name, replacing: false)) } catch {
                // A read-only file system (a BuildKit bind mount of the context) gets no time set at all: its step can't matter.
                if !error.isReadOnlyFileSystem { include(1_000_000_000) }
            }
        }
        if let rootStatus = try? tree.root.status() { probe(tree.root, device: rootStatus.device) }
        for file in files where !seen.contains(file.status.device) {
            // A mount below the root: probed in the file's directory, when that is on the same file
            // system (a file bind-mounted alone is not: one second, a coarser guess, is safe).
            if let directory = try? tree.directory(file.path.parent), (try? directory.status())?.device == file.status.device {
                probe(directory, device: file.status.device)
            } else {
                seen.insert(file.status.device)
                include(1_000_000_000)
            }
        }
        return step
    }

    private static func withProbe<R>(
        in directory: HeldDirectory, stampName: BytePath, replacing: Bool = true,
        _ body: (FileDescriptor) throws(SystemError) -> R
    ) throws(SystemError) -> R {
        let name = BytePath([UInt8(ascii: ".")] + stampName.bytes + Array(".clock-\(getpid())".utf8))
        if replacing { try directory.remove(name) }
        let file = try directory.createFile(name, permissions: 0o600)
        defer { try? directory.remove(name) }
        return try body(file)
    }
}
