import Dispatch
import Glibc
import GitKit
import MtimeCore
import MtimeHistory

/// One repository opened for restoring mtimes: `plan` decides (reading only), `apply` sets times.
/// Keep them separate to edit a plan's targets in between; hold `lock()` across both.
public final class RestoreSession {
    public let repository: Repository
    /// The working-tree root, with a trailing `/`.
    public let workdir: BytePath
    /// Where the session was opened, relative to the root (empty at the root, or outside the
    /// working tree, where git takes pathspecs relative to the root): pathspecs are relative to it.
    public let discoveryPrefix: BytePath
    /// Whether the start directory lies inside the working tree (with `GIT_WORK_TREE` it need not).
    public let startsInsideWorkTree: Bool
    /// Per-worktree private directory: the stat cache.
    public let privateDirectory: BytePath
    /// Shared by all worktrees: the lock, and the history cache unless it lives elsewhere
    /// (`RestoreOptions.historyCacheDirectory`, `HistoryCacheLocation`).
    public let sharedDirectory: BytePath
    /// git's environment when the session was opened: pathspec settings come from it too.
    public let environment: GitEnvironment
    /// The stat cache as the last `plan` read it: apply merges into it without reading it again.
    private var lastLoadedStatCache: StatCache?
    /// The working tree through held directories, opened by the first plan; apply works in the same
    /// held directories the plan verified.
    private var heldFiles: WorkingTreeFiles?
    /// The last plan's verifier: apply plans with it the unverified files (`PlannedFile.unverified`)
    /// their index entry does not describe, and asks it about bytes read back without a lease.
    private var lastVerifier: WorkingTreeVerifier?
    /// How many threads join HEAD with the index (`IndexJoin`) and verify files without reading
    /// them (`verify`); nil: as many as pay for themselves. The plan is the same for any count.
    var planningThreads: Int?

    /// The working tree's files, reached only through held directory descriptors.
    func workingTreeFiles() throws(SystemError) -> WorkingTreeFiles {
        if let heldFiles { return heldFiles }
        let files = try WorkingTreeFiles(root: workdir)
        heldFiles = files
        return files
    }

    /// Opens the repository git would use when started in `path`, under git's environment
    /// (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, … as `RepositoryLocation` applies them).
    /// `allowingUnbornHead`: a repository with no commit yet opens too (`repository.isHeadUnborn`); then
    /// only its working tree and ignore rules are usable, there is no history to plan from.
    public convenience init(discoveringFrom path: String, allowingUnbornHead: Bool = false, environment: GitEnvironment = .current())
        throws
    {
        try self.init(discoveringFrom: BytePath(path), allowingUnbornHead: allowingUnbornHead, environment: environment)
    }

    /// As above, for a directory named by its bytes (a working tree below a name that isn't UTF-8).
    public init(discoveringFrom path: BytePath, allowingUnbornHead: Bool = false, environment: GitEnvironment = .current()) throws {
        try RestoreSession.requireDirectory(path)
        let repository: Repository
        do {
            repository = try Repository(RepositoryLocation.find(start: path, environment: environment), environment: environment)
        } catch {
            switch error {
            case .notFound: throw RestoreError.notARepository(error)
            case .unsupportedObjectFormat: throw RestoreError.unsupportedObjectFormat(path.description)
            default: throw RestoreError.repository(error)
            }
        }
        guard let workdir = repository.workdir else {
            throw RestoreError.bareRepository(repository.gitDirectory)
        }
        guard allowingUnbornHead || !repository.isHeadUnborn else { throw RestoreError.unbornHead }
        self.repository = repository
        self.workdir = workdir
        self.environment = environment
        privateDirectory = repository.gitDirectory.appending("git-mtime")
        sharedDirectory = HistoryCacheLocation.defaultDirectory(of: repository)
        discoveryPrefix = repository.location.prefix ?? BytePath([])
        startsInsideWorkTree = repository.location.prefix != nil
    }

    /// Fails naming `path` when it is missing or not a directory (before git's "not a repository").
    public static func requireDirectory(_ path: BytePath) throws(RestoreError) {
        let kind: FileStatus.Kind
        do throws(SystemError) {
            kind = try FileSystem.status(try FileSystem.resolve(path)).kind
        } catch {
            if error.isNotFound { throw .noSuchDirectory(path.description) }
            if error.kind == .notDirectory { throw .notADirectory(path.description) }
            throw .system(error)
        }
        guard kind == .directory else { throw .notADirectory(path.description) }
    }

    /// Takes the repository-wide restore lock, waiting up to `timeout` seconds. Hold the returned
    /// value while planning and applying (`defer { withExtendedLifetime(lock) {} }`, or a stored
    /// property of what plans and applies); two restores must not interleave.
    public func lock(timeout: Double = 5) throws -> FileLock {
        do {
            try FileSystem.createDirectory(sharedDirectory)
            let path = sharedDirectory.appending("lock")
            guard let lock = try FileLock(exclusive: path, timeout: timeout) else { throw RestoreError.lockTimeout(path) }
            // Whoever left cache temporaries behind was killed mid-write; we now own the caches.
            FileSystem.removeAbandonedTemporaries(in: sharedDirectory)
            FileSystem.removeAbandonedTemporaries(in: privateDirectory)
            return lock
        } catch let error as SystemError {
            throw RestoreError.system(error)
        }
    }

