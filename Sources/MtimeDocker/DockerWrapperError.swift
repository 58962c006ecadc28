/// Why the docker wrapper stopped before (or instead of) running docker.
public struct DockerWrapperError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
