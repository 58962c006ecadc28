import Dispatch
import GitKit
import MtimeCore
import Synchronization
import Glibc

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
    public var maximumThreads: Int = HistoryEngine.defaultThreads

    /// cacheDirectory: where the persistent cache lives (nil: no cache); restore passes
    /// `<common git dir>/git-mtime`. `only`: restrict to these paths and everything below them
    /// (nil: all); the walk stops as soon as every requested path is resolved.
    public init(repository: Repository, mode: HistoryMode = .firstParent, cacheDirectory: BytePath?,
                only: [BytePath]? = nil, progress: (@Sendable (_ commitsWalked: Int) -> Void)? = nil) {
        self.repository = repository
        self.mode = mode
        self.cacheDirectory = cacheDirectory
        self.only = only.map { $0.map(HistoryEngine.normalized) }
        self.progress = progress
    }

    /// A thread pays for its own root-level tree reads: below this many open files per thread, fewer threads.
    static let minimumFilesPerThread = 64
    static let defaultThreads = max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    public func run() throws -> HistoryResult {
        if repository.isHeadUnborn { throw HistoryError.unbornHead }
        let objects = try ObjectDatabase(repository)
        let head = try repository.headCommitID()
        let shallow = try repository.shallowBoundaryCommits()
        let headCommit = try objects.commit(head)
        let identity = try cacheIdentity(shallow: shallow)
        // Only a full run's trees are worth keeping: a pathspec run reads a part of them.
        let trees = only == nil ? cacheDirectory.map { TreeCache(directory: $0, identity: identity) } : nil
        let trie = try PathTrie(tree: headCommit.tree, objects: objects, only: only, trees: trees)
        trees?.storeUsedTrees()
        let cache = cacheDirectory.map { HistoryCache(directory: $0, mode: mode, identity: identity) }
        // Near a snapshot the walk is short: a second thread would only load the snapshot again.
        let nearSnapshot = cache?.hasSnapshot(near: headCommit, objects) ?? false
        let threads = nearSnapshot ? 1 : max(1, min(maximumThreads, trie.unresolvedFiles / HistoryEngine.minimumFilesPerThread))
        let outcomes: [WalkOutcome]
        let gitDirectory = repository.gitDirectory
        let walkMode = mode, walkProgress = progress
        if threads == 1 {
            outcomes = [try Walk.run(trie, objects: objects, from: headCommit, mode: mode, shallow: shallow,
                                     cache: cache, progress: progress)]
        } else if mode == .firstParent {
            // Two halves of the first-parent line, each diffing every open path: the newer half from
            // HEAD, the older one from about the middle (see LineSplit). A path takes the newer half's
            // answer when it has one.
            let split = LineSplit()
            outcomes = try inParallel(2) { part in
                let objects = try ObjectDatabase(try Repository(gitDirectory: gitDirectory))
                return try Walk.run(trie, objects: objects, from: headCommit, mode: walkMode, shallow: shallow, cache: cache,
                                    progress: part == 0 ? walkProgress : nil, split: (split, isOlderHalf: part == 1))
            }
        } else {
            let parts = trie.partitioned(into: threads)
            outcomes = try inParallel(parts.count) { part in
                let objects = try ObjectDatabase(try Repository(gitDirectory: gitDirectory))
                return try Walk.run(parts[part], objects: objects, from: headCommit, mode: walkMode, shallow: shallow,
                                    cache: cache, progress: part == 0 ? walkProgress : nil)
            }
        }

        var files = trie.files
        var shallowBoundaryFiles = 0
        var snapshot: [(path: BytePath, change: Change)] = []
        for index in files.indices where !files[index].isSubmodule {
            guard let outcome = outcomes.first(where: { $0.resolution[index] >= 0 }) else {
                // The older half may have failed on history the answer needed after all.
                if let failure = outcomes.lazy.compactMap(\.failure).first { throw failure }
                throw HistoryError.unresolvedPath(files[index].path)
            }
            let change = outcome.changes[Int(outcome.resolution[index])]
            files[index].lastChange = change.lastChange
            if change.lastChange.isShallowBoundary { shallowBoundaryFiles += 1 }
            snapshot.append((files[index].path, change))
        }
        // Halves of the line walk different commits; path parts all walk the same ones.
        let commitsWalked = mode == .firstParent ? outcomes.map(\.commitsWalked).reduce(0, +)
                                                 : outcomes.map(\.commitsWalked).max() ?? 0
        let usedCache = outcomes.contains { $0.usedCache }
        if let cache, only == nil, !(usedCache && commitsWalked == 0) {
            cache.store(head, snapshot)
        }
        progress?(commitsWalked)
        return HistoryResult(head: head, files: files, commitsWalked: commitsWalked,
                             shallowBoundaryFiles: shallowBoundaryFiles, usedCache: usedCache)
    }

    /// The repository (its common dir) and its shallow boundary: a snapshot is valid only for both.
    private func cacheIdentity(shallow: Set<ObjectID>) throws(SystemError) -> ObjectID {
        var bytes = repository.commonDirectory.bytes
        bytes.append(0)
        for id in shallow.sorted() { bytes.append(contentsOf: id.bytes) }
        return Checksum.sha1(bytes)
    }

    /// `a/b/` and `./a/b` name the same path as `a/b`; `.` and `` name the whole tree.
    private static func normalized(_ path: BytePath) -> BytePath {
        let parts = path.components.filter { $0 != [UInt8(ascii: ".")] }
        return BytePath(Array(parts.joined(separator: [UInt8(ascii: "/")])))
    }
}

