import GitKit
import Glibc
import MtimeCore

/// Finds, for every file of HEAD's tree, the commit whose time it should get.
///
/// `.firstParent`: walks HEAD's first-parent line from HEAD; a file's commit is the newest one whose
/// tree entry for the path (object id or mode) differs from its first parent's, roots and shallow
/// boundary commits comparing with the empty tree — what `git log -1 --first-parent -- PATH` prints.
///
/// `.all` (git-restore-mtime's default, which runs `git whatchanged`): commits reachable from HEAD in
/// `git log`'s default order — a queue by committer date, newest first, equal dates in the order they
/// were queued, each popped commit queueing its not-yet-seen parents in parent order. Pass 1: the
/// first non-merge commit (in that order) whose entry for the path differs from its parent's (the
/// empty tree for roots and shallow boundaries) gives its time, as
/// `git log --raw --no-renames --no-merges` lists it first. Pass 2, only for paths pass 1 left
/// unresolved (a file only a merge introduced): the first merge, in the same order, whose entry
/// differs from any of its parents' (git-restore-mtime's retry with `-m`).
///
/// A persistent cache (`cacheDirectory`) holds snapshots of finished full runs; a later run stops
/// walking at the first commit with a snapshot (for `.all`: only when it is the last commit queued,
/// so the rest of the walk is exactly that snapshot's walk) and takes the snapshot's answer for the
/// paths still open.
public struct HistoryEngine {
    public let repository: Repository
    public let mode: HistoryMode
    public let cacheDirectory: BytePath?
    public let only: [BytePath]?
    public let progress: (@Sendable (_ commitsWalked: Int) -> Void)?
    /// Threads for the walk, each on its own repository handle. `.firstParent` uses at most two: the
    /// newer and the older half of the line. `.all` splits the open paths into this many runs. The
    /// result does not depend on it. Defaults to the online CPUs, at most 4.
    public var maximumThreads: Int = Processors.workerThreads
    /// Authenticates the snapshots this run writes, and trusts those it reads whose MAC verifies
    /// (`CacheKey`); nil: snapshots outside the repository's own directory are checked.
    public var cacheKey: CacheKey?

    /// cacheDirectory: where the persistent cache lives (nil: no cache); restore passes
    /// `<common git dir>/git-mtime`. `only`: restrict to these paths and everything below them
    /// (nil: all); the walk stops as soon as every requested path is resolved.
    public init(
        repository: Repository, mode: HistoryMode = .firstParent, cacheDirectory: BytePath?,
        only: [BytePath]? = nil, progress: (@Sendable (_ commitsWalked: Int) -> Void)? = nil,
        cacheKey: CacheKey? = nil
    ) {
        self.cacheKey = cacheKey
        self.repository = repository
        self.mode = mode
        self.cacheDirectory = cacheDirectory
        self.only = only.map { $0.map(HistoryEngine.normalized) }
        self.progress = progress
    }

    /// A thread pays for its own root-level tree reads: below this many open files per thread, fewer threads.
    static let minimumFilesPerThread = 64
    /// A run that reached a snapshot within fewer commits than this writes none of its own. Well
    /// inside `HistoryCache.hasSnapshot(near:)`'s reach, so such a walk stays on one thread.
    public static let snapshotInterval = 16

