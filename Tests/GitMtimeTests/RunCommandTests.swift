import Foundation
import MtimeCore
import Testing
import TestSupport

/// `git mtime run` passes the command's exit status through and seals only on success.
@Test func runPassesTheCommandsStatusThrough() throws {
    let repo = try GitRepository(label: "run")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let snapshot = try contentSnapshot(of: repo.path)
    let failed = try run(["git", "mtime", "run", "--stamp", "out/stamp", "--", "sh", "-c", "exit 7"], in: repo.path,
                         environment: hookEnvironment)
    #expect(failed.status == 7)
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url("out/stamp")), "not sealed after a failure")
    let succeeded = try run(["git", "mtime", "run", "--stamp", "out/stamp", "--", "true"], in: repo.path, environment: hookEnvironment)
    #expect(succeeded.status == 0, "\(succeeded.stderr)")
    #expect(succeeded.stderr.contains("git-mtime run: restored 1 file(s)"), "\(succeeded.stderr)")
    #expect(FileManager.default.fileExists(atPath: repo.directory.url("out/stamp")))
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("out") } == snapshot)
}

@Test func runFailsWithOneLineBeforeRunningAnything() throws {
    let outside = TemporaryDirectory("not-a-repo")
    let notRepo = try run([builtProduct("git-mtime"), "run", "--", "touch", "ran"], in: outside.path, environment: hookEnvironment)
    #expect(notRepo.status == 1)
    #expect(notRepo.stderr.hasPrefix("git-mtime run: error: not a git repository"), "\(notRepo.stderr)")
    #expect(notRepo.stderr.split(separator: "\n").count == 1)

    let repo = try GitRepository(label: "run")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let missingGuard = try run([builtProduct("git-mtime"), "run", "--", "touch", "ran"], in: repo.path,
                               environment: hookEnvironment.merging(["GIT_MTIME_GUARD": outside.url("nothing")]) { $1 })
    #expect(missingGuard.status == 1)
    #expect(missingGuard.stderr == "git-mtime run: error: GIT_MTIME_GUARD=\(outside.url("nothing")) is not an executable file\n")
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url("ran")))
    #expect(!FileManager.default.fileExists(atPath: outside.url("ran")))
}

/// `git worktree add` fires post-checkout with a null previous HEAD: the new worktree is restored.
@Test func newWorktreeIsRestoredLikeAClone() throws {
    let repo = try GitRepository(label: "worktree")
    try repo.write("a.txt", "a\n")
    try repo.commit("a")
    try repo.write("b.txt", "b\n")
    try repo.commit("b", advancing: 3000)
    try repo.mtime("hooks", "install")
    let place = TemporaryDirectory("worktrees")
    try repo.hookGit("worktree", "add", "-q", place.url("wt"))
    for file in ["a.txt", "b.txt"] {
        #expect(try modificationTime(place.url("wt/\(file)")) == repo.commitTime(file), "\(file)")
    }
    #expect(try runChecked(["git", "status", "--porcelain"], in: place.url("wt")).stdout == "")
}
