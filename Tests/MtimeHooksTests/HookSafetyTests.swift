import Foundation
import MtimeCore
import MtimeHooks
import Testing
import TestSupport

/// Issue 10, defects 3 and 10–12: the hooks never recurse and never lose a user's work.

/// `git` with the built products on PATH, killed after 60 s: a hook that recursed used to run until
/// fork failed.
private func boundedGit(_ repo: GitRepository, _ arguments: String...) throws -> ProcessResult {
    try run(
        ["timeout", "-s", "KILL", "60", "git"] + arguments, in: repo.path,
        environment: repo.dateEnvironment(repo.clock).merging(hookEnvironment) { $1 })
}

private func hooksDirectory(_ repo: GitRepository) -> String { repo.directory.url(".git/hooks") }

/// A post-checkout that is a symlink to git-mtime's script (a shared copy) is ours: install leaves
/// it alone and chains nothing; uninstall removes the link and never its target.
@Test func symlinkedHookIsRecognisedAsOurs() throws {
    let repo = try GitRepository.withBranchOther()
    let shared = TemporaryDirectory("shared-hooks")
    let script = shared.url("post-checkout")
    try Data(HookScript.text(for: .postCheckout).utf8).write(to: URL(fileURLWithPath: script))
    try runChecked(["chmod", "755", script])
    let link = hooksDirectory(repo) + "/post-checkout"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: script)

    let install = try repo.mtime("hooks", "install")
    #expect(install.stdout.contains("post-checkout: already installed (a symlink to git-mtime's script)"), "\(install.stdout)")
    #expect(!FileManager.default.fileExists(atPath: link + HookScript.chainedSuffix), "our own script was never chained")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == script)

    let started = FileSystem.now()
    let checkout = try boundedGit(repo, "checkout", "-q", "other")
    #expect(checkout.status == 0, "\(checkout.stderr)")
    #expect(try repo.time("a.txt") >= started, "the linked script ran once and did its work")

    let uninstall = try repo.mtime("hooks", "uninstall")
    #expect(uninstall.stdout.contains("post-checkout: removed the symlink (its target is untouched)"), "\(uninstall.stdout)")
    #expect(!FileManager.default.fileExists(atPath: link))
    #expect(try String(contentsOfFile: script, encoding: .utf8) == HookScript.text(for: .postCheckout))
}

/// The state the old installer left behind (a symlink to our script renamed to the chained name,
/// our script in its place), a plain copy of our script kept as the chained hook, and a chained hook
/// that calls our script by another path (relative or absolute): the nested run of our script does
/// nothing, so a checkout ends, with git-mtime's work done once.
@Test(arguments: ["symlink", "copy", "wrapper", "absolute wrapper"])
func ourScriptAsItsOwnChainedHookCannotRecurse(_ form: String) throws {
    let repo = try GitRepository.withBranchOther()
    try repo.mtime("hooks", "install")
    let ours = hooksDirectory(repo) + "/post-checkout"
    let chained = ours + HookScript.chainedSuffix
    switch form {
    case "symlink": try FileManager.default.createSymbolicLink(atPath: chained, withDestinationPath: ours)
    case "copy": try Data(HookScript.text(for: .postCheckout).utf8).write(to: URL(fileURLWithPath: chained))
    case "wrapper": try Data("#!/bin/sh\nexec \"${0%/*}/post-checkout\" \"$@\"\n".utf8).write(to: URL(fileURLWithPath: chained))
    default: try Data("#!/bin/sh\nexec '\(ours)' \"$@\"\n".utf8).write(to: URL(fileURLWithPath: chained))
    }
    if form != "symlink" { try runChecked(["chmod", "755", chained]) }
    let started = FileSystem.now()
    let checkout = try boundedGit(repo, "checkout", "-q", "other")
    #expect(checkout.status == 0, "\(form): \(checkout.stderr)")
    #expect(try repo.time("a.txt") >= started)
    try repo.expectWorkingTreeMatchesHead()
}

