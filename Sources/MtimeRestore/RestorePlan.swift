import MtimeCore
import MtimeHistory

/// What `RestoreSession.plan` should cover and how to assign times.
public struct RestoreOptions: Sendable {
    /// Which commits count as changing a path (see `HistoryMode`).
    public var historyMode: HistoryMode
    /// Use the author time instead of the committer time.
    public var useAuthorDate: Bool
    /// Git pathspec patterns as typed where the session was opened (`RestoreSession.discoveryPrefix`),
    /// matched by git's rules (`Pathspec`); empty means every tracked file.
    /// The pathspec words as given (bytes: a name need not be UTF-8).
    public var pathspec: [ProcessArgument]
    /// Exact root-relative paths (raw bytes, no wildcards; a directory selects everything below it)
    /// to restrict to, on top of `pathspec`; nil for no restriction. For callers holding paths from
    /// git itself (hooks), which need not be UTF-8 and may contain `*` or `[`.
    public var paths: [BytePath]?
    /// Also plan directories: each gets the newest final mtime among the tracked files below it.
    public var includeDirectories: Bool
    /// Fill `PlannedFile.worktreeObjectID` for every present file, for callers (the manifest
    /// builder, the hooks' stamp rule) that must describe the bytes on disk: dirty and staged files
    /// are hashed, and so are clean files that git's checkout filters (autocrlf, eol, ident) may
    /// have rewritten; any other clean file holds exactly HEAD's blob.
    public var identifyWorkingTreeBytes: Bool
    /// Walk the working tree for untracked and ignored entries (only ever counted and listed).
    public var scanUntracked: Bool
    /// Where the history cache lives (`--cache-dir`); nil: `HistoryCacheLocation.resolve`'s
    /// fallbacks ($GIT_MTIME_CACHE_DIR, `git config mtime.cacheDir`, the repository's own).
    public var historyCacheDirectory: BytePath?
    /// The last sealed build (a trusted stamp): clean files at paths it recorded with other content keep
    /// an mtime later than it instead of their commit time (`RestorePlan.keptNewer`). Implies
    /// `identifyWorkingTreeBytes`.
    public var sealedBuild: ConsumedContent?
    /// Called from the planning thread while history is walked and files are checked.
    public var progress: (@Sendable (RestoreProgress) -> Void)?
    /// Where this repository's working tree lies in the working tree `pathspec` and `paths` were
    /// written for: a submodule's path, so `PATH` in it is selected as `submodulePath/PATH` is.
    /// Empty (the default) for the repository itself.
    public var submodulePath = BytePath([])
    /// The pathspec and paths as the superproject's session parsed them (relative to where the
    /// command ran there), for a submodule's plan; nil: the session parses `pathspec` itself.
    public var selection: PathSelection?
    /// Leave the files whose index entry vouches for HEAD's content unlooked-at (`PlannedFile.unverified`):
    /// `apply` checks each on the `fstat` it takes under the lease anyway, one `lstat` per file fewer
    /// (a fresh clone). Only where no stat cache exists yet, for a process that may read and set any
    /// file (CAP_DAC_OVERRIDE, CAP_FOWNER: root), and not with `identifyWorkingTreeBytes`,
    /// `sealedBuild` or `includeDirectories`, which need every file's state before apply. For a
    /// caller that applies the plan right away and reads its files' states from `apply(&plan)`.
    public var checksIndexedFilesWhileSetting = false

    public init(
        historyMode: HistoryMode = .firstParent, useAuthorDate: Bool = false, pathspec: [ProcessArgument] = [],
        paths: [BytePath]? = nil, includeDirectories: Bool = false, identifyWorkingTreeBytes: Bool = false, scanUntracked: Bool = false,
        historyCacheDirectory: BytePath? = nil, sealedBuild: ConsumedContent? = nil,
        progress: (@Sendable (RestoreProgress) -> Void)? = nil
    ) {
        self.historyMode = historyMode
        self.useAuthorDate = useAuthorDate
        self.pathspec = pathspec
        self.paths = paths
        self.includeDirectories = includeDirectories
        self.identifyWorkingTreeBytes = identifyWorkingTreeBytes
        self.scanUntracked = scanUntracked
        self.historyCacheDirectory = historyCacheDirectory
        self.sealedBuild = sealedBuild
        self.progress = progress
    }
}

