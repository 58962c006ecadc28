import GitKit
import MtimeCore
import MtimeManifest

/// The submodules a recursive restore covers, nested ones included: each initialized one that is
/// checked out at the commit its superproject records and has no modified, staged or deleted file
/// is opened as a `RestoreSession` of its own (its own history, lock and caches) and planned; every
/// other one is left alone, with the reason (docs/restore.md, "Submodules"). Paths are relative to
/// the outermost working tree.
public final class Submodules {
    /// A submodule planned like any repository: its clean files get the times of its own history.
    public struct Planned {
        public let path: BytePath
        public let session: RestoreSession
        public var plan: RestorePlan
        /// Held from planning through `apply`: no other restore of the submodule interleaves.
        let lock: FileLock
    }

    /// A submodule recursion did not enter, and why. Its files keep their mtimes.
    public struct LeftAlone: Sendable, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            /// No repository checked out there (`git submodule update --init` was not run).
            case notInitialized
            /// Checked out at another commit than the one the superproject's HEAD records (nil:
            /// the submodule was added but not committed).
            case notAtRecordedCommit(recorded: ObjectID?, checkedOut: ObjectID)
            /// The superproject's index records another commit than its HEAD (a staged bump).
            case staged
            /// `count` tracked files modified, staged or deleted; `first` relative to the submodule.
            case dirty(count: Int, first: BytePath)
            /// Its directory or repository can't be used (a symlink on the way, a `.git` that names
            /// no repository, a working tree elsewhere, no commit): why.
            case unusable(String)
        }

        public let path: BytePath
        public let reason: Reason

        public var description: String {
            switch reason {
            case .notInitialized: return "\(path): not initialized (git submodule update --init)"
            case .notAtRecordedCommit(nil, let checkedOut):
                return "\(path): checked out at \(checkedOut.short), but no commit of it is recorded in the superproject's HEAD"
            case .notAtRecordedCommit(let recorded?, let checkedOut):
                return "\(path): checked out at \(checkedOut.short), the superproject records \(recorded.short) (git submodule update)"
            case .staged: return "\(path): a new commit of it is staged in the superproject, not committed"
            case .dirty(let count, let first): return "\(path): \(count) tracked file(s) modified, staged or deleted (first: \(first))"
            case .unusable(let why): return "\(path): \(why)"
            }
        }
    }

    public internal(set) var planned: [Planned] = []
    public internal(set) var leftAlone: [LeftAlone] = []
    /// Each repository opened so far (its resolved common git dir) and where.
    private var repositories: [BytePath: BytePath] = [:]
    /// Where a submodule's git directories may be (resolved): the outermost working tree and its git
    /// directories (`.git/modules/…`). A `.git` leading anywhere else would have restore write its
    /// lock and caches outside the root it was given.
    private var repositoryRoots: [BytePath] = []

    /// Plans every submodule below `session`'s working tree that `options` can select (its
    /// pathspec and paths are matched against superproject paths), recursively; `plan` is the
    /// session's own plan for `options`. Throws what planning a repository throws (an unreadable
    /// file, a lock held too long), having changed nothing.
    public init(
        of session: RestoreSession, plan: RestorePlan, options: RestoreOptions, fetchingHistory fetch: HistoryFetch? = nil,
        lockTimeout: Double = 5
    ) throws {
        // Every submodule's plan selects with the superproject's selection, parsed once.
        var options = options
        options.selection = try session.selection(for: options)
        // A submodule's plan is checked for dirty files before anything is applied.
        options.checksIndexedFilesWhileSetting = false
        let scope = options.selection?.historyScope
        repositories[(try? FileSystem.resolve(session.repository.commonDirectory)) ?? session.repository.commonDirectory] = BytePath([])
        repositoryRoots = [session.workdir, session.repository.gitDirectory, session.repository.commonDirectory]
            .compactMap { try? FileSystem.resolve($0) }
        try collect(below: session, plan: plan, at: BytePath([]), scope: scope, options: options, fetch: fetch, lockTimeout: lockTimeout)
    }

    /// Sets the planned times in every planned submodule (`RestoreSession.apply` for each).
    public func apply() throws -> [(path: BytePath, summary: RestoreSummary)] {
        try planned.map { ($0.path, try $0.session.apply($0.plan)) }
    }

    /// Clean files whose time is a shallow boundary's, over all planned submodules.
    public var shallowBoundaryFiles: Int { planned.reduce(0) { $0 + $1.plan.shallowBoundaryFiles } }

    private func collect(
        below session: RestoreSession, plan: RestorePlan, at prefix: BytePath, scope: [BytePath]?,
        options: RestoreOptions, fetch: HistoryFetch?, lockTimeout: Double
    ) throws {
        // Without a pathspec the plan holds every gitlink that can be selected: none, nothing to read.
        // A pattern may reach below a gitlink it doesn't match itself (`sub/src`): then the index says.
        if options.pathspec.isEmpty && !plan.files.contains(where: { $0.mode == Tree.submoduleMode }) { return }
        let index: [IndexEntry]
        index = try session.indexEntries()
        var gitlinks: [BytePath: (entry: IndexEntry?, conflicted: Bool)] = [:]
        for entry in index where entry.mode == Tree.submoduleMode {
            if entry.stage == 0 {
                gitlinks[entry.path, default: (nil, false)].entry = entry
            } else {
                gitlinks[entry.path, default: (nil, false)].conflicted = true
            }
        }
        guard !gitlinks.isEmpty else { return }
        let objects: ObjectDatabase
        do { objects = try ObjectDatabase(session.repository) } catch { throw RestoreError.git(error) }
        for (relative, gitlink) in gitlinks.sorted(by: { $0.key < $1.key }) {
            let path = prefix.appending(relative)
            guard Submodules.scope(scope, within: path) != [] else { continue }
            // An index is anyone's file: a gitlink at `../x` or `a/.git/b` would lead out of the tree.
            if let why = Submodules.unsafePathReason(path) {
                leftAlone.append(LeftAlone(path: path, reason: .unusable("its path is unsafe (\(why)): never entered")))
                continue
            }
            guard let entry = gitlink.entry, !gitlink.conflicted else {
                leftAlone.append(LeftAlone(path: path, reason: .unusable("its gitlink has an unresolved merge conflict")))
                continue
            }
            switch try open(relative, of: session, at: path, recorded: entry.objectID, objects: objects) {
            case .leftAlone(let reason):
                leftAlone.append(LeftAlone(path: path, reason: reason))
            case .opened(let child):
                // Two paths sharing one repository (a `.git` file naming another's git dir) would
                // wait on their own lock; the second is no submodule of its own.
                let common = (try? FileSystem.resolve(child.repository.commonDirectory)) ?? child.repository.commonDirectory
                if let owner = repositories[common] {
                    leftAlone.append(
                        LeftAlone(path: path, reason: .unusable("its repository is the one at \(owner.isEmpty ? "the top" : "\(owner)")")))
                    continue
                }
                repositories[common] = path
                var childOptions = options
                childOptions.submodulePath = path
                let lock: FileLock, plan: RestorePlan
                do {
                    lock = try child.lock(timeout: lockTimeout)
                    plan = try child.plan(childOptions, fetchingHistory: fetch)
                } catch let error as RestoreError {
                    throw RestoreError.inSubmodule(path, error)
                }
                let dirty = plan.files.filter { [.modified, .staged, .deleted].contains($0.state) }
                if let first = dirty.first {
                    leftAlone.append(LeftAlone(path: path, reason: .dirty(count: dirty.count, first: first.path)))
                    continue
                }
                planned.append(Planned(path: path, session: child, plan: plan, lock: lock))
                try collect(below: child, plan: plan, at: path, scope: scope, options: options, fetch: fetch, lockTimeout: lockTimeout)
            }
        }
    }

    private enum Opening {
        case opened(RestoreSession)
        case leftAlone(LeftAlone.Reason)
    }

    /// The submodule at `relative` in `parent`'s working tree, as a session, if it is initialized,
    /// reachable without a symlink, its own working tree, and at the commit `parent`'s HEAD and
    /// index (`recorded`) both record.
    private func open(
        _ relative: BytePath, of parent: RestoreSession, at path: BytePath,
        recorded indexCommit: ObjectID, objects: ObjectDatabase
    ) throws -> Opening {
        // Every directory on the way and the submodule's own must be real directories: a symlink could
        // lead out of the working tree, and git never looks through one.
        var directory = BytePath([])
        for component in relative.components {
            directory = directory.appending(BytePath(Array(component)))
            let status: FileStatus?
            do { status = try FileSystem.statusIfPresent(parent.workdir.appending(directory)) } catch { throw RestoreError.system(error) }
            guard let status else { return .leftAlone(.notInitialized) }
            guard status.kind == .directory else {
                return .leftAlone(.unusable("\(prefixOf(path, relative, directory)) is not a directory (a symlink or a file)"))
            }
        }
        let full = parent.workdir.appending(relative)
        do {
            guard try FileSystem.statusIfPresent(full.appending(".git")) != nil else { return .leftAlone(.notInitialized) }
        } catch {
            throw RestoreError.system(error)
        }
        let child: RestoreSession
        do {
            // The submodule's own repository, found from its `.git`, never the superproject's.
            // As git does for a submodule, without the superproject's GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, ….
            child = try RestoreSession(
                discoveringFrom: full,
                environment: parent.environment.forSubmodule())
        } catch let error as RestoreError {
            if case .unbornHead = error { return .leftAlone(.unusable("it has no commit checked out")) }
            return .leftAlone(.unusable("its repository can't be opened: \(error)"))
        }
        guard let expected = try? FileSystem.resolve(full), let actual = try? FileSystem.resolve(child.workdir),
            expected == actual
        else {
            return .leftAlone(.unusable("its .git names a repository whose working tree is \(child.workdir), not this directory"))
        }
        for directory in [child.repository.gitDirectory, child.repository.commonDirectory] {
            let resolved = try? FileSystem.resolve(directory)
            guard let resolved, repositoryRoots.contains(where: { resolved.isWithin($0) }) else {
                return .leftAlone(
                    .unusable("its repository \(resolved ?? directory) is outside the superproject's working tree and git directory"))
            }
        }
        let checkedOut: ObjectID
        do { checkedOut = try child.repository.headCommitID() } catch { return .leftAlone(.unusable("its HEAD can't be read: \(error)")) }
        let headCommit = try headGitlink(relative, in: parent, objects: objects)
        guard let recorded = headCommit, recorded == checkedOut else {
            if headCommit != nil && indexCommit == checkedOut { return .leftAlone(.staged) }
            return .leftAlone(.notAtRecordedCommit(recorded: headCommit, checkedOut: checkedOut))
        }
        guard indexCommit == recorded else { return .leftAlone(.staged) }
        return .opened(child)
    }

    /// Why a gitlink path can't name a submodule inside the working tree (nil if it can): a manifest
    /// path's rules (no `..`, `.`, empty or absolute) and no `.git` component in any case.
    static func unsafePathReason(_ path: BytePath) -> String? {
        if let why = ManifestEntry.unsafePathReason(path) { return why }
        if path.components.contains(where: { String(decoding: $0, as: UTF8.self).lowercased() == ".git" }) { return "contains '.git'" }
        return nil
    }

    private func prefixOf(_ path: BytePath, _ relative: BytePath, _ directory: BytePath) -> BytePath {
        BytePath(Array(path.bytes.dropLast(relative.bytes.count))).appending(directory)
    }

    /// The commit `parent`'s HEAD records at the gitlink `relative`; nil when HEAD has no gitlink there.
    private func headGitlink(_ relative: BytePath, in parent: RestoreSession, objects: ObjectDatabase) throws -> ObjectID? {
        do {
            var tree = try objects.tree(try objects.commit(try parent.repository.headCommitID()).tree)
            let components = relative.components
            for (position, component) in components.enumerated() {
                guard let entry = tree.entries.first(where: { tree.name(of: $0).elementsEqual(component) }) else { return nil }
                if position == components.count - 1 { return entry.mode == Tree.submoduleMode ? entry.id : nil }
                guard entry.isTree else { return nil }
                tree = try objects.tree(entry.id)
            }
            return nil
        } catch {
            throw parent.missingObjectError(error)
        }
    }

    /// A history scope (nil: everything; see `PathSelection.historyScope`) seen from inside the
    /// submodule at `path`: nil when it covers the whole submodule, its parts below `path` made
    /// relative to it, or empty when nothing in the submodule can be selected.
    static func scope(_ scope: [BytePath]?, within path: BytePath) -> [BytePath]? {
        guard let scope, !path.isEmpty else { return scope }
        var inside: [BytePath] = []
        for entry in scope {
            if path.isWithin(entry) { return nil }
            if let below = entry.relative(to: path) { inside.append(below) }
        }
        return inside
    }
}

extension ObjectID {
    /// The first seven hex digits, as git abbreviates.
    var short: String { String(hex.prefix(7)) }
}
