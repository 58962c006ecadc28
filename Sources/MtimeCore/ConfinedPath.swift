import Glibc

/// A path below a root directory resolved as if that root were `/`: a symlink's absolute target
/// starts again at the root, and `..` never climbs above it. This is how BuildKit reads a file out
/// of a build context (fsutil's FollowLinks, containerd's `fs.RootPath`), so nothing outside the
/// root is ever opened. Every step is an `openat` with `O_NOFOLLOW` from an already opened directory:
/// a component swapped for a symlink meanwhile fails the open instead of being followed.
public struct ConfinedPath {
    /// The resolved path, relative to the root, free of symlinks.
    public let path: BytePath
    public let status: FileStatus
    private let parent: FileDescriptor
    private let name: BytePath

    /// continuity's limit on symlinks in one resolution.
    static let maximumLinks = 255

    /// How a resolution ended when it found nothing.
    public enum Failure: Error, Equatable, Sendable {
        /// A component does not exist (a dangling symlink ends here too).
        case missing
        /// The entry at this path (relative to the root) is not a directory but a path continues below it.
        case notADirectory(BytePath)
        /// More than `maximumLinks` symlinks.
        case tooManyLinks
    }

    /// Resolves `path` below `root`: the entry found, or why there is none, and every symlink read on
    /// the way either way. Failures other than these (permissions) are errors.
    public static func resolve(_ path: BytePath, under root: BytePath) throws(SystemError) -> (Result<ConfinedPath, Failure>, symlinks: [BytePath]) {
        // The root itself may be reached through symlinks, as Docker resolves a context directory.
        var directories = [try FileDescriptor(openPathOf: root, relativeTo: nil, directory: true, followingSymlink: true)]
        var resolved: [ArraySlice<UInt8>] = []
        // The path itself is cleaned first (`..` against what precedes it), a link's target step by step.
        var pending = ArraySlice(lexicallyCleaned(path.components).reversed())   // next component last
        var symlinks: [BytePath] = []
        let dot: [UInt8] = [UInt8(ascii: ".")], dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]
        while let component = pending.popLast() {
            if component.isEmpty || component.elementsEqual(dot) { continue }
            if component.elementsEqual(dotDot) {
                if !resolved.isEmpty { resolved.removeLast(); directories.removeLast() }
                continue
            }
            let name = BytePath(Array(component))
            let here = BytePath(Array(resolved.joined(separator: [UInt8(ascii: "/")])))
            guard let status = try Self.status(of: name, in: directories.last!) else { return (.failure(.missing), symlinks) }
            if status.kind == .symlink {
                symlinks.append(here.appending(name))
                guard symlinks.count <= Self.maximumLinks else { return (.failure(.tooManyLinks), symlinks) }
                let target = try Self.readLink(name, in: directories.last!, displayPath: root.appending(here.appending(name)))
                if target.first == UInt8(ascii: "/") {
                    resolved.removeAll()
                    directories.removeSubrange(1...)
                }
                pending.append(contentsOf: BytePath(target).components.reversed())
                continue
            }
            if pending.allSatisfy({ $0.isEmpty || $0.elementsEqual(dot) }) {
                return (.success(ConfinedPath(path: here.appending(name), status: status, parent: directories.last!, name: name)), symlinks)
            }
            guard status.kind == .directory else {
                // `x/..` cancels out whatever x is, as Docker resolves it.
                while pending.last.map({ $0.isEmpty || $0.elementsEqual(dot) }) ?? false { pending.removeLast() }
                if pending.last?.elementsEqual(dotDot) == true { pending.removeLast(); continue }
                return (.failure(.notADirectory(here.appending(name))), symlinks)
            }
            do {
                directories.append(try FileDescriptor(openPathOf: name, relativeTo: directories.last!, directory: true))
            } catch {
                // Replaced meanwhile: what a later look would have found.
                if [ENOENT, ENOTDIR, ELOOP].contains(error.code) { return (.failure(.missing), symlinks) }
                throw error
            }
            resolved.append(component)
        }
        // Nothing left: the root itself.
        let status = try directories.last!.status()
        return (.success(ConfinedPath(path: BytePath(dot), status: status, parent: directories.last!, name: BytePath(dot))), symlinks)
    }

    /// Go's `filepath.Clean` of a relative path, as components (`..` above the start dropped).
    private static func lexicallyCleaned(_ components: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>] {
        var kept: [ArraySlice<UInt8>] = []
        for component in components {
            if component.isEmpty || component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { _ = kept.popLast(); continue }
            kept.append(component)
        }
        return kept
    }

    private init(path: BytePath, status: FileStatus, parent: FileDescriptor, name: BytePath) {
        self.path = path
        self.status = status
        self.parent = parent
        self.name = name
    }

    /// The contents of the resolved regular file (never following a symlink put there meanwhile).
    public func readContents(limit: Int) throws(SystemError) -> [UInt8] {
        try FileDescriptor(openForReading: name, relativeTo: parent).readAll(limit: limit)
    }

    private static func status(of name: BytePath, in directory: FileDescriptor) throws(SystemError) -> FileStatus? {
        var raw = stat()
        let result = try name.withCString { fstatat(directory.rawValue, $0, &raw, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError.last("stat", directory.path.appending(name))
        }
        return FileStatus(raw)
    }

    private static func readLink(_ name: BytePath, in directory: FileDescriptor, displayPath: BytePath) throws(SystemError) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = try name.withCString { cName in
                buffer.withUnsafeMutableBufferPointer {
                    readlinkat(directory.rawValue, cName, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), capacity)
                }
            }
            guard count >= 0 else { throw SystemError.last("read link", displayPath) }
            if count < capacity { return Array(buffer[..<count]) }
            capacity *= 4
        }
    }
}

extension FileDescriptor {
    /// Linux's `O_PATH` (the C headers hide it behind `_GNU_SOURCE`).
    static let openPath: Int32 = 0o10000000

    /// An `O_PATH` descriptor of `path` (a final symlink itself unless `followingSymlink`), for
    /// `openat`-relative steps; `directory` requires a directory.
    public convenience init(openPathOf path: BytePath, relativeTo directory: FileDescriptor?, directory isDirectory: Bool,
                            followingSymlink: Bool = false) throws(SystemError) {
        let flags = Self.openPath | O_CLOEXEC | (followingSymlink ? 0 : O_NOFOLLOW) | (isDirectory ? O_DIRECTORY : 0)
        let fd = try path.withCString { openat(directory?.rawValue ?? AT_FDCWD, $0, flags) }
        guard fd >= 0 else { throw SystemError.last("open", directory.map { $0.path.appending(path) } ?? path) }
        self.init(adopting: fd, path: directory.map { $0.path.appending(path) } ?? path)
    }
}