/// Runs `body(0..<count)` on `count` threads and returns the results in order; rethrows the first error.
private func inParallel<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: count) { index in
        let result = Result { try body(index) }
        results.withLock { $0[index] = result }
    }
    return try results.withLock { slots in try slots.map { try $0!.get() } }
}

/// Where the two halves of a split first-parent walk meet. The newer half claims commits one by
/// one from HEAD; the older half, once it has read the line, picks where it starts (see `start`)
/// and the newer half stops there.
final class LineSplit: Sendable {
    private struct State {
        var claimed = 0
        var olderStart = Int.max
    }

    private let state = Mutex(State())
    private let finished = Atomic<Bool>(false)

    /// The newer half, before each commit: false once the older half has taken it.
    func claimNext() -> Bool {
        state.withLock { state in
            guard state.claimed < state.olderStart else { return false }
            state.claimed += 1
            return true
        }
    }

    /// The older half's first commit, for a line of `n` commits of which the newer half has
    /// claimed `c` while the older half read the whole line. Both halves then have equal work left
    /// if a commit costs the newer half what it costs the older one plus reading it, and reading
    /// the line took as long as the newer half's `c` commits: n² / (2n − c), n/2 when c is 0.
    func start(lineCount n: Int) -> Int {
        state.withLock { state in
            let c = state.claimed
            let balanced = c >= n ? c : Int((Double(n) * Double(n) / Double(2 * n - c)).rounded())
            state.olderStart = max(c, balanced)
            return state.olderStart
        }
    }

    /// The newer half ended without handing over: the older half's answers cannot matter.
    func finishNewerHalf() { finished.store(true, ordering: .releasing) }

    var newerHalfFinished: Bool { finished.load(ordering: .acquiring) }
}

/// What one walk found: per file of the trie, the index of its change (-1: not this walk's file).
/// Unchecked: `failure` is handed once from the walking thread to the joining one.
struct WalkOutcome: @unchecked Sendable {
    var resolution: [Int32]
    var changes: [Change]
    var commitsWalked: Int
    var usedCache: Bool
    /// The older half's error: it reads history a serial walk might never reach (objects missing
    /// there), so it fails the run only if a path needs its answers.
    var failure: (any Error)? = nil
}

/// The state of one run's walk.
private struct Walk {
    var differ: TreeDiffer
    let objects: ObjectDatabase
    let shallow: Set<ObjectID>
    let cache: HistoryCache?
    let progress: (@Sendable (_ commitsWalked: Int) -> Void)?
    var commitsWalked = 0
    var usedCache = false

    private init(differ: TreeDiffer, objects: ObjectDatabase, shallow: Set<ObjectID>, cache: HistoryCache?,
                 progress: (@Sendable (_ commitsWalked: Int) -> Void)?) {
        self.differ = differ
        self.objects = objects
        self.shallow = shallow
        self.cache = cache
        self.progress = progress
    }

