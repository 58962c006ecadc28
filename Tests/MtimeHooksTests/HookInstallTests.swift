import Foundation
import MtimeCore
import MtimeHooks
import MtimeRestore
import Testing
import TestSupport

/// The scripts shipped in hooks/ are exactly what `git mtime hooks install` writes.
@Test func shippedScriptsAreWhatInstallWrites() throws {
    let hooksDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("hooks")
    for hook in HookName.allCases {
        let shipped = try #require(FileManager.default.contents(atPath: hooksDirectory.appendingPathComponent(hook.rawValue).path))
        #expect(String(decoding: shipped, as: UTF8.self) == HookScript.text(for: hook), "hooks/\(hook.rawValue)")
        #expect(HookScript.isOurs(Array(shipped)))
        #expect(try run(["sh", "-n", hooksDirectory.appendingPathComponent(hook.rawValue).path]).succeeded)
    }
}

/// A user's post-checkout that prints a marker and fails: git's behaviour (output, exit status) is
/// the same before and after install; uninstall puts the hook back byte-for-byte, mode included.
@Test func userHookIsChainedAndComesBackByteForByte() throws {
    let repo = try GitRepository.withBranchOther()
    let userHook = repo.directory.url(".git/hooks/post-checkout")
    try Data("#!/bin/sh\necho \"user hook ran: $1 $2 $3\"\nexit 1\n".utf8).write(to: URL(fileURLWithPath: userHook))
    try runChecked(["chmod", "750", userHook])
    let original = try fileIdentity(userHook)

    let before = try repo.hookGitStatus("checkout", "-q", "other")
    #expect(before.status == 1)
    #expect(before.stderr.contains("user hook ran:"), "git shows a hook's output on stderr")
    #expect(try repo.hookGitStatus("checkout", "-q", "main").status == 1)

    let snapshot = try contentSnapshot(of: repo.path)
    let install = try repo.mtime("hooks", "install")
    #expect(install.stdout.contains("post-checkout: installed; the existing hook was kept and runs first"))
    #expect(install.stdout.contains("post-merge: installed"))
    #expect(try contentSnapshot(of: repo.path) == snapshot)
    #expect(hookFile(repo, "post-checkout") == HookScript.text(for: .postCheckout))
    #expect(try fileIdentity(repo.directory.url(".git/hooks/post-checkout.git-mtime-chained")) == original)

    // Installing again changes nothing.
    let again = try repo.mtime("hooks", "install")
    #expect(again.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(": already installed") }, "\(again.stdout)")

    let started = FileSystem.now()
    let after = try repo.hookGitStatus("checkout", "-q", "other")
    #expect(after.status == before.status, "git sees the user's hook's status")
    #expect(after.stdout == before.stdout)
    #expect(after.stderr == before.stderr, "the user's hook ran, and ours added nothing")
    #expect(try repo.time("a.txt") >= started, "our part ran too: the rewritten file is newer than the hook's start")
    try repo.expectWorkingTreeMatchesHead()

    let uninstall = try repo.mtime("hooks", "uninstall")
    #expect(uninstall.stdout.contains("post-checkout: removed; the previous hook was put back"))
    #expect(uninstall.stdout.contains("post-merge: removed"))
    #expect(try fileIdentity(userHook) == original)
    let left = try FileManager.default.contentsOfDirectory(atPath: repo.directory.url(".git/hooks"))
    #expect(!left.contains { $0.hasPrefix("post-merge") || $0.hasPrefix("post-rewrite") || $0.contains("git-mtime") }, "\(left)")
    let second = try repo.mtime("hooks", "uninstall")
    #expect(second.stdout.contains("post-checkout: not ours, left alone"))
    #expect(try fileIdentity(userHook) == original)
}

