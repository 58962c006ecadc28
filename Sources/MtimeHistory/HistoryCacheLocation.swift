import GitKit
import MtimeCore

/// Where the history cache lives. It holds only answers keyed by commit ids (which name their whole
/// history) and trees keyed by their ids, nothing about one working tree, so any clone of the same
/// history can share it: a CI cache action can save and restore the directory between runs.
public enum HistoryCacheLocation {
    public static let environmentVariable = "GIT_MTIME_CACHE_DIR"
    public static let configKey = "mtime.cacheDir"

    /// `explicit` (the `--cache-dir` option) when given, else `$GIT_MTIME_CACHE_DIR`, else
    /// `git config mtime.cacheDir` (a relative value is relative to the working-tree root, `~/` is
    /// the home directory), else `<common git dir>/git-mtime`. An empty value counts as unset.
    public static func resolve(
        explicit: BytePath?, environment: [String: String],
        repository: Repository
    ) throws(GitError) -> BytePath {
        if let explicit, !explicit.isEmpty { return explicit }
        if let value = environment[environmentVariable], !value.isEmpty { return BytePath(value) }
        if let value = try repository.configPath(configKey) {
            let path = BytePath(value)
            guard !path.isAbsolute, let workdir = repository.workdir else { return path }
            return workdir.appending(path)
        }
        return defaultDirectory(of: repository)
    }

    /// The repository's own cache directory, shared by its worktrees.
    public static func defaultDirectory(of repository: Repository) -> BytePath {
        repository.commonDirectory.appending("git-mtime")
    }
}
