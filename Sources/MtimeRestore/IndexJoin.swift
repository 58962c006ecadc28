import GitKit
import MtimeCore
import MtimeHistory

/// HEAD's files paired with their index entries. Both lists are sorted by path bytes, so one walk
/// over the two pairs them without hashing a single path (hashing 5,000 paths twice showed up in
/// warm-run profiles).
struct IndexJoin {
    /// Per HEAD file, at the same position: the position in `sortedIndex` of its stage-0 entry, -1
    /// for none (positions, not copies: 64,000 entry copies showed in warm profiles).
    private var stageZero: [Int32] = []
    /// Per HEAD file: whether the index holds unresolved conflict stages for the path.
    private(set) var conflicted: [Bool] = []
    /// Paths in the index but not in HEAD, each once (its stage-0 entry when it has one).
    private(set) var indexOnly: [IndexEntry] = []
    /// Per HEAD file: the position in `sortedIndex` of the first entry with its path, -1 for none.
    private(set) var indexPositions: [Int32] = []
    /// The index as joined: sorted by path.
    let sortedIndex: [IndexEntry]

    /// The stage-0 index entry of HEAD's file at `position`, if any.
    func entry(at position: Int) -> IndexEntry? {
        let index = stageZero[position]
        return index < 0 ? nil : sortedIndex[Int(index)]
    }

    /// Both must be sorted by path. One merge of the two lists; elements are read in place (a copy
    /// of an entry or a file retains its path) and paths compared with `memcmp`.
    init(files: [TrackedFile], sortedIndex index: [IndexEntry]) {
        sortedIndex = index
        var stageZero: [Int32] = [], conflicted: [Bool] = [], indexPositions: [Int32] = [], indexOnly: [IndexEntry] = []
        stageZero.reserveCapacity(files.count)
        conflicted.reserveCapacity(files.count)
        indexPositions.reserveCapacity(files.count)
        index.withUnsafeBufferPointer { entryBuffer in
            files.withUnsafeBufferPointer { fileBuffer in
                // Fields are read through the elements' addresses: `entries[position].stage` copied the
                // whole entry (retaining and releasing its path) for each field read, a third of the join.
                let entries = entryBuffer.baseAddress, files = fileBuffer.baseAddress
                let entryCount = entryBuffer.count, fileCount = fileBuffer.count
                var position = 0, file = 0
                while file < fileCount || position < entryCount {
                    let order =
                        position == entryCount
                        ? 1
                        : file == fileCount
                            ? -1
                            : IndexJoin.order(entries![position].path, files![file].path)
                    // The entries at `position` with one path: its stage-0 entry, and whether it has others.
                    let first = position
                    var stage0 = -1, hasConflict = false
                    if order <= 0 {
                        repeat {
                            if entries![position].stage == 0 { stage0 = position } else { hasConflict = true }
                            position += 1
                        } while position < entryCount && IndexJoin.order(entries![position].path, entries![first].path) == 0
                    }
                    if order < 0 {
                        indexOnly.append(entries![stage0 >= 0 ? stage0 : first])
                        continue
                    }
                    stageZero.append(Int32(stage0))
                    conflicted.append(hasConflict)
                    indexPositions.append(order == 0 ? Int32(first) : -1)
                    file += 1
                }
            }
        }
        self.stageZero = stageZero
        self.conflicted = conflicted
        self.indexPositions = indexPositions
        self.indexOnly = indexOnly
    }

    /// Byte order of two paths (git's order of the index and of trees' full paths).
    private static func order(_ a: BytePath, _ b: BytePath) -> Int {
        a.bytes.withUnsafeBytes { a in b.bytes.withUnsafeBytes { b in compareBytes(a, b) } }
    }
}

extension Array where Element == IndexEntry {
    var isSortedByPath: Bool { withUnsafeBufferPointer { isSorted($0, \.path) } }
}

extension Array where Element == TrackedFile {
    var isSortedByPath: Bool { withUnsafeBufferPointer { isSorted($0, \.path) } }
}

/// Whether the elements' paths never decrease in byte order; read through the addresses of the
/// elements' paths: a path returned by value was retained and released, twice per element.
private func isSorted<Element>(_ elements: UnsafeBufferPointer<Element>, _ path: KeyPath<Element, BytePath>) -> Bool {
    // A stored property: it has an offset (asked once; a key path applied per element is a runtime call).
    guard elements.count > 1, let base = elements.baseAddress, let offset = MemoryLayout<Element>.offset(of: path) else { return true }
    func pathPointer(_ position: Int) -> UnsafePointer<BytePath> {
        (UnsafeRawPointer(base + position) + offset).assumingMemoryBound(to: BytePath.self)
    }
    for position in 1..<elements.count {
        let order = pathPointer(position - 1).pointee.bytes.withUnsafeBytes { previous in
            pathPointer(position).pointee.bytes.withUnsafeBytes { compareBytes(previous, $0) }
        }
        if order > 0 { return false }
    }
    return true
}
