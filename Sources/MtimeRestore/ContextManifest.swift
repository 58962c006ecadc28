import Glibc
import MtimeCore
import MtimeDockerContext
import MtimeManifest

/// Describes a build context: every tracked file under the context directory that is present in
/// the working tree and (for a Docker context) in the context Docker sends (`DockerContextRules`), with
/// the mtime restore assigns it (a dirty file keeps its current mtime and is described by its own
/// bytes), and every untracked file there that git does not ignore, flagged, with its current mtime.
///
/// A context without history (a repository with no commit yet, or a directory in no repository) gets
/// a manifest of what is there, every file untracked, `head -`: the build runs, nothing gets a time.
public struct ContextManifestBuilder {
    /// Nil when the context is not in a git repository.
    public let session: RestoreSession?
    /// The working-tree root (the context itself outside a repository).
    let root: BytePath
    /// The context directory relative to `root` (empty: the root).
    public let contextPrefix: BytePath
    /// Why there are no commit times to give (nil when there are).
    public let withoutHistory: String?
    public let options: RestoreOptions
    /// Which files Docker sends (the `.dockerignore` the builder reads, applied as its client does),
    /// or no rules for a build that reads the working tree itself.
    public let rules: DockerContextRules
    /// The rules' walk, shared by every question about this context (it remembers each directory).
    let context: DockerContextEvaluator
    /// The files below `root`, reached through held directories only (the session's, when there is one).
    let files: WorkingTreeFiles

    /// `contextDirectory` must lie inside a git working tree; `options` chooses the history mode and
    /// author/committer time exactly as for `restore` (its pathspec is replaced by the context).
    /// `docker`: the Dockerfile and builder of the Docker build (they choose the ignore file and how
    /// it applies); nil describes every tracked file, as a build on the host sees them.
    public init(
        contextDirectory: BytePath, options: RestoreOptions = RestoreOptions(),
        docker: (dockerfile: DockerfileLocation, builder: DockerBuilder)? = (.standard, .current)
    ) throws {
        do {
            let session = try RestoreSession(discoveringFrom: contextDirectory, allowingUnbornHead: true)
            guard session.startsInsideWorkTree else {
                throw RestoreError.outsideWorkTree(contextDirectory.description, workTree: session.workdir)
            }
            self.session = session
            root = session.workdir
            contextPrefix = session.discoveryPrefix
            withoutHistory = session.repository.isHeadUnborn ? "the repository has no commit yet" : nil
        } catch RestoreError.notARepository {
            session = nil
            do { root = try FileSystem.resolve(contextDirectory) } catch { throw RestoreError.system(error) }
            contextPrefix = BytePath([])
            withoutHistory = "\(root) is not in a git repository"
        }
        do throws(SystemError) {
            if let session { files = try session.workingTreeFiles() } else { files = try WorkingTreeFiles(root: root) }
        } catch { throw RestoreError.system(error) }
        rules =
            try docker.map {
                try DockerContextRules(contextDirectory: contextDirectory, dockerfile: $0.dockerfile, builder: $0.builder)
            } ?? .none
        context = rules.evaluator()
        var options = options
        // Restore and hash only below the context (any bytes in its name, no pattern matching).
        options.paths = contextPrefix.isEmpty ? nil : [contextPrefix]
        options.identifyWorkingTreeBytes = true
        self.options = options
    }

