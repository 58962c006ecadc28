import GitKit
import MtimeCore
import MtimeHistory

/// HEAD's files paired with their index entries. Both lists are sorted by path bytes, so one walk
/// over the two pairs them without hashing a single path (hashing 5,000 paths twice showed up in
/// warm-run profiles).
struct IndexJoin {
    /// Per HEAD file, at the same position: its stage-0 index entry, if any.
    private(set) var entries: [IndexEntry?] = []
    /// Per HEAD file: whether the index holds unresolved conflict stages for the path.
    private(set) var conflicted: [Bool] = []
    /// Paths in the index but not in HEAD, each once (its stage-0 entry when it has one).
    private(set) var indexOnly: [IndexEntry] = []
    /// Per HEAD file: the position in `sortedIndex` of the first entry with its path, -1 for none.
    private(set) var indexPositions: [Int32] = []
    /// The index as joined: sorted by path.
    let sortedIndex: [IndexEntry]

    /// `files` must be sorted by path; the index is sorted here if it isn't already.
    init(files: [TrackedFile], index unsortedIndex: [IndexEntry]) {
        let index = unsortedIndex.isSortedByPath ? unsortedIndex : unsortedIndex.sorted { $0.path < $1.path }
        sortedIndex = index
        entries.reserveCapacity(files.count)
        conflicted.reserveCapacity(files.count)
        indexPositions.reserveCapacity(files.count)
        var position = 0
        func takeIndexOnly(before limit: BytePath?) {
            while position < index.count, limit.map({ index[position].path < $0 }) ?? true {
                let path = index[position].path
                var chosen = index[position]
                while position < index.count && index[position].path == path {
                    if index[position].stage == 0 { chosen = index[position] }
                    position += 1
                }
                indexOnly.append(chosen)
            }
        }
        for file in files {
            takeIndexOnly(before: file.path)
            var entry: IndexEntry?
            var hasConflict = false
            indexPositions.append(position < index.count && index[position].path == file.path ? Int32(position) : -1)
            while position < index.count && index[position].path == file.path {
                if index[position].stage == 0 { entry = index[position] } else { hasConflict = true }
                position += 1
            }
            entries.append(entry)
            conflicted.append(hasConflict)
        }
        takeIndexOnly(before: nil)
    }
}

extension Array where Element == IndexEntry {
    var isSortedByPath: Bool { zip(self, dropFirst()).allSatisfy { !($1.path < $0.path) } }
}

extension Array where Element == TrackedFile {
    var isSortedByPath: Bool { zip(self, dropFirst()).allSatisfy { !($1.path < $0.path) } }
}
