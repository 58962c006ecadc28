import ArgumentParser
import MtimeCore
import MtimeHistory

@main
struct GitMtime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-mtime",
        abstract: "Deterministic file mtimes from git history, so builds rebuild exactly what changed.",
        discussion: """
            Installed on PATH as git-mtime, it runs as `git mtime COMMAND`. Build tools decide what to \
            rebuild by comparing mtimes, which git checkouts and Docker COPY leave meaningless. `restore` \
            gives every clean tracked file the time of the last commit that changed it; `manifest`, \
            `docker` and `run` carry those times into a build through git-mtime-guard, which gives a fresh \
            time to exactly the files whose content differs from what the last build consumed; `hooks` \
            keep a working tree's times right across checkouts, merges and rebases; `doctor` finds the \
            stale-build hazards of the Dockerfiles, their context and the repository, with the fix for \
            each; `explain` says why a file has its mtime and whether the next guarded build rebuilds it. \
            File contents are never written.

            `git mtime COMMAND --help` or `man git-mtime.COMMAND` describes each command.
            """,
        version: Version.current,
        subcommands: [
            RestoreCommand.self, ManifestCommand.self, DockerCommand.self,
            RunCommand.self, StatusCommand.self, HooksCommand.self, DoctorCommand.self, ExplainCommand.self,
        ])

    static func main() {
        FileSystem.openClosedStandardDescriptors()
        DirectoryTree.reserveDescriptorTable()
        FreedMemoryReuse.enable()
        _ = CacheKey.environment
        main(nil)
    }
}
