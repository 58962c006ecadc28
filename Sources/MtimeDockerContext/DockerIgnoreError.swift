/// A `.dockerignore` Docker would not accept, or a pattern the build would fail on.
public struct DockerIgnoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Origin: Equatable, Sendable {
        /// The ignore file as the user named it (or a note such as "the pattern docker adds for the Dockerfile").
        public let file: String
        public let line: Int?

        public init(file: String, line: Int?) {
            self.file = file
            self.line = line
        }
    }

    public let origin: Origin?
    public let reason: String

    public init(origin: Origin?, reason: String) {
        self.origin = origin
        self.reason = reason
    }

    public var description: String {
        guard let origin else { return reason }
        if let line = origin.line { return "\(origin.file) line \(line): \(reason)" }
        return "\(origin.file): \(reason)"
    }
}
