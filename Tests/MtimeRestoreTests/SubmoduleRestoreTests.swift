import Foundation
import MtimeCore
import Testing
import TestSupport

/// `restore --recurse-submodules` on real nested submodules, each with its own history; the oracle is
/// `git -C SUB log -1 --first-parent --format=%ct -- PATH`.
@Suite struct SubmoduleRestoreTests {
    static let all = ["."] + SubmoduleProject.submodules

    @Test func recursionGivesEachFileTheLastChangeInItsOwnHistory() throws {
        let project = try SubmoduleProject()
        // A fresh clone: every file has its checkout time.
        #expect(try project.filesWithoutTheirCommitTime(in: Self.all).count > 8)
        let result = try gitMtime(["restore", "--recurse-submodules", "-v"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: Self.all) == [])
        #expect(summaryValue(result.stdout, "submodules restored") == "2")
        #expect(summaryValue(result.stdout, "submodules left alone") == "0")
        // The merge in the inner history: first-parent gives y.c the merge's time, not the side commit's.
        let merged = try project.commitTime("src/y.c", in: "vendor/library/deps/inner")
        let side = try project.git(in: "vendor/library/deps/inner", "log", "-1", "--format=%ct", "origin/side")
        #expect(String(merged.seconds) != side.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        // A second run finds every time right.
        let again = try gitMtime(["restore", "--recurse-submodules", "-v"], in: project.path)
        #expect(summaryValue(again.stdout, "files set") == "0")
    }

    /// Under `git --git-dir=A --work-tree=B mtime restore` (GIT_DIR and GIT_WORK_TREE set, started
    /// elsewhere) each submodule is still opened from its own `.git`, as git opens it; a pathspec
    /// typed in a subdirectory reaches into a submodule by its superproject path.
    @Test func gitsEnvironmentNamesTheSuperprojectNotItsSubmodules() throws {
        let project = try SubmoduleProject()
        let elsewhere = TemporaryDirectory("submodule-env")
        let result = try run(
            [
                "git", "--git-dir=\(project.path)/.git", "--work-tree=\(project.path)", "mtime", "restore",
                "--recurse-submodules", "-v",
            ], in: elsewhere.path, environment: hookEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "submodules restored") == "2", "\(result.stdout)")
        #expect(try project.filesWithoutTheirCommitTime(in: Self.all) == [])