    /// Decides every selected tracked path's state and target time without changing anything.
    /// Fails, naming the path, when a file's content can't be verified (unreadable).
    /// The index's entries, a split index included (libgit2 1.5 refuses one: `IndexReader`). Every
    /// reader of this repository's index goes through here.
    public func indexEntries() throws -> [IndexEntry] {
        try IndexReader(repository, workdir: workdir).entries
    }

    public func plan(_ options: RestoreOptions) throws -> RestorePlan {
        do {
            return try makePlan(options)
        } catch let error as SystemError {
            throw RestoreError.system(error)
        } catch let error as GitError {
            throw missingObjectError(error)
        } catch let error as RepositoryError {
            throw RestoreError.repository(error)
        }
    }

    /// The phases, in order: parse the selection (first, so a bad pathspec costs nothing), walk the
    /// history, join HEAD with the index, select the tracked paths, verify each against the working
    /// tree, then directories and the untracked scan when asked for.
    private func makePlan(_ options: RestoreOptions) throws -> RestorePlan {
        let startedAt = FileSystem.now()
        let checkedFrom = FileSystem.coarseNow()
        try FileSystem.createDirectory(sharedDirectory)
        let selection = try selection(for: options)
        // No stat cache yet (a fresh clone): the index alone vouches for the files, and apply can
        // check what it says on the status it takes under the lease instead of an `lstat` now. Only
        // where no file can turn out unreadable (a planning error: nothing may be set yet) or not
        // ours to set (the files after it stay untouched): CAP_DAC_OVERRIDE and CAP_FOWNER (root).
        let checksWhileSetting =
            try options.checksIndexedFilesWhileSetting && !options.identifyWorkingTreeBytes && options.sealedBuild == nil
            && !options.includeDirectories && TimePermission.overridesOwnership && TimePermission.overridesFileModes
            && FileSystem.statusIfPresent(StatCache.location(in: repository.gitDirectory)) == nil
        // The index, the stat cache and the lstats don't depend on the history: read them meanwhile.
        let worktree = readWorkingTree(preloading: !selection.isRestricted && !checksWhileSetting)
        let history: HistoryResult
        do { history = try walkHistory(options, selection: selection) } catch {
            _ = try? worktree.value()  // the walk's error comes first, as when the phases ran in turn
            throw error
        }
        let state = try worktree.value()
        let tracked = joinIndex(history, state)
        let selected = select(tracked, selection, outer: options.submodulePath)
        let verified = try verify(selected, tracked, state, options, checkingWhileSetting: checksWhileSetting)
        // The index entries and the join (a heap block per path) are not needed past this point.
        defer { Background.release((state, tracked, selected, history)) }
        var plan = RestorePlan(
            head: history.head, files: verified.files, directories: [], untracked: [], ignored: [],
            commitsWalked: history.commitsWalked, shallowBoundaryFiles: verified.shallowBoundaryFiles,
            usedHistoryCache: history.usedCache, coversWholeTree: !selection.isRestricted,
            unmatchedPatterns: selected.unmatchedPatterns, checkedFrom: checkedFrom)
        if let sealedBuild = options.sealedBuild {
            plan.keptNewer = plan.keepUnbuiltContentNewer(than: sealedBuild, at: options.submodulePath, now: startedAt)
        }
        plan.hasMountBelowWorkdir = MountTable.hasMount(below: workdir)
        plan.shareTimesAmongHardLinks()
        if options.includeDirectories {
            plan.directories = try DirectoryTimes.plan(files: plan.files, allTracked: tracked.head, in: workingTreeFiles())
        }
        if options.scanUntracked {
            let gitlinks =
                tracked.head.filter { $0.mode == Tree.submoduleMode }.map(\.path)
                + tracked.join.indexOnly.filter { $0.mode == Tree.submoduleMode }.map(\.path)
            let scan = try UntrackedScan(
                repository: repository, files: workingTreeFiles(),
                indexPaths: tracked.head.map(\.path) + tracked.join.indexOnly.map(\.path),
                gitlinks: Set(gitlinks),
                isSelected: { [outer = options.submodulePath] in selection.isSelected(outer.appending($0)) }
            ).run()
            plan.untracked = scan.untracked
            plan.ignored = scan.ignored
        }
        return plan
    }

    /// HEAD's files in path order, each paired with its index entry, and the index's other paths.
    private struct Tracked {
        var head: [TrackedFile]
        var join: IndexJoin
        /// A split index, which libgit2 can't read (`IndexReader`): attributes can't be asked about either.
        var indexIsSplit: Bool
    }

