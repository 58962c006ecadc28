import MtimeCore

/// The working tree as restore reaches it: every file operation (stat, open for hashing, read link,
/// set time, list) is relative to a held directory descriptor (`DirectoryTree`), one name at a
/// time, never following a symlink below the root, so no path is resolved twice and a directory
/// swapped for a symlink while restore works can't redirect anything outside the tree.
///
/// A path below a symlinked directory, below a file or below a missing directory is *unreachable*:
/// restore treats it as absent, as git does.
final class WorkingTreeFiles {
    let tree: DirectoryTree
    /// Files come in path order: most questions are about the same directory as the last one.
    private var lastParent: (path: BytePath, directory: HeldDirectory?)?
    private let hasher = BufferedBlobHasher()

    init(root: BytePath) throws(SystemError) {
        tree = try DirectoryTree(root: root)
    }

    /// The absolute path of `path`, for messages.
    func pathOf(_ path: BytePath) -> BytePath { tree.pathOf(path) }

    /// The held directory at `path` (empty: the root); nil when unreachable.
    func directory(_ path: BytePath) throws(SystemError) -> HeldDirectory? {
        do { return try tree.directory(path) } catch {
            if error.isAbsent || error.isSymlink { return nil }
            throw error
        }
    }

    /// The held parent of `path` and its last component; nil when unreachable.
    func parent(of path: BytePath) throws(SystemError) -> (directory: HeldDirectory, name: BytePath)? {
        let name = path.lastComponent
        let parentLength = path.bytes.count - name.bytes.count - (name.bytes.count == path.bytes.count ? 0 : 1)
        if let last = lastParent, last.path.bytes.count == parentLength, path.bytes.starts(with: last.path.bytes) {
            return last.directory.map { ($0, name) }
        }
        let parentPath = path.parent
        let held = try directory(parentPath)
        lastParent = (parentPath, held)
        return held.map { ($0, name) }
    }

    /// `lstat` of `path`; nil when nothing is there or it is unreachable.
    func status(_ path: BytePath) throws(SystemError) -> FileStatus? {
        guard let (directory, name) = try parent(of: path) else { return nil }
        return try directory.statusIfPresent(name)
    }

    /// The blob id of the regular file or symlink at `path` (a symlink's target, not followed) and
    /// its status, read through its held parent; nil when it is gone or unreachable.
    func hash(_ path: BytePath) throws(SystemError) -> (id: ObjectID, status: FileStatus)? {
        guard let (directory, name) = try parent(of: path), let status = try directory.statusIfPresent(name) else { return nil }
        switch status.kind {
        case .symlink: return (BlobHasher.hash(bytes: try directory.readLink(name)), status)
        case .regular: return try hasher.hash(regularFile: directory.openFile(name))
        case .directory, .other:
            throw SystemError(operation: "hash (not a file or symlink)", path: directory.pathOf(name), errno: .isDirectory)
        }
    }

    /// The bytes of the regular file at `path`, read through its held parent.
    func contents(_ path: BytePath) throws(SystemError) -> [UInt8] {
        guard let (directory, name) = try parent(of: path) else {
            throw SystemError(operation: "open (below a symlink or a file)", path: pathOf(path), errno: .notFound)
        }
        return try directory.openFile(name).readRegularFile(limit: .max)
    }
}
