import MtimeCore

/// Why a repository could not be found or opened. `description` is one line, worded like git's own
/// message for the same situation where git has one.
public enum RepositoryError: Error, CustomStringConvertible, Sendable {
    public enum NotFoundReason: Sendable, Equatable {
        /// Walked up to `/` (or to a `GIT_CEILING_DIRECTORIES` entry) without finding one.
        case reachedTop
        case ceiling
        /// The next directory up is on another file system (`GIT_DISCOVERY_ACROSS_FILESYSTEM` unset).
        case fileSystemBoundary(BytePath)
    }

    public enum GitFileProblem: Sendable, Equatable {
        case tooLarge, format, noPath
        case notARepository(BytePath)
    }

    /// No repository in the start directory or above it.
    case notFound(BytePath, reason: NotFoundReason)
    /// `GIT_DIR` (or `--git-dir`) names something that is not a git dir.
    case notAGitDirectory(BytePath)
    /// A `.git` file that does not name a git dir.
    case invalidGitFile(BytePath, GitFileProblem)
    /// `GIT_WORK_TREE` (or `core.worktree`) names a directory that does not exist.
    case invalidWorkTree(BytePath, SystemError)
    /// `core.bare` and `core.worktree` both set: git refuses to guess.
    case bareWithWorkTree(BytePath)
    case badEnvironment(GitEnvironmentError)
    /// `GIT_CONFIG_PARAMETERS` / `GIT_CONFIG_COUNT` that git would refuse.
    case badCommandLineConfig(CommandLineConfigError)
    case inaccessible(BytePath, SystemError)
    /// `extensions.objectformat = sha256`: libgit2 1.5 reads SHA-1 repositories only.
    case unsupportedObjectFormat(BytePath)
    /// `GIT_COMMON_DIR` names another directory than the git dir's own `commondir`: libgit2 1.5
    /// always takes the latter.
    case unsupportedCommonDirectory(given: BytePath, libgit2: BytePath)
    /// A discovered repository another user owns (`path`, owned by `owner`), which `safe.directory`
    /// does not name.
    case dubiousOwnership(BytePath, path: BytePath, owner: UInt32?)
    /// The index (`<git dir>/index`, or `GIT_INDEX_FILE` when `fromEnvironment`) cannot be read.
    case invalidIndex(BytePath, IndexFileProblem, fromEnvironment: Bool)
    case git(GitError)

    public var description: String {
        switch self {
        case .notFound(let start, .reachedTop), .notFound(let start, .ceiling):
            return "not a git repository (or any of the parent directories): \(start)"
        case .notFound(let start, .fileSystemBoundary(let mountPoint)):
            return "not a git repository (or any parent up to mount point \(mountPoint)): \(start); "
                + "stopping at the file system boundary (GIT_DISCOVERY_ACROSS_FILESYSTEM not set)"
        case .notAGitDirectory(let path): return "not a git repository: '\(path)'"
        case .invalidGitFile(let path, .tooLarge): return "too large to be a .git file: '\(path)'"
        case .invalidGitFile(let path, .format): return "invalid gitfile format: \(path)"
        case .invalidGitFile(let path, .noPath): return "no path in gitfile: \(path)"
        case .invalidGitFile(_, .notARepository(let named)): return "not a git repository: \(named)"
        case .invalidWorkTree(let path, let error): return "invalid working tree '\(path)': \(error.message)"
        case .bareWithWorkTree(let path): return "\(path): core.bare and core.worktree do not make sense together"
        case .badEnvironment(let error): return error.description
        case .badCommandLineConfig(let error): return error.description
        case .inaccessible(let path, let error): return "cannot read \(path): \(error.message)"
        case .unsupportedObjectFormat(let path):
            return "\(path): SHA-256 repositories are not supported (libgit2 1.5 reads SHA-1 repositories only)"
        case .unsupportedCommonDirectory(let given, let libgit2):
            return "GIT_COMMON_DIR is \(given), but the git dir's common directory is \(libgit2); "
                + "libgit2 1.5 cannot use another one"
        case .dubiousOwnership(let repository, let path, let owner):
            let whose = owner.map { "\(path) is owned by uid \($0), not by you" } ?? "GIT_TEST_ASSUME_DIFFERENT_OWNER is set"
            return "detected dubious ownership in repository at '\(repository)' (\(whose)); "
                + "to trust it: git config --global --add safe.directory \(repository)"
        case .invalidIndex(let path, let problem, let fromEnvironment):
            return "cannot read the index \(path)\(fromEnvironment ? " (named by GIT_INDEX_FILE)" : ""): \(problem)"
        case .git(let error): return error.description
        }
    }

    /// No repository was found at all (as opposed to one that is there but unusable).
    public var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}
