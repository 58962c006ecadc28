import Glibc
import MtimeCore

/// A parsed tree object: entries in git's order, names inside one buffer so a tree costs two
/// allocations however many entries it has.
public struct Tree: Sendable {
    public struct Entry: Sendable {
        public let nameStart: Int32
        public let nameCount: Int32
        /// Canonical mode, as git's diff compares it: 0o40000, 0o100644, 0o100755, 0o120000, 0o160000.
        public let mode: UInt32
        public let id: ObjectID

        public var isTree: Bool { mode == Tree.directoryMode }
    }

    public static let directoryMode: UInt32 = 0o40000
    public static let submoduleMode: UInt32 = 0o160000
    public static let empty = Tree(names: [], entries: [])

    public let names: [UInt8]
    public let entries: [Entry]

    init(names: [UInt8], entries: [Entry]) {
        self.names = names
        self.entries = entries
    }

    public func name(of entry: Entry) -> ArraySlice<UInt8> {
        names[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameCount)]
    }

    /// Parses git's raw tree format: `<octal mode> <name>\0<20-byte id>` repeated. Nil when malformed.
    /// `names` is the raw object itself (one copy, no per-entry appends): entries point at their
    /// names inside it.
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0 else { self.init(names: [], entries: []); return }
        let base = bytes.baseAddress!
        // The shortest entry is `0 a\0` and an id: 24 bytes.
        let capacity = count / 24
        var malformed = false
        let entries = [Entry](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var index = 0
            while index < count {
                var mode: UInt32 = 0
                while index < count {
                    let byte = base.load(fromByteOffset: index, as: UInt8.self)
                    if byte == 0x20 { break }
                    let digit = byte &- 0x30
                    guard digit < 8 else { malformed = true; return }
                    mode = mode << 3 | UInt32(digit)
                    index += 1
                }
                index += 1
                let nameStart = index
                while index < count, base.load(fromByteOffset: index, as: UInt8.self) != 0 { index += 1 }
                guard index + 1 + ObjectID.byteCount <= count, index > nameStart, initialized < capacity else {
                    malformed = true
                    return
                }
                let id = ObjectID(loading: base + index + 1)
                (buffer.baseAddress! + initialized).initialize(
                    to: Entry(
                        nameStart: Int32(truncatingIfNeeded: nameStart), nameCount: Int32(truncatingIfNeeded: index - nameStart),
                        mode: Tree.canonicalMode(mode), id: id))
                initialized += 1
                index += 1 + ObjectID.byteCount
            }
        }
        guard !malformed, count <= Int(Int32.max) else { return nil }
        self.init(names: Array(bytes), entries: entries)
    }

    /// Git's canon_mode: any regular file is 644 or 755 (old trees may hold e.g. 100664).
    static func canonicalMode(_ mode: UInt32) -> UInt32 {
        switch mode & 0o170000 {
        case 0o100000: return mode & 0o111 != 0 ? 0o100755 : 0o100644
        case 0o040000: return directoryMode
        case 0o120000: return 0o120000
        case 0o160000: return submoduleMode
        default: return mode
        }
    }
}

/// Git's tree order (`base_name_compare`): byte order of names, a tree's name compared as if it
/// ended in `/`. The one implementation; `RawTree.Cursor` and the history's path trie call it.
/// Returns <0, 0, >0.
@inline(__always)
public func compareTreeOrder(_ a: UnsafeRawBufferPointer, aIsTree: Bool, _ b: UnsafeRawBufferPointer, bIsTree: Bool) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let bytes = memcmp(a.baseAddress!, b.baseAddress!, common)
        if bytes != 0 { return Int(bytes) }
    }
    let x = a.count > common ? Int(a[common]) : (aIsTree ? 0x2F : 0)
    let y = b.count > common ? Int(b[common]) : (bIsTree ? 0x2F : 0)
    return x - y
}
