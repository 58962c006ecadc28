import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// Issue 13, case 8: `restore` after a sealed build never makes a plain build stale. A file whose
/// content the trusted stamp did not record keeps an mtime later than that build; one it did record
/// gets its commit time; `--ignore-stamp` gives every clean file its commit time.
@Suite struct RestoreAfterSealedBuildTests {
    /// v1: a.txt a1, b.txt b1. v2 (later): a.txt a2. The build concatenates them into build/out.txt.
    func project() throws -> GitRepository {
        let repo = try GitRepository(label: "sealed")
        try repo.write("Makefile", "build/out.txt: a.txt b.txt\n\tmkdir -p build\n\tcat a.txt b.txt > build/out.txt\n")
        try repo.write(".gitignore", "build/\n")
        try repo.write("a.txt", "a1\n")
        try repo.write("b.txt", "b1\n")
        try repo.commit("v1")
        try repo.write("a.txt", "a2\n")
        try repo.commit("v2")
        try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
        return repo
    }

    func built(_ repo: GitRepository) throws -> String {
        try String(contentsOfFile: repo.directory.url("build/out.txt"), encoding: .utf8)
    }

    @Test func restoreAfterASealedBuildKeepsUnbuiltContentNewer() throws {
        let repo = try project()
        #expect(try repo.mtime("run", "--", "make").stdout.contains("cat a.txt b.txt"))
        #expect(try built(repo) == "a2\nb1\n")
        try repo.git("reset", "-q", "--hard", "HEAD~1")   // no hook sees it; a.txt is a1 again
        let restored = try repo.mtime("restore", "-v")
        #expect(restored.stdout.contains("not built yet, kept newer than the last build: a.txt"), "\(restored.stdout)")
        #expect(restored.stdout.contains("kept newer than the last sealed build: 1"))
        #expect(try repo.time("b.txt") == repo.commitTime("b.txt"), "content the build consumed gets its commit time")
        #expect(try repo.time("Makefile") == repo.commitTime("Makefile"))
        // A second restore changes nothing: a.txt is already later than the last sealed build.
        let again = try repo.mtime("restore", "-v")
        #expect(summaryValue(again.stdout, "files set") == "0", "\(again.stdout)")
        let make = try repo.tool("make")
        #expect(make.stdout.contains("cat a.txt b.txt"), "plain make rebuilds: \(make.stdout)")
        #expect(try built(repo) == "a1\nb1\n")
        try repo.expectWorkingTreeMatchesHead()
    }

    @Test func ignoreStampGivesCommitTimes() throws {
        let repo = try project()
        try repo.mtime("run", "--", "make")
        try repo.git("reset", "-q", "--hard", "HEAD~1")
        try repo.mtime("restore", "--ignore-stamp")
        #expect(try repo.time("a.txt") == repo.commitTime("a.txt"))
        #expect(try repo.tool("make").stdout.contains("is up to date"), "the documented trade-off of --ignore-stamp")
    }

    /// An untrusted stamp (a plain build ran since) changes nothing about restore; -v says why.
    @Test func anUntrustedStampIsReported() throws {
        let repo = try project()
        try repo.mtime("run", "--", "make")
        try repo.write("b.txt", "b2\n")
        #expect(try repo.tool("make").succeeded)
        try repo.git("checkout", "--", "b.txt")
        let restored = try repo.mtime("restore", "-v")
        #expect(restored.stderr.contains("build stamp not trusted"), "\(restored.stderr)")
        #expect(try repo.time("b.txt") == repo.commitTime("b.txt"))
    }

    /// `manifest --restore` (what `git mtime docker build` runs) follows the same rule on disk, while
    /// the manifest keeps the deterministic commit time for the guard.
    @Test func manifestRestoreFollowsTheSameRule() throws {
        let repo = try project()
        try repo.mtime("run", "--", "make")
        try repo.git("reset", "-q", "--hard", "HEAD~1")
        let output = repo.directory.url(".git/test-manifest")
        try repo.mtime("manifest", "--restore", "-o", output)
        let manifest = try Manifest(parsing: try FileSystem.readFile(BytePath(output)))
        let entry = try #require(manifest.entries.first { $0.path == BytePath("a.txt") })
        #expect(entry.modificationTime == (try repo.commitTime("a.txt")), "the manifest keeps the commit time")
        #expect(try repo.time("a.txt") > entry.modificationTime, "on disk it stays later than the sealed build")
        #expect(try repo.time("b.txt") == repo.commitTime("b.txt"))
        #expect(try repo.tool("make").stdout.contains("cat a.txt b.txt"))
        #expect(try built(repo) == "a1\nb1\n")
    }
}
