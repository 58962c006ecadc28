import MtimeCore

/// Runs the build command with the guard's stdio, passing INT, TERM, HUP and QUIT on to it.
public enum CommandRunner {
    /// The child's exit status, or 128 + the signal that killed it, as a shell reports it.
    public static func run(_ arguments: [ProcessArgument]) throws(GuardError) -> Int32 {
        do {
            return try ChildProcess.run(arguments).shellStatus
        } catch {
            switch error {
            case .notStarted(let error): throw .spawn(command: arguments[0].description, error: error)
            case .notWaitedFor(let error): throw .io(error)
            }
        }
    }
}
