import Glibc

/// Whether this process may give a file an arbitrary mtime: utimensat(2) allows it to the file's
/// owner and to a process with CAP_FOWNER, and fails with EPERM for anyone else.
public enum TimePermission {
    /// CAP_FOWNER in the effective set (`/proc/self/status`, `CapEff`); false when that can't be read.
    public static let overridesOwnership: Bool = {
        guard let status = try? FileSystem.readFile(BytePath("/proc/self/status"), limit: 1 << 16) else { return false }
        let line = status.split(separator: UInt8(ascii: "\n")).first { $0.starts(with: Array("CapEff:".utf8)) }
        guard let line, let mask = UInt64(String(decoding: line.dropFirst(7), as: UTF8.self).trimmingWhitespace(), radix: 16) else {
            return false
        }
        let fowner = 3  // <linux/capability.h>
        return mask & (1 << fowner) != 0
    }()

    /// Asked once: `geteuid` is a syscall, and this is asked for every file.
    private static let effectiveUser = geteuid()

    /// Whether setting the mtime of the file `status` describes can be expected to succeed (an
    /// immutable file, or a file system's own rules, may still refuse).
    public static func maySetTime(of status: FileStatus) -> Bool { maySetTime(ownedBy: status.uid) }

    /// The same for a file owned by `uid`.
    public static func maySetTime(ownedBy uid: UInt32) -> Bool {
        overridesOwnership || uid == effectiveUser
    }
}
