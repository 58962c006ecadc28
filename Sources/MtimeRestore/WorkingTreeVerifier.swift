import GitKit
import MtimeCore
import MtimeHistory

/// Decides whether a working-tree file holds exactly HEAD's content, as cheaply as possible:
/// the index's stat data first (like git), then restore's own stat cache, and only then hashing.
struct WorkingTreeVerifier {
    let repository: Repository
    let workdir: BytePath
    let statCache: StatCache
    /// The index file's mtime: entries not older than it may have changed unseen in the same tick.
    let indexWrittenAt: Timestamp?
    /// `core.filemode`: when false, the executable bit on disk means nothing.
    let trustsExecutableBit: Bool
    let checkoutFilters: CheckoutFilters
    private let directories: DirectoryReachability
    /// Files are planned in path order, the stat cache is sorted the same way: each lookup starts
    /// where the previous one matched.
    private let statCacheHint = StatCache.LookupHint()

    init(repository: Repository, workdir: BytePath, statCache: StatCache, indexWrittenAt: Timestamp?,
         trustsExecutableBit: Bool, checkoutFilters: CheckoutFilters) {
        self.repository = repository
        self.workdir = workdir
        self.statCache = statCache
        self.indexWrittenAt = indexWrittenAt
        self.trustsExecutableBit = trustsExecutableBit
        self.checkoutFilters = checkoutFilters
        directories = DirectoryReachability(workdir: workdir)
    }

    func plan(_ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, identifying: Bool) throws -> PlannedFile {
        var file = PlannedFile(path: tracked.path, objectID: tracked.objectID, mode: tracked.mode, state: .clean,
                               current: nil, target: nil, worktreeObjectID: nil, lastChange: tracked.lastChange)
        if tracked.mode == 0o160000 {
            file.state = .submodule
            return file
        }
        file.current = try directories.isReachable(tracked.path) ? try FileSystem.statusIfPresent(tracked.path, under: workdir) : nil
        // A directory where a file is tracked: the file is gone (git status: D); the directory is untracked.
        if file.current?.kind == .directory { file.current = nil }
        var fullPath: BytePath { workdir.appending(tracked.path) }
        guard let entry = indexEntry, !isConflicted, entry.objectID == tracked.objectID, entry.mode == tracked.mode else {
            file.state = .staged
            if identifying { file.worktreeObjectID = try hashIfFile(file.current, at: fullPath) }
            return file
        }
        guard let status = file.current else {
            file.state = entry.isSkipWorktree ? .sparse : .deleted
            return file
        }
        guard hasExpectedType(status, mode: tracked.mode) else {
            file.state = .modified
            if identifying { file.worktreeObjectID = try hashIfFile(status, at: fullPath) }
            return file
        }
        if matchesIndexStat(status, entry) || statCache.trusts(tracked.path, status: status, objectID: tracked.objectID, hint: statCacheHint) {
            if identifying {
                // Clean as git sees it; the bytes are HEAD's blob unless a checkout filter rewrote them.
                file.worktreeObjectID = try checkoutFilters.apply(to: tracked.path, mode: tracked.mode)
                    ? try hash(at: fullPath) : tracked.objectID
            }
            return file
        }
        let raw = try hash(at: fullPath)
        file.worktreeObjectID = raw
        guard raw != tracked.objectID else { return file }
        // Bytes that differ may still be HEAD's content once filters (autocrlf, eol, ident) are applied.
        if status.kind != .regular { file.state = .modified; return file }
        // A filter libgit2 can't run (an external driver such as git-lfs) leaves the file unverified: not clean.
        if (try? repository.hashWorkingTreeFile(tracked.path)) != tracked.objectID { file.state = .modified }
        return file
    }

    /// A path in the index but not in HEAD: staged by definition.
    func planIndexOnly(_ entry: IndexEntry, identifying: Bool) throws -> PlannedFile {
        let fullPath = workdir.appending(entry.path)
        var current = try directories.isReachable(entry.path) ? try FileSystem.statusIfPresent(fullPath) : nil
        if current?.kind == .directory { current = nil }
        return PlannedFile(path: entry.path, objectID: entry.objectID, mode: entry.mode, state: .staged, current: current,
                           target: nil, worktreeObjectID: identifying ? try hashIfFile(current, at: fullPath) : nil,
                           lastChange: nil)
    }

    private func hasExpectedType(_ status: FileStatus, mode: UInt32) -> Bool {
        switch mode {
        case 0o120000: return status.kind == .symlink
        case 0o100755: return status.kind == .regular && (status.isExecutable || !trustsExecutableBit)
        default: return status.kind == .regular && (!status.isExecutable || !trustsExecutableBit)
        }
    }

    /// git's own test (`ie_match_stat`): the file is as git last saw it clean, unless the entry is
    /// racily clean (written in the same tick as the index, so a later change could hide).
    private func matchesIndexStat(_ status: FileStatus, _ entry: IndexEntry) -> Bool {
        guard let indexWrittenAt, entry.modificationTime < indexWrittenAt else { return false }
        return status.modificationTime == entry.modificationTime
            && status.changeTime == entry.changeTime
            && UInt32(truncatingIfNeeded: status.inode) == entry.inode
            && UInt32(truncatingIfNeeded: status.size) == entry.fileSize
            && status.uid == entry.uid && status.gid == entry.gid
    }

    private func hash(at fullPath: BytePath) throws -> ObjectID {
        do {
            return try BlobHasher.hash(fileAt: fullPath)
        } catch {
            throw RestoreError.unreadable(error)
        }
    }

    private func hashIfFile(_ status: FileStatus?, at fullPath: BytePath) throws -> ObjectID? {
        guard let status, status.kind == .regular || status.kind == .symlink else { return nil }
        return try hash(at: fullPath)
    }
}

/// Whether every directory on the way to a path is a real directory. One that is a symlink (or a
/// file) is never looked through — by git, nor by us: it could lead to files outside the working
/// tree. Each directory is checked once per planning run.
final class DirectoryReachability {
    private let workdir: BytePath
    private var known: [PathKey: Bool] = [:]
    /// The directory asked about last, and its answer: files come in path order, so most questions
    /// repeat the previous one and need neither a new path nor a hash.
    private var lastDirectory: [UInt8] = []
    private var lastAnswer = true

    init(workdir: BytePath) { self.workdir = workdir }

    func isReachable(_ path: BytePath) throws(SystemError) -> Bool {
        guard let slash = path.bytes.lastIndex(of: UInt8(ascii: "/")) else { return true }
        if slash == lastDirectory.count && path.bytes.starts(with: lastDirectory) { return lastAnswer }
        let answer = try isDirectoryReachable(BytePath(Array(path.bytes[..<slash])))
        lastDirectory = Array(path.bytes[..<slash])
        lastAnswer = answer
        return answer
    }

    private func isDirectoryReachable(_ directory: BytePath) throws(SystemError) -> Bool {
        if directory.isEmpty { return true }
        let key = PathKey(directory)
        if let answer = known[key] { return answer }
        var answer = try isReachable(directory)
        if answer, let status = try FileSystem.statusIfPresent(workdir.appending(directory)) {
            answer = status.kind == .directory
        }
        known[key] = answer
        return answer
    }
}
