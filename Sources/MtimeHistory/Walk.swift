import GitKit
import MtimeCore

/// What one walk found: per file of the trie, the index of its change (-1: not this walk's file).
/// Unchecked: `failure` is handed once from the walking thread to the joining one.
struct WalkOutcome: @unchecked Sendable {
    var resolution: [Int32]
    var changes: [Change]
    var commitsWalked: Int
    var usedCache: Bool
    /// Snapshots from outside the repository that `SnapshotCheck` passed (their digests).
    var checkedSnapshots: [ObjectID]
    /// The older half's error: it reads history a serial walk might never reach (objects missing
    /// there), so it fails the run only if a path needs its answers.
    var failure: (any Error)? = nil
}

/// The state of one run's walk.
struct Walk {
    var resolver: PathResolver
    let objects: ObjectDatabase
    let shallow: Set<ObjectID>
    let cache: HistoryCache?
    let progress: (@Sendable (_ commitsWalked: Int) -> Void)?
    var commitsWalked = 0
    var usedCache = false
    var checkedSnapshots: [ObjectID] = []

    private init(
        resolver: PathResolver, objects: ObjectDatabase, shallow: Set<ObjectID>, cache: HistoryCache?,
        progress: (@Sendable (_ commitsWalked: Int) -> Void)?
    ) {
        self.resolver = resolver
        self.objects = objects
        self.shallow = shallow
        self.cache = cache
        self.progress = progress
    }

