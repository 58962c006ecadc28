import Foundation
import MtimeCore
import MtimeManifest
@testable import MtimeRestore
import Testing
import TestSupport

/// Issue 10, defect 7: a write between restore's last check and its `utimensat` must never leave the
/// new content recorded as clean (stat cache) with the commit time. The window is widened with strace
/// (`inject=utimensat:delay_enter=…`); the cache write is delayed too, so a record would be settled.
@Suite(.serialized) struct RestoreRaceTests {
    static let strace = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A repository whose one file `f` needs its time set, and the time git gave its commit.
    /// `indexVouches`: as a fresh clone has it, no stat cache and an index that describes every file,
    /// so restore plans `f` without looking at it and checks it under the lease
    /// (`RestoreOptions.checksIndexedFilesWhileSetting`); otherwise a stat cache vouches for `other`.
    func repository(indexVouches: Bool) throws -> GitRepository {
        let repo = try GitRepository(label: "race")
        try repo.write("f", "hello\n")
        try repo.write("other", "other\n")
        try repo.commit()
        if indexVouches {
            try runChecked(["sh", "-c", "touch -d @1500000000 f other && git update-index -q --refresh"], in: repo.path)
            return repo
        }
        try runChecked([builtProduct("git-mtime"), "restore"], in: repo.path)
        try setTime(repo.directory.url("f"), Timestamp(seconds: 1_900_000_000))
        return repo
    }

    /// Starts `git mtime restore` under strace, waits until it is inside the delayed `utimensat`,
    /// runs `write` there, and returns restore's result once it ends.
    func restoreWithWriteInTheWindow(_ repo: GitRepository, write: () throws -> Void) throws -> (status: Int32, stderr: String) {
        let strace = try #require(RestoreRaceTests.strace)
        let trace = repo.directory.url(".git/trace")
        let process = try Subprocess(
            [
                strace, "-f", "-o", trace, "-e", "trace=utimensat,write",
                "-e", "inject=utimensat:delay_enter=1500000", "-e", "inject=write:delay_enter=50000",
                builtProduct("git-mtime"), "restore",
            ], in: repo.path, stdout: .discard)
        var inWindow = false
        for _ in 0..<400 where !inWindow {
            usleep(10_000)
            inWindow = (try? String(contentsOfFile: trace, encoding: .utf8))?.contains("utimensat(") ?? false
        }
        #expect(inWindow, "restore reached utimensat")
        try write()
        let result = process.wait()
        return (result.status, result.stderr)
    }

    /// After the race: git, restore, the stat cache and the manifest all see the new content, and
    /// the file is newer than its commit (a build of the old content would rebuild).
    func expectNewContentSeenEverywhere(_ repo: GitRepository, written: String) throws {
        #expect(try repo.git("status", "--porcelain", "--untracked-files=no") == " M f\n")
        let path = BytePath(repo.directory.url("f"))
        let status = try FileSystem.status(path)
        let cache = StatCache.load(from: StatCache.location(in: BytePath(repo.directory.url(".git"))))
        if let record = cache[BytePath("f")] { #expect(!record.matches(status), "a record vouches for the new content") }
        let verbose = try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path).stdout
        #expect(verbose.contains("modified: f\n"), "\(verbose)")
        let manifest = try Manifest(parsing: Array(try runChecked([builtProduct("git-mtime"), "manifest"], in: repo.path).stdout.utf8))
        let entry = try #require(manifest.entries.first { $0.path == BytePath("f") })
        #expect(entry.objectID == BlobHasher.hash(bytes: Array(written.utf8)))
        #expect(try modificationTime(repo.directory.url("f")) > repo.commitTime("f"), "newer than its commit")
        #expect(try FileSystem.readFile(path) == Array(written.utf8), "restore never writes contents")
    }

    /// An ordinary writer (opens the file for writing in the window): the read lease makes it wait
    /// until the time is set and recorded, so its write lands after, with its own time.
    @Test(.enabled(if: RestoreRaceTests.strace != nil, "strace is not installed"), arguments: [false, true])
    func aWriteDuringTheSetIsNeverRecordedClean(indexVouches: Bool) throws {
        let repo = try repository(indexVouches: indexVouches)
        let result = try restoreWithWriteInTheWindow(repo) {
            try runChecked(["sh", "-c", "printf 'HELLO\\n' > f"], in: repo.path)
        }
        #expect(result.status == 0, "\(result.stderr)")
        try expectNewContentSeenEverywhere(repo, written: "HELLO\n")
    }

    /// A writer that already holds the file open for writing (no lease possible): restore reads the
    /// bytes back through its descriptor after setting the time, finds them changed, gives the file
    /// the current time and says so.
    @Test(.enabled(if: RestoreRaceTests.strace != nil, "strace is not installed"), arguments: [false, true])
    func aWriterHoldingTheFileOpenIsCaught(indexVouches: Bool) throws {
        let repo = try repository(indexVouches: indexVouches)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: repo.directory.url("f")))
        let started = FileSystem.now()
        let result = try restoreWithWriteInTheWindow(repo) {
            writer.seekToEndOfFile()
            writer.write(Data("MORE\n".utf8))
        }
        try writer.close()
        #expect(result.status == 0)
        #expect(result.stderr.contains("written while their time was being set"), "\(result.stderr)")
        #expect(try modificationTime(repo.directory.url("f")) >= started)
        try expectNewContentSeenEverywhere(repo, written: "hello\nMORE\n")
    }
}