/// Lines appended to git-mtime's script are never thrown away: install refuses (naming the file),
/// uninstall leaves it byte-identical and says so with exit 1, and removes the others.
@Test func editedHookIsNeverReplacedOrDeleted() throws {
    let repo = try GitRepository.withBranchOther()
    try repo.mtime("hooks", "install")
    let edited = hooksDirectory(repo) + "/post-merge"
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: edited))
    handle.seekToEndOfFile()
    handle.write(Data("echo my own post-merge step\n".utf8))
    try handle.close()
    let original = try fileIdentity(edited)
    let before = try contentSnapshot(of: hooksDirectory(repo))

    let install = try run([builtProduct("git-mtime"), "hooks", "install"], in: repo.path, environment: hookEnvironment)
    #expect(install.status == 1)
    #expect(install.stderr.contains("\(edited) is git-mtime's script with edits of yours"), "\(install.stderr)")
    #expect(install.stderr.contains("nothing was changed"))
    #expect(try contentSnapshot(of: hooksDirectory(repo)) == before)

    let status = try repo.mtime("status")
    #expect(status.stdout.contains("post-merge installed, with edits"), "\(status.stdout)")

    let uninstall = try run([builtProduct("git-mtime"), "hooks", "uninstall"], in: repo.path, environment: hookEnvironment)
    #expect(uninstall.status == 1)
    #expect(uninstall.stdout.contains("post-merge: git-mtime's script with edits of yours: left alone"), "\(uninstall.stdout)")
    #expect(uninstall.stdout.contains("post-checkout: removed"))
    #expect(uninstall.stderr.contains("\(edited) was left in place"), "\(uninstall.stderr)")
    #expect(try fileIdentity(edited) == original)
    #expect(!FileManager.default.fileExists(atPath: hooksDirectory(repo) + "/post-checkout"))
}

/// The script the first release wrote (post-merge): recognised exactly, so install updates it and
/// uninstall removes it, while the same bytes with one more line are an edit.
@Test func aScriptFromAnEarlierReleaseIsUpdated() throws {
    let firstRelease = """
        #!/bin/sh
        # git-mtime hook: post-merge (written by `git mtime hooks install`; `git mtime hooks uninstall` removes it)
        # A hook that was here before was moved to post-merge.git-mtime-chained: it runs first and its exit
        # status is what git sees. Setting mtimes never fails the git operation.
        status=0
        chained="${0%/*}/post-merge.git-mtime-chained"
        if [ -x "$chained" ]; then
            "$chained" "$@"
            status=$?
        fi
        git mtime hooks run post-merge "$@" ||
            echo "git-mtime: the post-merge hook could not set mtimes (see above); files keep the times git gave them" >&2
        exit $status

        """
    #expect(HookScript.isUnedited(Array(firstRelease.utf8), for: .postMerge))
    #expect(!HookScript.isUnedited(Array((firstRelease + "echo mine\n").utf8), for: .postMerge))
    let repo = try GitRepository.withBranchOther()
    try Data(firstRelease.utf8).write(to: URL(fileURLWithPath: hooksDirectory(repo) + "/post-merge"))
    let install = try repo.mtime("hooks", "install")
    #expect(install.stdout.contains("post-merge: updated to this version's script"), "\(install.stdout)")
    #expect(hookFile(repo, "post-merge") == HookScript.text(for: .postMerge))
}

/// A core.hooksPath inside the working tree that git tracks (the team's committed hooks): install
/// refuses, names the alternatives, and changes nothing; an untracked one inside the tree is fine.
@Test func installRefusesATrackedHooksPath() throws {
    let repo = try GitRepository()
    try repo.write(".githooks/post-checkout", "#!/bin/sh\necho team hook\n")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    try repo.git("config", "core.hooksPath", ".githooks")
    let before = try contentSnapshot(of: repo.path)
    let result = try run([builtProduct("git-mtime"), "hooks", "install"], in: repo.path, environment: hookEnvironment)
    #expect(result.status == 1)
    #expect(result.stderr.contains("git tracks files in it (.githooks/post-checkout)"), "\(result.stderr)")
    #expect(result.stderr.contains("--global"))
    #expect(result.stderr.contains("git mtime hooks run"))
    #expect(try contentSnapshot(of: repo.path) == before, "nothing was changed")
    #expect(try repo.git("status", "--porcelain") == "")

    try repo.write(".gitignore", "/local-hooks/\n")
    try repo.commit()
    try repo.git("config", "core.hooksPath", "local-hooks")
    let untracked = try repo.mtime("hooks", "install")
    #expect(untracked.stdout.contains("local-hooks/post-checkout: installed"), "\(untracked.stdout)")
}

/// post-rewrite's standard input reaches the chained hook byte for byte: empty stays empty,
/// trailing blank lines are kept.
@Test func chainedPostRewriteGetsStandardInputByteForByte() throws {
    let repo = try GitRepository.withBranchOther()
    let userHook = hooksDirectory(repo) + "/post-rewrite"
    try Data("#!/bin/sh\ncat > \"$(git rev-parse --git-dir)/received\"\n".utf8).write(to: URL(fileURLWithPath: userHook))
    try runChecked(["chmod", "755", userHook])
    try repo.mtime("hooks", "install")
    let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    for input in ["", "\n", "\(head) \(head)\n\n\n", "\(head) \(head)"] {
        let result = try run(["sh", userHook, "amend"], in: repo.path, environment: hookEnvironment, input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try Data(contentsOf: URL(fileURLWithPath: repo.directory.url(".git/received")))
        #expect(received == Data(input.utf8), "input \(input.debugDescription)")
    }
}
