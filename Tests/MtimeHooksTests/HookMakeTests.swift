import Foundation
import MtimeCore
import MtimeManifest
import MtimeHooks
import MtimeRestore
import Testing
import TestSupport

/// main: a1 (old), b2 (newer). feature (branched before b2): aB. Every commit time is years before
/// any build, so a hook that naively gave rewritten files their commit times would leave make stale.
private func makeProject() throws -> GitRepository {
    let repo = try GitRepository(label: "make")
    try repo.write("Makefile", "build/app.txt: src/a.txt src/b.txt\n\tmkdir -p build\n\tcat src/a.txt src/b.txt > build/app.txt\n")
    try repo.write(".gitignore", "build/\n")
    try repo.write("src/a.txt", "a1\n")
    try repo.write("src/b.txt", "b1\n")
    try repo.commit("first")
    try repo.git("branch", "feature")
    try repo.write("src/b.txt", "b2\n")
    try repo.commit("b2", advancing: 10_000)
    try repo.git("checkout", "-q", "feature")
    try repo.write("src/a.txt", "aB\n")
    try repo.commit("aB", advancing: 100)
    try repo.git("checkout", "-q", "main")
    try repo.mtime("hooks", "install")
    return repo
}

private func built(_ repo: GitRepository) throws -> String {
    try String(contentsOfFile: repo.directory.url("build/app.txt"), encoding: .utf8)
}

@Test func branchSwitchesNeverLeaveMakeStale() throws {
    let repo = try makeProject()
    try repo.mtime("restore")
    #expect(try repo.tool("make").succeeded)
    #expect(try built(repo) == "a1\nb2\n")

    for (branch, expected) in [("feature", "aB\nb1\n"), ("main", "a1\nb2\n"), ("feature", "aB\nb1\n")] {
        let started = FileSystem.now()
        try repo.hookGit("checkout", "-q", branch)
        try repo.expectWorkingTreeMatchesHead()
        #expect(try repo.time("src/a.txt") >= started, "\(branch): a rewritten file is never older than the hook's start")
        #expect(try repo.time("src/b.txt") >= started)
        #expect(try repo.time("Makefile") == repo.commitTime("Makefile"), "untouched paths keep their commit time")
        let make = try repo.tool("make")
        #expect(make.succeeded)
        #expect(make.stdout.contains("cat src/a.txt src/b.txt > build/app.txt"), "\(branch): make rebuilt")
        #expect(try built(repo) == expected, "\(branch)")
    }
}

/// `mtime.hookMode commit`: rewritten files get exactly their commit times (the documented trade-off:
/// only builds that go through the guard stay correct).
@Test func commitModeGivesRewrittenFilesTheirCommitTimes() throws {
    let repo = try makeProject()
    try repo.git("config", "mtime.hookMode", "commit")
    try repo.hookGit("checkout", "-q", "feature")
    try repo.expectWorkingTreeMatchesHead()
    #expect(try repo.time("src/a.txt") == repo.commitTime("src/a.txt"))
    #expect(try repo.time("src/b.txt") == repo.commitTime("src/b.txt"))
    try repo.hookGit("checkout", "-q", "main")
    #expect(try repo.time("src/a.txt") == repo.commitTime("src/a.txt"))
    #expect(try repo.time("src/b.txt") == repo.commitTime("src/b.txt"))
}

/// A build sealed by `git mtime run -- make`: switching away and back recompiles nothing; building
/// on the other branch is never stale, and that unsealed build makes the stamp untrusted.
@Test func sealedMakeBuildSurvivesASwitchAndBack() throws {
    let repo = try makeProject()
    try repo.git("config", "mtime.stamp", "build/.git-mtime-stamp")
    let sources = try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") }
    let sealed = try repo.mtime("run", "--", "make")
    #expect(sealed.stdout.contains("cat src/a.txt src/b.txt > build/app.txt"))
    #expect(try built(repo) == "a1\nb2\n")
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("build") } == sources, "run wrote no source")
    guard
        case .trusted(let stamp) = BuildStamp.load(
            at: BytePath(repo.directory.url("build/.git-mtime-stamp")), expectedRoot: try FileSystem.resolve(BytePath(repo.path)))
    else {
        Issue.record("git mtime run did not seal a stamp"); return
    }

    try repo.hookGit("checkout", "-q", "feature")
    try repo.hookGit("checkout", "-q", "main")
    try repo.expectWorkingTreeMatchesHead()
    for entry in stamp.entries {
        #expect(try repo.time(entry.path.description) == entry.modificationTime, "\(entry.path) has the mtime the build consumed")
    }
    #expect(try repo.tool("make", "-q").status == 0, "nothing to rebuild")
    #expect(try repo.tool("make").stdout.contains("'build/app.txt' is up to date"))
    #expect(try built(repo) == "a1\nb2\n")

    try repo.hookGit("checkout", "-q", "feature")
    #expect(try repo.tool("make").stdout.contains("cat src/a.txt"))
    #expect(try built(repo) == "aB\nb1\n")
    // That plain make wrote build/app.txt after the seal: the stamp can't be trusted any more.
    let started = FileSystem.now()
    let back = try repo.hookGit("checkout", "-q", "main")
    #expect(back.stderr.contains("build stamp not trusted"), "\(back.stderr)")
    #expect(try repo.time("src/a.txt") >= started)
    #expect(try repo.tool("make").stdout.contains("cat src/a.txt"))
    #expect(try built(repo) == "a1\nb2\n")
}

