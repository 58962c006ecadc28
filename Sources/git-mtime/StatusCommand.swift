import ArgumentParser

// Placeholder until the owning issue lands.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
