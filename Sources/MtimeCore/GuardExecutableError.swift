/// The guard executable could not be found, or `GIT_MTIME_GUARD` names something that is not one.
public struct GuardExecutableError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
