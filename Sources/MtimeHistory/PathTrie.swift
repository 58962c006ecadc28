import GitKit
import MtimeCore

/// HEAD's tree as integer-numbered nodes, tracking which files still wait for their commit.
/// A directory's children are numbered contiguously in git's tree order, so a lookup is a binary
/// search, and a directory whose files are all resolved is never read again.
struct PathTrie {
    private(set) var names: [UInt8] = []
    private(set) var nameStart: [Int32] = []
    private(set) var nameCount: [Int32] = []
    private(set) var isDirectory: [Bool] = []
    private(set) var parent: [Int32] = []
    private(set) var firstChild: [Int32] = []
    private(set) var childCount: [Int32] = []
    /// For a file: index into `files`; -1 for a directory.
    private(set) var fileIndex: [Int32] = []
    /// For a file: 1 while unresolved; for a directory: unresolved files below it.
    private(set) var unresolved: [Int32] = []

    /// HEAD's non-tree entries, in tree order (which is byte order of full paths).
    private(set) var files: [TrackedFile] = []
    /// Per file: index of its resolving change, -1 while unresolved.
    private(set) var resolution: [Int32] = []

    static let root: Int32 = 0

    var unresolvedFiles: Int { Int(unresolved[0]) }

    var nodeCount: Int { parent.count }

    /// Reads HEAD's whole tree (through `trees` when given). Files outside `only` (and submodules)
    /// start out resolved.
    init(tree: ObjectID, objects: ObjectDatabase, only: [BytePath]?, trees: TreeCache? = nil) throws(GitError) {
        appendNode(name: [], isDirectory: true, parent: -1)
        var entries: [(id: ObjectID, mode: UInt32)] = [(tree, Tree.directoryMode)]
        var pending: [(node: Int32, path: BytePath)] = [(PathTrie.root, BytePath([]))]
        while let (node, path) = pending.popLast() {
            let id = entries[Int(node)].id
            let tree: Tree
            if let trees { tree = try trees.tree(id, objects: objects) } else { tree = try objects.tree(id) }
            firstChild[Int(node)] = Int32(isDirectory.count)
            childCount[Int(node)] = Int32(tree.entries.count)
            for entry in tree.entries {
                let name = tree.name(of: entry)
                let child = appendNode(name: name, isDirectory: entry.isTree, parent: node)
                entries.append((entry.id, entry.mode))
                if entry.isTree {
                    let childPath = path.appending(BytePath(Array(name)))
                    if PathTrie.mayContain(only, childPath) { pending.append((child, childPath)) }
                }
            }
        }
        // Files numbered in a pre-order walk with children in tree order: that is byte order of full paths.
        var stack: [(node: Int32, path: BytePath)] = [(PathTrie.root, BytePath([]))]
        while let (node, path) = stack.popLast() {
            guard isDirectory[Int(node)] else {
                guard PathTrie.selects(only, path) else { continue }
                fileIndex[Int(node)] = Int32(files.count)
                let entry = entries[Int(node)]
                files.append(TrackedFile(path: path, objectID: entry.id, mode: entry.mode, lastChange: nil))
                resolution.append(-1)
                if entry.mode != Tree.submoduleMode { markUnresolved(node) }
                continue
            }
            let first = firstChild[Int(node)]
            for child in (first..<first + childCount[Int(node)]).reversed() {
                stack.append((child, path.appending(BytePath(Array(name(of: child))))))
            }
        }
    }

    @inline(__always)
    func name(of node: Int32) -> ArraySlice<UInt8> {
        let start = Int(nameStart[Int(node)])
        return names[start..<start + Int(nameCount[Int(node)])]
    }

    /// The child of `directory` with the cursor's current name and kind, if HEAD's tree has one.
    func child(of directory: Int32, matching entry: RawTree.Cursor) -> Int32? {
        names.withUnsafeBytes { names in
            var low = firstChild[Int(directory)]
            var high = low + childCount[Int(directory)]
            while low < high {
                let middle = (low + high) / 2
                let name = UnsafeRawBufferPointer(
                    rebasing: names[Int(nameStart[Int(middle)])..<Int(nameStart[Int(middle)] + nameCount[Int(middle)])])
                let order = entry.compareTreeOrder(with: name, isTree: isDirectory[Int(middle)])
                if order == 0 { return middle }
                if order > 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    /// Records the change for a file leaf and updates its directories' counts.
    mutating func resolve(_ node: Int32, change: Int32) {
        guard unresolved[Int(node)] > 0 else { return }
        resolution[Int(fileIndex[Int(node)])] = change
        var current = node
        while current >= 0 {
            unresolved[Int(current)] -= 1
            current = parent[Int(current)]
        }
    }

    /// Splits the open files into `count` runs of consecutive paths (so each part's subtrees are
    /// mostly its own); each part is this trie with only its run open.
    func partitioned(into count: Int) -> [PathTrie] {
        let open = unresolvedLeaves().sorted { fileIndex[Int($0)] < fileIndex[Int($1)] }
        guard count > 1, open.count >= count else { return [self] }
        var parts: [PathTrie] = []
        for part in 0..<count {
            var trie = self
            for node in trie.unresolved.indices { trie.unresolved[node] = 0 }
            for leaf in open[(open.count * part / count)..<(open.count * (part + 1) / count)] {
                trie.markUnresolved(leaf)
            }
            parts.append(trie)
        }
        return parts
    }

    /// Leaves whose file is still unresolved.
    func unresolvedLeaves() -> [Int32] {
        (0..<Int32(fileIndex.count)).filter { fileIndex[Int($0)] >= 0 && unresolved[Int($0)] > 0 }
    }

    func file(at leaf: Int32) -> TrackedFile { files[Int(fileIndex[Int(leaf)])] }

    /// `files`, leaving the trie without them: the caller can change them without copying them all.
    mutating func takeFiles() -> [TrackedFile] {
        defer { files = [] }
        return files
    }

    /// `file(at:).path` without copying the rest of the file.
    func path(at leaf: Int32) -> BytePath { files[Int(fileIndex[Int(leaf)])].path }

    @discardableResult
    private mutating func appendNode<C: Collection>(name: C, isDirectory directory: Bool, parent node: Int32) -> Int32
    where C.Element == UInt8 {
        let id = Int32(isDirectory.count)
        nameStart.append(Int32(names.count))
        nameCount.append(Int32(name.count))
        names.append(contentsOf: name)
        isDirectory.append(directory)
        parent.append(node)
        firstChild.append(0)
        childCount.append(0)
        fileIndex.append(-1)
        unresolved.append(0)
        return id
    }

    mutating func markUnresolved(_ leaf: Int32) {
        var current = leaf
        while current >= 0 {
            unresolved[Int(current)] += 1
            current = parent[Int(current)]
        }
    }

    private static func selects(_ only: [BytePath]?, _ path: BytePath) -> Bool {
        guard let only else { return true }
        return only.contains { path.isWithin($0) }
    }

    /// A directory is read when a requested path lies in it or it lies in a requested path.
    private static func mayContain(_ only: [BytePath]?, _ directory: BytePath) -> Bool {
        guard let only else { return true }
        return only.contains { directory.isWithin($0) || $0.isWithin(directory) }
    }
}