    static func run(_ trie: PathTrie, objects: ObjectDatabase, from head: Commit, mode: HistoryMode,
                    shallow: Set<ObjectID>, cache: HistoryCache?,
                    progress: (@Sendable (_ commitsWalked: Int) -> Void)?,
                    split: (LineSplit, isOlderHalf: Bool)? = nil) throws -> WalkOutcome {
        var walk = Walk(differ: TreeDiffer(objects: objects, trie: trie), objects: objects, shallow: shallow,
                        cache: cache, progress: progress)
        var failure: (any Error)?
        switch (mode, split) {
        case (.firstParent, nil): try walk.firstParent(from: head, split: nil)
        case (.firstParent, let (split, isOlderHalf)?):
            if isOlderHalf {
                do { try walk.olderHalf(from: head, split: split) } catch { failure = error }
            } else {
                try walk.firstParent(from: head, split: split)
            }
        case (.all, _): try walk.allHistory(from: head)
        }
        return WalkOutcome(resolution: walk.differ.trie.resolution, changes: walk.differ.changes,
                           commitsWalked: walk.commitsWalked, usedCache: walk.usedCache, failure: failure)
    }

    /// From `head` down the first-parent line; with `split`, only until the older half takes over.
    mutating func firstParent(from head: Commit, split: LineSplit?) throws {
        var handedOver = false
        // Whatever else ends this walk (all resolved, a snapshot, the root, an error) ends the older half's too.
        defer { if !handedOver { split?.finishNewerHalf() } }
        var commit = head
        while differ.trie.unresolvedFiles > 0 {
            if let split, !split.claimNext() {
                handedOver = true
                return
            }
            if let answers = snapshotAnswers(at: commit.id) {
                for (leaf, change) in answers { differ.resolve(leaf, as: change) }
                return
            }
            let isBoundary = shallow.contains(commit.id)
            let parent = isBoundary ? nil : commit.parents.first
            let parentCommit = try parent.map { id throws(GitError) in try objects.commit(id) }
            try compare(commit, with: parentCommit, boundary: isBoundary)
            guard let parentCommit else { return }
            commit = parentCommit
        }
    }

    /// The older half: reads the whole line's commits (no trees), then walks from the point
    /// `LineSplit.start` picks down to the root. Gives up as soon as the newer half finishes
    /// without handing over.
    mutating func olderHalf(from head: Commit, split: LineSplit) throws {
        var line = [head]
        while !split.newerHalfFinished, let last = line.last, !shallow.contains(last.id), let parent = last.parents.first {
            line.append(try objects.commit(parent))
        }
        guard !split.newerHalfFinished else { return }
        var index = split.start(lineCount: line.count)
        while index < line.count, differ.trie.unresolvedFiles > 0, !split.newerHalfFinished {
            let commit = line[index]
            if let answers = snapshotAnswers(at: commit.id) {
                for (leaf, change) in answers { differ.resolve(leaf, as: change) }
                return
            }
            let isBoundary = shallow.contains(commit.id)
            try compare(commit, with: isBoundary || index + 1 == line.count ? nil : line[index + 1], boundary: isBoundary)
            index += 1
        }
    }

    /// One step of the first-parent line: resolves the open paths whose entries differ from the
    /// parent's (the empty tree for a root or shallow boundary).
    private mutating func compare(_ commit: Commit, with parent: Commit?, boundary: Bool) throws {
        try differ.resolveDifferences(newer: commit.tree, older: parent?.tree,
                                      as: change(commit, boundary: boundary, merge: false))
        counted()
    }