    /// What the selection phase picked: positions in HEAD's files, the index-only entries, and the
    /// typed patterns that matched nothing.
    private struct Selected {
        var headPositions: [Int]
        var indexOnly: [IndexEntry]
        var unmatchedPatterns: [String]
    }

    /// Phase: the tracked paths (HEAD's and the index's) the selection takes; every one of them is
    /// offered, so "did not match" counts exactly the paths git knows.
    private func select(_ tracked: Tracked, _ selection: PathSelection, outer: BytePath) -> Selected {
        // Everything, and no pattern to report: no path need be asked about.
        guard selection.isRestricted else {
            return Selected(headPositions: Array(tracked.head.indices), indexOnly: tracked.join.indexOnly, unmatchedPatterns: [])
        }
        var matcher = selection.matcher()
        // In a submodule, paths are selected as the superproject's pathspec sees them.
        let positions = tracked.head.indices.filter {
            matcher.isSelected(outer.appending(tracked.head[$0].path), isDirectory: tracked.head[$0].isSubmodule)
        }
        let indexOnly = tracked.join.indexOnly.filter {
            matcher.isSelected(outer.appending($0.path), isDirectory: $0.mode == Tree.submoduleMode)
        }
        return Selected(headPositions: positions, indexOnly: indexOnly, unmatchedPatterns: matcher.unmatchedPatterns)
    }

    /// What `readWorkingTree` reads.
    private struct WorkingTreeState {
        var index: IndexReader
        /// `index.entries` sorted by path.
        var sortedIndex: [IndexEntry]
        /// The index file's mtime, taken before its entries were read (racily clean entries: see
        /// `WorkingTreeVerifier.indexWrittenAt`): an index replaced in between only makes more
        /// entries count as racily clean, never fewer.
        var indexWrittenAt: Timestamp?
        var statCache: StatCache
        /// By position in the index sorted by path (`IndexJoin.sortedIndex`): each path's `lstat`.
        var statuses: PreloadedStatuses?
    }

    /// Phase, on another thread while the history is walked: the index, the stat cache, and (with
    /// `preloading`) the `lstat` of every index path on several threads, as git's
    /// `core.preloadIndex` does. Reads only; the plan decides from these exactly as if each file
    /// had been looked at in turn.
    ///
    /// The `lstat`s start from the index file's path bytes (`Repository.indexPathRanges`), before
    /// its entries are decoded, its checksum checked and the stat cache read, and count only when
    /// the decoded entries are exactly the ones those paths were read from (`PreloadedStatuses.matches`);
    /// otherwise they are taken again from the entries. When an `lstat` is taken relative to those
    /// reads does not matter: an index entry's or a stat-cache record's stat data vouch for the file
    /// state they describe whenever it is seen (the index file's mtime, which decides which entries
    /// are racily clean, is still taken before the entries are read).
    private func readWorkingTree(preloading: Bool) -> Background<WorkingTreeState> {
        let location = repository.location, workdir = workdir
        let statCacheLocation = StatCache.location(in: repository.gitDirectory)
        let tree = Result { () throws(SystemError) in try workingTreeFiles().tree }
        return Background {
            // The stat cache and the index are independent reads: side by side.
            let statCacheRead = Background { StatCache.load(from: statCacheLocation) }
            let indexWrittenAt = try FileSystem.statusIfPresent(location.indexFile)?.modificationTime
            let bytes = Repository.indexFileBytes(at: location)
            let threads = Processors.workerThreads
            // A root that could not be opened fails below, where it always did.
            let early: (ranges: [IndexPathRange], statuses: Background<PreloadedStatuses>)? = {
                guard preloading, let bytes, let ranges = Repository.indexPathRanges(in: bytes), let tree = try? tree.get() else {
                    return nil
                }
                return (ranges, Background { WorkingTreeFiles.statuses(ofIndexPaths: ranges, in: bytes, tree: tree, threads: threads) })
            }()
            let index = try IndexReader(location, workdir: workdir, bytes: .some(bytes))
            // Sorted here, off the walking thread: the join and the preload take the entries in path order.
            let sorted = index.entries.isSortedByPath ? index.entries : index.entries.sorted { $0.path < $1.path }
            let statCache = try statCacheRead.value()
            guard preloading else {
                return WorkingTreeState(index: index, sortedIndex: sorted, indexWrittenAt: indexWrittenAt, statCache: statCache)
            }
            let statuses: PreloadedStatuses
            if let early, let bytes, case let found = try early.statuses.value(), PreloadedStatuses.matches(sorted, early.ranges, in: bytes)
            {
                statuses = found
            } else {
                statuses = WorkingTreeFiles.statuses(of: PreloadedStatuses.paths(of: sorted), in: try tree.get(), threads: threads)
            }
            return WorkingTreeState(
                index: index, sortedIndex: sorted, indexWrittenAt: indexWrittenAt, statCache: statCache, statuses: statuses)
        }
    }

