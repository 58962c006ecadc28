import GitKit
import MtimeCore
import MtimeHistory

/// Decides whether a working-tree file holds exactly HEAD's content, as cheaply as possible:
/// the index's stat data first (like git), then restore's own stat cache, and only then hashing.
struct WorkingTreeVerifier {
    let repository: Repository
    /// Every file is reached through held directories (`WorkingTreeFiles`): never through a symlink.
    let files: WorkingTreeFiles
    let statCache: StatCache
    /// The index file's mtime: entries not older than it may have changed unseen in the same tick.
    let indexWrittenAt: Timestamp?
    /// `core.filemode` and `core.symlinks`.
    let modeRules: ModeRules
    let checkoutFilters: CheckoutFilters
    /// Files are planned in path order, the stat cache is sorted the same way: each lookup starts
    /// where the previous one matched.
    private let statCacheHint = StatCache.LookupHint()

    init(
        repository: Repository, files: WorkingTreeFiles, statCache: StatCache, indexWrittenAt: Timestamp?,
        modeRules: ModeRules, checkoutFilters: CheckoutFilters
    ) {
        self.repository = repository
        self.files = files
        self.statCache = statCache
        self.indexWrittenAt = indexWrittenAt
        self.modeRules = modeRules
        self.checkoutFilters = checkoutFilters
    }

    func plan(_ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, identifying: Bool) throws -> PlannedFile {
        let found: FileStatus?
        do { found = tracked.isSubmodule ? nil : try files.status(tracked.path) } catch { throw RestoreError.system(error) }
        return try plan(tracked, indexEntry: indexEntry, isConflicted: isConflicted, identifying: identifying, lstat: found)
    }

    /// `lstat`: the file's `lstat` as `WorkingTreeFiles.status` gives it (nil: absent), taken at any
    /// time since the plan began (the stat data of an entry or a record vouch for a file state, not
    /// a moment: `RestoreSession.readWorkingTree`); ignored for a submodule.
    func plan(
        _ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, identifying: Bool, lstat: FileStatus?
    ) throws -> PlannedFile {
        try plan(tracked, indexEntry: indexEntry, isConflicted: isConflicted, identifying: identifying, lstat: lstat, reading: true)
    }

    /// `plan`'s answer when it needs nothing beyond its arguments, the index's stat data and the
    /// stat cache (no file read or hashed, no attribute asked: most files of a warm run); nil when
    /// it would have to read, and then `plan` decides. Safe on several threads at once, each with
    /// its own `hint` (files in path order on each).
    func planWithoutReading(
        _ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, identifying: Bool, lstat: FileStatus?,
        hint: StatCache.LookupHint
    ) -> PlannedFile? {
        try? plan(
            tracked, indexEntry: indexEntry, isConflicted: isConflicted, identifying: identifying, lstat: lstat, reading: false,
            hint: hint)
    }

    /// Thrown where `plan` without `reading` would have to read.
    private struct NeedsReading: Error {}

    private func plan(
        _ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, identifying: Bool, lstat: FileStatus?,
        reading: Bool, hint: StatCache.LookupHint? = nil
    ) throws -> PlannedFile {
        func hashIfFile(_ file: inout PlannedFile) throws -> ObjectID? {
            guard reading || !file.isHashable else { throw NeedsReading() }
            return try self.hashIfFile(&file)
        }
        var file = PlannedFile(
            path: tracked.path, objectID: tracked.objectID, mode: tracked.mode, state: .clean,
            current: nil, target: nil, worktreeObjectID: nil, lastChange: tracked.lastChange)
        if tracked.mode == 0o160000 {
            file.state = .submodule
            return file
        }
        file.current = WorkingTreeVerifier.asFile(lstat)
        guard let entry = indexEntry, !isConflicted, entry.objectID == tracked.objectID, entry.mode == tracked.mode else {
            file.state = .staged
            if identifying { file.worktreeObjectID = try hashIfFile(&file) }
            return file
        }
        guard let status = file.current else {
            file.state = entry.isSkipWorktree ? .sparse : .deleted
            return file
        }
        guard modeRules.hasExpectedType(status, mode: tracked.mode) else {
            file.state = .modified
            if identifying { file.worktreeObjectID = try hashIfFile(&file) }
            return file
        }
        // git's rule (`ie_modified`): a size other than the one it recorded is a change, decided
        // without reading the file, even where a filter would map the bytes back to HEAD's blob
        // (CRLF turned to LF). A recorded 0 (after `read-tree`, or a racily clean entry smudged) tells nothing.
        if entry.stat.fileSize != 0, UInt32(truncatingIfNeeded: status.size) != entry.stat.fileSize {
            file.state = .modified
            if identifying { file.worktreeObjectID = try hashIfFile(&file) }
            return file
        }
        if matchesIndexStat(status, entry)
            || statCache.trusts(tracked.path, status: status, objectID: tracked.objectID, hint: hint ?? statCacheHint)
        {
            if identifying {
                guard reading else { throw NeedsReading() }
                // Clean as git sees it; the bytes are HEAD's blob unless a checkout filter rewrote them.
                file.worktreeObjectID =
                    try checkoutFilters.apply(to: tracked.path, mode: tracked.mode)
                    ? try hashIfFile(&file) : tracked.objectID
            }
            return file
        }
        guard let raw = try hashIfFile(&file) else {
            file.state = .deleted  // gone since the stat
            file.current = nil
            return file
        }
        file.worktreeObjectID = raw
        guard raw != tracked.objectID else { return file }
        // Bytes that differ may still be HEAD's content once its checkout conversions are undone.
        if status.kind != .regular { file.state = .modified; return file }
        if try !holdsThroughFilters(tracked.path, objectID: tracked.objectID) { file.state = .modified }
        return file
    }

