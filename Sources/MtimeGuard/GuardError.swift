import MtimeCore
import MtimeManifest

/// Why a bump set on a changed file was stored no later than an output, told by the time read back.
public enum BumpShortfall: Equatable, Sendable {
    /// Clamped (or already) at the latest time the file system or git-mtime stores: no later time exists.
    case latestStorable
    /// Cut down to a coarser step than the guard probed (`stored` is `wanted` rounded down to a
    /// multiple of 2 s, 1 s or a power of ten of nanoseconds): a later bump could still win.
    case truncated(wanted: Timestamp, stored: Timestamp)

    public init(wanted: Timestamp, stored: Timestamp) {
        let steps: [Int64] = [2_000_000_000, 1_000_000_000, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10]
        let truncated = stored < wanted && steps.contains { wanted.roundedDown(toMultipleOf: $0) == stored }
        self = truncated ? .truncated(wanted: wanted, stored: stored) : .latestStorable
    }
}

/// Why the guard stopped, and the documented exit code for it (docs/stamp.md, `--help`).
public enum GuardError: Error, CustomStringConvertible {
    /// Files differ from the manifest: changed content, missing, or the wrong type. One line each;
    /// `missing` of them are absent files.
    case mismatch(problems: [String], total: Int, missing: Int)
    /// Bad arguments, a malformed manifest, or an entry that would leave the root.
    case usage(String)
    /// A syscall failed (unreadable manifest, permission denied, ...).
    case io(SystemError)
    /// `run` could not start the command (127: not found, 126: not executable).
    case spawn(command: String, error: SystemError)
    /// A changed file got the bump time, but the file system stored it no later than `output`: make or
    /// cargo would take the output as up to date, so the build must not start. `shortfall` says why,
    /// from the time read back.
    case outputNotOutdated(file: BytePath, output: BytePath, outputTime: Timestamp, shortfall: BumpShortfall)
    /// The files beside the stamp could not all be read, so their state can't be recorded: no stamp
    /// was written (`run` only warns: the build itself succeeded).
    case notSealed(SystemError)

    public static let mismatchExitCode: Int32 = 1
    public static let usageExitCode: Int32 = 64  // EX_USAGE, as swift-argument-parser uses
    public static let ioExitCode: Int32 = 74  // EX_IOERR

    public var exitCode: Int32 {
        switch self {
        case .mismatch: return GuardError.mismatchExitCode
        case .usage: return GuardError.usageExitCode
        case .io, .notSealed, .outputNotOutdated: return GuardError.ioExitCode
        case .spawn(_, let error): return error.isNotFound ? 127 : 126
        }
    }

    /// The lines to print on stderr; the last one says what happened as a whole.
    public var lines: [String] {
        switch self {
        case .mismatch(let problems, let total, let missing):
            return problems + [
                "\(problems.count) of \(total) files differ from the manifest; no times were set"
                    + (missing > 0
                        ? " (if the build context holds only part of the files on purpose, --allow-missing skips absent ones)" : "")
            ]
        case .usage(let message): return [message]
        case .io(let error): return [error.description]
        case .outputNotOutdated(let file, let output, let time, let shortfall):
            let head = "cannot make \(file) newer than \(output) (dated \(time)\(time == .maximum ? " or later" : "")): "
            let tail = ", so a build would take that output as up to date; "
            switch shortfall {
            case .latestStorable:
                return [
                    head + "no later time can be stored (the file system's limit, or git-mtime's: the year 9999)" + tail
                        + "remove it or give it a real time (touch \(output)), then build again"
                ]
            case .truncated(let wanted, let stored):
                return [
                    head + "its file system truncated the bump \(wanted) to its granularity, \(stored)" + tail
                        + "build again once the clock is past that output's time, or touch \(output)"
                ]
            }
        case .spawn(let command, let error): return ["cannot run \(command): \(error.message)"]
        case .notSealed(let error):
            return ["not sealing the build stamp: \(error); the next build treats all files as changed"]
        }
    }

    public var isNotSealed: Bool {
        if case .notSealed = self { return true }
        return false
    }

    public var description: String { lines.joined(separator: "\n") }
}
