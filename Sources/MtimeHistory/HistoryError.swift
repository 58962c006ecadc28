import MtimeCore

/// Failures of the history walk itself (git and file-system errors pass through as they are).
public enum HistoryError: Error, CustomStringConvertible, Equatable {
    /// HEAD does not point at a commit yet.
    case unbornHead
    /// A tracked path no commit in the walk accounts for: the history is incomplete (objects missing).
    case unresolvedPath(BytePath)

    public var description: String {
        switch self {
        case .unbornHead: return "HEAD has no commits yet"
        case .unresolvedPath(let path): return "\(path): no commit in the history changed this path (incomplete history?)"
        }
    }
}
