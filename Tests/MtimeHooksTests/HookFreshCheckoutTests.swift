import Foundation
import MtimeCore
import MtimeHooks
import Testing
import TestSupport

/// Issue 13, case 1: a post-checkout with a null previous HEAD is a full restore only for a tree git
/// has just created (a clone, `git worktree add`); from an orphan or unborn branch over an existing
/// tree it is a rewrite, and safe mode keeps rewritten files newer than any earlier build.

/// main: a.txt a2 (commit time years ago), other: a.txt a1. Hooks installed, `other` checked out.
private func projectOnOldBranch() throws -> GitRepository {
    let repo = try GitRepository.withBranchOther()
    try repo.git("checkout", "-q", "other")
    try repo.mtime("hooks", "install")
    return repo
}

@Test func checkoutFromAnOrphanBranchIsARewrite() throws {
    let repo = try projectOnOldBranch()
    let built = FileSystem.now()  // a build of `other` happens here: outputs newer than every source
    try repo.hookGit("checkout", "-q", "--orphan", "tmp")
    let started = FileSystem.now()
    let checkout = try repo.hookGit("checkout", "-q", "-f", "main")
    #expect(checkout.stderr.isEmpty, "\(checkout.stderr)")
    try repo.expectWorkingTreeMatchesHead()
    #expect(try repo.time("a.txt") >= started, "git rewrote a.txt: it must be newer than the earlier build")
    #expect(try repo.time("a.txt") > built)
}

@Test func initFetchCheckoutOverAnExistingTreeIsARewrite() throws {
    let source = try GitRepository(label: "source")
    try source.write("a.txt", "a2\n")
    try source.write("b.txt", "b\n")
    try source.commit("a2")
    // An existing directory with older sources and a build made from them.
    let tree = TemporaryDirectory("existing-tree")
    try Data("a1\n".utf8).write(to: URL(fileURLWithPath: tree.url("a.txt")))
    try Data("b\n".utf8).write(to: URL(fileURLWithPath: tree.url("b.txt")))
    let built = FileSystem.now()
    try runChecked(["git", "init", "-q", "-b", "master"], in: tree.path)
    try runChecked([builtProduct("git-mtime"), "hooks", "install"], in: tree.path, environment: hookEnvironment)
    try runChecked(["git", "remote", "add", "origin", source.path], in: tree.path)
    try runChecked(["git", "fetch", "-q", "origin"], in: tree.path)
    let started = FileSystem.now()
    try runChecked(["git", "checkout", "-q", "-f", "main"], in: tree.path, environment: hookEnvironment)
    #expect(try runChecked(["git", "status", "--porcelain"], in: tree.path).stdout == "")
    #expect(try modificationTime(tree.url("a.txt")) >= started, "a.txt changed under an existing build: newer than it")
    #expect(try modificationTime(tree.url("a.txt")) > built)
}

/// A real clone and a new linked worktree still get every file's commit time.
@Test func cloneAndNewWorktreeGetCommitTimes() throws {
    let source = try GitRepository(label: "source")
    try source.write("a.txt", "a1\n")
    try source.write("dir/b.txt", "b1\n")
    try source.commit("first")
    try source.write("a.txt", "a2\n")
    try source.commit("second", advancing: 5000)
    let template = TemporaryDirectory("template")
    try runChecked(
        [builtProduct("git-mtime"), "hooks", "install", "--template", template.path], in: template.path,
        environment: hookEnvironment)
    let clones = TemporaryDirectory("clones")
    try runChecked(
        ["git", "clone", "-q", "--template", template.path, source.path, clones.url("clone")], in: clones.path,
        environment: hookEnvironment)
    for file in ["a.txt", "dir/b.txt"] {
        #expect(try modificationTime(clones.url("clone/\(file)")) == source.commitTime(file), "clone: \(file)")
    }
    try runChecked(
        ["git", "worktree", "add", "-q", clones.url("worktree"), "HEAD~1"], in: clones.url("clone"),
        environment: hookEnvironment)
    let first = try source.git("rev-parse", "HEAD~1").trimmingCharacters(in: .whitespacesAndNewlines)
    let firstTime = try Int64(unwrap(source.git("log", "-1", "--format=%ct", first).split(separator: "\n").first, "time"))!
    for file in ["a.txt", "dir/b.txt"] {
        let blob = try source.git("rev-parse", "\(first):\(file)").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try modificationTime(clones.url("worktree/\(file)"))
                == Timestamp(commitSeconds: firstTime, objectID: unwrap(ObjectID(hex: blob), "blob")), "worktree: \(file)")
    }
}
