import Foundation
import MtimeCore
import Testing
import TestSupport

/// `git mtime restore` against git's own answer, on histories with every shape the issue lists.
@Suite struct RestoreHistoryShapeTests {
    /// Merges (a file changed only on a side branch), renames, deletion and re-creation, a mode-only
    /// change, symlinks, awkward names, and a directory and a file swapping places.
    static func varied() throws -> GitRepository {
        let repository = try GitRepository()
        try repository.write("common.txt", "common\n")
        try repository.write("doomed.txt", "doomed\n")
        try repository.write("old-name.txt", "renamed content\n")
        try repository.write("tool.sh", "#!/bin/sh\necho tool\n")
        try repository.write("swap", "file that becomes a directory\n")
        try repository.write("folder/inner.txt", "directory that becomes a file\n")
        try repository.write("with space.txt", "space\n")
        try repository.write("naïve-é.txt", "non-ascii\n")
        try repository.write("line\nbreak.txt", "newline in the name\n")
        try repository.write("-leading-dash.txt", "dash\n")
        try repository.write("target.txt", "symlink target\n")
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("link"), withDestinationPath: "target.txt")
        try repository.commit("base")

        try repository.git("checkout", "-q", "-b", "side")
        try repository.write("side-only.txt", "only on the side branch\n")
        try repository.write("common.txt", "common, changed on side\n")
        try repository.commit("side work")
        try repository.git("checkout", "-q", "main")
        try repository.write("main-only.txt", "main\n")
        try repository.commit("main work")
        repository.clock += 100
        try repository.git("merge", "-q", "--no-ff", "-m", "merge side", "side")

        try repository.git("mv", "old-name.txt", "new-name.txt")
        try repository.commit("rename")
        try repository.git("rm", "-q", "doomed.txt")
        try repository.commit("delete")
        try repository.write("doomed.txt", "doomed\n")
        try repository.commit("re-create")
        try runChecked(["chmod", "+x", repository.directory.url("tool.sh")])
        try repository.commit("mode only")
        try repository.git("rm", "-q", "swap", "folder/inner.txt")
        try repository.write("swap/now-inside.txt", "inside\n")
        try repository.write("folder", "now a file\n")
        try repository.commit("swap")
        try FileManager.default.removeItem(atPath: repository.directory.url("link"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("link"), withDestinationPath: "new-name.txt")
        try repository.commit("retarget link")
        return repository
    }

    @Test func everyCleanFileGetsItsLastCommitTime() throws {
        let repository = try Self.varied()
        let before = try contentSnapshot(of: repository.path)
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try expectRestored(repository.path)
        #expect(try contentSnapshot(of: repository.path) == before)
        let tracked = try trackedPaths(repository.path)
        #expect(summaryValue(result.stdout, "files set") == "\(tracked.count)")
        #expect(summaryValue(result.stdout, "already right") == "0")
        #expect(summaryValue(result.stdout, "dirty skipped")?.hasPrefix("0 ") == true)

        // The merge is the first-parent change of a file only the side branch touched.
        let mergeTime = try #require(
            Int64(
                try repository.git("log", "-1", "--format=%ct", "--merges")
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try modificationTime(repository.directory.url("side-only.txt")).seconds == mergeTime)

        // The second run has nothing to do.
        let again = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(summaryValue(again.stdout, "files set") == "0")
        #expect(summaryValue(again.stdout, "already right") == "\(tracked.count)")
        try expectRestored(repository.path)
        #expect(try contentSnapshot(of: repository.path) == before)
    }