    /// Phase: each selected path's state against the working tree, and the commit time of the clean
    /// ones; also how many of those are a shallow clone's boundary time.
    ///
    /// In two passes that give what one pass in path order would: first, on up to
    /// `Processors.workerThreads` threads (each a contiguous part, in order), every file that needs
    /// nothing beyond its preloaded `lstat`, the index and the stat cache
    /// (`WorkingTreeVerifier.planWithoutReading`: most files of a warm run, which ran alone on one
    /// core after the preload); then, in path order on this thread, the others (no preloaded
    /// `lstat`, a file to hash, an attribute to ask), so the first of those that fails is the
    /// first file a single pass would have failed at, and nothing after it is read.
    ///
    /// `checkingWhileSetting` (no preloaded `lstat`s): in the first pass, files
    /// `WorkingTreeVerifier.unverifiedClean` picks are planned clean without an `lstat`
    /// (`PlannedFile.unverified`) when they are to be set anyway (their entry's mtime is not their
    /// commit time; not a shallow boundary's time, which is counted before apply).
    private func verify(
        _ selected: Selected, _ tracked: Tracked, _ state: WorkingTreeState,
        _ options: RestoreOptions, checkingWhileSetting: Bool
    ) throws -> (files: [PlannedFile], shallowBoundaryFiles: Int) {
        let progress = options.progress
        let identifying = options.identifyWorkingTreeBytes || options.sealedBuild != nil
        // Apply keeps this verifier (`lastVerifier`): it holds on to HEAD's files only where the checkout
        // filters are asked about (identifying); otherwise the paths come from the index if ever asked.
        let trackedPaths: () -> [BytePath] =
            identifying
            ? { [head = tracked.head, indexOnly = tracked.join.indexOnly] in head.map(\.path) + indexOnly.map(\.path) }
            : { [unowned self] in (try? self.indexEntries().map(\.path)) ?? [] }
        let verifier = try workingTreeVerifier(
            trackedPaths: trackedPaths,
            indexIsSplit: tracked.indexIsSplit, readAhead: (state.statCache, state.indexWrittenAt))
        let workingTree = try workingTreeFiles()
        let total = selected.headPositions.count
        let statuses = state.statuses
        /// Sets a clean file's commit time and target; whether that time is a shallow clone's boundary.
        @Sendable func settle(_ planned: inout PlannedFile, _ file: TrackedFile) -> Bool {
            guard planned.state == .clean, let change = file.lastChange else { return false }
            planned.commitTime = Timestamp(
                commitSeconds: options.useAuthorDate ? change.authorTime : change.committerTime, objectID: file.objectID)
            planned.target = planned.commitTime
            return change.isShallowBoundary
        }
        /// A file planned clean on its index entry alone, to be checked under the lease; nil: planned as usual.
        @Sendable func unchecked(
            _ file: TrackedFile, at position: Int, _ verifier: WorkingTreeVerifier, _ tracked: Tracked, hint: StatCache.LookupHint
        ) -> PlannedFile? {
            guard checkingWhileSetting, let change = file.lastChange, !change.isShallowBoundary,
                let indexed = verifier.unverifiedClean(
                    file, indexEntry: tracked.join.entry(at: position), isConflicted: tracked.join.conflicted[position], hint: hint)
            else { return nil }
            let commitTime = Timestamp(
                commitSeconds: options.useAuthorDate ? change.authorTime : change.committerTime, objectID: file.objectID)
            // Already its commit time by the entry: nothing to set, so nothing would check it.
            guard commitTime != indexed.stat.modificationTime else { return nil }
            var planned = PlannedFile(
                path: file.path, objectID: file.objectID, mode: file.mode, state: .clean, current: nil, target: commitTime,
                worktreeObjectID: nil, lastChange: change)
            planned.commitTime = commitTime
            planned.unverified = indexed
            return planned
        }
        progress?(.checkingFiles(checked: 0, total: total))
        let parts = max(
            1, planningThreads ?? min(Processors.workerThreads, total / RestoreSession.minimumFilesToVerifyPerThread))
        // Per part: the positions in `files` left to the second pass, and the boundary times counted.
        var left = [(undecided: [Int], shallowBoundaryFiles: Int)](repeating: ([], 0), count: parts)
        var files = [PlannedFile](unsafeUninitializedCapacity: total + selected.indexOnly.count) { buffer, initialized in
            let shared = UnsafeSendable((buffer, verifier, tracked, selected))
            left.withUnsafeMutableBufferPointer { left in
                let results = UnsafeSendable(left)
                @Sendable func work(_ part: Int) {
                    let (output, verifier, tracked, selected) = shared.value
                    let hint = StatCache.LookupHint()
                    var undecided: [Int] = [], shallowBoundaryFiles = 0
                    for index in (total * part / parts)..<(total * (part + 1) / parts) {
                        let position = selected.headPositions[index]
                        let file = tracked.head[position]
                        let lstat = file.isSubmodule ? .some(nil) : statuses?.preloaded(at: Int(tracked.join.indexPositions[position]))
                        if let lstat,
                            var planned = verifier.planWithoutReading(
                                file, indexEntry: tracked.join.entry(at: position), isConflicted: tracked.join.conflicted[position],
                                identifying: identifying, lstat: lstat, hint: hint)
                        {
                            if settle(&planned, file) { shallowBoundaryFiles += 1 }
                            // Moved, not copied: a copy retains and releases its path and its old self.
                            (output.baseAddress! + index).initialize(to: consume planned)
                        } else if let planned = unchecked(file, at: position, verifier, tracked, hint: hint) {
                            (output.baseAddress! + index).initialize(to: consume planned)
                        } else {
                            // A placeholder until the second pass plans it.
                            (output.baseAddress! + index).initialize(
                                to: PlannedFile(
                                    path: file.path, objectID: file.objectID, mode: file.mode, state: .clean, current: nil, target: nil,
                                    worktreeObjectID: nil, lastChange: nil))
                            undecided.append(index)
                        }
                    }
                    results.value[part] = (undecided, shallowBoundaryFiles)
                }
                if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
            }
            initialized = total
        }
        var shallowBoundaryFiles = left.reduce(0) { $0 + $1.shallowBoundaryFiles }
        for index in left.flatMap(\.undecided) {
            if index % 256 == 0 { progress?(.checkingFiles(checked: index, total: total)) }
            let position = selected.headPositions[index]
            let file = tracked.head[position]
            var lstat: FileStatus?
            if !file.isSubmodule {
                do throws(SystemError) {
                    if let statuses {
                        lstat = try statuses.status(at: Int(tracked.join.indexPositions[position])) { () throws(SystemError) in
                            try workingTree.status(file.path)
                        }
                    } else {
                        lstat = try workingTree.status(file.path)
                    }
                } catch {
                    throw RestoreError.system(error)
                }
            }
            var planned = try verifier.plan(
                file, indexEntry: tracked.join.entry(at: position), isConflicted: tracked.join.conflicted[position],
                identifying: identifying, lstat: lstat)
            if settle(&planned, file) { shallowBoundaryFiles += 1 }
            files[index] = planned
        }
        progress?(.checkingFiles(checked: total, total: total))

        // Paths only in the index (added, not yet committed): tracked, but with nothing to restore.
        if !selected.indexOnly.isEmpty {
            for entry in selected.indexOnly { files.append(try verifier.planIndexOnly(entry, identifying: identifying)) }
            files.sort { $0.path < $1.path }
        }
        return (files, shallowBoundaryFiles)
    }

