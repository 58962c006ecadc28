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
/// git-mtime wrote are ever replaced or deleted. The directory is opened once per operation and
/// every look, read, rename and write is relative to that descriptor (no symlink in a hook's name
/// followed), so what was checked is what gets changed.
public struct HookInstaller: Sendable {
    public let directory: BytePath

    public init(directory: BytePath) { self.directory = directory }

    public func state(of hook: HookName) throws(SystemError) -> HookFileState {
        guard let held = try openIfPresent() else { return .absent }
        return try state(of: hook, in: held)
    }

    private func state(of hook: HookName, in held: HeldDirectory) throws(SystemError) -> HookFileState {
        let name = BytePath(hook.rawValue)
        guard let status = try held.statusIfPresent(name) else { return .absent }
        let chained = try held.statusIfPresent(BytePath(hook.chainedName)) != nil
        switch status.kind {
        case .regular:
            let file = try held.openFile(name)
            guard try file.status().isSameFile(as: status) else {
                throw SystemError(operation: "read (replaced while it was read)", path: held.pathOf(name), errno: .tryAgain)
            }
            let contents = try file.readRegularFile(limit: 1 << 20)
            guard HookScript.isOurs(contents) else { return .foreign }
            guard HookScript.isUnedited(contents, for: hook) else { return .edited(chained: chained) }
            return .installed(chained: chained, current: contents == Array(HookScript.text(for: hook).utf8))
        case .symlink:
            // Recognised through the link (read only, wherever it points): chaining a link to our own
            // script would make it run itself.
            guard let target = try? FileSystem.resolve(held.pathOf(name)), let contents = try? FileSystem.readFile(target, limit: 1 << 20),
                HookScript.isOurs(contents)
            else { return .foreign }
            return .linked(target: target, chained: chained)
        case .directory, .other:
            return .foreign
        }
    }

    /// Writes every hook; running it again changes nothing.
    public func install() throws -> [(HookName, HookChange)] {
        try createDirectories(directory)
        let held = try HeldDirectory(opening: directory)
        // Check every hook before changing any, so a refusal leaves the directory as it was.
        var states: [(HookName, HookFileState)] = []
        for hook in HookName.allCases {
            let state = try state(of: hook, in: held)
            if state == .foreign, try held.statusIfPresent(BytePath(hook.chainedName)) != nil {
                throw HookError(
                    "\(directory.appending(hook.rawValue)) is not git-mtime's, and "
                        + "\(directory.appending(hook.chainedName)) already exists: move one of them away; nothing was changed")
            }
            if case .edited = state {
                throw HookError(
                    "\(directory.appending(hook.rawValue)) is git-mtime's script with edits of yours: move your lines "
                        + "into \(hook.chainedName) (it runs first), delete the file, then install again; nothing was changed")
            }
            states.append((hook, state))
        }
        return try states.map { hook, state in
            let name = BytePath(hook.rawValue)
            let script = Array(HookScript.text(for: hook).utf8)
            switch state {
            case .installed(_, current: true):
                return (hook, .unchanged)
            case .linked:
                return (hook, .linked)
            case .installed(_, current: false):
                try held.writeAtomically(name, contents: script, permissions: 0o755)
                return (hook, .updated)
            case .absent:
                try held.writeAtomically(name, contents: script, permissions: 0o755)
                return (hook, .installed)
            case .foreign:
                try held.rename(name, to: BytePath(hook.chainedName))
                try held.writeAtomically(name, contents: script, permissions: 0o755)
                return (hook, .chained)
            case .edited:
                preconditionFailure("refused above")
            }
        }
    }

    /// Removes our hooks and puts back the ones they chained; a foreign or edited hook is never touched.
    public func uninstall() throws -> [(HookName, HookChange)] {
        guard let held = try openIfPresent() else { return HookName.allCases.map { ($0, .notInstalled) } }
        return try HookName.allCases.map { hook in
            let name = BytePath(hook.rawValue)
            let chained = BytePath(hook.chainedName)
            switch try state(of: hook, in: held) {
            case .foreign: return (hook, .leftForeign)
            case .edited: return (hook, .leftEdited)
            case .absent:
                // Our script was deleted by hand: still give the user's hook back.
                guard try held.statusIfPresent(chained) != nil else { return (hook, .notInstalled) }
                try held.rename(chained, to: name)
                return (hook, .restored)
            case .installed(let isChained, _), .linked(_, let isChained):
                let wasLink = try held.status(name).kind == .symlink
                if isChained {
                    try held.rename(chained, to: name)
                    return (hook, .restored)
                }
                try held.remove(name)
                return (hook, wasLink ? .unlinked : .removed)
            }
        }
    }

    /// True when the directory holds nothing at all (after uninstalling from a directory we made).
    public func isEmpty() throws(SystemError) -> Bool {
        guard let held = try openIfPresent() else { return true }
        return try held.names().isEmpty
    }

    /// The hooks directory, held; nil when there is none.
    private func openIfPresent() throws(SystemError) -> HeldDirectory? {
        do { return try HeldDirectory(opening: directory) } catch {
            if error.isAbsent { return nil }
            throw error
        }
    }

    private func createDirectories(_ path: BytePath) throws(SystemError) {
        if try FileSystem.statusIfPresent(path) != nil { return }
        if !path.parent.isEmpty { try createDirectories(path.parent) }
        try FileSystem.createDirectory(path)
    }
}
