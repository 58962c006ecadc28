import GitKit
import MtimeCore

/// Why restore refused to run or stopped before changing anything. `description` is the one line
/// the command prints.
public enum RestoreError: Error, CustomStringConvertible {
    case notARepository(String)
    case bareRepository(BytePath)
    case unbornHead
    case unsupportedObjectFormat(String)
    case pathspecOutsideRepository(String)
    case lockTimeout(BytePath)
    case unreadable(SystemError)
    case invalidSetting(key: String, value: String, expected: String)
    case git(GitError)
    case system(SystemError)

    public var description: String {
        switch self {
        case .notARepository(let path): return "not a git repository (or any parent up to the file system root): \(path)"
        case .bareRepository(let path): return "\(path) is a bare repository: there is no working tree to restore"
        case .unbornHead: return "the repository has no commits yet (HEAD is unborn): nothing to restore"
        case .unsupportedObjectFormat(let path):
            return "\(path): SHA-256 repositories are not supported (libgit2 1.5 reads SHA-1 repositories only)"
        case .pathspecOutsideRepository(let pattern): return "pathspec '\(pattern)' is outside the repository"
        case .lockTimeout(let path):
            return "another git-mtime restore is running in this repository (waited for the lock \(path)); try again"
        case .unreadable(let error): return "cannot verify \(error.path.map { "\($0)" } ?? "a file"): \(error.message); nothing was changed"
        case .invalidSetting(let key, let value, let expected): return "\(key) is '\(value)'; expected \(expected)"
        case .git(let error): return error.description
        case .system(let error): return error.description
        }
    }
}