/// How far planning has got, for a progress line.
public enum RestoreProgress: Sendable, Equatable {
    case walkingHistory(commits: Int)
    case checkingFiles(checked: Int, total: Int)
}

/// Where a tracked path stands relative to HEAD.
public enum FileState: String, Sendable, Equatable, CaseIterable {
    /// The working-tree file has exactly HEAD's content and mode: it gets the commit time.
    case clean
    /// Present, but its content or mode differs from the index.
    case modified
    /// The index differs from HEAD (staged change, `git rm --cached`, conflict, or a path only in the index).
    case staged
    /// Tracked but absent from the working tree.
    case deleted
    /// A skip-worktree (sparse checkout) entry that is not on disk.
    case sparse
    /// A gitlink; its own repository is not ours to touch.
    case submodule
}

/// One tracked path and what restore will do with it.
public struct PlannedFile: Sendable, Equatable {
    /// Relative to the working-tree root.
    public var path: BytePath
    /// HEAD's blob id (for a path only in the index: the index's id).
    public var objectID: ObjectID
    /// HEAD's mode (100644, 100755, 120000, 160000), or the index's for a path only in the index.
    public var mode: UInt32
    public var state: FileState
    /// `lstat` of the working-tree file when planned; nil when absent.
    public var current: FileStatus?
    /// The mtime apply sets. Planning fills it for clean files only (their `commitTime`, or a later
    /// time under `RestoreOptions.sealedBuild`); a caller may set or change it for any present file
    /// before calling `apply`.
    public var target: Timestamp?
    /// A clean file's deterministic time: its last change's commit seconds, nanoseconds from HEAD's
    /// blob id (what the manifest records); nil for other files and when history found no change.
    public var commitTime: Timestamp? = nil
    /// The id of the working-tree bytes as they are (no filters), the id the guard computes: set
    /// for every present file when `identifyWorkingTreeBytes` was set, and whenever planning hashed
    /// the file anyway; otherwise nil.
    public var worktreeObjectID: ObjectID?
    /// The commit that last changed the path, when history found one.
    public var lastChange: LastChange?
    /// Planned clean on its index entry alone, not looked at yet (`current` is nil), when the plan
    /// was made with `RestoreOptions.checksIndexedFilesWhileSetting`: `apply` checks it under the
    /// lease, plans it again if the entry does not describe it, and clears this.
    public var unverified: IndexedFile? = nil

    /// The mode git would record for the working-tree file (nil when absent or neither file nor symlink).
    public var worktreeMode: UInt32? { current?.gitMode }

    /// The mtime the file will have after apply: its target, or the time it has now.
    public var finalModificationTime: Timestamp? { target ?? current?.modificationTime }

    public init(
        path: BytePath, objectID: ObjectID, mode: UInt32, state: FileState, current: FileStatus?,
        target: Timestamp?, worktreeObjectID: ObjectID?, lastChange: LastChange?
    ) {
        self.path = path
        self.objectID = objectID
        self.mode = mode
        self.state = state
        self.current = current
        self.target = target
        self.worktreeObjectID = worktreeObjectID
        self.lastChange = lastChange
    }
}

/// A directory `--dirs` gives the newest final mtime of the tracked files below it.
public struct PlannedDirectory: Sendable, Equatable {
    /// Relative to the working-tree root; empty for the root itself.
    public var path: BytePath
    public var current: FileStatus
    public var target: Timestamp
}

