import Dispatch
import GitKit
import MtimeCore
import MtimeHistory

/// HEAD's files paired with their index entries. Both lists are sorted by path bytes, so one walk
/// over the two pairs them without hashing a single path (hashing 5,000 paths twice showed up in
/// warm-run profiles).
struct IndexJoin: Equatable {
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
    /// of an entry or a file retains its path) and paths compared with `memcmp`. With `parts` above
    /// one (and enough files), the merge is cut into that many parts merged on threads of their
    /// own, each starting at a file and at the first entry not before that file's path: the same
    /// join as one merge (a path's entries, and files of one path, never straddle a cut). Below
    /// `minimumFilesPerPart` files per part, a thread costs more than its share of the merge saves.
    init(files: [TrackedFile], sortedIndex index: [IndexEntry], parts requested: Int = 1, minimumFilesPerPart: Int = 4096) {
        sortedIndex = index
        let fileCount = files.count, entryCount = index.count
        let parts = max(1, min(requested, fileCount / max(1, minimumFilesPerPart)))
        var indexOnlyByPart = [[IndexEntry]](repeating: [], count: parts)
        var stageZero: [Int32] = [], conflicted: [Bool] = [], indexPositions: [Int32] = []
        index.withUnsafeBufferPointer { entryBuffer in
            files.withUnsafeBufferPointer { fileBuffer in
                // Fields are read through the elements' addresses: `entries[position].stage` copied the
                // whole entry (retaining and releasing its path) for each field read, a third of the join.
                let entries = entryBuffer.baseAddress, files = fileBuffer.baseAddress
                // Where each part starts: a file (not one with its predecessor's path), and the first entry not before it.
                var fileStarts = [0], entryStarts = [0]
                for part in 1..<parts {
                    var start = max(fileStarts[part - 1], fileCount * part / parts)
                    while start > 0, start < fileCount, IndexJoin.order(files![start - 1].path, files![start].path) == 0 { start += 1 }
                    var low = entryStarts[part - 1], high = entryCount
                    while low < high && start < fileCount {
                        let middle = (low + high) / 2
                        if IndexJoin.order(entries![middle].path, files![start].path) < 0 { low = middle + 1 } else { high = middle }
                    }
                    fileStarts.append(start)
                    entryStarts.append(start < fileCount ? low : entryCount)
                }
                fileStarts.append(fileCount)
                entryStarts.append(entryCount)
                let shared = UnsafeSendable((entries, files, fileStarts, entryStarts))
                @Sendable func merge(
                    _ output: UnsafeSendable<(UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Bool>, UnsafeMutablePointer<Int32>)>,
                    _ part: Int
                )
                    -> [IndexEntry]
                {
                    let (entries, files, fileStarts, entryStarts) = shared.value
                    let (stageZero, conflicted, indexPositions) = output.value
                    var indexOnly: [IndexEntry] = []
                    var position = entryStarts[part], file = fileStarts[part]
                    let entryEnd = entryStarts[part + 1], fileEnd = fileStarts[part + 1]
                    while file < fileEnd || position < entryEnd {
                        let order =
                            position == entryEnd
                            ? 1
                            : file == fileEnd
                                ? -1
                                : IndexJoin.order(entries![position].path, files![file].path)
                        // The entries at `position` with one path: its stage-0 entry, and whether it has others.
                        let first = position
                        var stage0 = -1, hasConflict = false
                        if order <= 0 {
                            repeat {
                                if entries![position].stage == 0 { stage0 = position } else { hasConflict = true }
                                position += 1
                            } while position < entryEnd && IndexJoin.order(entries![position].path, entries![first].path) == 0
                        }
                        if order < 0 {
                            indexOnly.append(entries![stage0 >= 0 ? stage0 : first])
                            continue
                        }
                        stageZero[file] = Int32(stage0)
                        conflicted[file] = hasConflict
                        indexPositions[file] = order == 0 ? Int32(first) : -1
                        file += 1
                    }
                    return indexOnly
                }
                // Every position is written by exactly one part.
                stageZero = [Int32](unsafeUninitializedCapacity: fileCount) { zero, zeroCount in
                    conflicted = [Bool](unsafeUninitializedCapacity: fileCount) { conflict, conflictCount in
                        indexPositions = [Int32](unsafeUninitializedCapacity: fileCount) { positions, positionCount in
                            let output = UnsafeSendable((zero.baseAddress!, conflict.baseAddress!, positions.baseAddress!))
                            if parts == 1 {
                                indexOnlyByPart[0] = merge(output, 0)
                            } else {
                                indexOnlyByPart.withUnsafeMutableBufferPointer { byPart in
                                    let results = UnsafeSendable(byPart)
                                    DispatchQueue.concurrentPerform(iterations: parts) { results.value[$0] = merge(output, $0) }
                                }
                            }
                            positionCount = fileCount
                        }
                        conflictCount = fileCount
                    }
                    zeroCount = fileCount
                }
            }
        }
        self.stageZero = stageZero
        self.conflicted = conflicted
        self.indexPositions = indexPositions
        self.indexOnly = indexOnlyByPart.count == 1 ? indexOnlyByPart[0] : Array(indexOnlyByPart.joined())
    }

    /// Byte order of two paths (git's order of the index and of trees' full paths).
    private static func order(_ a: BytePath, _ b: BytePath) -> Int {
        a.bytes.withUnsafeBytes { a in b.bytes.withUnsafeBytes { b in compareBytes(a, b) } }
    }
}

extension Array where Element == IndexEntry {
    var isSortedByPath: Bool { withUnsafeBufferPointer { isSorted($0) { $0.pointee.path } } }
}

extension Array where Element == TrackedFile {
    var isSortedByPath: Bool { withUnsafeBufferPointer { isSorted($0) { $0.pointee.path } } }
}

/// Whether the elements' paths never decrease in byte order; read through the elements' addresses,
/// without copying them.
private func isSorted<Element>(_ elements: UnsafeBufferPointer<Element>, _ path: (UnsafePointer<Element>) -> BytePath) -> Bool {
    guard elements.count > 1, let base = elements.baseAddress else { return true }
    for position in 1..<elements.count {
        let order = path(base + position - 1).bytes.withUnsafeBytes { previous in
            path(base + position).bytes.withUnsafeBytes { compareBytes(previous, $0) }
        }
        if order > 0 { return false }
    }
    return true
}
