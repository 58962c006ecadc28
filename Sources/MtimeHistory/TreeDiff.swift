import GitKit
import MtimeCore

/// Where a tree diff reads its trees.
protocol TreeSource {
    associatedtype Directory
    /// The two trees a diff at `directory` compares; the empty tree for a nil id.
    mutating func trees(newer: ObjectID?, older: ObjectID?, in directory: Directory) throws(GitError) -> (newer: RawTree, older: RawTree)
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
    ) throws(GitError) where Visitor.Directory == Source.Directory {
        if newerID == olderID { return }
        let trees = try source.trees(newer: newerID, older: olderID, in: directory)
        var newer = trees.newer.makeCursor()
        var older = trees.older.makeCursor()
        // Two versions of a directory mostly share their first and last entries: only the span
        // between is merge-joined.
        let alikeEnd = try RawTree.Cursor.skipAlikeStart(&newer, &older)
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
                if newer.restIsAlike(older, alikeEnd: alikeEnd) { return }
                hasNewer = try newer.advance()
                hasOlder = try older.advance()
            }
        }
    }

    private mutating func differs<Visitor: TreeDiffVisitor>(
        _ directory: Visitor.Directory, _ entry: RawTree.Cursor,
        _ newerID: ObjectID?, _ olderID: ObjectID?,
        _ visitor: inout Visitor
    ) throws(GitError) where Visitor.Directory == Source.Directory {
        guard let child = visitor.differs(in: directory, entry, newer: newerID, older: olderID), entry.isTree else { return }
        try diff(newer: newerID, older: olderID, in: child, &visitor)
    }
}

/// Reads every tree from the object database (a one-off diff re-reads nothing).
struct DatabaseTrees<Directory>: TreeSource {
    let objects: ObjectDatabase

    func trees(newer: ObjectID?, older: ObjectID?, in directory: Directory) throws(GitError) -> (newer: RawTree, older: RawTree) {
        (try objects.rawTree(orEmpty: newer), try objects.rawTree(orEmpty: older))
    }
}

extension ObjectDatabase {
    /// The tree `id`; the empty tree for nil.
    func rawTree(orEmpty id: ObjectID?) throws(GitError) -> RawTree {
        guard let id else { return .empty }
        return try rawTree(id)
    }
}

/// The trees each directory of a `PathTrie` was last diffed with, kept for the next diff there.
/// Walking a first-parent line, a directory's newer tree is always the older one of the last diff
/// that descended into it (in between it did not change), so each diff reads one tree, not two;
/// a cache by id (`RecentTrees`) lost most of them to the trees read in between. Both sides are
/// kept: `--history all` diffs a commit against its parent before the parent against its own.
/// Memory: two trees per directory of HEAD at most; two slots per directory, none per file.
struct DirectoryTrees: TreeSource {
    let objects: ObjectDatabase
    /// Per trie node, its directory's number (`PathTrie.directoryNumber`): two slots each.
    private let directoryNumber: [Int32]
    private var ids: [ObjectID]
    private var trees: [RawTree]

    init(objects: ObjectDatabase, directoryNumber: [Int32], directoryCount: Int) {
        self.objects = objects
        self.directoryNumber = directoryNumber
        ids = Array(repeating: .zero, count: 2 * directoryCount)
        trees = Array(repeating: .empty, count: 2 * directoryCount)
    }

    mutating func trees(newer: ObjectID?, older: ObjectID?, in directory: Int32) throws(GitError) -> (newer: RawTree, older: RawTree) {
        let slot = 2 * Int(directoryNumber[Int(directory)])
        let newerTree = try tree(newer, slot)
        let olderTree = try tree(older, slot)
        (ids[slot], trees[slot]) = (newer ?? .zero, newerTree)
        (ids[slot + 1], trees[slot + 1]) = (older ?? .zero, olderTree)
        return (newerTree, olderTree)
    }

    private func tree(_ id: ObjectID?, _ slot: Int) throws(GitError) -> RawTree {
        guard let id else { return .empty }
        if ids[slot + 1] == id { return trees[slot + 1] }
        if ids[slot] == id { return trees[slot] }
        return try objects.rawTree(id)
    }
}

/// Recently read trees, for reads in no particular directory (`SnapshotCheck`). Direct-mapped by
/// the id's last bits (ids are uniformly random, so no hashing), bounded in bytes so huge trees
/// cannot grow it unchecked.
struct RecentTrees {
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
        var diff = TreeDiff(source: DatabaseTrees<BytePath>(objects: objects))
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
