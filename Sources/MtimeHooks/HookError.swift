/// Why a hooks command (install, uninstall, run) stopped: one line for the user.
public struct HookError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