/// post-merge (a fast-forward merge, as `git pull` does) and post-rewrite after a rebase.
@Test func mergeAndRebaseConsiderOnlyChangedPaths() throws {
    let repo = try makeProject()
    try repo.mtime("restore")
    try repo.git("checkout", "-q", "-b", "topic", "main")
    try repo.write("src/a.txt", "a-topic\n")
    try repo.commit("topic change", advancing: 50)
    try repo.git("checkout", "-q", "main")
    try repo.mtime("restore")

    let started = FileSystem.now()
    try repo.hookGit("merge", "-q", "--ff-only", "topic")
    try repo.expectWorkingTreeMatchesHead()
    #expect(try repo.time("src/a.txt") >= started, "safe mode: the merged-in file stays newer than the last build")
    #expect(try repo.time("src/b.txt") == repo.commitTime("src/b.txt"), "an unchanged path is not touched")

    // Rebase a side branch (made before b2 and the merge) onto main in commit mode: the files the
    // rebase rewrote get their commit times.
    try repo.git("config", "mtime.hookMode", "commit")
    let first = try repo.git("rev-list", "--max-parents=0", "HEAD").trimmingCharacters(in: .newlines)
    try repo.git("checkout", "-q", "-b", "side", first)
    try repo.write("src/c.txt", "c\n")
    try repo.commit("side", advancing: 10)
    repo.clock += 1000
    try repo.hookGit("rebase", "-q", "main")
    try repo.expectWorkingTreeMatchesHead()
    #expect(try repo.git("show", "HEAD:src/a.txt") == "a-topic\n")
    #expect(try repo.time("src/a.txt") == repo.commitTime("src/a.txt"))
    #expect(try repo.time("src/b.txt") == repo.commitTime("src/b.txt"))
}

/// Dirty files are left alone even when they are among the changed paths.
@Test func hookLeavesDirtyFilesAlone() throws {
    let repo = try makeProject()
    let main = try repo.git("rev-parse", "main").trimmingCharacters(in: .newlines)
    let feature = try repo.git("rev-parse", "feature").trimmingCharacters(in: .newlines)
    try repo.git("checkout", "-q", "feature")
    try repo.write("src/a.txt", "edited\n")
    let old = Timestamp(seconds: 1_000_000_000, nanoseconds: 5)
    try FileSystem.setModificationTime(BytePath(repo.directory.url("src/a.txt")), to: old)
    try FileSystem.setModificationTime(BytePath(repo.directory.url("src/b.txt")), to: old)
    let snapshot = try contentSnapshot(of: repo.path)
    let started = FileSystem.now()
    let result = try runChecked(
        ["git", "mtime", "hooks", "run", "--verbose", "post-checkout", main, feature, "1"],
        in: repo.path, environment: hookEnvironment)
    #expect(result.stderr.contains("2 changed path(s): 1 set"), "\(result.stderr)")
    #expect(result.stderr.contains("1 dirty left alone"))
    #expect(try repo.time("src/a.txt") == old, "dirty: untouched")
    #expect(try repo.time("src/b.txt") >= started, "clean and rewritten: newer than the hook's start")
    #expect(try contentSnapshot(of: repo.path) == snapshot)
}

/// A checkout that leaves HEAD where it was (`git checkout -b`, switching to the commit already
/// checked out) changes no path: the hook returns without looking for the repository, so start-up is
/// all it costs. strace shows no file access to a `.git`, and `git checkout -b` keeps every time.
@Test func hookWithUnchangedHeadDoesNotOpenTheRepository() throws {
    let repo = try makeProject()
    let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .newlines)
    let traced = try runChecked(
        [
            "strace", "-f", "-e", "trace=%file", builtProduct("git-mtime"), "hooks", "run", "--verbose",
            "post-checkout", head, head, "1",
        ], in: repo.path, environment: hookEnvironment)
    #expect(traced.stderr.contains("git-mtime: nothing to do"), "\(traced.stderr)")
    #expect(!traced.stderr.contains("/.git"), "\(traced.stderr)")

    let times = try ["src/a.txt", "src/b.txt"].map { try repo.time($0) }
    try repo.hookGit("checkout", "-q", "-b", "topic")
    #expect(try ["src/a.txt", "src/b.txt"].map { try repo.time($0) } == times)
}
