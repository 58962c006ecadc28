/// Values a command keeps until the process exits instead of freeing them one allocation at a time
/// (git's `UNLEAK`): after a warm restore of 64,000 files, freeing their paths and closing the
/// ~4,300 held directories took ~10 % of the run; the kernel reclaims all of it at exit at once.
/// Only for an executable's own top level: a library caller (a test process) would keep growing.
public enum KeptUntilExit {
    // Only ever appended to, from a command's own thread.
    nonisolated(unsafe) private static var kept: [Any] = []

    public static func keep(_ value: Any) {
        kept.append(value)
    }
}
