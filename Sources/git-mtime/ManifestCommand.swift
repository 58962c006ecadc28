import ArgumentParser

// Placeholder until the owning issue lands.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "manifest", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
