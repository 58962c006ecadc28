import ArgumentParser
import MtimeCore

@main
struct GitMtime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-mtime",
        abstract: "Deterministic file mtimes from git history, so builds rebuild exactly what changed.",
        discussion: """
        Installed on PATH as git-mtime, it runs as `git mtime COMMAND`.
        """,
        version: Version.current,
        subcommands: [RestoreCommand.self, ManifestCommand.self, DockerCommand.self,
                      RunCommand.self, StatusCommand.self, HooksCommand.self])
}
