import ArgumentParser

/// An error with an exit status of its own, as the command's help documents it.
protocol DocumentedExitStatus: Error {
    var exitStatus: Int32 { get }
}

/// A failure a command finds itself (rather than an error thrown below it), with the exit status
/// its help documents for it.
struct CommandFailure: DocumentedExitStatus, CustomStringConvertible {
    let description: String
    let exitStatus: Int32

    init(_ description: String, status: Int32 = 1) {
        self.description = description
        self.exitStatus = status
    }
}

/// The one path from an error to an exit status, for every `git mtime` command: the error becomes
/// one line on stderr, `LABEL: error: …`, and the status the command's help documents: a
/// `DocumentedExitStatus`'s own, else `status(error)` (1 unless the command says otherwise).
func reportedExit(_ error: any Error, as label: String, status: (any Error) -> Int32 = { _ in 1 }) -> ExitCode {
    printError("\(label): error: \(error)")
    return ExitCode((error as? any DocumentedExitStatus)?.exitStatus ?? status(error))
}

/// Runs `body`; whatever it throws goes through `reportedExit`, with `status` for the errors that
/// document none of their own.
func reportingErrors<T>(as label: String, status: Int32 = 1, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw reportedExit(error, as: label, status: { _ in status }) }
}