    /// Whether the bytes of `path` are blob `objectID` once its checkout conversions are undone:
    /// autocrlf, eol and ident by libgit2, a `filter=` driver (git-lfs) or working-tree-encoding by
    /// git (`CheckoutFilters`). A conversion that fails leaves the file unverified: false.
    func holdsThroughFilters(_ path: BytePath, objectID: ObjectID) throws -> Bool {
        let bytes: [UInt8]
        do { bytes = try files.contents(path) } catch { throw RestoreError.unreadable(error) }
        return checkoutFilters.blobID(ofWorkingTreeBytes: bytes, path: path) == objectID
    }

    /// A path in the index but not in HEAD: staged by definition.
    func planIndexOnly(_ entry: IndexEntry, identifying: Bool) throws -> PlannedFile {
        var file = PlannedFile(
            path: entry.path, objectID: entry.objectID, mode: entry.mode, state: .staged,
            current: try status(entry.path), target: nil, worktreeObjectID: nil, lastChange: nil)
        if identifying { file.worktreeObjectID = try hashIfFile(&file) }
        return file
    }

    /// `lstat` of a tracked path; nil when absent or unreachable (below a symlinked directory, which
    /// neither git nor restore looks through), and for a directory where a file is tracked: the file
    /// is gone (git status: D), the directory untracked.
    private func status(_ path: BytePath) throws -> FileStatus? {
        do { return WorkingTreeVerifier.asFile(try files.status(path)) } catch { throw RestoreError.system(error) }
    }

    private static func asFile(_ found: FileStatus?) -> FileStatus? { found?.kind == .directory ? nil : found }

    /// git's own test (`ie_match_stat`): the file is as git last saw it clean, unless the entry is
    /// racily clean (written in the same tick as the index, so a later change could hide).
    private func matchesIndexStat(_ status: FileStatus, _ entry: IndexEntry) -> Bool {
        isTrustworthy(entry) && entry.stat.matches(status)
    }

    /// Whether `entry`'s stat data can vouch for its file at all: not racily clean.
    private func isTrustworthy(_ entry: IndexEntry) -> Bool {
        guard let indexWrittenAt else { return false }
        return entry.stat.modificationTime < indexWrittenAt
    }

    /// A file planning may call clean without its `lstat`: its index entry says it holds HEAD's blob
    /// (`indexEntry` as `plan` takes it) with stat data that can vouch for it, and nothing but that
    /// entry would be asked (a regular file, no stat-cache record, no filter question), so apply can
    /// make the same test on the `fstat` it takes under the lease (`IndexedFile.describes`). Nil
    /// when the file must be planned as usual.
    func unverifiedClean(_ tracked: TrackedFile, indexEntry: IndexEntry?, isConflicted: Bool, hint: StatCache.LookupHint) -> IndexedFile? {
        guard let entry = indexEntry, !isConflicted, !entry.isSkipWorktree, entry.objectID == tracked.objectID,
            entry.mode == tracked.mode, tracked.mode == 0o100644 || tracked.mode == 0o100755, isTrustworthy(entry),
            statCache.index(of: tracked.path, hint: hint) == nil
        else { return nil }
        return IndexedFile(entry, modeRules: modeRules)
    }

    /// The id of `file`'s bytes when it is a regular file or a symlink (nil otherwise, or when it is
    /// gone); its `current` becomes the status of what was read.
    private func hashIfFile(_ file: inout PlannedFile) throws -> ObjectID? {
        guard file.isHashable else { return nil }
        do {
            guard let (id, read) = try files.hash(file.path) else { return nil }
            file.current = read
            return id
        } catch {
            throw RestoreError.unreadable(error)
        }
    }
}

extension PlannedFile {
    /// Present as a regular file or a symlink: what `hashIfFile` reads.
    fileprivate var isHashable: Bool { current.map { $0.kind == .regular || $0.kind == .symlink } ?? false }
}
