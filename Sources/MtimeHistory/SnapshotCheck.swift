import GitKit
import MtimeCore
import Synchronization

/// Checks a snapshot's answers against the object database before the walk uses them. A cache
/// directory outside the repository may be shared or restored from anywhere, so a snapshot there is
/// input, not truth: its SHA-1 trailer proves only that the file is whole, not who wrote it (a MAC
/// under `CacheKey` does, and spares this check).
///
/// Every answer must name a commit of this repository, carry that commit's own times, and be a
/// commit that really changed the path: its entry differs from its parent's (for a merge in `.all`,
/// from one of its parents'), or it has none (a root, or a commit of this clone's shallow boundary,
/// then flagged as one). In `.firstParent` the commit's entry must also be HEAD's: a path open at
/// the snapshot's commit has HEAD's entry there. What it cannot tell without the walk it replaces:
/// whether the commit is on the snapshot's line and whether a newer commit changed the path away and
/// back; a forged answer can at most name another commit that gave the path the same content.
///
/// The answers are grouped by commit, and each commit's tree is compared with its parent's once
/// for all of its paths: one pass over each directory on the way, and none below a directory whose
/// id both trees share (every path there is unchanged, so any answer there fails). Commits are split
/// into contiguous runs (newest first) over up to `maximumThreads` threads; the verdict is the same
/// for any split, and the first failure stops the others.
struct SnapshotCheck {
    private let objects: ObjectDatabase
    private let mode: HistoryMode
    private let shallow: Set<ObjectID>
    var maximumThreads = Processors.workerThreads
    /// Below this many commits per thread, fewer threads: each opens its own repository handle.
    var minimumCommitsPerThread = 256

    init(objects: ObjectDatabase, mode: HistoryMode, shallow: Set<ObjectID>) {
        self.objects = objects
        self.mode = mode
        self.shallow = shallow
    }

    /// True when every answer passes; any missing or malformed object counts as a failure.
    func passes(_ answers: [(file: TrackedFile, change: Change)]) -> Bool {
        var groups: [Group] = []
        var groupOfCommit: [ObjectID: Int] = [:]
        for (file, change) in answers {
            let commit = change.lastChange.commit
            let index =
                groupOfCommit[commit]
                ?? {
                    groups.append(Group(commit: commit, committerTime: change.lastChange.committerTime))
                    groupOfCommit[commit] = groups.count - 1
                    return groups.count - 1
                }()
            groups[index].claims.append(Claim(path: file.path, head: Entry(id: file.objectID, mode: file.mode), change: change))
        }
        // Newest first: neighbours are commits close in history, whose trees the pack reader's
        // delta-base cache and `RecentTrees` hold.
        groups.sort { ($0.committerTime, $1.commit) > ($1.committerTime, $0.commit) }
        for index in groups.indices {
            groups[index].claims.sort { $0.path.bytes.lexicographicallyPrecedes($1.path.bytes) }
        }
        let threads = max(1, min(maximumThreads, groups.count / max(1, minimumCommitsPerThread)))
        if threads == 1 {
            var worker = Worker(objects: objects, mode: mode, shallow: shallow)
            return groups.allSatisfy { (try? worker.passes($0)) == true }
        }
        let failed = FailureFlag()
        let location = objects.location, packs = objects.sharedPacks
        let mode = self.mode, shallow = self.shallow, all = groups
        let verdicts = try? inParallel(threads) { part -> Bool in
            let objects = try ObjectDatabase(try Repository(location), sharing: packs)
            var worker = Worker(objects: objects, mode: mode, shallow: shallow)
            for group in all[(part * all.count / threads)..<((part + 1) * all.count / threads)] {
                guard !failed.value.load(ordering: .relaxed), (try? worker.passes(group)) == true else {
                    failed.value.store(true, ordering: .relaxed)
                    return false
                }
            }
            return true
        }
        return verdicts?.allSatisfy { $0 } ?? false
    }

    /// Set by the first thread that finds a failing answer; the others stop at their next commit.
    private final class FailureFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private struct Entry: Equatable {
        var id: ObjectID
        var mode: UInt32
    }

    private struct Claim: Sendable {
        var path: BytePath
        /// HEAD's entry for the path.
        var head: Entry
        var change: Change
    }

    /// The answers that name one commit, in path order.
    private struct Group: Sendable {
        var commit: ObjectID
        var committerTime: Int64
        var claims: [Claim] = []
    }