    /// Below this many files per thread, verifying on another thread costs more than it saves.
    static let minimumFilesToVerifyPerThread = 4096

    /// The options' selection: the one a superproject's session already made for a submodule's
    /// plan, else this session's own.
    func selection(for options: RestoreOptions) throws -> PathSelection {
        try options.selection ?? pathSelection(options)
    }

    /// Phase: the options' pathspec (typed where the session was opened) and exact paths.
    func pathSelection(_ options: RestoreOptions) throws -> PathSelection {
        do {
            // git reads GIT_*_PATHSPECS only for a pattern it parses: with none (the hooks, a build
            // context) a value it would refuse does not matter.
            let settings = options.pathspec.isEmpty ? PathspecSettings() : try PathspecSettings(environment: environment)
            return try PathSelection(
                pathspec: options.pathspec, paths: options.paths, prefix: discoveryPrefix,
                workTree: BytePath(Array(workdir.bytes.dropLast())), settings: settings)
        } catch {
            throw RestoreError.invalidPathspec(error)
        }
    }

    /// Phase: the last change of every HEAD file the selection can reach (all of them for `--dirs`,
    /// which needs every tracked file's time for the enclosing directories).
    private func walkHistory(_ options: RestoreOptions, selection: PathSelection) throws -> HistoryResult {
        let walkProgress: (@Sendable (Int) -> Void)? = options.progress.map { report in
            { @Sendable commits in report(.walkingHistory(commits: commits)) }
        }
        let cacheDirectory = try HistoryCacheLocation.resolve(
            explicit: options.historyCacheDirectory,
            environment: Environment.all(), repository: repository)
        return try HistoryEngine(
            repository: repository, mode: options.historyMode, cacheDirectory: cacheDirectory,
            only: options.includeDirectories ? nil : Submodules.scope(selection.historyScope, within: options.submodulePath),
            progress: walkProgress, cacheKey: CacheKey.environment.key
        ).run()
    }

    /// Phase: HEAD's files in path order, each paired with its index entry (a split index too).
    private func joinIndex(_ history: HistoryResult, _ state: WorkingTreeState) -> Tracked {
        // `HistoryResult.files` is sorted by path (checked in debug builds: a pass over 64,000 paths).
        assert(history.files.isSortedByPath)
        return Tracked(
            head: history.files,
            join: IndexJoin(files: history.files, sortedIndex: state.sortedIndex, parts: planningThreads ?? Processors.workerThreads),
            indexIsSplit: state.index.isSplit)
    }

