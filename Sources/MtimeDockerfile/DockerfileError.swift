/// A syntax error, with the file and the 1-based line it is on.
public struct DockerfileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// An error found before the file name is attached.
struct DockerfileSyntaxError: Error {
    let line: Int
    let message: String
    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }
}