    /// Restores the context's clean files to their commit times, then describes the context.
    /// Returns the manifest and a one-line summary of what restore changed.
    ///
    /// As `git mtime restore` does, a file whose content differs from what the host's last sealed
    /// build (the trusted stamp at `mtime.stamp`) consumed keeps an mtime later than that build on disk, so a plain host
    /// build afterwards is not stale; the manifest still records the commit time, which the guard
    /// applies inside the build before it bumps what its own stamp did not record. `consultingStamp`
    /// false skips that, for `git mtime run`, whose guard bumps by that same stamp right after.
    public func restoreAndBuild(consultingStamp: Bool = true) throws -> (manifest: Manifest, summary: String) {
        guard let session, withoutHistory == nil else {
            let manifest = try describeWithoutHistory()
            return (
                manifest, "note: times not restored (\(withoutHistory ?? "")): manifest of \(manifest.entries.count) file(s), all untracked"
            )
        }
        let lock = try session.lock()
        defer { withExtendedLifetime(lock) {} }
        var rootOptions = options
        if consultingStamp {
            let settings = try RepositorySettings(repository: session.repository, workdir: session.workdir)
            rootOptions.sealedBuild = settings.consumedContent(settings.loadStamp())
        }
        var plan = try session.plan(rootOptions)
        // The context holds the submodules' files too: always recurse. The stamp records them by their
        // superproject paths, so they are kept newer by the same rule.
        let submodules = try Submodules(of: session, plan: plan, options: rootOptions)
        // Only the files the manifest lists get commit times: a file .dockerignore excludes is not in the
        // context, and a host build that reads it must keep the time git gave it.
        try leaveOutsideContextAlone(&plan, at: BytePath([]))
        for index in submodules.planned.indices {
            try leaveOutsideContextAlone(&submodules.planned[index].plan, at: submodules.planned[index].path)
        }
        let rootApplied = try session.apply(plan)
        // Written while restore ran: described as they are now, like any dirty file.
        let changed = Set(rootApplied.changedSincePlanned + rootApplied.changedWhileSetting)
        for index in plan.files.indices where changed.contains(plan.files[index].path) {
            try describeAsDirty(&plan.files[index])
        }
        let applied = [rootApplied] + (try submodules.apply().map(\.summary))
        let manifest = try describe(plan, submodules)
        var summary =
            "restored \(applied.reduce(0) { $0 + $1.filesSet }) file(s), \(applied.reduce(0) { $0 + $1.alreadyRight }) already right; "
            + "manifest of \(manifest.entries.count) file(s), \(manifest.dirtyCount) dirty, \(manifest.untrackedCount) untracked"
        if !submodules.planned.isEmpty { summary += ", \(manifest.submoduleCount) in \(submodules.planned.count) submodule(s)" }
        for submodule in submodules.leftAlone { summary += "; left submodule \(submodule) (its files listed as untracked)" }
        return (manifest, summary)
    }

    /// Describes the context as restore would leave it, changing nothing on disk; with the
    /// submodules left alone (their files are listed as untracked), for the caller to report.
    public func build() throws -> (manifest: Manifest, leftAlone: [Submodules.LeftAlone]) {
        guard let session, withoutHistory == nil else { return (try describeWithoutHistory(), []) }
        let plan = try session.plan(options)
        let submodules = try Submodules(of: session, plan: plan, options: options)
        return (try describe(plan, submodules), submodules.leftAlone)
    }

    /// Every file of the context as untracked, `head -`.
    private func describeWithoutHistory() throws -> Manifest {
        Manifest(headCommit: nil, dirtyCount: 0, entries: try untrackedEntries(tracked: []))
    }

    /// Clears the targets of the files of `plan` (a repository at `path`) that the context doesn't hold.
    private func leaveOutsideContextAlone(_ plan: inout RestorePlan, at path: BytePath) throws {
        for index in plan.files.indices {
            let full = path.appending(plan.files[index].path)
            if try !full.isWithin(contextPrefix) || isExcluded(full) { plan.files[index].target = nil }
        }
    }

    private func describe(_ plan: RestorePlan, _ submodules: Submodules) throws -> Manifest {
        var entries = try untrackedEntries(tracked: plan.files) + submoduleEntries(submodules)
        var dirty = 0
        for file in plan.files {
            guard file.path.isWithin(contextPrefix), let current = file.current, let mode = file.worktreeMode else { continue }
            if try isExcluded(file.path) { continue }
            let relative = relativeToContext(file.path)
            switch file.state {
            case .clean:
                // The bytes and mode on disk, as the guard will find them: filters (autocrlf, eol,
                // ident) may have rewritten the bytes, core.fileMode=false may leave the mode unlike HEAD's.
                guard let time = file.commitTime, let id = file.worktreeObjectID else { continue }
                entries.append(ManifestEntry(path: relative, objectID: id, modificationTime: time, mode: mode))
            case .modified, .staged:
                guard let id = file.worktreeObjectID else { continue }
                dirty += 1
                entries.append(ManifestEntry(path: relative, objectID: id, modificationTime: current.modificationTime, mode: mode))
            case .deleted, .sparse, .submodule:
                continue
            }
        }
        return Manifest(headCommit: plan.head, dirtyCount: dirty, entries: entries)
    }

