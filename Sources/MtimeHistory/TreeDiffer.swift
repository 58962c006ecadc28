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
    /// random, so no hashing), bounded by entries so huge trees cannot grow it unchecked.
    private var slotIDs = [ObjectID](repeating: .zero, count: TreeDiffer.slotCount)
    private var slotTrees = [Tree?](repeating: nil, count: TreeDiffer.slotCount)
    private var cachedEntries = 0
    private static let slotCount = 4096
    private static let cachedEntryLimit = 1 << 17

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

    mutating func tree(_ id: ObjectID?) throws(GitError) -> Tree {
        guard let id else { return .empty }
        let slot = Int(truncatingIfNeeded: id.low) & (TreeDiffer.slotCount - 1)
        if slotIDs[slot] == id, let cached = slotTrees[slot] { return cached }
        let tree = try objects.tree(id)
        if cachedEntries + tree.entries.count > TreeDiffer.cachedEntryLimit {
            for index in slotTrees.indices { slotTrees[index] = nil }
            cachedEntries = 0
        }
        cachedEntries += tree.entries.count - (slotTrees[slot]?.entries.count ?? 0)
        slotIDs[slot] = id
        slotTrees[slot] = tree
        return tree
    }

    private mutating func diff(directory: Int32, _ newerID: ObjectID?, _ olderID: ObjectID?, change: Int32) throws(GitError) {
        if newerID == olderID { return }
        let newer = try tree(newerID)
        let older = try tree(olderID)
        var i = 0, j = 0
        let newerCount = newer.entries.count, olderCount = older.entries.count
        while i < newerCount || j < olderCount {
            if trie.unresolved[Int(directory)] == 0 { return }
            if j == olderCount {
                try differs(directory, newer, newer.entries[i], nil, change); i += 1; continue
            }
            if i == newerCount {
                try differs(directory, older, nil, older.entries[j], change); j += 1; continue
            }
            let a = newer.entries[i], b = older.entries[j]
            let order = compareTreeOrder(newer.name(of: a), aIsTree: a.isTree, older.name(of: b), bIsTree: b.isTree)
            if order < 0 {
                try differs(directory, newer, a, nil, change); i += 1
            } else if order > 0 {
                try differs(directory, older, nil, b, change); j += 1
            } else {
                if a.id != b.id || a.mode != b.mode { try differs(directory, newer, a, b, change) }
                i += 1; j += 1
            }
        }
    }

    /// One name whose entry differs between the trees (`nameSource` holds the name's bytes).
    private mutating func differs(_ directory: Int32, _ nameSource: Tree, _ newer: Tree.Entry?, _ older: Tree.Entry?,
                                  _ change: Int32) throws(GitError) {
        let entry = newer ?? older!
        guard let child = trie.child(of: directory, named: nameSource.name(of: entry), isTree: entry.isTree),
              trie.unresolved[Int(child)] > 0 else { return }
        if entry.isTree {
            try diff(directory: child, newer?.id, older?.id, change: change)
        } else {
            trie.resolve(child, change: change)
        }
    }
}
