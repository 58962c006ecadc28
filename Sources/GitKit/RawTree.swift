import Glibc
import MtimeCore

/// A tree object's raw bytes, walked entry by entry with a `Cursor` instead of being parsed into a
/// `Tree`: the history walk reads hundreds of thousands of trees and compares a few entries of each,
/// so it skips the parse and its allocations. Shares the bytes with the pack reader's cache.
public struct RawTree {
    let id: ObjectID?
    let storage: ObjectBytes?

    init(id: ObjectID?, storage: ObjectBytes?) {
        self.id = id
        self.storage = storage
    }

    public static var empty: RawTree { RawTree(id: nil, storage: nil) }

    public var byteCount: Int { storage?.count ?? 0 }

    /// A cursor before the first entry; it keeps the bytes alive.
    public func makeCursor() -> Cursor { Cursor(self) }

    /// One entry at a time, in git's order: `<octal mode> <name>\0<20-byte id>`.
    public struct Cursor {
        private let storage: ObjectBytes?
        private let treeID: ObjectID?
        private let base: UnsafeRawPointer?
        private let count: Int
        private var next = 0
        private var nameStart = 0
        private var nameCount = 0
        /// Canonical mode, as in `Tree.Entry`.
        public private(set) var mode: UInt32 = 0
        public private(set) var id: ObjectID = .zero

        init(_ tree: RawTree) {
            storage = tree.storage
            treeID = tree.id
            base = tree.storage.map { UnsafeRawPointer($0.pointer) }
            count = tree.storage?.count ?? 0
        }

        public var isTree: Bool { mode == Tree.directoryMode }

        /// The current entry's name (a copy; the walk itself compares in place).
        public var name: [UInt8] {
            guard let base else { return [] }
            return Array(UnsafeRawBufferPointer(start: base + nameStart, count: nameCount))
        }

        /// Moves to the next entry: false past the last one; throws on a malformed entry.
        public mutating func advance() throws(GitError) -> Bool {
            guard next < count, let base else { return false }
            var index = next
            var mode: UInt32 = 0
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                if byte == 0x20 { break }
                let digit = byte &- 0x30
                guard digit < 8 else { throw malformed(at: next) }
                mode = mode << 3 | UInt32(digit)
                index += 1
            }
            index += 1
            let start = index
            while index < count, base.load(fromByteOffset: index, as: UInt8.self) != 0 { index += 1 }
            guard index + 1 + ObjectID.byteCount <= count, index > start else { throw malformed(at: next) }
            nameStart = start
            nameCount = index - start
            self.mode = Tree.canonicalMode(mode)
            id = ObjectID(loading: base + index + 1)
            next = index + 1 + ObjectID.byteCount
            return true
        }

        /// For a diff of two trees, from both cursors' start: moves both past the entries the trees
        /// begin with byte for byte (equal bytes parse to equal entries, so they need no comparing,
        /// and only one side is parsed, without loading ids), and returns how many bytes the trees
        /// end with alike, for `restIsAlike`. Only the entries in between can differ.
        public static func skipAlikeStart(_ a: inout Cursor, _ b: inout Cursor) throws(GitError) -> Int {
            guard a.next == 0, b.next == 0, let baseA = a.base, let baseB = b.base else { return 0 }
            let shorter = min(a.count, b.count)
            let prefix = alikeLength(baseA, baseB, shorter, backwards: false)
            let suffix = alikeLength(baseA + a.count, baseB + b.count, shorter, backwards: true)
            // Entry ends in a's alike start; git's malformed-entry checks still apply to each.
            var position = 0
            while position < prefix {
                var index = position
                while index < a.count {
                    let byte = baseA.load(fromByteOffset: index, as: UInt8.self)
                    if byte == 0x20 { break }
                    guard byte &- 0x30 < 8 else { throw a.malformed(at: position) }
                    index += 1
                }
                let nameStart = index + 1
                guard nameStart < a.count, let nul = memchr(baseA + nameStart, 0, a.count - nameStart) else {
                    throw a.malformed(at: position)
                }
                let end = UnsafeRawPointer(nul) - baseA + 1 + ObjectID.byteCount
                guard end <= a.count, end - 1 - ObjectID.byteCount > nameStart else {
                    throw a.malformed(at: position)
                }
                guard end <= prefix else { break }
                position = end
            }
            a.next = position
            b.next = position
            return suffix
        }

        /// True when both cursors' current entries are followed by the same bytes: each one's rest
        /// is no longer than `alikeEnd` (from `skipAlikeStart`) and both are as long.
        public func restIsAlike(_ other: Cursor, alikeEnd: Int) -> Bool {
            let rest = count - next
            return rest == other.count - other.next && rest <= alikeEnd
        }

        /// How many leading (or, backwards, trailing: `a` and `b` point past the ends) bytes of
        /// `count` are equal, compared a word at a time.
        private static func alikeLength(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int, backwards: Bool) -> Int {
            var length = 0
            while length + 8 <= count {
                let offset = backwards ? -(length + 8) : length
                let x = a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let y = b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if x != y {
                    // Little-endian: the first differing byte is the lowest (forwards) or highest (backwards) differing one.
                    let difference = x ^ y
                    return length + (backwards ? difference.leadingZeroBitCount : difference.trailingZeroBitCount) / 8
                }
                length += 8
            }
            while length < count {
                let offset = backwards ? -(length + 1) : length
                if a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) { break }
                length += 1
            }
            return length
        }

        private func malformed(at offset: Int) -> GitError {
            GitError(code: -1, operation: "read tree \(treeID.map(\.hex) ?? "")", message: "malformed tree object at byte \(offset)")
        }

        /// Whether the current entry is named `name`, compared in place.
        public func hasName(_ name: ArraySlice<UInt8>) -> Bool {
            withExtendedLifetime(storage) { nameBytes.elementsEqual(name) }
        }

        /// The current entry's name in place: valid while this cursor (which keeps the bytes) lives.
        var nameBytes: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base.map { $0 + nameStart }, count: nameCount)
        }

        /// Git's tree order of this entry against `other`'s current one (<0, 0, >0).
        public func compareTreeOrder(with other: Cursor) -> Int {
            // Nested, not a tuple: a tuple would copy (retain and release) both references per comparison.
            withExtendedLifetime(storage) {
                withExtendedLifetime(other.storage) {
                    GitKit.compareTreeOrder(nameBytes, aIsTree: isTree, other.nameBytes, bIsTree: other.isTree)
                }
            }
        }

        /// Git's tree order of this entry against a name held elsewhere (<0, 0, >0).
        public func compareTreeOrder(with name: UnsafeRawBufferPointer, isTree nameIsTree: Bool) -> Int {
            withExtendedLifetime(storage) { GitKit.compareTreeOrder(nameBytes, aIsTree: isTree, name, bIsTree: nameIsTree) }
        }
    }
}

extension ObjectDatabase {
    /// A tree's raw bytes, for walking with `RawTree.Cursor`.
    public func rawTree(_ id: ObjectID) throws(GitError) -> RawTree {
        let (kind, bytes) = try ownedObject(id, "read tree")
        guard kind == .tree else { throw GitError(code: -1, operation: "read tree \(id)", message: "object has the wrong type") }
        return RawTree(id: id, storage: bytes)
    }
}
