import CLibGit2

/// An error reported by libgit2, with its class and message captured at the failing call.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let operation: String

    public init(code: Int32, operation: String, message: String) {
        self.code = code
        self.operation = operation
        self.message = message
    }

    /// Reads libgit2's thread-local last error right after a failing call.
    static func last(_ code: Int32, _ operation: String) -> GitError {
        let message = git_error_last().map { String(cString: $0.pointee.message) } ?? "error \(code)"
        return GitError(code: code, operation: operation, message: message)
    }

    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    public var description: String { "\(operation): \(message)" }
}

/// Runs a libgit2 call and turns a negative result into a `GitError`.
@inline(__always)
func check(_ operation: @autoclosure () -> String, _ result: Int32) throws(GitError) {
    if result < 0 { throw GitError.last(result, operation()) }
}