/// post-rewrite's standard input reaches both the user's hook and ours.
@Test func chainedPostRewriteGetsStandardInput() throws {
    let repo = try GitRepository()
    try repo.write("a.txt", "a1\n")
    let first = try repo.commit("a1")
    let userHook = repo.directory.url(".git/hooks/post-rewrite")
    try Data("#!/bin/sh\ncat > \"$(git rev-parse --git-dir)/rewritten-$1\"\n".utf8).write(to: URL(fileURLWithPath: userHook))
    try runChecked(["chmod", "755", userHook])
    try repo.mtime("hooks", "install")
    try repo.git("config", "mtime.hookMode", "commit")

    try repo.write("a.txt", "a2\n")
    try repo.git("add", "a.txt")
    repo.clock += 500
    try repo.hookGit("commit", "-q", "--amend", "-m", "amended")
    let amended = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespaces.union(.newlines))
    let recorded = try String(contentsOfFile: repo.directory.url(".git/rewritten-amend"), encoding: .utf8)
    #expect(recorded == "\(first) \(amended)\n")
    // Commit mode: the amended file got the amended commit's time.
    #expect(try repo.time("a.txt") == repo.commitTime("a.txt"))
    try repo.expectWorkingTreeMatchesHead()
}

@Test func installHonoursCoreHooksPath() throws {
    let repo = try GitRepository()
    try repo.write("a.txt", "a\n")
    try repo.commit()
    try repo.git("config", "core.hooksPath", "tools/hooks")
    let subdirectory = repo.directory.url("tools")
    try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: true)
    try runChecked([builtProduct("git-mtime"), "hooks", "install"], in: subdirectory, environment: hookEnvironment)
    for hook in HookName.allCases {
        let text = try String(contentsOfFile: repo.directory.url("tools/hooks/\(hook.rawValue)"), encoding: .utf8)
        #expect(text == HookScript.text(for: hook))
        #expect(hookFile(repo, hook.rawValue) == nil)
    }
    let status = try repo.mtime("status")
    #expect(
        status.stdout.contains(
            "hooks (\(repo.directory.url("tools/hooks"))): post-checkout installed, post-merge installed, post-rewrite installed"),
        "\(status.stdout)")
}

/// `--template DIR`: a real `git clone --template DIR` gets the hooks, and its post-checkout gives
/// every clean file its commit time.
@Test func cloneWithTemplateRestoresCommitTimes() throws {
    let source = try GitRepository(label: "source")
    try source.write("a.txt", "a1\n")
    try source.write("dir/b.txt", "b1\n")
    try source.write("dir/c.txt", "c1\n")
    try source.commit("first")
    try source.write("a.txt", "a2\n")
    try source.commit("second", advancing: 5000)
    try source.write("dir/c.txt", "c2\n")
    try source.commit("third", advancing: 7000)

    let template = TemporaryDirectory("template")
    let install = try runChecked(
        [builtProduct("git-mtime"), "hooks", "install", "--template", template.path], in: template.path,
        environment: hookEnvironment)
    #expect(install.stdout.contains("\(template.path)/hooks/post-checkout: installed"))

    let clones = TemporaryDirectory("clones")
    try runChecked(
        ["git", "clone", "-q", "--template", template.path, source.path, clones.url("clone")], in: clones.path,
        environment: hookEnvironment)
    let clone = clones.url("clone")
    for file in ["a.txt", "dir/b.txt", "dir/c.txt"] {
        #expect(try modificationTime("\(clone)/\(file)") == source.commitTime(file), "\(file)")
    }
    #expect(FileManager.default.isExecutableFile(atPath: "\(clone)/.git/hooks/post-checkout"))
    #expect(try runChecked(["git", "status", "--porcelain"], in: clone).stdout == "")
}

