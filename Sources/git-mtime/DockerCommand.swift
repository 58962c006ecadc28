import ArgumentParser

// Placeholder until the owning issue lands.
struct DockerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "docker", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(3) }
}
