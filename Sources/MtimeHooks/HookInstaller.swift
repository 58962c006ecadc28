import Glibc
import MtimeCore

/// What one hook file in a hooks directory is, from git-mtime's point of view.
public enum HookFileState: Equatable, Sendable {
    case absent
    /// Not ours: a hook of the user's (install would keep it and chain it).
    case foreign
    /// Ours, byte for byte as some git-mtime wrote it, with `chained` telling whether a previous hook
    /// runs first; `current` is false for a script an older git-mtime wrote (install rewrites it).
    case installed(chained: Bool, current: Bool)
    /// A symlink to a script of ours (a shared copy, `hooks/` of a git-mtime checkout): git runs our
    /// script through it, so install leaves it; uninstall removes the link, never its target.
    case linked(target: BytePath, chained: Bool)
    /// Our marker, but bytes no git-mtime wrote: someone edited it. Never replaced or deleted.
    case edited(chained: Bool)
}

/// What install or uninstall did to one hook.
public enum HookChange: String, Sendable {
    case installed = "installed"
    case chained = "installed; the existing hook was kept and runs first"
    case updated = "updated to this version's script"
    case unchanged = "already installed"
    case linked = "already installed (a symlink to git-mtime's script)"
    case removed = "removed"
    case unlinked = "removed the symlink (its target is untouched)"
    case restored = "removed; the previous hook was put back"
    case notInstalled = "not installed"
    case leftForeign = "not ours, left alone"
    case leftEdited = "git-mtime's script with edits of yours: left alone; move your lines into a hook of your own, then delete it"
}

/// Installs, removes and inspects our hooks in one hooks directory. A user's hook of the same
/// name is renamed to `NAME.git-mtime-chained` (content, mode and inode untouched) and renamed
/// back on uninstall, so it comes back byte-for-byte. Only files whose bytes are exactly a script
/// git-mtime wrote are ever replaced or deleted.
public struct HookInstaller: Sendable {
    public let directory: BytePath

    public init(directory: BytePath) { self.directory = directory }

    public func state(of hook: HookName) throws(SystemError) -> HookFileState {
        let path = directory.appending(hook.rawValue)
        guard let status = try FileSystem.statusIfPresent(path) else { return .absent }
        let chained = try FileSystem.statusIfPresent(directory.appending(hook.chainedName)) != nil
        switch status.kind {
        case .regular:
            let contents = try FileSystem.readFile(path, limit: 1 << 20)
            guard HookScript.isOurs(contents) else { return .foreign }
            guard HookScript.isUnedited(contents, for: hook) else { return .edited(chained: chained) }
            return .installed(chained: chained, current: contents == Array(HookScript.text(for: hook).utf8))
        case .symlink:
            // Recognised through the link: chaining a link to our own script would make it run itself.
            guard let target = try? FileSystem.resolve(path), let contents = try? FileSystem.readFile(target, limit: 1 << 20),
                  HookScript.isOurs(contents) else { return .foreign }
            return .linked(target: target, chained: chained)
        case .directory, .other:
            return .foreign
        }
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
            if case .edited = state {
                throw HookError("\(directory.appending(hook.rawValue)) is git-mtime's script with edits of yours: move your lines "
                                + "into \(hook.chainedName) (it runs first), delete the file, then install again; nothing was changed")
            }
            states.append((hook, state))
        }
        return try states.map { hook, state in
            let path = directory.appending(hook.rawValue)
            let script = Array(HookScript.text(for: hook).utf8)
            switch state {
            case .installed(_, current: true):
                return (hook, .unchanged)
            case .linked:
                return (hook, .linked)
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
            case .edited:
                preconditionFailure("refused above")
            }
        }
    }

    /// Removes our hooks and puts back the ones they chained; a foreign or edited hook is never touched.
    public func uninstall() throws -> [(HookName, HookChange)] {
        try HookName.allCases.map { hook in
            let path = directory.appending(hook.rawValue)
            let chained = directory.appending(hook.chainedName)
            switch try state(of: hook) {
            case .foreign: return (hook, .leftForeign)
            case .edited: return (hook, .leftEdited)
            case .absent:
                // Our script was deleted by hand: still give the user's hook back.
                guard try FileSystem.statusIfPresent(chained) != nil else { return (hook, .notInstalled) }
                try FileSystem.rename(chained, to: path)
                return (hook, .restored)
            case .installed(let isChained, _), .linked(_, let isChained):
                let wasLink = try FileSystem.status(path).kind == .symlink
                if isChained {
                    try FileSystem.rename(chained, to: path)
                    return (hook, .restored)
                }
                try FileSystem.remove(path)
                return (hook, wasLink ? .unlinked : .removed)
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
