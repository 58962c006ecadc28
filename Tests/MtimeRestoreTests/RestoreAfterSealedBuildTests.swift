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
        try repo.git("reset", "-q", "--hard", "HEAD~1")  // no hook sees it; a.txt is a1 again
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

    // Soak soak-1130, scenarios 101, 376, 678, 713: the path was absent when the build was sealed, so the
    // stamp records nothing there, yet an output built from an earlier version of it is still beside the
    // stamp. Content the stamp did not record is unbuilt content, whether it recorded other bytes or none.

    /// `git reset --hard HEAD~1` (no hook sees it), then `restore -v`: `path` is kept newer than the sealed
    /// build, so a plain make runs `recipe`.
    func expectResetAndRestoreKeepNewer(_ repo: GitRepository, _ path: String, thenMakeRuns recipe: String) throws {
        try repo.git("reset", "-q", "--hard", "HEAD~1")
        let restored = try repo.mtime("restore", "-v")
        #expect(restored.stdout.contains("not built yet, kept newer than the last build: \(path)"), "\(restored.stdout)")
        let make = try repo.tool("make")
        #expect(make.stdout.contains(recipe), "plain make rebuilds: \(make.stdout)")
    }

    /// A file deleted before the sealed build comes back with `reset --hard`: not built, kept newer.
    @Test func aFileDeletedBeforeTheSealedBuildComesBackNewer() throws {
        let repo = try GitRepository(label: "sealed-deleted")
        try repo.write(
            "Makefile", "build/out.txt: $(wildcard parts/*.txt)\n\tmkdir -p build\n\tcat $(sort $(wildcard parts/*.txt)) > build/out.txt\n")
        try repo.write(".gitignore", "build/\n")
        try repo.write("parts/a.txt", "a1\n")
        try repo.write("parts/c.txt", "c1\n")
        try repo.commit("v1")
        #expect(try repo.tool("make").succeeded)  // build/out.txt from a1 and c1: older than what follows
        try FileManager.default.removeItem(atPath: repo.directory.url("parts/c.txt"))
        try repo.commit("v2: no c")
        try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
        #expect(try repo.mtime("run", "--", "make").stdout.contains("cat parts/a.txt > build/out.txt"))
        // parts/c.txt is back, unseen by any hook
        try expectResetAndRestoreKeepNewer(repo, "parts/c.txt", thenMakeRuns: "cat parts/a.txt parts/c.txt")
        #expect(try repo.time("parts/a.txt") == repo.commitTime("parts/a.txt"), "content the build consumed")
        #expect(try built(repo) == "a1\nc1\n")
    }

    /// A directory replaced by a symlink to an edited copy when the build ran: the stamp records the
    /// symlink and the copy, never `inc/h.txt`, which the build read (make's prerequisite) through the link.
    @Test func aDirectoryThatWasASymlinkWhenSealedComesBackNewer() throws {
        let repo = try GitRepository(label: "sealed-symlink")
        try repo.write("Makefile", "build/out.txt: inc/h.txt a.txt\n\tmkdir -p build\n\tcat inc/h.txt a.txt > build/out.txt\n")
        try repo.write(".gitignore", "build/\n")
        try repo.write("inc/h.txt", "h1\n")
        try repo.write("a.txt", "a1\n")
        try repo.commit("v1")
        try FileManager.default.removeItem(atPath: repo.directory.url("inc"))
        try repo.write("inc1/h.txt", "h2\n")
        try FileManager.default.createSymbolicLink(atPath: repo.directory.url("inc"), withDestinationPath: "inc1")
        try repo.commit("v2: inc -> inc1")
        try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
        try repo.mtime("run", "--", "make")
        #expect(try built(repo) == "h2\na1\n")
        // inc/ is a directory again, holding h1
        try expectResetAndRestoreKeepNewer(repo, "inc/h.txt", thenMakeRuns: "cat inc/h.txt a.txt")
        #expect(try built(repo) == "h1\na1\n")
        try repo.expectWorkingTreeMatchesHead()
    }

    /// A path the root's `.dockerignore` leaves out of a guarded build's context was no input of it:
    /// absent from the stamp, it still gets its commit time. A stamp `git mtime run` sealed (its context
    /// is the whole tree, so it records such paths) counts it as unbuilt.
    @Test func aPathOutsideTheContextOfTheSealedBuildGetsItsCommitTime() throws {
        let repo = try GitRepository(label: "sealed-context")
        try repo.write("Makefile", "build/out.txt: a.txt\n\tmkdir -p build\n\tcat a.txt > build/out.txt\n")
        try repo.write(".gitignore", "build/\n")
        try repo.write(".dockerignore", "docs\nbuild\n")
        try repo.write("a.txt", "a1\n")
        try repo.write("docs/x.md", "x1\n")
        try repo.write("docs/keep.md", "k1\n")
        try repo.write("src/gone.txt", "g1\n")
        try repo.commit("v1")
        try FileManager.default.removeItem(atPath: repo.directory.url("docs/x.md"))
        try FileManager.default.removeItem(atPath: repo.directory.url("src/gone.txt"))
        try repo.commit("v2")
        try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
        let manifest = repo.directory.url(".git/test-manifest")
        try repo.mtime("manifest", "--restore", "-o", manifest)
        try runChecked(
            [
                builtProduct("git-mtime-guard"), "run", "--manifest", manifest, "--stamp", "build/.git-mtime-stamp",
                "--", "make",
            ], in: repo.path)
        try repo.git("reset", "-q", "--hard", "HEAD~1")
        let restored = try repo.mtime("restore", "-v")
        #expect(restored.stdout.contains("not built yet, kept newer than the last build: src/gone.txt"), "\(restored.stdout)")
        #expect(!restored.stdout.contains("docs/x.md"), "\(restored.stdout)")
        #expect(try repo.time("docs/x.md") == repo.commitTime("docs/x.md"))

        // Sealed over the whole tree (it records docs/keep.md, which .dockerignore excludes): docs/x.md was absent from it.
        try repo.git("reset", "-q", "--hard", "HEAD@{1}")
        try repo.mtime("run", "--", "make")
        try repo.git("reset", "-q", "--hard", "HEAD~1")
        let again = try repo.mtime("restore", "-v")
        #expect(again.stdout.contains("not built yet, kept newer than the last build: docs/x.md"), "\(again.stdout)")
    }

    // Soak soak-1130d, scenario 14: `git reset --hard HEAD~1` with `submodule.recurse` moved a submodule
    // back to the commit before a bump; restore gave its source the commit time of the submodule's own
    // history, older than the sealed build that had compiled the bumped source: plain make was stale.
    // The stamp records a submodule's files by their superproject paths; the rule is the same for them.

    /// A superproject whose make build compiles `vendor/lib/lib.c` (a submodule) into `build/prog`, with
    /// `submodule.recurse` on; HEAD bumps the library from `return 1` to `return 2`.
    func projectWithASubmodule() throws -> (top: GitRepository, library: GitRepository) {
        let library = try GitRepository(label: "sealed-library")
        library.clock = 1_550_000_000
        try library.write("lib.c", "int lib(void) { return 1; }\n")
        try library.commit("lib returns 1")
        let top = try GitRepository(label: "sealed-submodule")
        try top.write(
            "Makefile",
            "build/prog: main.c vendor/lib/lib.c\n\tmkdir -p build\n\tcc -o build/prog main.c vendor/lib/lib.c\n")
        try top.write("main.c", "int lib(void);\nint main(void) { return lib(); }\n")
        try top.write(".gitignore", "build/\n")
        try top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", library.path, "vendor/lib")
        try top.commit("app with lib 1")
        try library.write("lib.c", "int lib(void) { return 2; }\n")
        try library.commit("lib returns 2")
        try runChecked(["git", "-c", "protocol.file.allow=always", "fetch", "-q"], in: top.directory.url("vendor/lib"))
        try runChecked(["git", "checkout", "-q", "origin/main"], in: top.directory.url("vendor/lib"))
        try top.commit("bump lib to 2")
        try top.git("config", "mtime.stamp", "build/.git-mtime-stamp")
        try top.git("config", "submodule.recurse", "true")
        return (top, library)
    }

    /// The sealed build compiled lib 2; the reset (no hook sees it) brings lib 1 back into the submodule.
    func sealThenResetTheSubmodule(_ top: GitRepository) throws {
        #expect(try top.mtime("run", "--", "make").stdout.contains("cc -o build/prog"))
        #expect(try top.tool("build/prog").status == 2)
        try top.git("reset", "-q", "--hard", "HEAD~1")
        #expect(try String(contentsOfFile: top.directory.url("vendor/lib/lib.c"), encoding: .utf8).contains("return 1"))
    }

    @Test func restoreKeepsASubmoduleFileTheSealedBuildDidNotConsumeNewer() throws {
        let (top, library) = try projectWithASubmodule()
        try sealThenResetTheSubmodule(top)
        let restored = try top.mtime("restore", "-v")
        #expect(summaryValue(restored.stdout, "submodules restored") == "1", "\(restored.stdout)")
        #expect(restored.stdout.contains("not built yet, kept newer than the last build: vendor/lib/lib.c"), "\(restored.stdout)")
        #expect(restored.stdout.contains("kept newer than the last sealed build: 1"), "\(restored.stdout)")
        #expect(try top.time("main.c") == top.commitTime("main.c"), "content the build consumed gets its commit time")
        #expect(try top.time("vendor/lib/lib.c") > library.commitTime("lib.c"))
        // A second restore changes nothing: lib.c is already later than the last sealed build.
        #expect(summaryValue(try top.mtime("restore", "-v").stdout, "files set") == "0")
        let make = try top.tool("make")
        #expect(make.stdout.contains("cc -o build/prog"), "plain make rebuilds: \(make.stdout)")
        #expect(try top.tool("build/prog").status == 1)
        // With --ignore-stamp the submodule's file gets the commit time of its own history.
        try top.mtime("restore", "--ignore-stamp")
        let libraryBlobTime = try Timestamp(
            commitSeconds: Int64(
                top.git("-C", "vendor/lib", "log", "-1", "--format=%ct", "--", "lib.c")
                    .trimmingCharacters(in: .whitespacesAndNewlines))!,
            objectID: unwrap(
                ObjectID(
                    hex: top.git("-C", "vendor/lib", "rev-parse", "HEAD:lib.c")
                        .trimmingCharacters(in: .whitespacesAndNewlines)), "id"))
        #expect(try top.time("vendor/lib/lib.c") == libraryBlobTime)
    }

    /// `manifest --restore` (the wrapper's step) too: the manifest keeps the submodule history's time.
    @Test func manifestRestoreKeepsASubmoduleFileTheSealedBuildDidNotConsumeNewer() throws {
        let (top, _) = try projectWithASubmodule()
        try sealThenResetTheSubmodule(top)
        let output = top.directory.url(".git/test-manifest")
        try top.mtime("manifest", "--restore", "-o", output)
        let manifest = try Manifest(parsing: try FileSystem.readFile(BytePath(output)))
        let entry = try #require(manifest.entries.first { $0.path == BytePath("vendor/lib/lib.c") })
        #expect(entry.isInSubmodule)
        #expect(
            entry.modificationTime.seconds
                == Int64(
                    try top.git("-C", "vendor/lib", "log", "-1", "--format=%ct", "--", "lib.c")
                        .trimmingCharacters(in: .whitespacesAndNewlines)), "the manifest keeps the commit time of the submodule's history")
        #expect(try top.time("vendor/lib/lib.c") > entry.modificationTime, "on disk it stays later than the sealed build")
        #expect(try top.time("main.c") == top.commitTime("main.c"))
        #expect(try top.tool("make").stdout.contains("cc -o build/prog"))
        #expect(try top.tool("build/prog").status == 1)
    }
}
