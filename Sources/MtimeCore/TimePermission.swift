import Glibc

/// Whether this process may give a file an arbitrary mtime: utimensat(2) allows it to the file's
/// owner and to a process with CAP_FOWNER, and fails with EPERM for anyone else.
public enum TimePermission {
    /// CAP_FOWNER in the effective set (`/proc/self/status`, `CapEff`); false when that can't be read.
    public static var overridesOwnership: Bool { effectiveCapabilities & (1 << 3) != 0 }  // <linux/capability.h>

    /// CAP_DAC_OVERRIDE in the effective set: every file can be opened for reading, whatever its mode.
    public static var overridesFileModes: Bool { effectiveCapabilities & (1 << 1) != 0 }

    /// `CapEff` of `/proc/self/status`; none when it can't be read.
    private static let effectiveCapabilities: UInt64 = {
        guard let status = try? FileSystem.readFile(BytePath("/proc/self/status"), limit: 1 << 16) else { return 0 }
        let line = status.split(separator: UInt8(ascii: "\n")).first { $0.starts(with: Array("CapEff:".utf8)) }
        guard let line, let mask = UInt64(String(decoding: line.dropFirst(7), as: UTF8.self).trimmingWhitespace(), radix: 16) else {
            return 0
        }
        return mask
    }()

    /// Asked once: `geteuid` is a syscall, and this is asked for every file.
    private static let effectiveUser = geteuid()

    /// Whether setting the mtime of the file `status` describes can be expected to succeed (an
    /// immutable file, or a file system's own rules, may still refuse).
    public static func maySetTime(of status: FileStatus) -> Bool {
        overridesOwnership || status.uid == effectiveUser
    }
}
