import MtimeCore

/// A parsed tree object: entries in git's order, names packed into one buffer so a tree costs
/// two allocations however many entries it has.
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
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        var names: [UInt8] = []
        var entries: [Entry] = []
        names.reserveCapacity(bytes.count / 2)
        entries.reserveCapacity(bytes.count / 32)
        var index = 0
        let count = bytes.count
        while index < count {
            var mode: UInt32 = 0
            while index < count, bytes[index] != 0x20 {
                let digit = bytes[index] &- 0x30
                guard digit < 8 else { return nil }
                mode = mode << 3 | UInt32(digit)
                index += 1
            }
            index += 1
            let nameStart = index
            while index < count, bytes[index] != 0 { index += 1 }
            guard index + 1 + ObjectID.byteCount <= count, index > nameStart else { return nil }
            let start = Int32(names.count)
            names.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<index]))
            index += 1
            let id = ObjectID(loading: bytes.baseAddress! + index)
            index += ObjectID.byteCount
            entries.append(Entry(nameStart: start, nameCount: Int32(names.count) - start,
                                 mode: Tree.canonicalMode(mode), id: id))
        }
        self.init(names: names, entries: entries)
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

/// Git's tree order: byte order of names, with a tree's name compared as if it ended in `/`.
/// Returns <0, 0, >0.
public func compareTreeOrder(_ a: ArraySlice<UInt8>, aIsTree: Bool, _ b: ArraySlice<UInt8>, bIsTree: Bool) -> Int {
    let common = min(a.count, b.count)
    var i = a.startIndex, j = b.startIndex
    for _ in 0..<common {
        let x = a[i], y = b[j]
        if x != y { return Int(x) - Int(y) }
        i += 1; j += 1
    }
    let x: Int = a.count > common ? Int(a[i]) : (aIsTree ? 0x2F : 0)
    let y: Int = b.count > common ? Int(b[j]) : (bIsTree ? 0x2F : 0)
    return x - y
}
