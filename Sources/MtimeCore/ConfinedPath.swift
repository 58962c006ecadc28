import Glibc

/// A path below a root directory resolved as if that root were `/`: a symlink's absolute target
/// starts again at the root, and `..` never climbs above it. This is how BuildKit reads a file out
/// of a build context (fsutil's FollowLinks, containerd's `fs.RootPath`), so nothing outside the
/// root is ever opened. Every step is taken from an already held directory (`HeldDirectory`, no
/// symlink followed in a name): a component swapped for a symlink meanwhile is not followed.
public struct ConfinedPath {
    /// The resolved path, relative to the root, free of symlinks.
    public let path: BytePath
    public let status: FileStatus
    private let parent: HeldDirectory
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
    public static func resolve(_ path: BytePath, under root: BytePath) throws(SystemError) -> (
        Result<ConfinedPath, Failure>, symlinks: [BytePath]
    ) {
        // The root itself may be reached through symlinks, as Docker resolves a context directory.
        var directories = [try HeldDirectory(opening: root)]
        var resolved: [ArraySlice<UInt8>] = []
        // The path itself is cleaned first (`..` against what precedes it), a link's target step by step.
        var pending = ArraySlice(path.lexicalComponents.reversed())  // next component last
        var symlinks: [BytePath] = []
        let dot: [UInt8] = [UInt8(ascii: ".")], dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]
        func isDot(_ component: ArraySlice<UInt8>) -> Bool { component.isEmpty || component.elementsEqual(dot) }
        while let component = pending.popLast() {
            if isDot(component) { continue }
            if component.elementsEqual(dotDot) {
                if !resolved.isEmpty { resolved.removeLast(); directories.removeLast() }
                continue
            }
            let name = BytePath(Array(component))
            let here = BytePath(Array(resolved.joined(separator: [UInt8(ascii: "/")])))
            guard let status = try directories.last!.statusIfPresent(name) else { return (.failure(.missing), symlinks) }
            if status.kind == .symlink {
                symlinks.append(here.appending(name))
                guard symlinks.count <= maximumLinks else { return (.failure(.tooManyLinks), symlinks) }
                let target = try directories.last!.readLink(name)
                if target.first == UInt8(ascii: "/") {
                    resolved.removeAll()
                    directories.removeSubrange(1...)
                }
                pending.append(contentsOf: BytePath(target).components.reversed())
                continue
            }
            if pending.allSatisfy(isDot) {
                return (.success(ConfinedPath(path: here.appending(name), status: status, parent: directories.last!, name: name)), symlinks)
            }
            guard status.kind == .directory else {
                // `x/..` cancels out whatever x is, as Docker resolves it.
                while pending.last.map(isDot) ?? false { pending.removeLast() }
                if pending.last?.elementsEqual(dotDot) == true { pending.removeLast(); continue }
                return (.failure(.notADirectory(here.appending(name))), symlinks)
            }
            do {
                directories.append(try directories.last!.subdirectory(name))
            } catch {
                // Replaced meanwhile: what a later look would have found.
                if error.isAbsent || error.isSymlink { return (.failure(.missing), symlinks) }
                throw error
            }
            resolved.append(component)
        }
        // Nothing left: the root itself.
        let status = try directories.last!.status()
        return (.success(ConfinedPath(path: BytePath(dot), status: status, parent: directories.last!, name: BytePath(dot))), symlinks)
    }

    private init(path: BytePath, status: FileStatus, parent: HeldDirectory, name: BytePath) {
        self.path = path
        self.status = status
        self.parent = parent
        self.name = name
    }

    /// The contents of the resolved regular file (never following a symlink put there meanwhile;
    /// anything but a regular file found there meanwhile is refused, `isNotRegularFile`).
    public func readContents(limit: Int) throws(SystemError) -> [UInt8] {
        try parent.openFile(name).readRegularFile(limit: limit)
    }
}
