import GitKit
import MtimeCore
import MtimeHistory
@testable import MtimeRestore
import Testing
import TestSupport

/// HEAD's files joined with the index in parts on several threads (`IndexJoin`) give exactly the
/// join of one merge, wherever the cuts fall: on a path with conflict stages, between files and
/// index-only paths, in a run of files that share a path (a malformed tree), at either end.
@Suite struct IndexJoinTests {
    @Test(arguments: [1, 2, 3, 4, 7, 19])
    func aJoinInPartsIsTheJoinOfOneMerge(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let id = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        var files: [TrackedFile] = [], entries: [IndexEntry] = []
        func entry(_ path: String, stage: Int) -> IndexEntry {
            IndexEntry(
                path: BytePath(path), objectID: id, mode: 0o100644, stage: stage, modificationTime: Timestamp(seconds: 1, nanoseconds: 0),
                changeTime: Timestamp(seconds: 1, nanoseconds: 0), inode: 1, uid: 0, gid: 0, fileSize: 1, isSkipWorktree: false)
        }
        for number in 0..<600 {
            let path = String(format: "d%02d/f%04d", number % 13, number)
            switch random.next() % 8 {
            case 0: entries.append(entry(path, stage: 0))  // only in the index
            case 1: files.append(TrackedFile(path: BytePath(path), objectID: id, mode: 0o100644, lastChange: nil))  // only in HEAD
            case 2:
                files.append(TrackedFile(path: BytePath(path), objectID: id, mode: 0o100644, lastChange: nil))
                for stage in 1...3 { entries.append(entry(path, stage: stage)) }  // a conflict
            case 3:
                // A path twice in HEAD (a malformed tree), once in the index.
                files += [TrackedFile](
                    repeating: TrackedFile(path: BytePath(path), objectID: id, mode: 0o100644, lastChange: nil), count: 2)
                entries.append(entry(path, stage: 0))
            default:
                files.append(TrackedFile(path: BytePath(path), objectID: id, mode: 0o100644, lastChange: nil))
                entries.append(entry(path, stage: 0))
            }
        }
        files.sort { $0.path < $1.path }
        entries.sort { $0.path < $1.path || ($0.path == $1.path && $0.stage < $1.stage) }
        let whole = IndexJoin(files: files, sortedIndex: entries)
        #expect(!whole.indexOnly.isEmpty && whole.conflicted.contains(true) && whole.indexPositions.contains(-1))
        for parts in [2, 3, 5, 8, 64, 600] {
            #expect(IndexJoin(files: files, sortedIndex: entries, parts: parts, minimumFilesPerPart: 1) == whole, "\(parts) parts")
        }
        // An empty index, or no files: every path on one side.
        #expect(IndexJoin(files: files, sortedIndex: [], parts: 4, minimumFilesPerPart: 1) == IndexJoin(files: files, sortedIndex: []))
        #expect(IndexJoin(files: [], sortedIndex: entries, parts: 4, minimumFilesPerPart: 1) == IndexJoin(files: [], sortedIndex: entries))
    }
}
