/// A `GIT_*` boolean with a value git does not accept.
public struct GitEnvironmentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let value: String
    public var description: String { "bad boolean config value '\(value)' for '\(name)'" }
}