    mutating func allHistory(from head: Commit) throws {
        // Pass 1: non-merge commits. A snapshot is usable only when its commit is the last one queued:
        // then the rest of this walk is exactly the walk that made the snapshot.
        var queue = CommitQueue(head)
        var snapshotCommit: ObjectID?
        var mergeAnswers: [(leaf: Int32, change: Change)] = []
        while differ.trie.unresolvedFiles > 0, let commit = queue.pop() {
            if queue.isEmpty, let answers = snapshotAnswers(at: commit.id) {
                for (leaf, change) in answers {
                    if change.isMerge { mergeAnswers.append((leaf, change)) } else { differ.resolve(leaf, as: change) }
                }
                snapshotCommit = commit.id
                break
            }
            let parents = try queue.queueParents(of: commit, shallow: shallow, objects)
            counted()
            if parents.count <= 1 {
                let older = try parents.first.map { id throws(GitError) in try queue.commit(id, objects).tree }
                try differ.resolveDifferences(newer: commit.tree, older: older,
                                              as: change(commit, boundary: shallow.contains(commit.id), merge: false))
            }
        }
        guard differ.trie.unresolvedFiles > 0 else { return }
        // Pass 2: paths no non-merge commit touched get the first merge that differs from a parent;
        // past the snapshot's commit, the snapshot already knows that merge.
        queue = CommitQueue(head)
        while differ.trie.unresolvedFiles > 0, let commit = queue.pop() {
            if commit.id == snapshotCommit, queue.isEmpty { break }
            let parents = try queue.queueParents(of: commit, shallow: shallow, objects)
            guard parents.count > 1 else { continue }
            counted()
            for parent in parents {
                try differ.resolveDifferences(newer: commit.tree, older: try queue.commit(parent, objects).tree,
                                              as: change(commit, boundary: false, merge: true))
            }
        }
        for (leaf, change) in mergeAnswers { differ.resolve(leaf, as: change) }
    }

    private func change(_ commit: Commit, boundary: Bool, merge: Bool) -> Change {
        Change(lastChange: LastChange(commit: commit.id, committerTime: commit.committerTime,
                                      authorTime: commit.authorTime, isShallowBoundary: boundary),
               isMerge: merge)
    }

    private mutating func counted() {
        commitsWalked += 1
        if commitsWalked % 1024 == 0 { progress?(commitsWalked) }
    }

    /// The snapshot's answer for every open path, or nil when there is no valid snapshot for
    /// `commit` or it lacks one of them.
    private mutating func snapshotAnswers(at commit: ObjectID) -> [(leaf: Int32, change: Change)]? {
        guard let cache, cache.available.contains(commit), let snapshot = cache.load(commit) else { return nil }
        var answers: [(leaf: Int32, change: Change)] = []
        for leaf in differ.trie.unresolvedLeaves() {
            guard let change = snapshot[differ.trie.file(at: leaf).path] else { return nil }
            answers.append((leaf, change))
        }
        usedCache = true
        return answers
    }
}

/// `git log`'s default walk order: newest committer date first, equal dates first-queued first.
private struct CommitQueue {
    private var heap: [(commit: Commit, sequence: Int)] = []
    private var queued: [ObjectID: Commit] = [:]
    private var nextSequence = 0
    private var seen: Set<ObjectID> = []

    init(_ start: Commit) {
        seen.insert(start.id)
        push(start)
    }

    var isEmpty: Bool { heap.isEmpty }

    /// Queues the parents not seen yet, in parent order, and returns all parents git's walk follows
    /// (none for a shallow boundary commit).
    mutating func queueParents(of commit: Commit, shallow: Set<ObjectID>, _ objects: ObjectDatabase) throws(GitError) -> [ObjectID] {
        if shallow.contains(commit.id) { return [] }
        for parent in commit.parents where seen.insert(parent).inserted { push(try objects.commit(parent)) }
        return commit.parents
    }

    private mutating func push(_ commit: Commit) {
        heap.append((commit, nextSequence))
        queued[commit.id] = commit
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Commit? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast().commit
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, precedes(heap[left], heap[best]) { best = left }
            if right < heap.count, precedes(heap[right], heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        queued[top.id] = nil
        return top
    }

    /// A commit still queued comes from memory; one already walked is read again.
    func commit(_ id: ObjectID, _ objects: ObjectDatabase) throws(GitError) -> Commit {
        if let commit = queued[id] { return commit }
        return try objects.commit(id)
    }

    private func precedes(_ a: (commit: Commit, sequence: Int), _ b: (commit: Commit, sequence: Int)) -> Bool {
        if a.commit.committerTime != b.commit.committerTime { return a.commit.committerTime > b.commit.committerTime }
        return a.sequence < b.sequence
    }
}
