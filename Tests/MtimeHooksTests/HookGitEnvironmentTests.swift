import Foundation
import MtimeCore
import Testing
import TestSupport

/// The hooks act on the repository git ran them for: git sets GIT_DIR (and GIT_WORK_TREE when it was
/// given one) for its hooks, sometimes relative to the top of the working tree they run in.
@Suite struct HookGitEnvironmentTests {
    /// A repository whose git dir lives apart from its working tree (no `.git` there at all), with
    /// the hooks installed in commit mode and a branch `other` that changes `a.txt`.
    private func separatedRepository() throws -> (repository: GitRepository, gitDirectory: String, holder: TemporaryDirectory) {
        let repository = try GitRepository(label: "hook-env")
        try repository.write("a.txt", "a1\n")
        try repository.write("b.txt", "b\n")
        try repository.commit("one")
        try repository.git("branch", "other")
        try repository.write("a.txt", "a2\n")
        try repository.commit("two")
        let holder = TemporaryDirectory("hook-env-gitdir")
        let gitDirectory = holder.url("repo.git")
        try FileManager.default.moveItem(atPath: repository.directory.url(".git"), toPath: gitDirectory)
        try repository.git("--git-dir=\(gitDirectory)", "config", "mtime.hookMode", "commit")
        return (repository, gitDirectory, holder)
    }

    private func git(_ arguments: [String], in directory: String, time: Int64) throws -> ProcessResult {
        let dates = ["GIT_COMMITTER_DATE": "@\(time) +0000", "GIT_AUTHOR_DATE": "@\(time) +0000"]
        return try run(["git"] + arguments, in: directory, environment: hookEnvironment.merging(dates) { $1 })
    }

    @Test func gitDirAndWorkTreeOptionsReachTheHooks() throws {
        let (repository, gitDirectory, holder) = try separatedRepository()
        let options = ["--git-dir=\(gitDirectory)", "--work-tree=\(repository.path)"]
        let install = try git(options + ["mtime", "hooks", "install"], in: holder.path, time: repository.clock)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(gitDirectory)/hooks/post-checkout"))

        // Relative options from the directory holding the git dir: git runs the hook at the top of
        // the working tree with GIT_DIR and GIT_WORK_TREE rewritten for it.
        let relative = ["--git-dir=repo.git", "--work-tree=\(repository.path)"]
        let checkout = try git(relative + ["checkout", "-q", "other"], in: holder.path, time: repository.clock)
        #expect(checkout.status == 0, "\(checkout.stderr)")
        #expect(!checkout.stderr.contains("could not set mtimes"), "\(checkout.stderr)")
        let environment = ["GIT_DIR": gitDirectory, "GIT_WORK_TREE": repository.path]
        let seconds = try runChecked(["git", "log", "-1", "--format=%ct", "--", "a.txt"], in: repository.path, environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try modificationTime(repository.directory.url("a.txt")).seconds == Int64(seconds), "commit mode gave a.txt its commit time")

        // And `git mtime status` reports that repository and its hooks.
        let status = try git(options + ["mtime", "status"], in: holder.path, time: repository.clock)
        #expect(status.status == 0, "\(status.stderr)")
        let root = try FileSystem.resolve(BytePath(repository.path)).description
        #expect(status.stdout.contains("repository: \(root)\n"), "\(status.stdout)")
        #expect(
            status.stdout.contains("hooks (\(try FileSystem.resolve(BytePath(gitDirectory)).description)/hooks): post-checkout installed"),
            "\(status.stdout)")
    }

    @Test func aLinkedWorktreesHookActsOnThatWorktree() throws {
        let repository = try GitRepository(label: "hook-linked")
        try repository.write("a.txt", "a1\n")
        try repository.commit("one")
        try repository.git("branch", "other")
        try repository.write("a.txt", "a2\n")
        try repository.commit("two")
        try repository.git("config", "mtime.hookMode", "commit")
        try repository.mtime("hooks", "install")
        let worktree = repository.path + "-linked"
        defer { try? FileManager.default.removeItem(atPath: worktree) }
        let add = try git(["worktree", "add", "-q", worktree, "-b", "linked"], in: repository.path, time: repository.clock)
        #expect(add.status == 0 && !add.stderr.contains("could not set mtimes"), "\(add.stderr)")
        let mainTime = try modificationTime(repository.directory.url("a.txt"))

        // From a subdirectory of the linked worktree git passes GIT_DIR=<common>/worktrees/<name>.
        try runChecked(["mkdir", "-p", "\(worktree)/sub"])
        let checkout = try git(["checkout", "-q", "other"], in: "\(worktree)/sub", time: repository.clock)
        #expect(checkout.status == 0 && !checkout.stderr.contains("could not set mtimes"), "\(checkout.stderr)")
        let seconds = try runChecked(["git", "log", "-1", "--format=%ct", "--", "a.txt"], in: worktree).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try modificationTime("\(worktree)/a.txt").seconds == Int64(seconds))
        #expect(try modificationTime(repository.directory.url("a.txt")) == mainTime, "the main worktree is not touched")
    }
}