    /// Decides clean or not for tracked files, reading the stat cache and the index file's mtime as
    /// they are now (or taking `readAhead`'s, read since the plan began, the mtime before the
    /// entries); `apply` then merges its new records into that stat cache.
    /// `trackedPaths`: every tracked path (see `CheckoutFilters`).
    func workingTreeVerifier(
        trackedPaths: @escaping () -> [BytePath], indexIsSplit: Bool,
        readAhead: (statCache: StatCache, indexWrittenAt: Timestamp?)? = nil
    ) throws -> WorkingTreeVerifier {
        let statCache = readAhead?.statCache ?? StatCache.load(from: StatCache.location(in: repository.gitDirectory))
        lastLoadedStatCache = statCache
        let files = try workingTreeFiles()
        let indexWrittenAt = try readAhead.map(\.indexWrittenAt) ?? FileSystem.statusIfPresent(repository.indexFilePath)?.modificationTime
        let verifier = WorkingTreeVerifier(
            repository: repository, files: files, statCache: statCache,
            indexWrittenAt: indexWrittenAt,
            modeRules: try ModeRules(repository),
            checkoutFilters: CheckoutFilters(
                repository: repository, files: files, trackedPaths: trackedPaths,
                indexIsSplit: indexIsSplit))
        lastVerifier = verifier
        return verifier
    }

    /// Sets every planned target that differs from the file's current mtime (never its contents),
    /// skipping files that changed on disk since the plan, then directories; records the files it
    /// verified clean in the stat cache so the next run need not hash them.
    public func apply(_ plan: RestorePlan) throws -> RestoreSummary {
        var plan = plan
        return try apply(&plan)
    }

    /// `apply`, leaving in `plan` what became of its unverified files (`PlannedFile.unverified`):
    /// each is either set, with its status after the set as `current`, or planned again (and then
    /// set or left alone as any planned file).
    public func apply(_ plan: inout RestorePlan) throws -> RestoreSummary {
        try apply(&plan, threads: Processors.workerThreads)
    }

    /// `apply`, setting file times on up to `threads` threads: the result is the same for any count.
    func apply(_ plan: RestorePlan, threads: Int) throws -> RestoreSummary {
        var plan = plan
        return try apply(&plan, threads: threads)
    }

    func apply(_ plan: inout RestorePlan, threads: Int) throws -> RestoreSummary {
        do {
            return try applyPlan(&plan, threads: threads)
        } catch let error as SystemError {
            throw RestoreError.system(error)
        }
    }

