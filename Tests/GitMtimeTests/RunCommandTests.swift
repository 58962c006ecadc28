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
    let failed = try run(
        ["git", "mtime", "run", "--stamp", "out/stamp", "--", "sh", "-c", "exit 7"], in: repo.path,
        environment: hookEnvironment)
    #expect(failed.status == 7)
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url("out/stamp")), "not sealed after a failure")
    let succeeded = try run(["git", "mtime", "run", "--stamp", "out/stamp", "--", "true"], in: repo.path, environment: hookEnvironment)
    #expect(succeeded.status == 0, "\(succeeded.stderr)")
    #expect(succeeded.stderr.contains("git-mtime run: restored 1 file(s)"), "\(succeeded.stderr)")
    #expect(FileManager.default.fileExists(atPath: repo.directory.url("out/stamp")))
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("out") } == snapshot)
}

/// Without history (a repository with no commit yet, or no repository: defect 7) the command runs under the
/// guard all the same, every file untracked, with one note saying why no time was restored.
@Test func runWithoutHistory() throws {
    let outside = TemporaryDirectory("not-a-repo")
    let unborn = try GitRepository(label: "unborn")
    for (directory, reason) in [
        (outside.path, "\(outside.path) is not in a git repository"), (unborn.path, "the repository has no commit yet"),
    ] {
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: directory + "/a.txt"))
        let result = try run(
            [builtProduct("git-mtime"), "run", "--stamp", "out/stamp", "--", "touch", "ran"], in: directory,
            environment: hookEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("git-mtime run: note: times not restored (\(reason)): manifest of 1 file(s), all untracked\n"),
            "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/ran"))
        #expect(FileManager.default.fileExists(atPath: directory + "/out/stamp"), "sealed")
        #expect(try String(contentsOfFile: directory + "/a.txt", encoding: .utf8) == "a\n")
    }
}

@Test func runFailsWithOneLineBeforeRunningAnything() throws {
    let outside = TemporaryDirectory("not-a-repo")
    let repo = try GitRepository(label: "run")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let missingGuard = try run(
        [builtProduct("git-mtime"), "run", "--", "touch", "ran"], in: repo.path,
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

/// `git --git-dir=A --work-tree=B mtime run` restores and seals B, wherever it is started.
@Test func runWorksOnTheRepositoryGitsOptionsName() throws {
    let repo = try GitRepository(label: "run-env")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    try runChecked(["touch", repo.directory.url("a.txt")])
    let elsewhere = TemporaryDirectory("run-elsewhere")
    let result = try run(
        ["git", "--git-dir=\(repo.path)/.git", "--work-tree=\(repo.path)", "mtime", "run", "--", "true"],
        in: elsewhere.path, environment: hookEnvironment)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("git-mtime run: restored 1 file(s)"), "\(result.stderr)")
    #expect(FileManager.default.fileExists(atPath: repo.directory.url("target/.git-mtime-stamp")))
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
}

/// `git mtime run` started with stdout and stderr closed fills them with /dev/null before it opens
/// the repository, so no message lands in a file it opened and the command gets /dev/null too.
@Test func closedStandardDescriptorsAreFilledWithDevNull() throws {
    let repo = try GitRepository(label: "run")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let report = "for n in 1 2; do echo \"$n $(readlink /proc/$$/fd/$n)\" >> fds; done"
    let result = try run(
        [
            "sh", "-c", "exec \"$@\" 1>&- 2>&-", "sh", builtProduct("git-mtime"), "run", "--stamp", "out/stamp",
            "--", "sh", "-c", report,
        ], in: repo.path, environment: hookEnvironment)
    #expect(result.status == 0)
    #expect(try String(contentsOfFile: repo.directory.url("fds"), encoding: .utf8) == "1 /dev/null\n2 /dev/null\n")
    #expect(try String(contentsOfFile: repo.directory.url("a.txt"), encoding: .utf8) == "a\n")
}

/// The manifest goes to `$TMPDIR` as its bytes (defect 31): a TMPDIR whose name isn't UTF-8 was read
/// as text, so the private directory was made and then named as another path ("create …: no such file").
@Test func runUsesATemporaryDirectoryNamedWithAnyBytes() throws {
    let repo = try GitRepository(label: "run-tmpdir")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let snapshot = try contentSnapshot(of: repo.path)
    let base = TemporaryDirectory("tmpdir")
    // printf formats: `d\xe9`, a newline, a backslash.
    for (index, name) in ["d\\351", "new\\nline", "back\\\\slash"].enumerated() {
        // The command counts what is in TMPDIR while it runs (the private directory), then the shell
        // counts what is left after (nothing).
        let script = """
            t="$1/\(index)$(printf '\(name)')" && mkdir "$t" || exit 99
            TMPDIR="$t" "$2" run --stamp out/stamp -- sh -c 'ls -A "$TMPDIR" | wc -l'; s=$?
            ls -A "$t" | wc -l; exit $s
            """
        let result = try run(
            ["sh", "-c", script, "sh", base.path, builtProduct("git-mtime")], in: repo.path, environment: hookEnvironment)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["1", "0"], "\(name)")
    }
    #expect(try contentSnapshot(of: repo.path).filter { !$0.key.hasPrefix("out") } == snapshot)
}
