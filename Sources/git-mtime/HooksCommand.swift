import ArgumentParser

// Placeholder until the owning issue lands.
struct HooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
