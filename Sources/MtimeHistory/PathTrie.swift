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
    /// For a directory: its number among the directories (0 for the root); -1 for a file.
    private(set) var directoryNumber: [Int32] = []
    private(set) var directoryCount = 0
    /// For a file: 1 while unresolved; for a directory: unresolved files below it.
    private(set) var unresolved: [Int32] = []

    /// HEAD's non-tree entries, in tree order (which is byte order of full paths in a well-formed tree).
    private(set) var files: [TrackedFile] = []
    /// Per file: index of its resolving change, -1 while unresolved.
    private(set) var resolution: [Int32] = []
    /// Per file: its leaf.
    private(set) var leafOfFile: [Int32] = []
    /// Whether `files` are in strictly increasing byte order: false only when a tree lists its
    /// entries out of git's order or twice (a malformed tree).
    private(set) var filesInByteOrder = true

    static let root: Int32 = 0

    var unresolvedFiles: Int { Int(unresolved[0]) }

    var nodeCount: Int { parent.count }

    /// Reads HEAD's whole tree (through `trees` when given). Files outside `only` (and submodules)
    /// start out resolved.
    init(tree: ObjectID, objects: ObjectDatabase, only: [BytePath]?, trees: TreeCache? = nil) throws(GitError) {
        var entries: [(id: ObjectID, mode: UInt32)] = [(tree, Tree.directoryMode)]
        // Grown one node at a time, the arrays would be copied a dozen times each.
        if let bound = trees?.entryCountBound, bound > 0 { reserveNodes(bound + 1, &entries) }
        _ = appendNodes(names: [], of: 1, parent: -1)
        _ = appendNode(nameStart: 0, nameCount: 0, isDirectory: true)
        // A directory's path is needed only to compare it with `only`.
        var pending: [(node: Int32, path: BytePath?)] = [(PathTrie.root, only == nil ? nil : BytePath([]))]
        var fileCount = 0
        while let (node, path) = pending.popLast() {
            let id = entries[Int(node)].id
            let tree: Tree
            if let trees { tree = try trees.tree(id, objects: objects) } else { tree = try objects.tree(id) }
            firstChild[Int(node)] = Int32(isDirectory.count)
            childCount[Int(node)] = Int32(tree.entries.count)
            let namesStart = appendNodes(names: tree.names, of: tree.entries.count, parent: node)
            tree.names.withUnsafeBufferPointer { treeNames in
                var previous: (name: UnsafeBufferPointer<UInt8>, isTree: Bool)?
                for entry in tree.entries {
                    let name = UnsafeBufferPointer(rebasing: treeNames[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameCount)])
                    // Entries strictly in git's order in every tree: then the files' full paths are strictly in byte order.
                    if let previous, PathTrie.treeOrder(previous.name, previous.isTree, name, entry.isTree) >= 0 {
                        filesInByteOrder = false
                    }
                    previous = (name, entry.isTree)
                    let child = appendNode(nameStart: namesStart + Int(entry.nameStart), nameCount: name.count, isDirectory: entry.isTree)
                    entries.append((entry.id, entry.mode))
                    guard entry.isTree else {
                        fileCount += 1
                        continue
                    }
                    guard let path else {
                        pending.append((child, nil))
                        continue
                    }
                    let childPath = path.appending(BytePath(Array(name)))
                    if PathTrie.mayContain(only, childPath) { pending.append((child, childPath)) }
                }
            }
        }
        files.reserveCapacity(fileCount)
        resolution.reserveCapacity(fileCount)
        leafOfFile.reserveCapacity(fileCount)
        // Files numbered in a pre-order walk with children in tree order: that is byte order of full
        // paths. `prefix` is the directory's path and a `/`; each file's path is one allocation.
        var prefix: [UInt8] = []
        var stack: [(node: Int32, prefixCount: Int)] = [(PathTrie.root, 0)]
        while let (node, prefixCount) = stack.popLast() {
            prefix.removeSubrange(prefixCount...)
            let start = Int(nameStart[Int(node)]), count = Int(nameCount[Int(node)])
            guard isDirectory[Int(node)] else {
                let pathBytes = [UInt8](unsafeUninitializedCapacity: prefixCount + count) { buffer, initialized in
                    prefix.withUnsafeBufferPointer { initialized = buffer.initialize(fromContentsOf: $0) }
                    names.withUnsafeBufferPointer {
                        let name = UnsafeBufferPointer(rebasing: $0[start..<start + count])
                        initialized += UnsafeMutableBufferPointer(rebasing: buffer[initialized...]).initialize(fromContentsOf: name)
                    }
                }
                let path = BytePath(pathBytes)
                guard PathTrie.selects(only, path) else { continue }
                fileIndex[Int(node)] = Int32(files.count)
                leafOfFile.append(node)
                let entry = entries[Int(node)]
                files.append(TrackedFile(path: path, objectID: entry.id, mode: entry.mode, lastChange: nil))
                resolution.append(-1)
                if entry.mode != Tree.submoduleMode { unresolved[Int(node)] = 1 }
                continue
            }
            if node != PathTrie.root {
                prefix.append(contentsOf: names[start..<start + count])
                prefix.append(UInt8(ascii: "/"))
            }
            let first = firstChild[Int(node)]
            for child in (first..<first + childCount[Int(node)]).reversed() {
                stack.append((child, prefix.count))
            }
        }
        // A directory's count is its children's sum; children are numbered after their parent.
        for node in stride(from: nodeCount - 1, to: 0, by: -1) where unresolved[node] > 0 {
            unresolved[Int(parent[node])] += unresolved[node]
        }
    }

    /// git's order of two entries of one tree: bytes, a directory's name as if it ended in `/`.
    private static func treeOrder(_ a: UnsafeBufferPointer<UInt8>, _ aIsTree: Bool, _ b: UnsafeBufferPointer<UInt8>, _ bIsTree: Bool) -> Int
    {
        let common = min(a.count, b.count)
        let order = compareBytes(
            UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: a[..<common])),
            UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[..<common])))
        if order != 0 { return order }
        let x = a.count > common ? Int(a[common]) : aIsTree ? Int(UInt8(ascii: "/")) : 0
        let y = b.count > common ? Int(b[common]) : bIsTree ? Int(UInt8(ascii: "/")) : 0
        return x - y
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
        let open = unresolvedLeaves()
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

    /// Leaves whose file is still unresolved, in file order (byte order of their paths).
    func unresolvedLeaves() -> [Int32] {
        leafOfFile.filter { unresolved[Int($0)] > 0 }
    }

    func file(at leaf: Int32) -> TrackedFile { files[Int(fileIndex[Int(leaf)])] }

    /// `files`, leaving the trie without them: the caller can change them without copying them all.
    mutating func takeFiles() -> [TrackedFile] {
        defer { files = [] }
        return files
    }

    /// `file(at:).path` without copying the rest of the file.
    func path(at leaf: Int32) -> BytePath { files[Int(fileIndex[Int(leaf)])].path }

    /// Appends the fields every child of `parent` starts with, `count` of them at once, and the
    /// names' bytes (a tree object's bytes as they are: names lie between modes and ids); returns
    /// where `names` begins in `self.names`. Each child's own fields follow with `appendNode`.
    private mutating func appendNodes(names treeNames: [UInt8], of count: Int, parent node: Int32) -> Int {
        let start = names.count
        names.append(contentsOf: treeNames)
        parent.append(contentsOf: repeatElement(node, count: count))
        firstChild.append(contentsOf: repeatElement(0, count: count))
        childCount.append(contentsOf: repeatElement(0, count: count))
        fileIndex.append(contentsOf: repeatElement(-1, count: count))
        unresolved.append(contentsOf: repeatElement(0, count: count))
        return start
    }

    /// The next node's own fields (after `appendNodes`); returns its number.
    private mutating func appendNode(nameStart start: Int, nameCount count: Int, isDirectory directory: Bool) -> Int32 {
        let id = Int32(isDirectory.count)
        nameStart.append(Int32(start))
        nameCount.append(Int32(count))
        isDirectory.append(directory)
        directoryNumber.append(directory ? Int32(directoryCount) : -1)
        if directory { directoryCount += 1 }
        return id
    }

    private mutating func reserveNodes(_ count: Int, _ entries: inout [(id: ObjectID, mode: UInt32)]) {
        entries.reserveCapacity(count)
        names.reserveCapacity(count * 24)
        nameStart.reserveCapacity(count)
        nameCount.reserveCapacity(count)
        isDirectory.reserveCapacity(count)
        parent.reserveCapacity(count)
        firstChild.reserveCapacity(count)
        childCount.reserveCapacity(count)
        fileIndex.reserveCapacity(count)
        directoryNumber.reserveCapacity(count)
        unresolved.reserveCapacity(count)
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