    private func applyPlan(_ plan: inout RestorePlan, threads: Int) throws -> RestoreSummary {
        var summary = RestoreSummary()
        let cacheLocation = StatCache.location(in: repository.gitDirectory)
        let previous = lastLoadedStatCache ?? StatCache.load(from: cacheLocation)
        // The files verified clean, by position (with their status after a set that verified them),
        // weighed against `previous` as they come: the new cache is built only when worth writing.
        var verified: [Int] = [], verifiedWhenSet: [Int: FileStatus] = [:]
        var changes = StatCache.Changes(against: previous, replacingAll: plan.coversWholeTree)
        let tree = try workingTreeFiles()
        let unverified = plan.files.indices.filter { plan.files[$0].unverified != nil }
        var outcomes: [(position: Int, outcome: GuardedTimeSetter.Outcome)] = []
        if !unverified.isEmpty {
            // First the files planned on their index entries' word, checked under the lease; those it
            // does not describe, untouched, are planned as usual now (an `lstat`, the stat cache,
            // hashing) and set with the others below.
            outcomes = try ReadLease.withBreaksIgnored { [files = plan.files] () throws(SystemError) in
                try setFileTimes(files, among: unverified, in: tree.tree, threads: threads)
            }
            try planAgain(&plan, at: outcomes.compactMap { if case .notAsIndexed = $0.outcome { $0.position } else { nil } })
            outcomes.removeAll { if case .notAsIndexed = $0.outcome { true } else { false } }
        }
        plan.shareTimesAmongHardLinks()
        // Every other file as planned, in the order and on the threads the rules below give: names of
        // one file, and the files from the first one this process may not set on, after the others.
        let rest = try ReadLease.withBreaksIgnored { [files = plan.files] () throws(SystemError) in
            try setFileTimes(
                files, among: unverified.isEmpty ? nil : plan.files.indices.filter { plan.files[$0].unverified == nil }, in: tree.tree,
                threads: threads)
        }
        outcomes = outcomes.isEmpty ? rest : rest.isEmpty ? outcomes : (outcomes + rest).sorted { $0.position < $1.position }
        var nextOutcome = outcomes.startIndex
        for position in plan.files.indices {
            // What the stat cache may vouch for: nothing that could have changed after it was verified.
            var recordable: FileStatus?
            if nextOutcome < outcomes.endIndex, outcomes[nextOutcome].position == position {
                defer { nextOutcome += 1 }
                let file = plan.files[position]
                switch outcomes[nextOutcome].outcome {
                case .changedSincePlanned:
                    summary.changedSincePlanned.append(file.path)
                    continue
                case .changedWhileSetting:
                    summary.changedWhileSetting.append(file.path)
                    continue
                case .set(let status, let verified):
                    if file.unverified != nil {
                        // Checked under the lease and set: described by what it is now.
                        plan.files[position].current = status
                        plan.files[position].unverified = nil
                    }
                    summary.filesSet += 1
                    if verified {
                        recordable = status
                        verifiedWhenSet[position] = status
                    }
                case .notAsIndexed:
                    preconditionFailure("\(file.path) was planned again")
                case .readBackDiffers(let status):
                    // HEAD's content through the filters: set, but nothing says it was not written meanwhile.
                    if file.state == .clean, (try? lastVerifier?.holdsThroughFilters(file.path, objectID: file.objectID)) == true {
                        plan.files[position].current = plan.files[position].current ?? status
                        plan.files[position].unverified = nil
                        summary.filesSet += 1
                        continue
                    }
                    // Written between the check and the set: newer than any build, and said so.
                    if let (parent, name) = try tree.parent(of: file.path) {
                        try? parent.setModificationTime(of: name, to: FileSystem.now())
                    }
                    summary.changedWhileSetting.append(file.path)
                    continue
                }
            } else {
                // Most files of a warm run; read in place: copying each whole `PlannedFile` is most of this loop.
                guard let target = plan.files[position].target, let planned = plan.files[position].current else { continue }
                // Every file set has its outcome, in plan order (`setFileTimes` threw otherwise).
                guard planned.modificationTime == target else { preconditionFailure("no outcome for \(plan.files[position].path)") }
                summary.alreadyRight += 1
                // Verified while planning; a change in the same clock tick as that check would not show in
                // the ctime, so only a file last changed before planning began is recorded.
                if let checkedFrom = plan.checkedFrom, planned.changeTime < checkedFrom { recordable = planned }
            }
            if plan.files[position].state == .clean, let recordable {
                changes.add(plan.files[position].path, StatCache.Record(recordable, objectID: plan.files[position].objectID))
                verified.append(position)
            }
        }
        for directory in plan.directories where directory.current.modificationTime != directory.target {
            if directory.path.isEmpty {
                // The root: the caller chose its path; only a directory below it is reached through held ones.
                guard let now = try FileSystem.statusIfPresent(workdir), now.isSameFile(as: directory.current),
                    now.modificationTime == directory.current.modificationTime
                else { continue }
                try FileSystem.setModificationTime(workdir, to: directory.target)
            } else {
                guard let (parent, name) = try tree.parent(of: directory.path),
                    let now = try parent.statusIfPresent(name), now.isSameFile(as: directory.current),
                    now.modificationTime == directory.current.modificationTime
                else { continue }
                try parent.setModificationTime(of: name, to: directory.target)
            }
            summary.directoriesSet += 1
        }

        let worthWriting = changes.areWorthWriting
        var cache: StatCache?
        if worthWriting != false {
            var builder = StatCache.Builder(capacity: verified.count)
            for position in verified {
                // Recorded above: its status after the set, or as planned (`current`, left as it was).
                let status = verifiedWhenSet[position] ?? plan.files[position].current!
                builder.append(plan.files[position].path, StatCache.Record(status, objectID: plan.files[position].objectID))
            }
            cache = plan.coversWholeTree ? builder.cache : previous.merging(builder.cache)
        }
        // A warm run that verified nothing new need not rewrite the file, unless some record is racily
        // clean against the old file's time: written now, it becomes trustworthy for the next run.
        // A few new records (a commit's files) are not worth rewriting every record for: the next run
        // hashes those few files instead, and a later run with more to record writes them all.
        if let cache, worthWriting ?? cache.isWorthWriting(replacing: previous) {
            // The times are set by now; a cache that can't be written (full disk, read-only git dir)
            // only costs the next run some hashing, so it is reported, not fatal.
            do { try cache.write(to: cacheLocation) } catch { summary.statCacheError = error }
        }
        lastLoadedStatCache = nil
        return summary
    }

    /// Plans the unverified files at `positions` as `plan` would have, had it looked at them: by
    /// their `lstat` now, against the same index entry and stat cache, hashing if need be (a file
    /// written since the checkout is found modified, as it would have been). Their times are then
    /// set as any planned file's; the planning phase's "nothing changed" on an unreadable file no
    /// longer holds for these few (the others are set by then).
    private func planAgain(_ plan: inout RestorePlan, at positions: [Int]) throws {
        guard let verifier = lastVerifier else { preconditionFailure("unverified files, but no plan left any") }
        for position in positions {
            let file = plan.files[position]
            guard let indexed = file.unverified else { continue }
            let tracked = TrackedFile(path: file.path, objectID: file.objectID, mode: file.mode, lastChange: file.lastChange)
            var planned = try verifier.plan(tracked, indexEntry: indexed.entry(of: file), isConflicted: false, identifying: false)
            if planned.state == .clean {
                planned.commitTime = file.commitTime
                planned.target = file.commitTime
            }
            plan.files[position] = planned
        }
    }

