import ArgumentParser

// Placeholder until the owning issue lands.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
