import ArgumentParser
import Glibc
import MtimeCore
import MtimeRestore

/// `-C <directory>`, as for git itself: the command runs as if started there, so relative paths in
/// git's environment (`GIT_DIR`, `GIT_WORK_TREE`, …) and in pathspecs are taken from there too.
struct StartDirectoryOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if started in <directory>.", valueName: "directory"))
    var directory: String?

    /// Changes into the directory, if one was given.
    func enter() throws {
        guard let directory else { return }
        let path = try RawCommandLine.path(directory)
        // A missing directory or a file is named as such, not as a failed chdir.
        try RestoreSession.requireDirectory(path)
        guard (try path.withCString { chdir($0) }) == 0 else {
            throw SystemError.last("change to directory", path)
        }
    }
}

/// One sentence for every command's help: which repository it acts on.
let gitEnvironmentHelp =
    "The repository is the one git would use here (after -C): GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, "
    + "core.worktree, linked worktrees (with extensions.worktreeConfig, their config.worktree) and "
    + "`git --git-dir=A --work-tree=B mtime ...` are honoured, and `git -c mtime.stamp=...` "
    + "(GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT) overrides the configuration files (docs/restore.md)."
