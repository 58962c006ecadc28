import Glibc
import MtimeCore

/// What one hook file in a hooks directory is, from git-mtime's point of view.
public enum HookFileState: Equatable, Sendable {
    case absent
    /// Not ours: a hook of the user's (install would keep it and chain it).
    case foreign
    /// Ours, with `chained` telling whether a previous hook runs first; `current` is false for a
    /// script an older git-mtime wrote (install rewrites it).
    case installed(chained: Bool, current: Bool)
}

/// What install or uninstall did to one hook.
public enum HookChange: String, Sendable {
    case installed = "installed"
    case chained = "installed; the existing hook was kept and runs first"
    case updated = "updated to this version's script"
    case unchanged = "already installed"
    case removed = "removed"
    case restored = "removed; the previous hook was put back"
    case notInstalled = "not installed"
    case leftForeign = "not ours, left alone"
}

/// Installs, removes and inspects our hooks in one hooks directory. A user's hook of the same
/// name is renamed to `NAME.git-mtime-chained` (content, mode and inode untouched) and renamed
/// back on uninstall, so it comes back byte-for-byte.
public struct HookInstaller: Sendable {
    public let directory: BytePath

    public init(directory: BytePath) { self.directory = directory }

    public func state(of hook: HookName) throws(SystemError) -> HookFileState {
        let path = directory.appending(hook.rawValue)
        guard let status = try FileSystem.statusIfPresent(path) else { return .absent }
        guard status.kind == .regular else { return .foreign }
        let contents = try FileSystem.readFile(path, limit: 1 << 20)
        guard HookScript.isOurs(contents) else { return .foreign }
        let chained = try FileSystem.statusIfPresent(directory.appending(hook.chainedName)) != nil
        return .installed(chained: chained, current: contents == Array(HookScript.text(for: hook).utf8))
    }

    /// Writes every hook; running it again changes nothing.
    public func install() throws -> [(HookName, HookChange)] {
        try createDirectories(directory)
        // Check every hook before changing any, so a refusal leaves the directory as it was.
        var states: [(HookName, HookFileState)] = []
        for hook in HookName.allCases {
            let state = try state(of: hook)
            if state == .foreign, try FileSystem.statusIfPresent(directory.appending(hook.chainedName)) != nil {
                throw HookError("\(directory.appending(hook.rawValue)) is not git-mtime's, and "
                                       + "\(directory.appending(hook.chainedName)) already exists: move one of them away; nothing was changed")
            }
            states.append((hook, state))
        }
        return try states.map { hook, state in
            let path = directory.appending(hook.rawValue)
            let script = Array(HookScript.text(for: hook).utf8)
            switch state {
            case .installed(_, current: true):
                return (hook, .unchanged)
            case .installed(_, current: false):
                try FileSystem.writeAtomically(path, contents: script, permissions: 0o755)
                return (hook, .updated)
            case .absent:
                try FileSystem.writeAtomically(path, contents: script, permissions: 0o755)
                return (hook, .installed)
            case .foreign:
                try FileSystem.rename(path, to: directory.appending(hook.chainedName))
                try FileSystem.writeAtomically(path, contents: script, permissions: 0o755)
                return (hook, .chained)
            }
        }
    }

    /// Removes our hooks and puts back the ones they chained; a foreign hook is never touched.
    public func uninstall() throws -> [(HookName, HookChange)] {
        try HookName.allCases.map { hook in
            let path = directory.appending(hook.rawValue)
            let chained = directory.appending(hook.chainedName)
            switch try state(of: hook) {
            case .foreign: return (hook, .leftForeign)
            case .absent:
                // Our script was deleted by hand: still give the user's hook back.
                guard try FileSystem.statusIfPresent(chained) != nil else { return (hook, .notInstalled) }
                try FileSystem.rename(chained, to: path)
                return (hook, .restored)
            case .installed(let isChained, _):
                if isChained {
                    try FileSystem.rename(chained, to: path)
                    return (hook, .restored)
                }
                try FileSystem.remove(path)
                return (hook, .removed)
            }
        }
    }

    /// True when the directory holds nothing at all (after uninstalling from a directory we made).
    public func isEmpty() throws(SystemError) -> Bool {
        guard try FileSystem.statusIfPresent(directory) != nil else { return true }
        return try FileSystem.listDirectory(directory).isEmpty
    }

    private func createDirectories(_ path: BytePath) throws(SystemError) {
        if try FileSystem.statusIfPresent(path) != nil { return }
        if !path.parent.isEmpty { try createDirectories(path.parent) }
        try FileSystem.createDirectory(path)
    }
}
