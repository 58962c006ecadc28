import Glibc

/// Where a file the environment named (the build stamp: `--stamp`, `$GIT_MTIME_STAMP`, a default
/// under the root) lands, resolved once into a held directory.
///
/// Symlinks met *outside* the root are followed: whoever wrote the path chose them. Symlinks met at
/// or below the root belong to the build context, which anyone who can push a commit controls: one
/// is followed only while it stays inside the root (`target -> build/out`), and one that leaves it
/// (`target -> /elsewhere`, `target -> ../cache`) is an error, `LocationError.leavesRoot`, so
/// nothing is ever written outside the root through the context's symlinks.
public struct RootedLocation: Sendable {
    /// The directory that holds the file; nil when a directory on the way does not exist yet (only
    /// without `create`).
    public let directory: HeldDirectory?
    /// The file's name in `directory`.
    public let name: BytePath
    /// `directory`'s path relative to the root (empty: the root itself) when it lies inside the root,
    /// symlinks inside the root resolved; nil when it lies outside.
    public let relativeToRoot: BytePath?

    /// `directory/name`, for messages (the path as given when the directory does not exist yet).
    public let displayPath: BytePath
}

extension DirectoryTree {
    /// Resolves `path` (relative to the working directory unless absolute) as `RootedLocation`
    /// describes. `rootPath` is the root's absolute, symlink-free path. With `create`, missing
    /// directories are made on the way (`mkdirat`, then opened without following anything).
    public func locate(_ path: BytePath, rootPath: BytePath, create: Bool) throws(LocationError) -> RootedLocation {
        let name = path.lastComponent
        if path.isEmpty { throw .invalid(path: path, reason: "is empty: name a file") }
        if path.bytes.last == UInt8(ascii: "/") { throw .invalid(path: path, reason: "ends in '/': name a file in that directory") }
        if name.bytes == [UInt8(ascii: ".")] || name.bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] {
            throw .invalid(path: path, reason: "names a directory, not a file")
        }
        let absolute: BytePath
        do { absolute = path.isAbsolute ? path : try FileSystem.currentDirectory().appending(path) } catch { throw .system(error) }
        let rootIdentity: FileStatus
        do { rootIdentity = try root.status() } catch { throw .system(error) }

        var walk = Walk(rootIdentity: rootIdentity, rootPath: rootPath)
        do { try walk.start() } catch { throw .system(error) }
        // A stack of components still to walk, each marked with whether a symlink inside the root
        // produced it (then `..` must not climb out of the root).
        var pending: [(name: BytePath, fromSymlink: Bool)] = absolute.parent.components.reversed().map { (BytePath(Array($0)), false) }
        var lastSymlink: (path: BytePath, target: BytePath)?
        var hops = 0
        while let (component, fromSymlink) = pending.popLast() {
            if component.bytes == [UInt8(ascii: ".")] { continue }
            if component.bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                if walk.isAtRoot && fromSymlink, let link = lastSymlink {
                    throw .leavesRoot(symlink: link.path, target: link.target, root: rootPath)
                }
                walk.climb()
                continue
            }
            do {
                if try walk.descend(component, create: create) { continue }
                // Not there, and not to be created: the rest is made when the file is written.
                let missing = [component] + pending.reversed().map(\.name)
                return RootedLocation(
                    directory: nil, name: name, relativeToRoot: nil,
                    displayPath: missing.reduce(walk.current.path) { $0.appending($1) }.appending(name))
            } catch let error where error.isSymlink && walk.isInside {
                hops += 1
                if hops > 40 { throw .system(SystemError(operation: "resolve (too many symlinks)", path: path, errno: .symlinkLoop)) }
                let linkPath = walk.current.pathOf(component)
                let target: BytePath
                do { target = BytePath(try walk.current.readLink(component)) } catch { throw .system(error) }
                lastSymlink = (linkPath, target)
                var next = target
                if target.isAbsolute {
                    guard let below = target.relative(to: rootPath) else {
                        throw .leavesRoot(symlink: linkPath, target: target, root: rootPath)
                    }
                    next = below
                    walk.returnToRoot()
                }
                pending.append(contentsOf: next.components.reversed().map { (BytePath(Array($0)), true) })
            } catch let error where error.kind == .notDirectory {
                throw .invalid(path: path, reason: "goes through \(walk.current.pathOf(component)), which is not a directory")
            } catch {
                throw .system(error)
            }
        }
        let directory = walk.current
        let existing: FileStatus?
        do { existing = try directory.statusIfPresent(name) } catch { throw .system(error) }
        switch existing?.kind {
        case .directory: throw .invalid(path: path, reason: "is a directory: name a file")
        // Sealing renames a new file over it: never over a device or FIFO (/dev/null as the stamp),
        // nor over a symlink, which would be replaced rather than written through.
        case .other: throw .invalid(path: path, reason: "is not a regular file (a device, FIFO or socket): name a file")
        case .symlink: throw .invalid(path: path, reason: "is a symlink: name the file itself")
        case .regular, nil: break
        }
        return RootedLocation(
            directory: directory, name: name, relativeToRoot: walk.relative,
            displayPath: directory.pathOf(name))
    }
}

