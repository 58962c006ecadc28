import ArgumentParser

// Placeholder until the owning issue lands.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
