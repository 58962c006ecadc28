import GitKit
import MtimeCore

/// The tree objects of the last full run's HEAD, kept beside the snapshots (`trees`), so the next
/// run reads from the object database only the trees its new commits changed: reading all of
/// HEAD's trees out of a deep pack (delta chains, inflate) was the largest cost of a warm run.
/// Trees are addressed by their id, and a stored tree is used only if it hashes to its id, so the
/// file can come from any clone (a shared cache directory) and never describes the wrong tree. It
/// ends in a SHA-1 trailer that reading does not check: every tree is checked against its id
/// when used, which a damaged byte in a tree fails (that tree is read from the objects instead),
/// and damaged lengths or ids fail decoding or that check; hashing the 3 MB file of a 64,000-file
/// tree again as a whole cost a warm run ~3 ms on its history thread.
final class TreeCache {
    private let file: BytePath
    /// The file as loaded (empty when missing or invalid).
    private var bytes: [UInt8] = []
    /// Where each stored tree's raw bytes (git's object format) lie in `bytes`, by id.
    private var stored: [ObjectID: Range<Int>] = [:]
    /// Every tree handed out this run, in the order asked.
    private var used: [ObjectID] = []
    /// Raw bytes of the trees this run read from the object database: not in the file, or not as
    /// their id says.
    private var readFromObjects: [ObjectID: [UInt8]] = [:]

    /// A file missing or holding unused more than one tree in this many of a run's is rewritten.
    static let rewriteFraction = 32
    private static let magic = Array("git-mtime trees\n".utf8)
    private static let version: UInt32 = 2

    init(directory: BytePath) {
        file = directory.appending("trees-v\(TreeCache.version)")
        if let bytes = try? FileSystem.readFile(file, limit: 1 << 30), let stored = decode(bytes) {
            self.bytes = bytes
            self.stored = stored
        }
    }

    /// At least the entry count of all stored trees (an entry takes 24 bytes or more): a capacity
    /// for those who build one node per entry.
    var entryCountBound: Int { bytes.count / 24 }

    /// The tree `id`, from the cache when it holds it, else from `objects`.
    func tree(_ id: ObjectID, objects: ObjectDatabase) throws(GitError) -> Tree {
        if let range = stored[id],
            let tree = bytes.withUnsafeBytes({ file -> Tree? in
                let raw = UnsafeRawBufferPointer(rebasing: file[range])
                return TreeCache.treeID(of: raw) == id ? Tree(parsing: raw) : nil
            })
        {
            used.append(id)
            return tree
        }
        let tree = try objects.tree(id)
        readFromObjects[id] = TreeCache.rawBytes(of: tree)
        used.append(id)
        return tree
    }

    /// Replaces the file with exactly the trees used this run, unless it already holds exactly them,
    /// or holds all but a few (up to one in `rewriteFraction`): rewriting every tree after one commit
    /// would cost more than reading that commit's few new trees again next time.
    /// A cache that cannot be written only costs speed, so failures are ignored.
    func storeUsedTrees() {
        let usedCount = Set(used).count
        // Every stored tree is either used as it is or not at all (one read from objects is not kept).
        let stale = stored.count - (usedCount - readFromObjects.count)
        guard !readFromObjects.isEmpty || stale > 0 else { return }
        guard stored.isEmpty || (readFromObjects.count + stale) * TreeCache.rewriteFraction > usedCount else { return }
        try? FileSystem.createDirectory(file.parent)
        try? FileSystem.writeAtomically(file, contents: encode(used), durable: false)
    }

    /// Git's id of a tree object with these raw bytes.
    private static func treeID(of raw: UnsafeRawBufferPointer) -> ObjectID {
        var hasher = SHA1()
        hasher.update(Array("tree \(raw.count)\0".utf8))
        hasher.update(raw)
        return hasher.finalize()
    }

    // Layout: magic, version u32, tree count u32, trees (id, length u32, git's raw tree
    // bytes), then SHA-1 of everything before it. Integers little-endian.
    private func encode(_ trees: [ObjectID]) -> [UInt8] {
        var seen = Set<ObjectID>()
        let ids = trees.filter { seen.insert($0).inserted }
        /// Read from the object database this run, else (checked when it was handed out) stored.
        func withRaw(_ id: ObjectID, _ body: (UnsafeRawBufferPointer) -> Void) {
            if let raw = readFromObjects[id] {
                raw.withUnsafeBytes(body)
            } else {
                bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[stored[id]!])) }
            }
        }
        var size = TreeCache.magic.count + 4 + 4 + ObjectID.byteCount
        for id in ids { withRaw(id) { size += ObjectID.byteCount + 4 + $0.count } }
        return BinaryWriter.bytes(size: size) { writer in
            writer.append(TreeCache.magic)
            writer.append(TreeCache.version)
            writer.append(UInt32(ids.count))
            for id in ids {
                withRaw(id) { raw in
                    writer.append(id)
                    writer.append(UInt32(raw.count))
                    writer.append(raw)
                }
            }
            writer.appendChecksum()
        }
    }

    private func decode(_ bytes: [UInt8]) -> [ObjectID: Range<Int>]? {
        bytes.withUnsafeBytes { file -> [ObjectID: Range<Int>]? in
            guard file.count >= TreeCache.magic.count + 4 + 4 + ObjectID.byteCount,
                file.starts(with: TreeCache.magic)
            else { return nil }
            var reader = BinaryReader(
                UnsafeRawBufferPointer(rebasing: file[..<(file.count - ObjectID.byteCount)]),
                offset: TreeCache.magic.count)
            guard reader.integer(UInt32.self) == TreeCache.version,
                let count = reader.integer(UInt32.self), Int(count) <= reader.remaining / (ObjectID.byteCount + 4)
            else { return nil }
            var trees: [ObjectID: Range<Int>] = [:]
            trees.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let id = reader.objectID(), let length = reader.integer(UInt32.self),
                    let raw = reader.take(Int(length))
                else { return nil }
                let start = raw.baseAddress.map { $0 - file.baseAddress! } ?? 0
                trees[id] = start..<start + raw.count
            }
            return reader.isAtEnd ? trees : nil
        }
    }

    /// Git's raw tree format (`<octal mode> <name>\0<id>` per entry) of a parsed tree, which
    /// `Tree(parsing:)` reads back to the same entries.
    static func rawBytes(of tree: Tree) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(tree.names.count + tree.entries.count * (8 + ObjectID.byteCount))
        for entry in tree.entries {
            var digits = 0
            while entry.mode >> (3 * digits) != 0 { digits += 1 }
            for digit in (0..<max(digits, 1)).reversed() { raw.append(UInt8(ascii: "0") + UInt8(entry.mode >> (3 * digit) & 7)) }
            raw.append(UInt8(ascii: " "))
            raw.append(contentsOf: tree.name(of: entry))
            raw.append(0)
            withUnsafeBytes(of: (entry.id.high.bigEndian, entry.id.middle.bigEndian)) { raw.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.id.low.bigEndian) { raw.append(contentsOf: $0) }
        }
        return raw
    }
}
