import GitKit
import MtimeCore

/// Why restore refused to run or stopped before changing anything. `description` is the one line
/// the command prints.
public enum RestoreError: Error, CustomStringConvertible {
    /// The directory the command was to start in does not exist, or is not a directory.
    case noSuchDirectory(String)
    case notADirectory(String)
    /// No repository where the command started, nor above it.
    case notARepository(RepositoryError)
    /// A repository git's environment names that cannot be used (bad `GIT_DIR`, `.git` file, …).
    case repository(RepositoryError)
    case bareRepository(BytePath)
    /// A directory that must lie in the working tree (a build context) lies outside the one git's
    /// environment names.
    case outsideWorkTree(String, workTree: BytePath)
    case unbornHead
    case unsupportedObjectFormat(String)
    case invalidPathspec(PathspecError)
    case lockTimeout(BytePath)
    case unreadable(SystemError)
    case invalidSetting(key: String, value: String, expected: String)
    case splitIndex(reason: String)
    case git(GitError)
    case system(SystemError)
    /// A partial clone's filter left out trees the history walk reads.
    case missingTrees(remote: String, filter: String?)
    /// A clone that lacks history and has no remote to fetch it from.
    case noRemoteForHistory(BytePath)
    case historyFetchFailed(command: String, reason: String)
    /// Planning the submodule at this path (relative to the outermost working tree) failed.
    indirect case inSubmodule(BytePath, RestoreError)

    /// The error itself, out of any `inSubmodule` wrapping.
    public var innermost: RestoreError {
        if case .inSubmodule(_, let error) = self { return error.innermost }
        return self
    }

    public var description: String {
        switch self {
        case .noSuchDirectory(let path): return "\(path): no such directory"
        case .notADirectory(let path): return "\(path) is not a directory"
        case .notARepository(let error), .repository(let error): return error.description
        case .bareRepository(let path): return "\(path) is a bare repository: there is no working tree to restore"
        case .outsideWorkTree(let directory, let workTree):
            return "\(directory) is outside the working tree \(workTree) (set by GIT_DIR, GIT_WORK_TREE or core.worktree)"
        case .unbornHead: return "the repository has no commits yet (HEAD is unborn): nothing to restore"
        case .unsupportedObjectFormat(let path):
            return "\(path): SHA-256 repositories are not supported (libgit2 1.5 reads SHA-1 repositories only)"
        case .invalidPathspec(let error): return error.description
        case .lockTimeout(let path):
            return "another git-mtime restore is running in this repository (waited for the lock \(path)); try again"
        case .unreadable(let error): return "cannot verify \(error.path.map { "\($0)" } ?? "a file"): \(error.message); nothing was changed"
        case .invalidSetting(let key, let value, let expected): return "\(key) is '\(value)'; expected \(expected)"
        case .splitIndex(let reason):
            return "the index is split (core.splitIndex=true or `git update-index --split-index`) or sparse (index.sparse=true), "
                + "which libgit2 1.5 can't read, and git could not list it either (\(reason)); to unsplit it: "
                + "git config core.splitIndex false && git update-index --no-split-index; to expand a sparse one: "
                + "git sparse-checkout set --no-sparse-index"
        case .git(let error): return error.description
        case .system(let error): return error.description
        case .missingTrees(let remote, let filter):
            return RestoreError.missingTreesMessage(remote: remote, filter: filter, fix: "git mtime restore --fetch-history")
        case .noRemoteForHistory(let workdir):
            return "\(workdir) lacks history and has no remote to fetch it from; nothing was changed"
        case .historyFetchFailed(let command, let reason):
            return "fetching history failed: `\(command)` \(reason); no mtime was changed"
        case .inSubmodule(let path, .missingTrees(let remote, let filter)):
            return "submodule \(path): "
                + RestoreError.missingTreesMessage(
                    remote: remote, filter: filter, fix: "git mtime restore --recurse-submodules --fetch-history")
        case .inSubmodule(let path, let error):
            return "submodule \(path): \(error)"
        }
    }

    private static func missingTreesMessage(remote: String, filter: String?, fix: String) -> String {
        let cause = filter.map { "remote.\(remote).partialclonefilter=\($0)" } ?? "promisor remote '\(remote)'"
        return "this partial clone (\(cause)) lacks the trees of older commits, which restore reads; "
            + "fetch them once, without file contents: \(fix) (or clone with --filter=blob:none); nothing was changed"
    }
}
