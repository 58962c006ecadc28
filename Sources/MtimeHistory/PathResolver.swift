import GitKit
import MtimeCore

/// A change that resolved some paths: the commit, its times, and how it was found.
struct Change: Equatable {
    var lastChange: LastChange
    /// Found only in the merge pass of `--history all` (no non-merge commit touched the path).
    var isMerge: Bool
}

/// Resolves the open files of a `PathTrie` with tree diffs: each file whose entry differs between
/// the two trees gets the diff's change. Only subtrees that still hold open files are read.
struct PathResolver {
    private var diff: TreeDiff<DirectoryTrees>
    private var open: OpenPaths
    private(set) var changes: [Change] = []

    init(objects: ObjectDatabase, trie: PathTrie) {
        diff = TreeDiff(
            source: DirectoryTrees(objects: objects, directoryNumber: trie.directoryNumber, directoryCount: trie.directoryCount))
        open = OpenPaths(trie: trie)
    }

    var trie: PathTrie { open.trie }
    var unresolvedFiles: Int { open.trie.unresolvedFiles }

    /// Resolves with `change` every open file whose entry (mode or id) differs between `newer` and
    /// `older` (nil: the empty tree). Appends `change` only if it resolved something.
    mutating func resolveDifferences(newer: ObjectID?, older: ObjectID?, as change: Change) throws(GitError) {
        open.change = Int32(changes.count)
        let before = open.trie.unresolvedFiles
        try diff.diff(newer: newer, older: older, in: PathTrie.root, &open)
        if open.trie.unresolvedFiles != before { changes.append(change) }
    }

    /// Adds answers found elsewhere (a cache snapshot's changes); returns the index of the first,
    /// for `resolve(_:change:)`.
    mutating func appendChanges(_ more: [Change]) -> Int32 {
        defer { changes.append(contentsOf: more) }
        return Int32(changes.count)
    }

    /// Resolves one open file with one of `changes` (from `appendChanges`); a file resolved
    /// meanwhile keeps its answer.
    mutating func resolve(_ leaf: Int32, change: Int32) {
        open.trie.resolve(leaf, change: change)
    }
}

/// The diff's visitor: descends only where the trie still has open files, resolves the files it meets.
private struct OpenPaths: TreeDiffVisitor {
    var trie: PathTrie
    var change: Int32 = 0

    func isFinished(_ directory: Int32) -> Bool { trie.unresolved[Int(directory)] == 0 }

    mutating func differs(in directory: Int32, _ entry: RawTree.Cursor, newer: ObjectID?, older: ObjectID?) -> Int32? {
        guard let child = trie.child(of: directory, matching: entry), trie.unresolved[Int(child)] > 0 else { return nil }
        if entry.isTree { return child }
        trie.resolve(child, change: change)
        return nil
    }
}