/// The state of `locate`'s walk: the directories held so far from `/`, and where the root is in them.
private struct Walk {
    let rootIdentity: FileStatus
    let rootPath: BytePath
    var held: [HeldDirectory] = []
    /// Index in `held` of the root, while the walk is at or below it.
    var rootIndex: Int?
    var names: [BytePath] = []

    init(rootIdentity: FileStatus, rootPath: BytePath) {
        self.rootIdentity = rootIdentity
        self.rootPath = rootPath
    }

    var current: HeldDirectory { held[held.count - 1] }
    var isInside: Bool { rootIndex != nil }
    var isAtRoot: Bool { rootIndex == held.count - 1 }
    /// The path below the root, when inside.
    var relative: BytePath? {
        guard let rootIndex else { return nil }
        return held[(rootIndex + 1)...].reduce(BytePath([])) { $0.appending($1.path.lastComponent) }
    }

    mutating func start() throws(SystemError) {
        held = [try HeldDirectory(opening: BytePath("/"))]
        try noteArrival()
    }

    mutating func climb() {
        if held.count > 1 { held.removeLast() }
        if let index = rootIndex, held.count - 1 < index { rootIndex = nil }
    }

    mutating func returnToRoot() {
        if let index = rootIndex { held.removeSubrange((index + 1)...) }
    }

    /// Opens `component` below the current directory: without following a symlink inside the root,
    /// following one outside. False when it doesn't exist and `create` is off.
    mutating func descend(_ component: BytePath, create: Bool) throws(SystemError) -> Bool {
        while true {
            do {
                let next =
                    isInside
                    ? try current.subdirectory(component)
                    : try current.subdirectoryFollowingSymlinks(component)
                held.append(next)
                try noteArrival()
                return true
            } catch let error where error.isNotFound {
                guard create else { return false }
                try current.createDirectory(component)
            }
        }
    }

    private mutating func noteArrival() throws(SystemError) {
        if rootIndex == nil, try current.status().isSameFile(as: rootIdentity) { rootIndex = held.count - 1 }
    }
}

extension HeldDirectory {
    /// The subdirectory `name`, following a symlink there: only for paths outside any root.
    func subdirectoryFollowingSymlinks(_ name: BytePath) throws(SystemError) -> HeldDirectory {
        let fd = try name.withCString { openat(descriptor, $0, openPathOnly | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError.last("open directory", pathOf(name)) }
        return HeldDirectory(adopting: fd, path: pathOf(name))
    }
}

extension FileSystem {
    /// `getcwd`: the working directory, absolute and free of symlinks.
    public static func currentDirectory() throws(SystemError) -> BytePath {
        var capacity = 4096
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let result = buffer.withUnsafeMutableBytes { getcwd($0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) }
            if result != nil { return BytePath(Array(buffer.prefix(while: { $0 != 0 }))) }
            guard errno == ERANGE else { throw SystemError.last("find the working directory", nil) }
            capacity *= 4
        }
    }
}