    /// Below this many files to set per thread, another thread costs more than it saves (a warm
    /// run sets a handful: one thread, no thread started).
    static let minimumFilesPerThread = 512

    /// Sets the planned target of every file whose mtime differs from it (`GuardedTimeSetter`) on
    /// up to `threads` threads, each with its own cursor over the held directories (`inParts`):
    /// each outcome depends only on its own file, so it is the one a serial loop would get. Two
    /// kinds of file are set afterwards, on one thread, in plan order: names of one file (hard
    /// links: setting one changes the other's ctime), and every file from the first one this
    /// process may not set the time of (`TimePermission`) on, so that when it fails the run, the
    /// files after it are untouched, as `restore --help` says. The outcomes with the files'
    /// positions in `files`, in plan order. Throws the error of the first file in plan order that failed, as a serial
    /// loop stopping there would; every file before it was set. Call with lease breaks ignored.
    private func setFileTimes(_ files: [PlannedFile], among: [Int]?, in tree: DirectoryTree, threads: Int) throws(SystemError)
        -> [(position: Int, outcome: GuardedTimeSetter.Outcome)]
    {
        let (separate, inTurn) = { () -> ([Int], [Int]) in
            var separate: [Int] = [], inTurn: [Int] = [], pastForeign = false
            func pick(_ position: Int) {
                // Any owner's file may be set (`verify`), its link count is checked under the lease.
                if files[position].unverified != nil {
                    if pastForeign { inTurn.append(position) } else { separate.append(position) }
                    return
                }
                guard let target = files[position].target, let planned = files[position].current, planned.modificationTime != target
                else { return }
                pastForeign = pastForeign || !TimePermission.maySetTime(of: planned)
                if pastForeign || planned.linkCount > 1 { inTurn.append(position) } else { separate.append(position) }
            }
            if let among { for position in among { pick(position) } } else { for position in files.indices { pick(position) } }
            return (separate, inTurn)
        }()
        let setter = GuardedTimeSetter()
        @Sendable func set(_ file: PlannedFile, _ cursor: inout ParentCursor) throws(SystemError) -> GuardedTimeSetter.Outcome {
            // Both non-nil (or the file unverified, with a target): only such files were picked above.
            guard let target = file.target else { return .changedSincePlanned }
            if let unverified = file.unverified {
                // Whatever stands in the way (a directory replaced or unreadable) is planning's to find.
                guard let (directory, name) = try? cursor.parent(of: file.path, in: tree) else { return .notAsIndexed }
                return try setter.set(name, in: directory, unverified: unverified, mode: file.mode, to: target, expected: file.objectID)
            }
            // A directory on the way was replaced.
            guard let (directory, name) = try cursor.parent(of: file.path, in: tree) else { return .changedSincePlanned }
            guard let planned = file.current else { return .changedSincePlanned }
            return try setter.set(
                name, in: directory, planned: planned, to: target,
                expected: file.worktreeObjectID ?? (file.state == .clean ? file.objectID : nil),
                expectedIsCertain: file.worktreeObjectID != nil)
        }
        /// Sets the files at `positions`: their outcomes, in order, or the first failure's position and error.
        func setAll(_ positions: [Int], threads: Int) -> Result<[GuardedTimeSetter.Outcome], PositionedFailure> {
            let found = WorkingTreeFiles.inParts(
                positions.count, in: tree, threads: threads, minimumPerThread: RestoreSession.minimumFilesPerThread,
                stoppingAtFailure: true
            ) { (index, cursor) throws(SystemError) in try set(files[positions[index]], &cursor) }
            if let first = found.failures.min(by: { $0.key < $1.key }) {
                return .failure(PositionedFailure(position: positions[first.key], error: first.value))
            }
            // No failure: every position has its outcome (`inParts`).
            return .success(found.values.map { $0! })
        }
        let early = setAll(separate, threads: threads)
        // Only those before the first failure: a serial loop would not have reached the others.
        var firstFailure = Int.max
        if case .failure(let failure) = early { firstFailure = failure.position }
        let late = setAll(inTurn.filter { $0 < firstFailure }, threads: 1)
        switch (early, late) {
        case (.failure(let one), .failure(let other)): throw one.position < other.position ? one.error : other.error
        case (.failure(let failure), _), (_, .failure(let failure)): throw failure.error
        case (.success(let separately), .success(let inOrder)):
            // Both in plan order: merged into one.
            var merged: [(position: Int, outcome: GuardedTimeSetter.Outcome)] = []
            merged.reserveCapacity(separate.count + inTurn.count)
            var one = 0, other = 0
            while one < separate.count || other < inTurn.count {
                if other == inTurn.count || one < separate.count && separate[one] < inTurn[other] {
                    merged.append((separate[one], separately[one]))
                    one += 1
                } else {
                    merged.append((inTurn[other], inOrder[other]))
                    other += 1
                }
            }
            return merged
        }
    }
}

/// A failed file's position in the plan and its error.
private struct PositionedFailure: Error {
    var position: Int
    var error: SystemError
}