/// Everything restore would do, computed without changing anything. Edit targets, then `apply` it.
public struct RestorePlan: Sendable {
    public var head: ObjectID
    /// Every tracked path the pathspec selects, sorted by path bytes.
    public var files: [PlannedFile]
    /// Sorted by path; empty unless `includeDirectories` was set.
    public var directories: [PlannedDirectory]
    /// Untracked and ignored entries (a whole untracked directory is one entry); empty unless scanned.
    public var untracked: [BytePath]
    public var ignored: [BytePath]
    public var commitsWalked: Int
    /// Clean files whose time is the shallow clone's boundary commit (their real last change is unknown).
    public var shallowBoundaryFiles: Int
    public var usedHistoryCache: Bool
    /// Whether the plan covers every tracked file (no pathspec or paths): apply then rewrites the stat cache whole.
    public var coversWholeTree: Bool
    /// Pathspec patterns (as given in the options) that matched no tracked path, as git reports them.
    public var unmatchedPatterns: [String] = []
    /// Clean files `RestoreOptions.sealedBuild` kept later than the last build (it consumed other content there).
    public var keptNewer: [BytePath] = []
    /// Clean files that don't get their own target, in path order: another name of the same file (a
    /// hard link) needs a later time, or keeps its own (`shareTimesAmongHardLinks`, again in `apply`).
    public var sharedWithOtherNames: [BytePath] = []
    /// Something is mounted below the working tree (`MountTable.hasMount`, read once when planning):
    /// names of one file may then have one link each (a file bind-mounted over another).
    public var hasMountBelowWorkdir = false
    /// The file system's coarse clock when planning began: a file whose ctime is not older may have
    /// changed after it was verified, unseen, so apply doesn't record it in the stat cache.
    public var checkedFrom: Timestamp? = nil

    public func count(_ state: FileState) -> Int { files.reduce(0) { $0 + ($1.state == state ? 1 : 0) } }

    /// Files (and then directories) whose mtime apply will change.
    public var pendingFiles: [PlannedFile] {
        files.filter { file in
            guard let target = file.target, let current = file.current else { return false }
            return current.modificationTime != target
        }
    }

    public var pendingDirectories: [PlannedDirectory] {
        directories.filter { $0.current.modificationTime != $0.target }
    }
}

/// What `apply` did.
public struct RestoreSummary: Sendable, Equatable {
    public var filesSet = 0
    /// Files with a target whose mtime already had it (not written again).
    public var alreadyRight = 0
    public var directoriesSet = 0
    /// Files that changed on disk between plan and apply: left alone.
    public var changedSincePlanned: [BytePath] = []
    /// Files written while their time was being set: they got the current time and are not recorded.
    public var changedWhileSetting: [BytePath] = []
    /// Why the stat cache could not be written, if it could not (the times were set regardless).
    public var statCacheError: SystemError?

    public init() {}
}

extension RestorePlan {
    /// Names of one file (hard links) share its mtime, so each gets the newest target any of them
    /// has, a name left alone (modified, staged, kept newer, outside the context) wanting the time
    /// the file has (`HardLinks.sharedTimes`): setting a clean name's commit time must not date a
    /// changed name of the same file back; `sharedWithOtherNames` lists the clean files that don't get their own target.
    /// Names outside the plan are not known here (docs/restore.md, "Hard links").
    /// Run when planning and again by `apply` (a caller may have edited targets since).
    mutating func shareTimesAmongHardLinks() {
        // Most trees have no hard link and nothing mounted inside: one pass, nothing allocated.
        let mounted = hasMountBelowWorkdir
        guard mounted || files.contains(where: { ($0.current?.linkCount ?? 1) > 1 }) else { return }
        let shared = HardLinks.sharedTimes(
            files.map { file in file.unverified == nil ? file.current.map { ($0, file.target) } : nil }, mounted: mounted)
        var overruled: [BytePath] = []
        for (position, share) in shared.enumerated() where share.raisedFor != nil {
            // Present: only present files are shared.
            files[position].target = share.time ?? files[position].current!.modificationTime
            if files[position].state == .clean { overruled.append(files[position].path) }
        }
        if !overruled.isEmpty { sharedWithOtherNames = Set(sharedWithOtherNames + overruled).sorted() }
    }
}
