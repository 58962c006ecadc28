import Foundation
import GitKit
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// The `lstat`s restore starts from the index file's path bytes before the entries are decoded
/// (`WorkingTreeFiles.statuses(ofIndexPaths:)`): they are the serial `lstat`s of exactly the paths
/// the decoded entries would have asked for, and count only for the index they were read from.
@Suite struct IndexBytesPreloadTests {
    /// Enough files for several threads, in directories; the working tree differs from the index
    /// in every way a path can (deleted, a directory where a file is tracked, a directory swapped
    /// for a symlink, below a file), and the index holds a gitlink, conflict stages and extended
    /// flags (version 3).
    private static func repository() throws -> GitRepository {
        let repository = try GitRepository(label: "index-bytes-preload")
        for index in 0..<(2 * PreloadedStatuses.minimumPathsPerThread + 700) {
            try repository.write(String(format: "src/m%02d/s%d/f%05d.c", index % 29, index % 3, index), "int f\(index);\n")
        }
        try repository.write("top.txt", "top\n")
        try repository.commit("all")
        let blob = try repository.git("rev-parse", "HEAD:top.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        try repository.git("update-index", "--add", "--cacheinfo", "160000,\(blob),vendor/lib")
        try repository.git("update-index", "--skip-worktree", "src/m03/s0/f00003.c")
        // Stages 1–3 of one path in place of its stage 0.
        try runChecked(
            ["git", "update-index", "--index-info"], in: repository.path,
            input: "0 \(String(repeating: "0", count: 40))\tsrc/m05/s2/f00005.c\n"
                + (1...3).map { "100644 \(blob) \($0)\tsrc/m05/s2/f00005.c\n" }.joined())
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m01/s1/f00001.c"))
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m02/s2/f00002.c"))
        try FileManager.default.createDirectory(atPath: repository.directory.url("src/m02/s2/f00002.c"), withIntermediateDirectories: false)
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m07"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("src/m07"), withDestinationPath: "m08")
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m09"))
        try Data("now a file\n".utf8).write(to: URL(fileURLWithPath: repository.directory.url("src/m09")))
        return repository
    }

    @Test func statusesFromTheIndexBytesAreTheSerialOnesOfTheDecodedEntries() throws {
        let repository = try IndexBytesPreloadTests.repository()
        let session = try RestoreSession(discoveringFrom: repository.path)
        let location = session.repository.location
        let bytes = try #require(Repository.indexFileBytes(at: location))
        #expect(bytes.bytes[7] == 3, "extended flags make a version-3 index")
        let ranges = try #require(Repository.indexPathRanges(in: bytes))
        let entries = try IndexReader(location, workdir: session.workdir).entries
        #expect(PreloadedStatuses.matches(entries, ranges, in: bytes))
        let paths = PreloadedStatuses.paths(of: entries)
        #expect(paths.filter { $0 == nil }.count == 1 + 2, "the gitlink and the conflict's later stages are not stat'ed")

        let serialFiles = try WorkingTreeFiles(root: session.workdir)
        let serial = paths.map { path in path.map { path in Result { () throws(SystemError) in try serialFiles.status(path) } } }
        #expect(serial.contains { if case .some(.success(.none)) = $0 { true } else { false } }, "some paths are absent or unreachable")
        for threads in [1, 2, 3] {
            let files = try WorkingTreeFiles(root: session.workdir)
            let early = WorkingTreeFiles.statuses(ofIndexPaths: ranges, in: bytes, tree: files.tree, threads: threads)
            expectSerialAnswers(early, serial, paths, "\(threads) threads")
        }
    }

    /// Paths read from one index never stand for another's entries: a path renamed (same count),
    /// removed, added, or given another mode, and an index whose file order is not path order.
    @Test func statusesFromTheIndexBytesCountOnlyForTheirOwnIndex() throws {
        let repository = try IndexBytesPreloadTests.repository()
        let session = try RestoreSession(discoveringFrom: repository.path)
        let location = session.repository.location
        let before = try #require(Repository.indexFileBytes(at: location))
        let ranges = try #require(Repository.indexPathRanges(in: before))
        func entries() throws -> [IndexEntry] { try IndexReader(location, workdir: session.workdir).entries }
        #expect(PreloadedStatuses.matches(try entries(), ranges, in: before))

        try repository.git("mv", "top.txt", "tip.txt")
        #expect(!PreloadedStatuses.matches(try entries(), ranges, in: before), "renamed")
        try repository.git("mv", "tip.txt", "top.txt")
        #expect(PreloadedStatuses.matches(try entries(), ranges, in: before), "renamed back")
        try repository.git("rm", "-q", "--cached", "src/m04/s1/f00004.c")
        #expect(!PreloadedStatuses.matches(try entries(), ranges, in: before), "removed")
        try repository.git("add", "src/m04/s1/f00004.c")
        try repository.git("update-index", "--chmod=+x", "src/m06/s0/f00006.c")
        #expect(!PreloadedStatuses.matches(try entries(), ranges, in: before), "mode changed")

        // An index out of path order (libgit2 reads it): restore sorts the entries, and the paths
        // read from the file no longer line up with them.
        let blob = try repository.git("rev-parse", "HEAD:top.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        try repository.writeIndex([(0o100644, blob, "top.txt"), (0o100644, blob, "a.txt")], sorted: false)
        let unsorted = try #require(Repository.indexFileBytes(at: location))
        let unsortedRanges = try #require(Repository.indexPathRanges(in: unsorted))
        let sortedEntries = try entries().sorted { $0.path < $1.path }
        #expect(sortedEntries.map(\.path) == [BytePath("a.txt"), BytePath("top.txt")])
        #expect(!PreloadedStatuses.matches(sortedEntries, unsortedRanges, in: unsorted))
    }

    /// A whole restore through the index an unsorted file gives (the preload from its bytes does not
    /// match, so the paths are stat'ed again from the entries) leaves every clean file at its last change.
    @Test func aRestoreWhoseIndexLibgit2SortedGivesGitsTimes() throws {
        let repository = try GitRepository(label: "index-bytes-unsorted")
        var entries: [(mode: UInt32, id: String, path: String)] = []
        for index in 0..<(2 * PreloadedStatuses.minimumPathsPerThread + 100) {
            try repository.write(String(format: "d%02d/f%05d", index % 13, index), "\(index)\n")
        }
        try repository.commit("all")
        try repository.write("d00/f00000", "changed\n")
        try repository.commit("one")
        for line in try repository.git("ls-files", "-s").split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            entries.append(
                (UInt32(fields[0], radix: 8)!, String(fields[1]), String(line[line.index(after: line.firstIndex(of: "\t")!)...])))
        }
        try repository.writeIndex(entries.reversed(), sorted: false)
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "dirty skipped")?.hasPrefix("0 ") == true, "\(result.stdout)")
        func commitTime(_ revision: String) throws -> Int64? {
            Int64(try repository.git("log", "-1", "--format=%ct", revision).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(try modificationTime(repository.directory.url("d05/f00005")).seconds == (try commitTime("HEAD~")))
        #expect(try modificationTime(repository.directory.url("d00/f00000")).seconds == (try commitTime("HEAD")))
    }
}
