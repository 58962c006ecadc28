import GitKit
import MtimeCore

/// The tree objects of the last full run's HEAD, kept beside the snapshots (`trees`), so the next
/// run reads from the object database only the trees its new commits changed: reading all of
/// HEAD's trees out of a deep pack (delta chains, inflate) was the largest cost of a warm run.
/// Trees are addressed by their id, and a stored tree is used only if it hashes to its id, so the
/// file can come from any clone (a shared cache directory) and never describes the wrong tree; it
/// ends in a SHA-1 trailer, and one that fails any check is ignored.
final class TreeCache {
    private let file: BytePath
    /// Raw tree bytes (git's object format) by id, as loaded.
    private var stored: [ObjectID: [UInt8]] = [:]
    /// Every tree handed out this run, in the order asked, as raw bytes.
    private var used: [(id: ObjectID, raw: [UInt8])] = []
    /// Trees this run read from the object database: not in the file, or not as their id says.
    private var readFromObjects = Set<ObjectID>()

    /// A file missing or holding unused more than one tree in this many of a run's is rewritten.
    static let rewriteFraction = 32
    private static let magic = Array("git-mtime trees\n".utf8)
    private static let version: UInt32 = 2

    init(directory: BytePath) {
        file = directory.appending("trees-v\(TreeCache.version)")
        if let bytes = try? FileSystem.readFile(file, limit: 1 << 30) {
            stored = decode(bytes) ?? [:]
        }
    }

    /// The tree `id`, from the cache when it holds it, else from `objects`.
    func tree(_ id: ObjectID, objects: ObjectDatabase) throws(GitError) -> Tree {
        if let raw = stored[id], TreeCache.treeID(of: raw) == id, let tree = raw.withUnsafeBytes({ Tree(parsing: $0) }) {
            used.append((id, raw))
            return tree
        }
        let tree = try objects.tree(id)
        readFromObjects.insert(id)
        used.append((id, TreeCache.rawBytes(of: tree)))
        return tree
    }

    /// Replaces the file with exactly the trees used this run, unless it already holds exactly them,
    /// or holds all but a few (up to one in `rewriteFraction`): rewriting every tree after one commit
    /// would cost more than reading that commit's few new trees again next time.
    /// A cache that cannot be written only costs speed, so failures are ignored.
    func storeUsedTrees() {
        let usedCount = Set(used.map(\.id)).count
        // Every stored tree is either used as it is or not at all (one read from objects is not kept).
        let stale = stored.count - (usedCount - readFromObjects.count)
        guard !readFromObjects.isEmpty || stale > 0 else { return }
        guard stored.isEmpty || (readFromObjects.count + stale) * TreeCache.rewriteFraction > usedCount else { return }
        try? FileSystem.createDirectory(file.parent)
        try? FileSystem.writeAtomically(file, contents: encode(used), durable: false)
    }

    /// Git's id of a tree object with these raw bytes.
    private static func treeID(of raw: [UInt8]) -> ObjectID {
        var hasher = SHA1()
        hasher.update(Array("tree \(raw.count)\0".utf8))
        hasher.update(raw)
        return hasher.finalize()
    }

    // Layout: magic, version u32, tree count u32, trees (id, length u32, git's raw tree
    // bytes), then SHA-1 of everything before it. Integers little-endian.
    private func encode(_ trees: [(id: ObjectID, raw: [UInt8])]) -> [UInt8] {
        var raws: [[UInt8]] = []
        raws.reserveCapacity(trees.count)
        var seen = Set<ObjectID>()
        var ids: [ObjectID] = []
        for (id, raw) in trees where seen.insert(id).inserted {
            ids.append(id)
            raws.append(raw)
        }
        let size =
            TreeCache.magic.count + 4 + 4
            + raws.reduce(0) { $0 + ObjectID.byteCount + 4 + $1.count } + ObjectID.byteCount
        return BinaryWriter.bytes(size: size) { writer in
            writer.append(TreeCache.magic)
            writer.append(TreeCache.version)
            writer.append(UInt32(ids.count))
            for (id, raw) in zip(ids, raws) {
                writer.append(id)
                writer.append(UInt32(raw.count))
                writer.append(raw)
            }
            writer.appendChecksum()
        }
    }

    private func decode(_ bytes: [UInt8]) -> [ObjectID: [UInt8]]? {
        bytes.withUnsafeBytes { file -> [ObjectID: [UInt8]]? in
            guard file.count >= TreeCache.magic.count + 4 + 4 + ObjectID.byteCount,
                file.starts(with: TreeCache.magic), Checksum.hasValidTrailer(file)
            else { return nil }
            var reader = BinaryReader(
                UnsafeRawBufferPointer(rebasing: file[..<(file.count - ObjectID.byteCount)]),
                offset: TreeCache.magic.count)
            guard reader.integer(UInt32.self) == TreeCache.version,
                let count = reader.integer(UInt32.self), Int(count) <= reader.remaining / (ObjectID.byteCount + 4)
            else { return nil }
            var trees: [ObjectID: [UInt8]] = [:]
            trees.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let id = reader.objectID(), let length = reader.integer(UInt32.self),
                    let raw = reader.take(Int(length))
                else { return nil }
                trees[id] = Array(raw)
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