    @Test func authorDateUsesAuthorTimes() throws {
        let repository = try Self.varied()
        let before = try contentSnapshot(of: repository.path)
        let result = try gitMtime(["restore", "--author-date"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path, authorDate: true)
        #expect(try contentSnapshot(of: repository.path) == before)
    }

    @Test func symlinksGetTheirOwnTimeAndTargetsAreUntouched() throws {
        let repository = try GitRepository()
        try repository.write("real.txt", "real\n")
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("to-untracked"), withDestinationPath: "outside.txt")
        try repository.commit("link to an untracked file")
        try repository.write("outside.txt", "not tracked\n")
        let untrackedTime = Timestamp(seconds: 1_234_567_890, nanoseconds: 5)
        try setTime(repository.directory.url("outside.txt"), untrackedTime)
        let result = try gitMtime(["restore"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path)
        #expect(try modificationTime(repository.directory.url("outside.txt")) == untrackedTime)
    }

    @Test func namesThatAreNotUTF8() throws {
        let repository = try GitRepository()
        try repository.write("plain.txt", "plain\n")
        try runChecked(["sh", "-c", "printf 'latin-1\\n' > \"$(printf 'caf\\351.txt')\""], in: repository.path)
        try repository.commit("latin-1 name")
        let result = try gitMtime(["restore", "-n"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        // The invalid byte is escaped in the dry-run listing.
        #expect(result.stdout.contains("caf\\xe9.txt\t"))
        let applied = try gitMtime(["restore"], in: repository.path)
        #expect(applied.status == 0, "\(applied.stderr)")
        let seconds = try runChecked(["sh", "-c", "stat -c %Y \"$(printf 'caf\\351.txt')\""], in: repository.path).stdout
        let committed = try repository.git("log", "-1", "--format=%ct")
        #expect(seconds == committed)
        try expectRestored(repository.path, except: [try trackedPaths(repository.path).first { $0.path != "plain.txt" }!.path])
    }

    /// Defect 20 through the command: with every commit of the first-parent line in turn grafted to
    /// a root (`git replace --graft`, then the same as an `info/grafts` line), and replaced by
    /// another commit (`git replace`), every clean file gets exactly `git log`'s time (HEAD's own
    /// entries, read through the same replacements, are what restore compares). A graft that makes
    /// the line a loop leaving a path no commit git shows: exit 1 naming it, no time changed, and
    /// no endless walk.
    @Test func restoreReadsHistoryThroughReplaceRefsAndGrafts() throws {
        let repository = try Self.varied()
        let line = try repository.git("rev-list", "--first-parent", "HEAD").split(separator: "\n").map(String.init)
        let graftFile = repository.directory.url(".git/info/grafts")
        var variants: [(String, () throws -> Void)] = []
        for (index, commit) in line.enumerated().dropFirst() {
            if index + 1 < line.count {
                variants.append(("graft \(index) to a root", { try repository.git("replace", "-f", "--graft", commit) }))
            }
            variants.append(("graft file \(index)", { try Data("\(commit)\n".utf8).write(to: URL(fileURLWithPath: graftFile)) }))
            if index + 2 < line.count {
                variants.append(("replace \(index)", { try repository.git("replace", "-f", commit, line[index + 2]) }))
            }
        }
        for (name, apply) in variants {
            try apply()
            let result = try gitMtime(["restore"], in: repository.path)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            try expectRestored(repository.path)
            try? FileManager.default.removeItem(atPath: graftFile)
            for reference in try repository.git("for-each-ref", "--format=%(refname)", "refs/replace/").split(separator: "\n") {
                try repository.git("update-ref", "-d", String(reference))
            }
        }
        // HEAD~2's parent is HEAD~1: the line loops after HEAD~1, and HEAD~2 differs from HEAD~1
        // only in what HEAD~1 changed, so the files older than both have no commit git shows.
        try repository.git("replace", "-f", "--graft", line[2], line[1])
        let times = try mtimeSnapshot(repository.path)
        let result = try run(["timeout", "60", builtProduct("git-mtime"), "restore"], in: repository.path)
        expectFailure(result, containing: "no commit in the history changed this path")
        #expect(try mtimeSnapshot(repository.path) == times)
        let unanswered = try run(["git", "log", "-1", "--first-parent", "--format=%ct", "--", "common.txt"], in: repository.path)
        #expect(unanswered.stdout.isEmpty)
    }

    /// Defect 24: a detached HEAD naming an annotated tag object (git peels it; `git checkout TAG`
    /// detaches at the commit, a hand-written HEAD leaves the tag) was
    /// refused: "read commit …: object has the wrong type". Also a tag of a tag.
    @Test func aHeadNamingAnAnnotatedTagIsPeeled() throws {
        let repository = try Self.varied()
        try repository.git("tag", "-a", "-m", "inner", "inner", "HEAD~2")
        try repository.git("tag", "-a", "-m", "outer", "outer", "inner")
        for tag in ["inner", "outer"] {
            try repository.git("checkout", "-q", tag)
            let id = try repository.git("rev-parse", tag).trimmingCharacters(in: .whitespacesAndNewlines)
            // git refuses to write it (update-ref: "non-commit object"), yet reads it.
            try Data("\(id)\n".utf8).write(to: URL(fileURLWithPath: repository.directory.url(".git/HEAD")))
            let result = try gitMtime(["restore"], in: repository.path)
            #expect(result.status == 0, "\(tag): \(result.stderr)")
            try expectRestored(repository.path)
        }
    }
}
