import GitKit
import MtimeCore

/// A change that resolved some paths: the commit, its times, and how it was found.
struct Change: Equatable {
    var lastChange: LastChange
    /// Found only in the merge pass of `--history all` (no non-merge commit touched the path).
    var isMerge: Bool
}

/// Compares two trees along the paths still unresolved in a `PathTrie`, reading only subtrees whose
/// ids differ and that still hold unresolved files, and resolves every file whose entry differs.
struct TreeDiffer {
    let objects: ObjectDatabase
    var trie: PathTrie
    var changes: [Change] = []
    /// Recently read trees: a first-parent step reads the parent's trees, which the next step
    /// needs again as the newer side. Direct-mapped by the id's last bits (ids are uniformly
    /// random, so no hashing), bounded in bytes so huge trees cannot grow it unchecked.
    private var slotIDs = [ObjectID](repeating: .zero, count: TreeDiffer.slotCount)
    private var slotTrees = [RawTree](repeating: .empty, count: TreeDiffer.slotCount)
    private var slotBytes = [Int](repeating: 0, count: TreeDiffer.slotCount)
    private var cachedBytes = 0
    private static let slotCount = 4096
    private static let cachedByteLimit = 8 << 20

    init(objects: ObjectDatabase, trie: PathTrie) {
        self.objects = objects
        self.trie = trie
    }

    /// Resolves with `change` every unresolved file whose entry (mode or id) differs between `newer`
    /// and `older` (nil: the empty tree). Appends `change` only if it resolved something.
    mutating func resolveDifferences(newer: ObjectID?, older: ObjectID?, as change: Change) throws(GitError) {
        let index = Int32(changes.count)
        let before = trie.unresolvedFiles
        try diff(directory: PathTrie.root, newer, older, change: index)
        if trie.unresolvedFiles != before { changes.append(change) }
    }

    /// Resolves one file with an answer found elsewhere (a cache snapshot).
    mutating func resolve(_ leaf: Int32, as change: Change) {
        let index = Int32(changes.count)
        changes.append(change)
        trie.resolve(leaf, change: index)
    }

    mutating func tree(_ id: ObjectID?) throws(GitError) -> RawTree {
        guard let id else { return .empty }
        let slot = Int(truncatingIfNeeded: id.low) & (TreeDiffer.slotCount - 1)
        if slotIDs[slot] == id { return slotTrees[slot] }
        let tree = try objects.rawTree(id)
        if cachedBytes + tree.byteCount > TreeDiffer.cachedByteLimit {
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

    /// Merge-joins the two trees' entries in git's order, in place in their raw bytes.
    private mutating func diff(directory: Int32, _ newerID: ObjectID?, _ olderID: ObjectID?, change: Int32) throws(GitError) {
        if newerID == olderID { return }
        var newer = try tree(newerID).makeCursor()
        var older = try tree(olderID).makeCursor()
        var hasNewer = try newer.advance(), hasOlder = try older.advance()
        while hasNewer || hasOlder {
            if trie.unresolved[Int(directory)] == 0 { return }
            let order = !hasOlder ? -1 : !hasNewer ? 1 : newer.compareTreeOrder(with: older)
            if order < 0 {
                try differs(directory, newer, newer.id, nil, change)
                hasNewer = try newer.advance()
            } else if order > 0 {
                try differs(directory, older, nil, older.id, change)
                hasOlder = try older.advance()
            } else {
                if newer.id != older.id || newer.mode != older.mode { try differs(directory, newer, newer.id, older.id, change) }
                hasNewer = try newer.advance()
                hasOlder = try older.advance()
            }
        }
    }

    /// One name whose entry differs between the trees (`entry` is either side's, for its name and kind).
    private mutating func differs(_ directory: Int32, _ entry: RawTree.Cursor, _ newerID: ObjectID?, _ olderID: ObjectID?,
                                  _ change: Int32) throws(GitError) {
        guard let child = trie.child(of: directory, matching: entry), trie.unresolved[Int(child)] > 0 else { return }
        if entry.isTree {
            try diff(directory: child, newerID, olderID, change: change)
        } else {
            trie.resolve(child, change: change)
        }
    }
}