    /// One thread's checker: its own object database and tree cache.
    private struct Worker {
        let objects: ObjectDatabase
        let mode: HistoryMode
        let shallow: Set<ObjectID>
        var trees: RecentTrees

        init(objects: ObjectDatabase, mode: HistoryMode, shallow: Set<ObjectID>) {
            self.objects = objects
            self.mode = mode
            self.shallow = shallow
            trees = RecentTrees(objects: objects)
        }

        mutating func passes(_ group: Group) throws(GitError) -> Bool {
            let commit = try objects.commit(group.commit)
            let isBoundary = shallow.contains(commit.id)
            // Compared with the empty tree, as the walk does: a root or a shallow boundary commit.
            let parents = isBoundary ? [] : mode == .firstParent ? Array(commit.parents.prefix(1)) : commit.parents
            for claim in group.claims {
                let claimed = claim.change.lastChange
                guard claimed.committerTime == commit.committerTime, claimed.authorTime == commit.authorTime,
                    claimed.isShallowBoundary == isBoundary, claim.change.isMerge == (parents.count > 1)
                else { return false }
            }
            let paths = group.claims.map { $0.path.components }
            if paths.contains(where: \.isEmpty) { return false }
            var pending = Array(group.claims.indices)
            for parent in parents.isEmpty ? [nil] : parents.map(Optional.some) {
                let older = try parent.map { id throws(GitError) in try objects.commit(id).tree }
                var outcomes = [Outcome](repeating: Outcome(), count: group.claims.count)
                try compare(newer: commit.tree, older: older, paths, pending[...], depth: 0, &outcomes)
                for index in pending where outcomes[index].differs {
                    // A root's answer needs an entry; `.firstParent`'s must be HEAD's.
                    let entry = outcomes[index].newer
                    if parent == nil && entry == nil { return false }
                    if mode == .firstParent && entry != group.claims[index].head { return false }
                }
                pending.removeAll { outcomes[$0].differs }
                if pending.isEmpty { return true }
            }
            return false
        }

        /// For one path: whether its entry in the newer tree differs from the older one's, and the
        /// newer entry (nil: none, or a directory), read whenever they differ.
        struct Outcome {
            var differs = false
            var newer: Entry?
        }

        /// Compares the entries at `paths[i]` for each `i` in `claims` (in path order, all below the
        /// directory at `depth`) between two directories (nil: absent). Equal ids: nothing differs.
        private mutating func compare(
            newer: ObjectID?, older: ObjectID?, _ paths: [[ArraySlice<UInt8>]], _ claims: ArraySlice<Int>, depth: Int,
            _ outcomes: inout [Outcome]
        ) throws(GitError) {
            if newer == older { return }
            let newerTree = try trees.tree(newer), olderTree = try trees.tree(older)
            var start = claims.startIndex
            while start < claims.endIndex {
                // A run of paths with the same name here, all ending here or all going deeper: in
                // path order, the paths below one directory are contiguous.
                let first = paths[claims[start]]
                let name = first[depth], isLast = first.count == depth + 1
                var end = start + 1
                while end < claims.endIndex, (paths[claims[end]].count == depth + 1) == isLast, paths[claims[end]][depth] == name {
                    end += 1
                }
                let inNewer = try Worker.entry(named: name, in: newerTree)
                let inOlder = try Worker.entry(named: name, in: olderTree)
                if isLast {
                    // A directory where a file is claimed counts as no entry.
                    let newerFile = inNewer.flatMap { $0.mode == Tree.directoryMode ? nil : $0 }
                    let olderFile = inOlder.flatMap { $0.mode == Tree.directoryMode ? nil : $0 }
                    for index in claims[start..<end] { outcomes[index] = Outcome(differs: newerFile != olderFile, newer: newerFile) }
                } else {
                    // A file where a directory is on the path: nothing below it.
                    try compare(
                        newer: inNewer.flatMap { $0.mode == Tree.directoryMode ? $0.id : nil },
                        older: inOlder.flatMap { $0.mode == Tree.directoryMode ? $0.id : nil },
                        paths, claims[start..<end], depth: depth + 1, &outcomes)
                }
                start = end
            }
        }

        /// The first entry named `name` (as git reads a tree: no assumption that it is sorted).
        private static func entry(named name: ArraySlice<UInt8>, in tree: RawTree) throws(GitError) -> Entry? {
            var cursor = tree.makeCursor()
            while try cursor.advance() {
                if cursor.hasName(name) { return Entry(id: cursor.id, mode: cursor.mode) }
            }
            return nil
        }
    }
}
