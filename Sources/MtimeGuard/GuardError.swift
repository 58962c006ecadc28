import MtimeCore
import MtimeManifest

/// Why the guard stopped, and the documented exit code for it (docs/stamp.md, `--help`).
public enum GuardError: Error, CustomStringConvertible {
    /// Files differ from the manifest: changed content, missing, or the wrong type. One line each.
    case mismatch(problems: [String], total: Int)
    /// Bad arguments, a malformed manifest, or an entry that would leave the root.
    case usage(String)
    /// A syscall failed (unreadable manifest, permission denied, ...).
    case io(SystemError)
    /// `run` could not start the command (127: not found, 126: not executable).
    case spawn(command: String, error: SystemError)

    public static let mismatchExitCode: Int32 = 1
    public static let usageExitCode: Int32 = 64   // EX_USAGE, as swift-argument-parser uses
    public static let ioExitCode: Int32 = 74      // EX_IOERR

    public var exitCode: Int32 {
        switch self {
        case .mismatch: return GuardError.mismatchExitCode
        case .usage: return GuardError.usageExitCode
        case .io: return GuardError.ioExitCode
        case .spawn(_, let error): return error.code == 2 /* ENOENT */ ? 127 : 126
        }
    }

    /// The lines to print on stderr; the last one says what happened as a whole.
    public var lines: [String] {
        switch self {
        case .mismatch(let problems, let total):
            return problems + ["\(problems.count) of \(total) files differ from the manifest; no times were set"]
        case .usage(let message): return [message]
        case .io(let error): return [error.description]
        case .spawn(let command, let error): return ["cannot run \(command): \(error.message)"]
        }
    }

    public var description: String { lines.joined(separator: "\n") }
}
