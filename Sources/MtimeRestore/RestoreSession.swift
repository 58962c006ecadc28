import GitKit
import MtimeCore
import MtimeHistory

/// One repository opened for restoring mtimes: `plan` decides (reading only), `apply` sets times.
/// Keep them separate to edit a plan's targets in between; hold `lock()` across both.
public final class RestoreSession {
    public let repository: Repository
    /// The working-tree root, with a trailing `/`.
    public let workdir: BytePath
    /// Where the session was opened, relative to the root (empty at the root): pathspecs are relative to it.
    public let discoveryPrefix: BytePath
    /// Per-worktree private directory: the stat cache.
    public let privateDirectory: BytePath
    /// Shared by all worktrees: the history cache and the lock.
    public let sharedDirectory: BytePath
    /// The stat cache as the last `plan` read it: apply merges into it without reading it again.
    private var lastLoadedStatCache: StatCache?

    /// `allowingUnbornHead`: a repository with no commit yet opens too (`repository.isHeadUnborn`); then
    /// only its working tree and ignore rules are usable, there is no history to plan from.
    public init(discoveringFrom path: String, allowingUnbornHead: Bool = false) throws {
        let repository: Repository
        do {
            repository = try Repository(discoveringFrom: path)
        } catch {
            if error.message.contains("SHA-256") || error.message.contains("objectformat") {
                throw RestoreError.unsupportedObjectFormat(path)
            }
            if error.isNotFound { throw RestoreError.notARepository(path) }
            throw RestoreError.git(error)
        }
        guard !repository.isBare, let workdir = repository.workdir else {
            throw RestoreError.bareRepository(repository.gitDirectory)
        }
        guard allowingUnbornHead || !repository.isHeadUnborn else { throw RestoreError.unbornHead }
        self.repository = repository
        self.workdir = workdir
        privateDirectory = repository.gitDirectory.appending("git-mtime")
        sharedDirectory = repository.commonDirectory.appending("git-mtime")
        discoveryPrefix = RestoreSession.prefix(of: BytePath(path), within: workdir)
    }

    /// Takes the repository-wide restore lock, waiting up to `timeout` seconds. Hold the returned
    /// value while planning and applying; two restores must not interleave.
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

