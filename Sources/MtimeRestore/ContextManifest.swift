import Glibc
import MtimeCore
import MtimeManifest

/// Describes a build context: every tracked file under the context directory that is present in
/// the working tree and (for a Docker context) not excluded by the context's `.dockerignore`, with
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
    /// The context's `.dockerignore` rules, or none for a build that reads the working tree itself.
    public let ignore: DockerIgnore

    /// `contextDirectory` must lie inside a git working tree; `options` chooses the history mode and
    /// author/committer time exactly as for `restore` (its pathspec is replaced by the context).
    /// `dockerContext: false` describes every tracked file, as a build on the host sees them.
    public init(contextDirectory: String, options: RestoreOptions = RestoreOptions(), dockerContext: Bool = true) throws {
        do {
            let session = try RestoreSession(discoveringFrom: contextDirectory, allowingUnbornHead: true)
            self.session = session
            root = session.workdir
            contextPrefix = session.discoveryPrefix
            withoutHistory = session.repository.isHeadUnborn ? "the repository has no commit yet" : nil
        } catch RestoreError.notARepository {
            session = nil
            do { root = try FileSystem.resolve(BytePath(contextDirectory)) } catch { throw RestoreError.system(error) }
            contextPrefix = BytePath([])
            withoutHistory = "\(contextDirectory) is not in a git repository"
        }
        ignore = dockerContext ? try DockerIgnore(contextDirectory: root.appending(contextPrefix)) : .none
        var options = options
        // Restore and hash only below the context (any bytes in its name, no pattern matching).
        options.paths = contextPrefix.isEmpty ? nil : [contextPrefix]
        options.hashDirtyFiles = true
        self.options = options
    }

    /// Restores the context's clean files to their commit times, then describes the context.
    /// Returns the manifest and a one-line summary of what restore changed.
    public func restoreAndBuild() throws -> (manifest: Manifest, summary: String) {
        guard let session, withoutHistory == nil else {
            let manifest = try describeWithoutHistory()
            return (manifest, "note: times not restored (\(withoutHistory ?? "")): manifest of \(manifest.entries.count) file(s), all untracked")
        }
        let lock = try session.lock()
        defer { _ = lock }
        var plan = try session.plan(options)
        // The context holds the submodules' files too: always recurse.
        let submodules = try Submodules(of: session, plan: plan, options: options)
        // Only the files the manifest lists get commit times: a file .dockerignore excludes is not in the
        // context, and a host build that reads it must keep the time git gave it.
        leaveOutsideContextAlone(&plan, at: BytePath([]))
        for index in submodules.planned.indices { leaveOutsideContextAlone(&submodules.planned[index].plan, at: submodules.planned[index].path) }
        let applied = [try session.apply(plan)] + (try submodules.apply().map(\.summary))
        let manifest = try describe(plan, submodules)
        var summary = "restored \(applied.reduce(0) { $0 + $1.filesSet }) file(s), \(applied.reduce(0) { $0 + $1.alreadyRight }) already right; "
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
    private func leaveOutsideContextAlone(_ plan: inout RestorePlan, at path: BytePath) {
        for index in plan.files.indices {
            let full = path.appending(plan.files[index].path)
            if !full.isWithin(contextPrefix) || ignore.excludes(relativeToContext(full)) { plan.files[index].target = nil }
        }
    }

    private func describe(_ plan: RestorePlan, _ submodules: Submodules) throws -> Manifest {
        var entries = try untrackedEntries(tracked: plan.files.map(\.path)) + submoduleEntries(submodules)
        var dirty = 0
        for file in plan.files {
            guard file.path.isWithin(contextPrefix), let current = file.current, let mode = file.worktreeMode else { continue }
            let relative = relativeToContext(file.path)
            if ignore.excludes(relative) { continue }
            switch file.state {
            case .clean:
                guard let target = file.target else { continue }
                entries.append(ManifestEntry(path: relative, objectID: file.worktreeObjectID ?? file.objectID,
                                             modificationTime: target, mode: file.mode))
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

    /// The untracked, unignored files (and symlinks) below the context that `.dockerignore` keeps in
    /// it: of the working tree's own repository, or of the submodule `submodule` at `path`.
    func untrackedEntries(tracked: [BytePath], in submodule: RestoreSession? = nil, at path: BytePath = BytePath([])) throws -> [ManifestEntry] {
        let prefix = contextPrefix
        var scan = UntrackedScan(repository: submodule?.repository ?? session?.repository, workdir: submodule?.workdir ?? root,
                                 indexPaths: tracked, isSelected: { path.appending($0).isWithin(prefix) || prefix.isWithin(path.appending($0)) })
        scan.expandingDirectories = true
        // Without `!` rules nothing below an excluded directory can be in the context: don't read it.
        if !ignore.hasReincludes { scan.isPruned = { [self] in isExcluded(path.appending($0)) } }
        var entries: [ManifestEntry] = []
        for found in try scan.run().untracked {
            let full = path.appending(found)
            guard full.isWithin(prefix), full != prefix, !ignore.excludes(relativeToContext(full)) else { continue }
            if let entry = try untrackedEntry(full) { entries.append(entry) }
        }
        return entries
    }

    /// Whether the working-tree path lies in the context but `.dockerignore` keeps it out.
    func isExcluded(_ path: BytePath) -> Bool { path.isWithin(contextPrefix) && ignore.excludes(relativeToContext(path)) }

    /// The entry for an untracked working-tree path below the context: its current bytes and mtime;
    /// nil when it is gone, or a socket, fifo or device (nothing a build reads as source).
    func untrackedEntry(_ path: BytePath) throws -> ManifestEntry? {
        let full = root.appending(path)
        do throws(SystemError) {
            guard let status = try FileSystem.statusIfPresent(full), let mode = status.gitMode else { return nil }
            return ManifestEntry(path: relativeToContext(path), objectID: try BlobHasher.hash(fileAt: full),
                                 modificationTime: status.modificationTime, mode: mode, isUntracked: true)
        } catch {
            if error.isNotFound { return nil }
            throw RestoreError.unreadable(error)
        }
    }

    /// A working-tree path below the context, relative to the context directory.
    func relativeToContext(_ path: BytePath) -> BytePath {
        BytePath(Array(path.bytes.dropFirst(contextPrefix.isEmpty ? 0 : contextPrefix.bytes.count + 1)))
    }
}
