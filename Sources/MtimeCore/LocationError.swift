/// Why a location can't be used.
public enum LocationError: Error, Equatable, CustomStringConvertible {
    /// The path can't name a file: empty, `/`, ending in `/`, `.` or `..`, or an existing directory.
    case invalid(path: BytePath, reason: String)
    /// A symlink at or below the root leads outside it.
    case leavesRoot(symlink: BytePath, target: BytePath, root: BytePath)
    case system(SystemError)

    public var description: String {
        switch self {
        case .invalid(let path, let reason): return "'\(path)' \(reason)"
        case .leavesRoot(let symlink, let target, let root):
            return "\(symlink) is a symlink to \(target), which leaves the root \(root)"
        case .system(let error): return error.description
        }
    }
}
