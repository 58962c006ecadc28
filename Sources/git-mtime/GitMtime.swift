import ArgumentParser

@main
struct GitMtime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-mtime",
        abstract: "Deterministic file mtimes from git history, so builds rebuild exactly what changed.",
        discussion: """
        Installed on PATH as git-mtime, it runs as `git mtime COMMAND`.
        """,
        version: "0.1.0",
        subcommands: [RestoreCommand.self, ManifestCommand.self, DockerCommand.self,
                      RunCommand.self, StatusCommand.self, HooksCommand.self, DoctorCommand.self, ExplainCommand.self])
}
