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
