/// A malformed manifest or stamp: where, and why.
public struct FormatError: Error, Equatable, CustomStringConvertible {
    /// 1-based line number where the problem is, 0 for the file as a whole.
    public let line: Int
    public let reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

public typealias ManifestError = FormatError
