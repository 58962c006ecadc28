import GitKit
import MtimeCore

/// Checks a snapshot's answers against the object database before the walk uses them. A cache
/// directory outside the repository may be shared or restored from anywhere, so a snapshot there is
/// input, not truth: its SHA-1 trailer proves only that the file is whole, not who wrote it.
///
/// Every answer must name a commit of this repository, carry that commit's own times, and be a
/// commit that really changed the path: its entry differs from its parent's (for a merge in `.all`,
/// from one of its parents'), or it has none (a root, or a commit of this clone's shallow boundary,
/// then flagged as one). In `.firstParent` the commit's entry must also be HEAD's: a path open at
/// the snapshot's commit has HEAD's entry there. What it cannot tell without the walk it replaces:
/// whether the commit is on the snapshot's line and whether a newer commit changed the path away and
/// back; a forged answer can at most name another commit that gave the path the same content.
struct SnapshotCheck {
    private let objects: ObjectDatabase
    private let mode: HistoryMode
    private let shallow: Set<ObjectID>
    private var trees: RecentTrees
    private var commits: [ObjectID: Commit] = [:]

    init(objects: ObjectDatabase, mode: HistoryMode, shallow: Set<ObjectID>) {
        self.objects = objects
        self.mode = mode
        self.shallow = shallow
        trees = RecentTrees(objects: objects)
    }

    /// True when every answer passes; any missing or malformed object counts as a failure.
    mutating func passes(_ answers: [(file: TrackedFile, change: Change)]) -> Bool {
        // Newest commit first, then by path: neighbours read the same trees (which `RecentTrees`
        // keeps) and commits close in history, whose trees the pack reader's delta-base cache holds.
        let ordered = answers.sorted { a, b in
            let (one, other) = (a.change.lastChange, b.change.lastChange)
            if one.committerTime != other.committerTime { return one.committerTime > other.committerTime }
            if one.commit != other.commit { return one.commit < other.commit }
            return a.file.path.bytes.lexicographicallyPrecedes(b.file.path.bytes)
        }
        for (file, change) in ordered {
            guard (try? passes(file, change)) == true else { return false }
        }
        return true
    }

    private mutating func passes(_ file: TrackedFile, _ change: Change) throws(GitError) -> Bool {
        let claimed = change.lastChange
        let commit = try self.commit(claimed.commit)
        guard commit.committerTime == claimed.committerTime, commit.authorTime == claimed.authorTime,
            claimed.isShallowBoundary == shallow.contains(commit.id)
        else { return false }
        let entry = try self.entry(file.path, in: commit.tree)
        if mode == .firstParent {
            guard !change.isMerge, let entry, entry.id == file.objectID, entry.mode == file.mode else { return false }
        }
        // Compared with the empty tree, as the walk does: a root or a shallow boundary commit.
        let parents = claimed.isShallowBoundary ? [] : mode == .firstParent ? Array(commit.parents.prefix(1)) : commit.parents
        if parents.isEmpty { return entry != nil && !change.isMerge }
        guard change.isMerge == (parents.count > 1) else { return false }
        for parent in parents {
            if try self.entry(file.path, in: try self.commit(parent).tree) != entry { return true }
        }
        return false
    }

    private mutating func commit(_ id: ObjectID) throws(GitError) -> Commit {
        if let known = commits[id] { return known }
        let commit = try objects.commit(id)
        commits[id] = commit
        return commit
    }

    /// The entry (id, mode) at `path` in a tree, nil when there is none.
    private mutating func entry(_ path: BytePath, in tree: ObjectID) throws(GitError) -> Entry? {
        var directory = tree
        let components = path.components
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            var cursor = try trees.tree(directory).makeCursor()
            var found: Entry?
            while try cursor.advance() {
                if cursor.hasName(component) {
                    found = Entry(id: cursor.id, mode: cursor.mode)
                    break
                }
            }
            guard let found else { return nil }
            if isLast { return found.mode == Tree.directoryMode ? nil : found }
            guard found.mode == Tree.directoryMode else { return nil }
            directory = found.id
        }
        return nil
    }

    private struct Entry: Equatable {
        var id: ObjectID
        var mode: UInt32
    }
}
