import Glibc

/// A failed syscall: what we tried, on which path, and the errno it gave.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: BytePath?
    public let code: Int32

    public init(operation: String, path: BytePath?, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// Captures the current `errno`.
    public static func last(_ operation: String, _ path: BytePath?) -> SystemError {
        SystemError(operation: operation, path: path, code: errno)
    }

    public var message: String { String(cString: strerror(code)) }

    public var description: String {
        if let path { return "\(path): cannot \(operation): \(message)" }
        return "cannot \(operation): \(message)"
    }
}
