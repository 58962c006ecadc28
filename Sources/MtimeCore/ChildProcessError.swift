/// Why `ChildProcess.run` has no termination to report.
public enum ChildProcessError: Error, CustomStringConvertible {
    /// `posix_spawnp` failed: `isNotFound` for a command not on PATH, else not executable.
    case notStarted(SystemError)
    /// `waitpid` failed after the child started.
    case notWaitedFor(SystemError)

    public var systemError: SystemError {
        switch self {
        case .notStarted(let error), .notWaitedFor(let error): return error
        }
    }

    public var description: String { systemError.description }
}