    /// Patterns typed relative to the discovery directory, rewritten relative to the root like git
    /// does (`:/x` and `:(top)x` are already root-relative; `:!x` and `:^x` exclude).
    public func pathspecFromDiscoveryDirectory(_ patterns: [String]) throws -> [String] {
        try patterns.map { pattern in
            var text = Substring(pattern)
            var exclude = false
            if text.hasPrefix(":!") || text.hasPrefix(":^") { exclude = true; text = text.dropFirst(2) }
            var components: [Substring]
            if text.hasPrefix(":/") { text = text.dropFirst(2); components = [] }
            else if text.hasPrefix(":(top)") { text = text.dropFirst(6); components = [] }
            else {
                components = discoveryPrefix.components.map { Substring(decoding: $0, as: UTF8.self) }
            }
            let trailingSlash = text.hasSuffix("/")
            for part in text.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == ".." {
                    guard components.popLast() != nil else { throw RestoreError.pathspecOutsideRepository(pattern) }
                    continue
                }
                components.append(part)
            }
            var joined = components.joined(separator: "/")
            if trailingSlash && !joined.isEmpty { joined += "/" }
            if joined.isEmpty { joined = "*" }
            return (exclude ? "!" : "") + joined
        }
    }

    private static func prefix(of path: BytePath, within workdir: BytePath) -> BytePath {
        guard let resolved = try? FileSystem.resolve(path), let root = try? FileSystem.resolve(workdir),
              resolved.isWithin(root) else { return BytePath([]) }
        return BytePath(Array(resolved.bytes.dropFirst(root.bytes.count).drop(while: { $0 == UInt8(ascii: "/") })))
    }

    /// Decides every selected tracked path's state and target time without changing anything.
    /// Fails, naming the path, when a file's content can't be verified (unreadable).
    public func plan(_ options: RestoreOptions) throws -> RestorePlan {
        do {
            return try makePlan(options)
        } catch let error as SystemError {
            throw RestoreError.system(error)
        } catch let error as GitError {
            throw missingObjectError(error)
        }
    }

    private func makePlan(_ options: RestoreOptions) throws -> RestorePlan {
        try FileSystem.createDirectory(sharedDirectory)
        let progress = options.progress
        let walkProgress: (@Sendable (Int) -> Void)? = progress.map { report in
            { @Sendable commits in report(.walkingHistory(commits: commits)) }
        }
        // --dirs needs every tracked file's time for the enclosing directories, so it walks all paths.
        let scope = options.includeDirectories ? nil
            : Submodules.scope(options.paths ?? RestoreSession.historyScope(of: options.pathspec), within: options.submodulePath)
        let history = try HistoryEngine(repository: repository, mode: options.historyMode, cacheDirectory: sharedDirectory,
                                        only: scope, progress: walkProgress).run()
        // Exclusions are matched as patterns of their own: libgit2's `!dir` does not exclude what lies
        // below `dir`, git's `:!dir` does.
        let includes = options.pathspec.filter { !$0.hasPrefix("!") }
        let excludes = options.pathspec.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) }
        let included = includes.isEmpty ? nil : try Pathspec(includes)
        let excluded = excludes.isEmpty ? nil : try Pathspec(excludes)
        let exactPaths = options.paths.map(Set.init)
        let outer = options.submodulePath
        func isSelected(_ relativePath: BytePath) -> Bool {
            let path = outer.appending(relativePath)
            if let included, !included.matches(path) { return false }
            if let excluded, excluded.matches(path) { return false }
            guard let exactPaths else { return true }
            var candidate = path
            while !candidate.isEmpty {
                if exactPaths.contains(candidate) { return true }
                candidate = candidate.parent
            }
            return false
        }
        let restricted = !options.pathspec.isEmpty || exactPaths != nil
        let headFiles = history.files.isSortedByPath ? history.files : history.files.sorted { $0.path < $1.path }
        let join = IndexJoin(files: headFiles, index: try repository.indexEntries())
        let selected = restricted ? headFiles.indices.filter { isSelected(headFiles[$0].path) } : Array(headFiles.indices)

        let verifier = try workingTreeVerifier()

        var files: [PlannedFile] = []
        files.reserveCapacity(selected.count)
        var shallowBoundaryFiles = 0
        for (count, position) in selected.enumerated() {
            if count % 256 == 0 { progress?(.checkingFiles(checked: count, total: selected.count)) }
            let tracked = headFiles[position]
            var file = try verifier.plan(tracked, indexEntry: join.entries[position], isConflicted: join.conflicted[position],
                                         hashingDirty: options.hashDirtyFiles)
            if file.state == .clean, let change = tracked.lastChange {
                file.target = Timestamp(commitSeconds: options.useAuthorDate ? change.authorTime : change.committerTime,
                                        objectID: tracked.objectID)
                if change.isShallowBoundary { shallowBoundaryFiles += 1 }
            }
            files.append(file)
        }
        progress?(.checkingFiles(checked: selected.count, total: selected.count))

        // Paths only in the index (added, not yet committed): tracked, but with nothing to restore.
        let indexOnly = join.indexOnly.filter { !restricted || isSelected($0.path) }
        if !indexOnly.isEmpty {
            for entry in indexOnly { files.append(try verifier.planIndexOnly(entry, hashingDirty: options.hashDirtyFiles)) }
            files.sort { $0.path < $1.path }
        }
        let unmatched = try includes.filter { pattern in
            let single = try Pathspec([pattern])
            return !files.contains { single.matches(outer.appending($0.path)) }
        }

        var plan = RestorePlan(head: history.head, files: files, directories: [], untracked: [], ignored: [],
                               commitsWalked: history.commitsWalked, shallowBoundaryFiles: shallowBoundaryFiles,
                               usedHistoryCache: history.usedCache, coversWholeTree: !restricted,
                               unmatchedPatterns: unmatched)
        if options.includeDirectories {
            plan.directories = try DirectoryTimes.plan(files: files, allTracked: headFiles, workdir: workdir)
        }
        if options.scanUntracked {
            let scan = try UntrackedScan(repository: repository, workdir: workdir,
                                         indexPaths: headFiles.map(\.path) + join.indexOnly.map(\.path),
                                         isSelected: isSelected).run()
            plan.untracked = scan.untracked
            plan.ignored = scan.ignored
        }
        return plan
    }

    /// The directories (or files) every pattern's matches lie within — the literal part before the
    /// first wildcard, cut back to a whole component — so the history walk can stop early. Nil (all
    /// paths) when there is no pathspec, an exclusion, or a pattern that can match anywhere.
    static func historyScope(of patterns: [String]) -> [BytePath]? {
        guard !patterns.isEmpty else { return nil }
        var scope: [BytePath] = []
        for pattern in patterns {
            guard !pattern.hasPrefix("!") else { return nil }
            let bytes = Array(pattern.utf8)
            let wildcard = bytes.firstIndex { "*?[\\".utf8.contains($0) }
            var literal = wildcard.map { Array(bytes[..<$0]) } ?? bytes
            if wildcard != nil {
                literal = literal.lastIndex(of: UInt8(ascii: "/")).map { Array(literal[..<$0]) } ?? []
            }
            while literal.last == UInt8(ascii: "/") { literal.removeLast() }
            guard !literal.isEmpty else { return nil }
            scope.append(BytePath(literal))
        }
        return scope
    }

    /// Decides clean or not for tracked files, reading the stat cache as it is now (which `apply`
    /// then merges its new records into).
    func workingTreeVerifier() throws -> WorkingTreeVerifier {
        let statCache = StatCache.load(from: StatCache.location(in: repository.gitDirectory))
        lastLoadedStatCache = statCache
        return WorkingTreeVerifier(
            repository: repository, workdir: workdir, statCache: statCache,
            indexWrittenAt: try FileSystem.statusIfPresent(repository.indexFilePath)?.modificationTime,
            trustsExecutableBit: try repository.configBool("core.filemode", default: true))
    }

    /// Sets every planned target that differs from the file's current mtime (never its contents),
    /// skipping files that changed on disk since the plan, then directories; records the files it
    /// verified clean in the stat cache so the next run need not hash them.
    public func apply(_ plan: RestorePlan) throws -> RestoreSummary {
        do {
            return try applyPlan(plan)
        } catch {
            throw RestoreError.system(error)
        }
    }

    private func applyPlan(_ plan: RestorePlan) throws(SystemError) -> RestoreSummary {
        var summary = RestoreSummary()
        var verified = StatCache.Builder(capacity: plan.files.count)
        for file in plan.files {
            guard let target = file.target, let planned = file.current else { continue }
            let fullPath = workdir.appending(file.path)
            var status = planned
            if planned.modificationTime == target {
                summary.alreadyRight += 1
            } else {
                guard try FileSystem.statusIfPresent(fullPath) == planned else {
                    summary.changedSincePlanned.append(file.path)
                    continue
                }
                try FileSystem.setModificationTime(fullPath, to: target)
                summary.filesSet += 1
                // utimensat changed the ctime too: record the file as it is now.
                status = try FileSystem.status(fullPath)
            }
            if file.state == .clean { verified.append(file.path, StatCache.Record(status, objectID: file.objectID)) }
        }
        for directory in plan.directories where directory.current.modificationTime != directory.target {
            let fullPath = workdir.appending(directory.path)
            guard let now = try FileSystem.statusIfPresent(fullPath), now.modificationTime == directory.current.modificationTime
            else { continue }
            try FileSystem.setModificationTime(fullPath, to: directory.target)
            summary.directoriesSet += 1
        }

        let cacheLocation = StatCache.location(in: repository.gitDirectory)
        let previous = lastLoadedStatCache ?? StatCache.load(from: cacheLocation)
        let cache = plan.coversWholeTree ? verified.cache : previous.merging(verified.cache)
        // A warm run that verified nothing new need not rewrite the file, unless some record is racily
        // clean against the old file's time: written now, it becomes trustworthy for the next run.
        if !cache.hasSameEntries(as: previous) || cache.records.contains(where: { !previous.isSettled($0) }) {
            // The times are set by now; a cache that can't be written (full disk, read-only git dir)
            // only costs the next run some hashing, so it is reported, not fatal.
            do { try cache.write(to: cacheLocation) } catch { summary.statCacheError = error }
        }
        lastLoadedStatCache = nil
        return summary
    }
}