    private func describeAsDirty(_ file: inout PlannedFile) throws {
        file.state = .modified
        file.target = nil
        file.worktreeObjectID = nil
        guard let (id, status) = try hashIfFile(file.path) else { file.current = nil; return }
        file.current = status
        file.worktreeObjectID = id
    }

    /// The id and status of the regular file or symlink at `path`; nil when it is gone (or replaced
    /// meanwhile) or is something else: a socket, fifo or device is nothing a build reads as source.
    private func hashIfFile(_ path: BytePath) throws -> (id: ObjectID, status: FileStatus)? {
        do throws(SystemError) {
            guard try files.status(path)?.gitMode != nil, let (id, status) = try files.hash(path), status.gitMode != nil else {
                return nil
            }
            return (id, status)
        } catch {
            if error.isAbsent || error.isSymlink { return nil }
            throw RestoreError.unreadable(error)
        }
    }

    /// The untracked, unignored files (and symlinks) below the context that Docker sends: of the working tree's own repository, or of the submodule `submodule` at `path`.
    func untrackedEntries(tracked: [PlannedFile], in submodule: RestoreSession? = nil, at path: BytePath = BytePath([])) throws
        -> [ManifestEntry]
    {
        let prefix = contextPrefix
        var scan = UntrackedScan(
            repository: submodule?.repository ?? session?.repository,
            files: try submodule?.workingTreeFiles() ?? files, indexPaths: tracked.map(\.path),
            gitlinks: Set(tracked.filter { $0.state == .submodule }.map(\.path)),
            isSelected: { path.appending($0).isWithin(prefix) || prefix.isWithin(path.appending($0)) })
        scan.expandingDirectories = true
        // Docker's walk does not go into such a directory: nothing below it is in the context.
        var pruneFailure: Error?
        scan.isPruned = { [self] found in
            do { return try isPrunedDirectory(path.appending(found)) } catch {
                pruneFailure = error
                return false
            }
        }
        let untracked = try scan.run().untracked
        if let pruneFailure { throw pruneFailure }
        var entries: [ManifestEntry] = []
        for found in untracked {
            let full = path.appending(found)
            guard full.isWithin(prefix), full != prefix, try !isExcluded(full) else { continue }
            if let entry = try untrackedEntry(full) { entries.append(entry) }
        }
        return entries
    }

    /// Whether the working-tree path (relative to the working-tree root) lies in the context but Docker leaves it out.
    public func isExcluded(_ path: BytePath) throws -> Bool {
        try path.isWithin(contextPrefix) && !context.includes(relativeToContext(path))
    }

    /// Whether Docker's walk skips the working-tree directory `path`: nothing below it is in the context.
    func isPrunedDirectory(_ path: BytePath) throws -> Bool {
        guard path.isWithin(contextPrefix), path != contextPrefix else { return false }
        return try !context.entersDirectory(relativeToContext(path))
    }

    /// The entry for an untracked working-tree path below the context: its current bytes and mtime;
    /// nil when it is gone, or a socket, fifo or device (nothing a build reads as source).
    func untrackedEntry(_ path: BytePath) throws -> ManifestEntry? {
        guard let (id, status) = try hashIfFile(path), let mode = status.gitMode else { return nil }
        return ManifestEntry(
            path: relativeToContext(path), objectID: id, modificationTime: status.modificationTime, mode: mode,
            isUntracked: true)
    }

    /// A working-tree path below the context, relative to the context directory.
    func relativeToContext(_ path: BytePath) -> BytePath {
        path.relative(to: contextPrefix) ?? path
    }
}