        let fresh = try SubmoduleProject()
        let typed = try gitMtime(["restore", "--recurse-submodules", "library/deps"], in: fresh.clone.directory.url("vendor"))
        #expect(typed.status == 0, "\(typed.stderr)")
        #expect(try fresh.filesWithoutTheirCommitTime(in: ["vendor/library/deps/inner"]) == [])
        #expect(try !fresh.filesWithoutTheirCommitTime(in: ["vendor/library"]).isEmpty, "only library/deps was selected")
    }

    @Test func submoduleRecurseConfigTurnsRecursionOnAndTheFlagOff() throws {
        let project = try SubmoduleProject()
        let submoduleTimes = try mtimeSnapshot(project.clone.directory.url("vendor"))
        let plain = try gitMtime(["restore", "-v"], in: project.path)
        #expect(plain.status == 0)
        #expect(summaryValue(plain.stdout, "submodules skipped") == "1")
        #expect(try mtimeSnapshot(project.clone.directory.url("vendor")) == submoduleTimes)
        #expect(try project.filesWithoutTheirCommitTime(in: ["."]) == [])

        try project.clone.git("config", "submodule.recurse", "true")
        let refused = try gitMtime(["restore", "--no-recurse-submodules"], in: project.path)
        #expect(refused.status == 0)
        #expect(try mtimeSnapshot(project.clone.directory.url("vendor")) == submoduleTimes)

        let recursed = try gitMtime(["restore"], in: project.path)
        #expect(recursed.status == 0, "\(recursed.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: Self.all) == [])
    }

    /// Each way a submodule can be unfit: reported on stderr, its files (and those of submodules
    /// inside it) keep their mtimes, everything else is restored.
    enum Unfit: String, CaseIterable {
        case dirty, atAnotherCommit, staged, notInitialized, nestedDirty, deleted
    }

    @Test(arguments: Unfit.allCases)
    func anUnfitSubmoduleIsReportedAndLeftAlone(_ unfit: Unfit) throws {
        let project = try SubmoduleProject()
        var leftAlone = "vendor/library"
        var message: String
        switch unfit {
        case .dirty:
            try project.clone.write("vendor/library/lib.c", "int lib(void) { return 3; }\n")
            message = "1 tracked file(s) modified, staged or deleted (first: lib.c)"
        case .deleted:
            try FileManager.default.removeItem(atPath: project.clone.directory.url("vendor/library/include/lib.h"))
            message = "1 tracked file(s) modified, staged or deleted (first: include/lib.h)"
        case .atAnotherCommit:
            try project.git(in: "vendor/library", "checkout", "-q", "HEAD~1")
            message = "checked out at"
        case .staged:
            try project.git(in: "vendor/library", "checkout", "-q", "HEAD~1")
            try project.clone.git("add", "vendor/library")
            message = "a new commit of it is staged in the superproject"
        case .notInitialized:
            try project.git(in: "vendor/library", "submodule", "deinit", "-q", "deps/inner")
            leftAlone = "vendor/library/deps/inner"
            message = "not initialized (git submodule update --init)"
        case .nestedDirty:
            try project.clone.write("vendor/library/deps/inner/a.c", "int a = 9;\n")
            leftAlone = "vendor/library/deps/inner"
            message = "1 tracked file(s) modified, staged or deleted (first: a.c)"
        }
        let untouched = try mtimeSnapshot(project.clone.directory.url(leftAlone))
        let result = try gitMtime(["restore", "--recurse-submodules", "-v"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("git-mtime restore: left submodule \(leftAlone): \(message)"), "\(result.stderr)")
        #expect(summaryValue(result.stdout, "submodules left alone") == "1")
        #expect(try mtimeSnapshot(project.clone.directory.url(leftAlone)) == untouched)
        let restored = Self.all.filter { !$0.hasPrefix(leftAlone) }
        #expect(try project.filesWithoutTheirCommitTime(in: restored) == [])
    }

    @Test func aPathspecReachesIntoSubmodules() throws {
        let project = try SubmoduleProject()
        let before = try mtimeSnapshot(project.path)
        let result = try gitMtime(["restore", "--recurse-submodules", "vendor/library/deps/inner/src"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        let after = try mtimeSnapshot(project.path)
        let changed = Set(after.keys.filter { after[$0] != before[$0] })
        #expect(changed == ["vendor/library/deps/inner/src/x.c", "vendor/library/deps/inner/src/y.c"])
        #expect(
            try project.filesWithoutTheirCommitTime(in: ["vendor/library/deps/inner"]).sorted()
                == ["vendor/library/deps/inner/a.c"])

        // Typed in a subdirectory, a pattern that matches only inside a submodule is no "did not match".
        let fromVendor = try gitMtime(
            ["restore", "--recurse-submodules", "-n", "library/lib.c"],
            in: project.clone.directory.url("vendor"), contentsOf: project.path)
        #expect(fromVendor.status == 0, "\(fromVendor.stderr)")
        #expect(fromVendor.stdout.hasPrefix("vendor/library/lib.c\t"), "\(fromVendor.stdout)")
        #expect(fromVendor.stdout.split(separator: "\n").count == 1)
        let nowhere = try gitMtime(["restore", "--recurse-submodules", "vendor/library/nothing.c"], in: project.path)
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("pathspec 'vendor/library/nothing.c' did not match any tracked file"), "\(nowhere.stderr)")
    }

    @Test func aDryRunListsSubmoduleFilesWithTheirSuperprojectPaths() throws {
        let project = try SubmoduleProject()
        let before = try mtimeSnapshot(project.path)
        let result = try gitMtime(["restore", "--recurse-submodules", "-n"], in: project.path)
        #expect(result.status == 0)
        let listed = Set(result.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) })
        #expect(listed.isSuperset(of: ["vendor/library/lib.c", "vendor/library/deps/inner/src/y.c", "main.c"]))
        #expect(try mtimeSnapshot(project.path) == before)
    }

    /// The working tree is anyone's: a submodule directory reached through a symlink (here, to a
    /// checked-out copy outside the working tree) is never entered, and nothing outside is touched.
    @Test func aSubmoduleBehindASymlinkIsNeverEntered() throws {
        let project = try SubmoduleProject()
        let outside = TemporaryDirectory("outside")
        try FileManager.default.moveItem(atPath: project.clone.directory.url("vendor"), toPath: outside.url("vendor"))
        try FileManager.default.createSymbolicLink(
            atPath: project.clone.directory.url("vendor"), withDestinationPath: outside.url("vendor"))
        let outsideTimes = try mtimeSnapshot(outside.path)
        let result = try gitMtime(["restore", "--recurse-submodules"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("left submodule vendor/library: vendor is not a directory (a symlink or a file)"), "\(result.stderr)")
        #expect(try mtimeSnapshot(outside.path) == outsideTimes)
    }

    /// A submodule's `.git` that leads to a repository whose working tree is elsewhere.
    @Test func aSubmoduleWhoseRepositoryHasAnotherWorkingTreeIsLeftAlone() throws {
        let project = try SubmoduleProject()
        let elsewhere = TemporaryDirectory("elsewhere")
        try project.git(in: "vendor/library", "config", "core.worktree", elsewhere.path)
        let untouched = try mtimeSnapshot(project.clone.directory.url("vendor/library"))
        let result = try gitMtime(["restore", "--recurse-submodules"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("left submodule vendor/library: its .git names a repository whose working tree is"), "\(result.stderr)")
        #expect(try mtimeSnapshot(project.clone.directory.url("vendor/library")) == untouched)
    }

    /// A second gitlink whose checkout is a linked worktree of the first submodule's repository:
    /// one repository, one lock; the second is reported instead of waiting on our own lock.
    @Test func twoSubmodulesSharingOneRepositoryAreNotBothOpened() throws {
        let project = try SubmoduleProject()
        let commit = try project.git(in: "vendor/library", "rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        try project.git(in: "vendor/library", "worktree", "add", "-q", "--detach", "../copy", commit)
        try project.clone.git("update-index", "--add", "--cacheinfo", "160000,\(commit),vendor/copy")
        try project.clone.git("commit", "-q", "-m", "a second gitlink")
        let result = try gitMtime(["restore", "--recurse-submodules"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")  // not 75: it never waits on a lock it holds itself
        #expect(result.stderr.contains("left submodule vendor/library: its repository is the one at vendor/copy"), "\(result.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: ["vendor/copy"]) == [])
    }

    /// Restore run inside a submodule restores that repository, as git would act on it.
    @Test func restoreInsideASubmoduleActsOnTheSubmodule() throws {
        let project = try SubmoduleProject()
        let result = try gitMtime(
            ["restore", "--recurse-submodules"], in: project.clone.directory.url("vendor/library"),
            contentsOf: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: SubmoduleProject.submodules) == [])
        #expect(try project.filesWithoutTheirCommitTime(in: ["."]).count == 3)
    }

    /// A submodule at a path that isn't UTF-8 (defect 31): its repository was looked for at the text
    /// form of its path (`sub\u{FFFD}`), so it was left alone as "can't be opened".
    @Test func submoduleAtAPathThatIsNotUTF8() throws {
        let base = TemporaryDirectory("submodule-bytes")
        let script = """
            set -e
            g() { git -c user.name=t -c user.email=t@example.com -c protocol.file.allow=always "$@"; }
            export GIT_AUTHOR_DATE="@1500000000 +0000" GIT_COMMITTER_DATE="@1500000000 +0000"
            g init -q lib && echo x > lib/x.c && g -C lib add x.c && g -C lib commit -qm lib
            export GIT_AUTHOR_DATE="@1600000000 +0000" GIT_COMMITTER_DATE="@1600000000 +0000"
            n="sub$(printf '\\351')"
            g init -q top && g -C top submodule add -q "file://$PWD/lib" "$n" && g -C top commit -qm add
            g clone -q --recurse-submodules top clone
            cd clone && "$1" restore --recurse-submodules >/dev/null && stat -c %Y "$n/x.c"
            """
        let result = try run(["sh", "-c", script, "sh", builtProduct("git-mtime")], in: base.path, environment: hookEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1500000000\n", "\(result.stderr)")
    }
}