    public func run() throws -> HistoryResult {
        if repository.isHeadUnborn { throw HistoryError.unbornHead }
        let objects = try ObjectDatabase(repository)
        let head = try repository.headCommitID()
        // A grafted commit takes the graft's parents even when the shallow file lists it (git reads
        // the graft file first and keeps the first entry for a commit).
        let shallow = try repository.shallowBoundaryCommits().subtracting(objects.rewrites.grafts.keys)
        let headCommit = try objects.commit(head)
        let boundary = HistoryCache.boundary(of: shallow, rewrites: objects.rewrites)
        // Only a full run's trees are worth keeping: a pathspec run reads a part of them.
        let trees = only == nil ? cacheDirectory.map { TreeCache(directory: $0) } : nil
        var trie = try PathTrie(tree: headCommit.tree, objects: objects, only: only, trees: trees)
        trees?.storeUsedTrees()
        let ownDirectory = HistoryCacheLocation.defaultDirectory(of: repository)
        let cache = cacheDirectory.map { directory in
            HistoryCache(
                directory: directory, mode: mode, boundary: boundary,
                trustList: directory == ownDirectory ? nil : ownDirectory.appending(HistoryCache.trustListName),
                key: cacheKey)
        }
        // Near a snapshot the walk is short: a second thread would only load the snapshot again.
        let nearSnapshot = cache?.hasSnapshot(near: headCommit, objects) ?? false
        let threads = nearSnapshot ? 1 : max(1, min(maximumThreads, trie.unresolvedFiles / HistoryEngine.minimumFilesPerThread))
        let outcomes: [WalkOutcome]
        // Each thread opens its own handle on the same location.
        let location = repository.location
        let packs = objects.sharedPacks
        let walkMode = mode, walkProgress = progress
        if threads == 1 {
            outcomes = [
                try Walk.run(
                    trie, objects: objects, from: headCommit, mode: mode, shallow: shallow,
                    cache: cache, progress: progress)
            ]
        } else if mode == .firstParent {
            // Two halves of the first-parent line, each diffing every open path: the newer half from
            // HEAD, the older one from about the middle (see LineSplit). A path takes the newer half's
            // answer when it has one.
            let split = LineSplit()
            outcomes = try inParallel(2) { [trie] part in
                let objects = try ObjectDatabase(try Repository(location), sharing: packs)
                return try Walk.run(
                    trie, objects: objects, from: headCommit, mode: walkMode, shallow: shallow, cache: cache,
                    progress: part == 0 ? walkProgress : nil, split: (split, isOlderHalf: part == 1))
            }
        } else {
            let parts = trie.partitioned(into: threads)
            outcomes = try inParallel(parts.count) { part in
                let objects = try ObjectDatabase(try Repository(location), sharing: packs)
                return try Walk.run(
                    parts[part], objects: objects, from: headCommit, mode: walkMode, shallow: shallow,
                    cache: cache, progress: part == 0 ? walkProgress : nil)
            }
        }

        // Halves of the line walk different commits; path parts all walk the same ones.
        let commitsWalked =
            mode == .firstParent
            ? outcomes.map(\.commitsWalked).reduce(0, +)
            : outcomes.map(\.commitsWalked).max() ?? 0
        let usedCache = outcomes.contains { $0.usedCache }
        // A snapshot costs a write of every path: after a short walk from one, the next run may as
        // well walk those few commits again (the walk stops at the nearest snapshot).
        // A snapshot is read by one pass in byte order: a malformed tree's files out of it get none.
        let storesSnapshot =
            cache != nil && only == nil && trie.filesInByteOrder
            && !(usedCache && commitsWalked < HistoryEngine.snapshotInterval)
        // Taken, not copied: the walks are done with the trie, so the files are set in place.
        var files = trie.takeFiles()
        var shallowBoundaryFiles = 0
        var snapshot: [(path: BytePath, change: Change)] = []
        if storesSnapshot { snapshot.reserveCapacity(files.count) }
        for index in files.indices where !files[index].isSubmodule {
            // By position: `first(where:)` would copy an outcome (four arrays) per file.
            guard let answering = outcomes.indices.first(where: { outcomes[$0].resolution[index] >= 0 }) else {
                // The older half may have failed on history the answer needed after all.
                if let failure = outcomes.lazy.compactMap(\.failure).first { throw failure }
                throw HistoryError.unresolvedPath(files[index].path)
            }
            let change = outcomes[answering].changes[Int(outcomes[answering].resolution[index])]
            files[index].lastChange = change.lastChange
            if change.lastChange.isShallowBoundary { shallowBoundaryFiles += 1 }
            if storesSnapshot { snapshot.append((files[index].path, change)) }
        }
        // Sorted as `HistoryResult.files` promises (the resolutions above are by the trie's order).
        if !trie.filesInByteOrder { files.sort { $0.path < $1.path } }
        var trusted = outcomes.flatMap(\.checkedSnapshots)
        if let cache, storesSnapshot { trusted.append(cache.store(head, snapshot)) }
        cache?.trust(trusted)
        progress?(commitsWalked)
        return HistoryResult(
            head: head, files: files, commitsWalked: commitsWalked,
            shallowBoundaryFiles: shallowBoundaryFiles, usedCache: usedCache)
    }

    /// `a/b/` and `./a/b` name the same path as `a/b`; `.` and `` name the whole tree.
    private static func normalized(_ path: BytePath) -> BytePath {
        let parts = path.components.filter { $0 != [UInt8(ascii: ".")] }
        return BytePath(Array(parts.joined(separator: [UInt8(ascii: "/")])))
    }
}
