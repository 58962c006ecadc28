import GitKit
import MtimeCore

/// Where a tree diff reads its trees.
protocol TreeSource {
    /// The tree `id`; the empty tree for nil.
    mutating func tree(_ id: ObjectID?) throws(GitError) -> RawTree
}

/// What a tree diff does with the names it finds different.
protocol TreeDiffVisitor {
    associatedtype Directory
    /// True once nothing more below `directory` matters: the diff leaves it early.
    func isFinished(_ directory: Directory) -> Bool
    /// A name whose entry differs between the two trees. `entry` is the newer tree's entry when it
    /// has one, else the older's; `newer`/`older` are the ids on each side (nil: absent there).
    /// Returns the directory to descend into when `entry` is a tree whose contents matter.
    mutating func differs(in directory: Directory, _ entry: RawTree.Cursor, newer: ObjectID?, older: ObjectID?) -> Directory?
}

/// The tree diff: merge-joins two trees' entries in git's order, in place in their raw bytes, and
/// descends only into subtrees whose ids differ and that the visitor still wants, so its cost
/// follows the change, not the size of the tree. The history walk and the hooks both use it.
struct TreeDiff<Source: TreeSource> {
    var source: Source

    mutating func diff<Visitor: TreeDiffVisitor>(
        newer newerID: ObjectID?, older olderID: ObjectID?,
        in directory: Visitor.Directory, _ visitor: inout Visitor
    ) throws(GitError) {
        if newerID == olderID { return }
        var newer = try source.tree(newerID).makeCursor()
        var older = try source.tree(olderID).makeCursor()
        var hasNewer = try newer.advance(), hasOlder = try older.advance()
        while hasNewer || hasOlder {
            if visitor.isFinished(directory) { return }
            let order = !hasOlder ? -1 : !hasNewer ? 1 : newer.compareTreeOrder(with: older)
            if order < 0 {
                try differs(directory, newer, newer.id, nil, &visitor)
                hasNewer = try newer.advance()
            } else if order > 0 {
                try differs(directory, older, nil, older.id, &visitor)
                hasOlder = try older.advance()
            } else {
                if newer.id != older.id || newer.mode != older.mode { try differs(directory, newer, newer.id, older.id, &visitor) }
                hasNewer = try newer.advance()
                hasOlder = try older.advance()
            }
        }
    }

    private mutating func differs<Visitor: TreeDiffVisitor>(
        _ directory: Visitor.Directory, _ entry: RawTree.Cursor,
        _ newerID: ObjectID?, _ olderID: ObjectID?,
        _ visitor: inout Visitor
    ) throws(GitError) {
        guard let child = visitor.differs(in: directory, entry, newer: newerID, older: olderID), entry.isTree else { return }
        try diff(newer: newerID, older: olderID, in: child, &visitor)
    }
}

/// Reads every tree from the object database (a one-off diff re-reads nothing).
struct DatabaseTrees: TreeSource {
    let objects: ObjectDatabase

    func tree(_ id: ObjectID?) throws(GitError) -> RawTree {
        guard let id else { return .empty }
        return try objects.rawTree(id)
    }
}

/// Recently read trees: a first-parent step reads the parent's trees, which the next step needs
/// again as the newer side. Direct-mapped by the id's last bits (ids are uniformly random, so no
/// hashing), bounded in bytes so huge trees cannot grow it unchecked.
struct RecentTrees: TreeSource {
    let objects: ObjectDatabase
    private var slotIDs = [ObjectID](repeating: .zero, count: RecentTrees.slotCount)
    private var slotTrees = [RawTree](repeating: .empty, count: RecentTrees.slotCount)
    private var slotBytes = [Int](repeating: 0, count: RecentTrees.slotCount)
    private var cachedBytes = 0
    private static let slotCount = 4096
    private static let cachedByteLimit = 8 << 20

    init(objects: ObjectDatabase) { self.objects = objects }

    mutating func tree(_ id: ObjectID?) throws(GitError) -> RawTree {
        guard let id else { return .empty }
        let slot = Int(truncatingIfNeeded: id.low) & (RecentTrees.slotCount - 1)
        if slotIDs[slot] == id { return slotTrees[slot] }
        let tree = try objects.rawTree(id)
        if cachedBytes + tree.byteCount > RecentTrees.cachedByteLimit {
            for index in slotTrees.indices where slotBytes[index] > 0 {
                slotTrees[index] = .empty
                slotIDs[index] = .zero
                slotBytes[index] = 0
            }
            cachedBytes = 0
        }
        cachedBytes += tree.byteCount - slotBytes[slot]
        slotIDs[slot] = id
        slotTrees[slot] = tree
        slotBytes[slot] = tree.byteCount
        return tree
    }
}

/// The files two commits' trees disagree on, for callers that need exactly those (the hooks).
public enum TreeChanges {
    /// Every file (blob or symlink; not submodules) present in `new`'s tree whose entry (id or mode)
    /// differs in `old`'s, with `new`'s id and mode, in path order. `old` nil means every file of `new`.
    public static func changedFiles(_ objects: ObjectDatabase, from old: ObjectID?, to new: ObjectID) throws(GitError) -> [TrackedFile] {
        var diff = TreeDiff(source: DatabaseTrees(objects: objects))
        var collector = ChangedFileCollector()
        let oldTree = try old.map { id throws(GitError) in try objects.commit(id).tree }
        try diff.diff(newer: try objects.commit(new).tree, older: oldTree, in: BytePath([]), &collector)
        return collector.files
    }
}

/// Collects the newer side's differing files under their full paths.
private struct ChangedFileCollector: TreeDiffVisitor {
    var files: [TrackedFile] = []

    func isFinished(_ directory: BytePath) -> Bool { false }

    mutating func differs(in directory: BytePath, _ entry: RawTree.Cursor, newer: ObjectID?, older: ObjectID?) -> BytePath? {
        guard let newer else { return nil }  // gone from the newer tree
        let path = directory.appending(BytePath(entry.name))
        if entry.isTree { return path }
        if entry.mode != Tree.submoduleMode {
            files.append(TrackedFile(path: path, objectID: newer, mode: entry.mode, lastChange: nil))
        }
        return nil
    }
}