    static func run(
        _ trie: PathTrie, objects: ObjectDatabase, from head: Commit, mode: HistoryMode,
        shallow: Set<ObjectID>, cache: HistoryCache?,
        progress: (@Sendable (_ commitsWalked: Int) -> Void)?,
        split: (LineSplit, isOlderHalf: Bool)? = nil
    ) throws -> WalkOutcome {
        var walk = Walk(
            resolver: PathResolver(objects: objects, trie: trie), objects: objects, shallow: shallow,
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
        return WalkOutcome(
            resolution: walk.resolver.trie.resolution, changes: walk.resolver.changes,
            commitsWalked: walk.commitsWalked, usedCache: walk.usedCache,
            checkedSnapshots: walk.checkedSnapshots, failure: failure)
    }

    /// From `head` down the first-parent line; with `split`, only until the older half takes over.
    mutating func firstParent(from head: Commit, split: LineSplit?) throws {
        var handedOver = false
        // Whatever else ends this walk (all resolved, a snapshot, the root, an error) ends the older half's too.
        defer { if !handedOver { split?.finishNewerHalf() } }
        var commit = head
        // Replace refs and grafts can make the line a loop: like git (which shows each commit once),
        // the walk ends at the first commit it has seen; paths still open then have no answer.
        var seen: Set<ObjectID>? = objects.rewrites.isEmpty ? nil : [head.id]
        while resolver.unresolvedFiles > 0 {
            if let split, !split.claimNext() {
                handedOver = true
                return
            }
            if let answers = snapshotAnswers(at: commit.id) {
                resolveAll(answers)
                return
            }
            let isBoundary = shallow.contains(commit.id)
            let parent = isBoundary ? nil : commit.parents.first
            let parentCommit = try parent.map { id throws(GitError) in try objects.commit(id) }
            try compare(commit, with: parentCommit, boundary: isBoundary)
            guard let parentCommit, seen?.insert(parentCommit.id).inserted != false else { return }
            commit = parentCommit
        }
    }

    /// The older half: reads the whole line's commits (no trees), then walks from the point
    /// `LineSplit.start` picks down to the root. Gives up as soon as the newer half finishes
    /// without handing over.
    mutating func olderHalf(from head: Commit, split: LineSplit) throws {
        var line = [head]
        var seen: Set<ObjectID>? = objects.rewrites.isEmpty ? nil : [head.id]
        // The commit the line's last one closes a loop on (compared with, not walked again).
        var loopParent: Commit?
        while !split.newerHalfFinished, let last = line.last, !shallow.contains(last.id), let parent = last.parents.first {
            let parentCommit = try objects.commit(parent)
            if seen?.insert(parent).inserted == false {
                loopParent = parentCommit
                break
            }
            line.append(parentCommit)
        }
        guard !split.newerHalfFinished else { return }
        var index = split.start(lineCount: line.count)
        while index < line.count, resolver.unresolvedFiles > 0, !split.newerHalfFinished {
            let commit = line[index]
            if let answers = snapshotAnswers(at: commit.id) {
                resolveAll(answers)
                return
            }
            let isBoundary = shallow.contains(commit.id)
            try compare(commit, with: isBoundary ? nil : index + 1 == line.count ? loopParent : line[index + 1], boundary: isBoundary)
            index += 1
        }
    }

    /// One step of the first-parent line: resolves the open paths whose entries differ from the
    /// parent's (the empty tree for a root or shallow boundary).
    private mutating func compare(_ commit: Commit, with parent: Commit?, boundary: Bool) throws {
        try resolver.resolveDifferences(
            newer: commit.tree, older: parent?.tree,
            as: change(commit, boundary: boundary, merge: false))
        counted()
    }

    mutating func allHistory(from head: Commit) throws {
        // Pass 1: non-merge commits. A snapshot is usable only when its commit is the last one queued:
        // then the rest of this walk is exactly the walk that made the snapshot.
        var queue = CommitQueue(head)
        var snapshotCommit: ObjectID?
        var mergeAnswers: [(leaf: Int32, change: Int32)] = []
        while resolver.unresolvedFiles > 0, let commit = queue.pop() {
            if queue.isEmpty, let answers = snapshotAnswers(at: commit.id) {
                let first = resolver.appendChanges(answers.changes)
                for (leaf, change) in answers.leaves {
                    if answers.changes[Int(change)].isMerge {
                        mergeAnswers.append((leaf, first + change))
                    } else {
                        resolver.resolve(leaf, change: first + change)
                    }
                }
                snapshotCommit = commit.id
                break
            }
            let parents = try queue.queueParents(of: commit, shallow: shallow, objects)
            counted()
            if parents.count <= 1 {
                let older = try parents.first.map { id throws(GitError) in try queue.commit(id, objects).tree }
                try resolver.resolveDifferences(
                    newer: commit.tree, older: older,
                    as: change(commit, boundary: shallow.contains(commit.id), merge: false))
            }
        }
        guard resolver.unresolvedFiles > 0 else { return }
        // Pass 2: paths no non-merge commit touched get the first merge that differs from a parent;
        // past the snapshot's commit, the snapshot already knows that merge.
        queue = CommitQueue(head)
        while resolver.unresolvedFiles > 0, let commit = queue.pop() {
            if commit.id == snapshotCommit, queue.isEmpty { break }
            let parents = try queue.queueParents(of: commit, shallow: shallow, objects)
            guard parents.count > 1 else { continue }
            counted()
            for parent in parents {
                try resolver.resolveDifferences(
                    newer: commit.tree, older: try queue.commit(parent, objects).tree,
                    as: change(commit, boundary: false, merge: true))
            }
        }
        for (leaf, change) in mergeAnswers { resolver.resolve(leaf, change: change) }
    }

    private func change(_ commit: Commit, boundary: Bool, merge: Bool) -> Change {
        Change(
            lastChange: LastChange(
                commit: commit.id, committerTime: commit.committerTime,
                authorTime: commit.authorTime, isShallowBoundary: boundary),
            isMerge: merge)
    }

    private mutating func counted() {
        commitsWalked += 1
        if commitsWalked % 1024 == 0 { progress?(commitsWalked) }
    }

    /// Resolves every open path with its snapshot answer.
    private mutating func resolveAll(_ answers: (changes: [Change], leaves: [(leaf: Int32, change: Int32)])) {
        let first = resolver.appendChanges(answers.changes)
        for (leaf, change) in answers.leaves { resolver.resolve(leaf, change: first + change) }
    }

    /// The snapshot's answer for every open path: its changes, and per open leaf the index of its
    /// change among them. Nil when there is no valid snapshot for `commit`, it lacks one of the
    /// paths, or (not trusted) an answer fails `SnapshotCheck`. The open paths are asked in file
    /// order, which is the snapshot's order: one merge pass, no lookup per path.
    private mutating func snapshotAnswers(at commit: ObjectID) -> (changes: [Change], leaves: [(leaf: Int32, change: Int32)])? {
        guard let cache, cache.available.contains(commit), let snapshot = cache.load(commit) else { return nil }
        let trie = resolver.trie
        let open = trie.unresolvedLeaves()
        var leaves: [(leaf: Int32, change: Int32)] = []
        leaves.reserveCapacity(open.count)
        let complete = snapshot.withCursor { cursor in
            for leaf in open {
                guard let change = trie.path(at: leaf).bytes.withUnsafeBytes({ cursor.change(of: $0) }) else { return false }
                leaves.append((leaf, Int32(change)))
            }
            return true
        }
        guard complete else { return nil }
        if !cache.isTrusted(snapshot) {
            let check = SnapshotCheck(objects: objects, mode: cache.mode, shallow: shallow)
            guard check.passes(leaves.map { (trie.file(at: $0.leaf), snapshot.changes[Int($0.change)]) }) else { return nil }
            checkedSnapshots.append(snapshot.digest)
        }
        usedCache = true
        return (snapshot.changes, leaves)
    }
}