/// `--global` with no global core.hooksPath: ~/.config/git-mtime/hooks becomes it; uninstall undoes
/// both. With one already set, install goes into it and leaves the setting alone.
@Test func globalInstallSetsAndUnsetsHooksPath() throws {
    let home = TemporaryDirectory("home")
    let environment = hookEnvironment.merging([
        "HOME": home.path, "XDG_CONFIG_HOME": home.url(".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
    ]) { $1 }
    func mtime(_ arguments: String...) throws -> ProcessResult {
        try runChecked([builtProduct("git-mtime")] + arguments, in: home.path, environment: environment)
    }
    func globalHooksPath() throws -> String {
        try run(["git", "config", "--global", "--get", "core.hooksPath"], in: home.path, environment: environment).stdout
    }
    let directory = home.url(".config/git-mtime/hooks")
    try mtime("hooks", "install", "--global")
    #expect(try globalHooksPath() == directory + "\n")
    #expect(FileManager.default.isExecutableFile(atPath: directory + "/post-merge"))
    let removed = try mtime("hooks", "uninstall", "--global")
    #expect(removed.stdout.contains("unset the global core.hooksPath"))
    #expect(try globalHooksPath() == "")
    #expect(!FileManager.default.fileExists(atPath: directory))

    let mine = home.url("my-hooks")
    try runChecked(["git", "config", "--global", "core.hooksPath", mine], in: home.path, environment: environment)
    try mtime("hooks", "install", "--global")
    #expect(FileManager.default.isExecutableFile(atPath: mine + "/post-checkout"))
    try mtime("hooks", "uninstall", "--global")
    #expect(try globalHooksPath() == mine + "\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: mine) == [])
}

@Test func installRefusesToOverwriteAKeptHook() throws {
    let repo = try GitRepository()
    let hooks = repo.directory.url(".git/hooks")
    try Data("#!/bin/sh\nexit 0\n".utf8).write(to: URL(fileURLWithPath: hooks + "/post-merge"))
    try Data("#!/bin/sh\nexit 3\n".utf8).write(to: URL(fileURLWithPath: hooks + "/post-merge.git-mtime-chained"))
    let before = try contentSnapshot(of: hooks)
    let result = try run([builtProduct("git-mtime"), "hooks", "install"], in: repo.path, environment: hookEnvironment)
    #expect(result.status == 1)
    #expect(result.stderr.contains("post-merge.git-mtime-chained already exists"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(try contentSnapshot(of: hooks) == before, "nothing was changed")
}

/// When git-mtime fails (here: not on PATH), the git operation still succeeds; the hook says why on stderr.
@Test func hookNeverFailsTheGitOperation() throws {
    let repo = try GitRepository.withBranchOther()
    try repo.mtime("hooks", "install")
    let result = try run(["git", "checkout", "-q", "other"], in: repo.path, environment: ["PATH": "/usr/bin:/bin"])
    #expect(result.status == 0)
    #expect(result.stderr.contains("git-mtime: the post-checkout hook could not set mtimes"), "\(result.stderr)")
    #expect(try repo.git("show", "HEAD:a.txt") == "a1\n")
    try repo.expectWorkingTreeMatchesHead()
}

/// `--repo`, `--template`, `--global`'s HOME and the global core.hooksPath are bytes (defect 31): in a
/// home directory named `d\xe9` the global core.hooksPath was set to the text form (`d\u{FFFD}`,
/// another directory, so git never ran the hooks), and `--repo`/`--template` named another path.
@Test(arguments: ["d\\351", "new\\nline", "back\\\\slash"])
func hooksInstallUnderADirectoryNamedWithAnyBytes(name: String) throws {
    let base = TemporaryDirectory("hooks-bytes")
    let script = """
        h="$1/$(printf '\(name)')"; mkdir "$h" || exit 99
        export HOME="$h" GIT_CONFIG_NOSYSTEM=1; unset XDG_CONFIG_HOME GIT_CONFIG_GLOBAL
        "$2" hooks install --global >/dev/null || exit 1
        test "$(git config --global --get core.hooksPath)" = "$h/.config/git-mtime/hooks" || exit 2
        test -x "$h/.config/git-mtime/hooks/post-merge" || exit 3
        "$2" hooks install --template "$h/tpl" >/dev/null && test -x "$h/tpl/hooks/post-checkout" || exit 4
        "$2" hooks uninstall --global >/dev/null || exit 5
        test -z "$(git config --global --get core.hooksPath)" && test ! -e "$h/.config/git-mtime/hooks" || exit 6
        # Without a global core.hooksPath, a repository's own hooks directory.
        git init -q "$h/repo" && "$2" hooks install --repo "$h/repo" >/dev/null || exit 7
        test -x "$h/repo/.git/hooks/post-merge" || exit 8
        """
    let result = try run(["sh", "-c", script, "sh", base.path, builtProduct("git-mtime")], in: base.path, environment: hookEnvironment)
    #expect(result.status == 0, "\(name): \(result.stderr)")
}
