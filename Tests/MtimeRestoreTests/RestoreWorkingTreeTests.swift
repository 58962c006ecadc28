import Foundation
import MtimeCore
import Testing
import TestSupport

/// Which files restore may touch: only those whose working-tree content equals HEAD.
@Suite struct RestoreWorkingTreeTests {
    @Test func dirtyStagedDeletedUntrackedAndIgnoredFilesAreLeftAlone() throws {
        let repository = try GitRepository.basic()
        try repository.write(".gitignore", "*.log\nbuild/\n")
        try repository.write("staged.txt", "staged v1\n")
        try repository.write("deleted.txt", "to be deleted\n")
        try repository.write("typechange.txt", "becomes a symlink\n")
        try repository.commit("more files")
        try repository.write("README.md", "hello, edited\n")
        try repository.write("staged.txt", "staged v2\n")
        try repository.git("add", "staged.txt")
        try FileManager.default.removeItem(atPath: repository.directory.url("deleted.txt"))
        try FileManager.default.removeItem(atPath: repository.directory.url("typechange.txt"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("typechange.txt"), withDestinationPath: "README.md")
        try repository.write("added.txt", "added, not committed\n")
        try repository.git("add", "added.txt")
        try repository.write("untracked.txt", "untracked\n")
        try repository.write("debug.log", "ignored\n")
        try repository.write("build/out.o", "ignored directory\n")
        try repository.write("newdir/a.txt", "untracked directory\n")
        let untouched = [
            "README.md", "staged.txt", "typechange.txt", "added.txt", "untracked.txt", "debug.log", "build/out.o", "newdir/a.txt",
        ]
        let old = Timestamp(seconds: 1_000_000_000, nanoseconds: 7)
        for path in untouched { try setTime(repository.directory.url(path), old) }
        let before = try contentSnapshot(of: repository.path)

        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        for path in untouched { #expect(try modificationTime(repository.directory.url(path)) == old, "\(path)") }
        try expectRestored(repository.path, except: ["README.md", "staged.txt", "deleted.txt", "typechange.txt"])
        #expect(try contentSnapshot(of: repository.path) == before)

        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        for expected in [
            "modified: README.md", "modified: typechange.txt", "staged: staged.txt", "staged: added.txt",
            "deleted: deleted.txt", "untracked: untracked.txt", "untracked: newdir", "ignored: debug.log",
            "ignored: build",
        ] {
            #expect(lines.contains(expected), "missing line \(expected) in\n\(result.stdout)")
        }
        #expect(summaryValue(result.stdout, "dirty skipped") == "5 (modified 2, staged 2, deleted 1)")
        #expect(summaryValue(result.stdout, "untracked/ignored") == "2/2")
        #expect(summaryValue(result.stdout, "files set") == "5")
    }

    @Test func unresolvedConflictsAreLeftAlone() throws {
        let repository = try GitRepository.basic()
        try repository.git("checkout", "-q", "-b", "theirs")
        try repository.write("README.md", "theirs\n")
        try repository.commit("theirs")
        try repository.git("checkout", "-q", "main")
        try repository.write("README.md", "ours\n")
        try repository.commit("ours")
        #expect(try run(["git", "merge", "-q", "theirs"], in: repository.path).status != 0)
        let old = Timestamp(seconds: 1_300_000_000)
        try setTime(repository.directory.url("README.md"), old)
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("staged: README.md"))
        #expect(try modificationTime(repository.directory.url("README.md")) == old)
        try expectRestored(repository.path, except: ["README.md"])
    }

    @Test func neverLooksThroughASymlinkedDirectory() throws {
        let repository = try GitRepository.basic()
        let elsewhere = TemporaryDirectory("elsewhere")
        try runChecked(["cp", "-R", repository.directory.url("src"), elsewhere.url("src")])
        let outsideFile = elsewhere.url("src/main.c")
        let outsideTime = Timestamp(seconds: 1_200_000_000)
        try setTime(outsideFile, outsideTime)
        try FileManager.default.removeItem(atPath: repository.directory.url("src"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("src"), withDestinationPath: elsewhere.url("src"))
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try modificationTime(outsideFile) == outsideTime)
        #expect(result.stdout.contains("deleted: src/main.c"))
        try expectRestored(repository.path, except: ["src/main.c", "src/util/helper.c"])
    }

    @Test func contentEqualToHeadIsCleanEvenWhenStatDataIsStale() throws {
        let repository = try GitRepository.basic()
        // Rewriting the same bytes changes mtime and ctime: only hashing can tell it's clean.
        try repository.write("README.md", "hello\n")
        try setTime(repository.directory.url("README.md"), Timestamp(seconds: 2_000_000_000))
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path)
    }

    @Test func filtersLikeAutocrlfAreAppliedBeforeComparing() throws {
        let repository = try GitRepository()
        try repository.write("text.txt", "one\ntwo\n")
        try repository.commit("lf")
        try repository.git("config", "core.autocrlf", "true")
        try FileManager.default.removeItem(atPath: repository.directory.url("text.txt"))
        try repository.git("checkout", "--", "text.txt")
        #expect(try String(contentsOfFile: repository.directory.url("text.txt"), encoding: .utf8) == "one\r\ntwo\r\n")
        try setTime(repository.directory.url("text.txt"), Timestamp(seconds: 2_000_000_000))
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "files set") == "1")
        try expectRestored(repository.path)
    }

    /// libgit2 can't run an external filter driver, so git hashes such a file as its path: restore
    /// agrees with `git status` (clean: its commit time; edited: modified), and a driver that fails
    /// leaves the file unverified, never guessed clean.
    @Test(arguments: ["clean", "edited", "failing driver"])
    func aFileNeedingAnExternalFilterDriverIsDecidedByGit(_ shape: String) throws {
        let repository = try GitRepository()
        try repository.git("config", "filter.upper.clean", "tr a-z A-Z")
        try repository.git("config", "filter.upper.smudge", "cat")
        try repository.git("config", "filter.upper.required", "true")
        try repository.write(".gitattributes", "*.dat filter=upper\n")
        try repository.write("data.dat", "abc\n")
        try repository.write("plain.txt", "plain\n")
        try repository.commit("filtered")
        #expect(try repository.git("status", "--porcelain").isEmpty)
        if shape == "edited" { try repository.write("data.dat", "abd\n") }
        if shape == "failing driver" { try repository.git("config", "filter.upper.clean", "false") }
        // Stale stat data forces a content check, which only git can do (it runs the driver).
        let old = Timestamp(seconds: 1_400_000_000)
        try setTime(repository.directory.url("data.dat"), old)
        let status = try run(["git", "status", "--porcelain"], in: repository.path, environment: ["GIT_OPTIONAL_LOCKS": "0"])
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        if shape == "clean" {
            #expect(status.stdout.isEmpty)
            #expect(!result.stdout.contains("modified: data.dat"), "\(result.stdout)")
            try expectRestored(repository.path)
        } else {
            if shape == "edited" { #expect(status.stdout == " M data.dat\n") }
            #expect(result.stdout.contains("modified: data.dat"), "\(result.stdout)")
            #expect(try modificationTime(repository.directory.url("data.dat")) == old)
            try expectRestored(repository.path, except: ["data.dat"])
        }
    }

    @Test func submodulesAreSkipped() throws {
        let library = try GitRepository(label: "library")
        try library.write("lib.c", "lib\n")
        try library.commit("library")
        let repository = try GitRepository.basic()
        try repository.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "file://\(library.path)", "vendor/library")
        try repository.commit("add submodule")
        let old = Timestamp(seconds: 1_100_000_000)
        try setTime(repository.directory.url("vendor/library"), old)
        try setTime(repository.directory.url("vendor/library/lib.c"), old)
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "submodules skipped") == "1")
        #expect(try modificationTime(repository.directory.url("vendor/library")) == old)
        #expect(try modificationTime(repository.directory.url("vendor/library/lib.c")) == old)
        try expectRestored(repository.path)
    }

    @Test func sparseCheckoutEntriesAbsentOnDiskAreSkipped() throws {
        let repository = try GitRepository.basic()
        try repository.git("sparse-checkout", "set", "src")
        #expect(!FileManager.default.fileExists(atPath: repository.directory.url("docs/guide.md")))
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "sparse skipped") == "2")
        #expect(summaryValue(result.stdout, "files set") == "3")
        try expectRestored(repository.path, except: ["docs/guide.md", "docs/notes.txt"])
    }

    @Test func linkedWorktreeKeepsItsStatCacheApartAndSharesTheHistoryCache() throws {
        let repository = try GitRepository.basic()
        let outside = TemporaryDirectory("worktrees")
        let worktree = outside.url("wt")
        try repository.git("worktree", "add", "-q", "-b", "other", worktree)
        let before = try contentSnapshot(of: worktree)
        let result = try gitMtime(["restore"], in: worktree)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(worktree)
        #expect(try contentSnapshot(of: worktree) == before)
        #expect(FileManager.default.fileExists(atPath: repository.directory.url(".git/worktrees/wt/git-mtime/stat-cache")))
        #expect(!FileManager.default.fileExists(atPath: repository.directory.url(".git/git-mtime/stat-cache")))
        #expect(FileManager.default.fileExists(atPath: repository.directory.url(".git/git-mtime/lock")))
        // The main worktree is untouched by a restore in the linked one.
        #expect(
            try modificationTime(repository.directory.url("README.md"))
                != (try expectedTime(repository.path, trackedPaths(repository.path).first { $0.path == "README.md" }!)))
    }

    @Test func shallowCloneUsesTheBoundaryAndStrictRefuses() throws {
        let origin = try GitRepository(label: "origin")
        for round in 1...5 {
            try origin.write("file\(round).txt", "round \(round)\n")
            try origin.commit("round \(round)")
        }
        let place = TemporaryDirectory("shallow")
        let clone = place.url("clone")
        try runChecked(["git", "clone", "-q", "--depth", "3", "file://\(origin.path)", clone], in: place.path)
        let before = try mtimeSnapshot(clone)
        let contents = try contentSnapshot(of: clone)

        let strict = try gitMtime(["restore", "--strict"], in: clone)
        #expect(strict.status == 2)
        #expect(strict.stderr.contains("3 file(s) would get the shallow clone's boundary commit time"), "\(strict.stderr)")
        #expect(strict.stderr.split(separator: "\n").count == 1)
        #expect(try mtimeSnapshot(clone) == before)

        let relaxed = try gitMtime(["restore"], in: clone)
        #expect(relaxed.status == 0, "\(relaxed.stderr)")
        #expect(relaxed.stderr.contains("3 file(s) got the shallow clone's boundary commit time"), "\(relaxed.stderr)")
        try expectRestored(clone)
        #expect(try contentSnapshot(of: clone) == contents)
    }

    /// Defect 25: with `core.symlinks=false` (git init sets it where the file system has no
    /// symlinks) git checks a symlink out as a regular file holding its target and calls that file
    /// the link: clean while its bytes are the target, whatever its executable bit. Restore called it
    /// modified. Every setting (unset, true, false, and false with `core.fileMode=false`) × what is
    /// on disk (a file with the target, with other bytes, executable, a real link to the target or
    /// elsewhere, a directory) × the index's stat kept or forgotten, against `git status`.
    @Test func aSymlinkCheckedOutAsAFileIsCleanWithoutCoreSymlinks() throws {
        let repository = try GitRepository()
        try repository.write("target.txt", "target\n")
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("link"), withDestinationPath: "target.txt")
        try repository.commit("link")
        let committed = try repository.commitTime("link")
        let link = repository.directory.url("link")
        let shapes: [(String, () throws -> Void)] = [
            ("file holding the target", { try Data("target.txt".utf8).write(to: URL(fileURLWithPath: link)) }),
            ("file holding other bytes", { try Data("elsewhere".utf8).write(to: URL(fileURLWithPath: link)) }),
            (
                "executable file holding the target",
                {
                    try Data("target.txt".utf8).write(to: URL(fileURLWithPath: link))
                    try runChecked(["chmod", "+x", link])
                }
            ),
            ("link to the target", { try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.txt") }),
            ("link elsewhere", { try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "elsewhere") }),
            ("directory", { try FileManager.default.createDirectory(atPath: link, withIntermediateDirectories: false) }),
        ]
        let settings: [[String: String]] = [
            [:], ["core.symlinks": "true"], ["core.symlinks": "false"], ["core.symlinks": "false", "core.fileMode": "false"],
        ]
        var cases = 0, clean = 0
        for setting in settings {
            for name in ["core.symlinks", "core.fileMode"] { _ = try run(["git", "config", "--unset", name], in: repository.path) }
            for (name, value) in setting { try repository.git("config", name, value) }
            for (shape, make) in shapes {
                for forgetsStat in [false, true] {
                    try? FileManager.default.removeItem(atPath: link)
                    try make()
                    try runChecked(["touch", "-h", "-d", "@1500000000", link])
                    if forgetsStat {
                        try repository.git("read-tree", "HEAD")
                    } else {
                        try repository.git("update-index", "-q", "--refresh")
                    }
                    let status = try runChecked(
                        ["git", "status", "--porcelain", "--", "link"], in: repository.path, environment: ["GIT_OPTIONAL_LOCKS": "0"])
                    let result = try gitMtime(["restore"], in: repository.path)
                    #expect(result.status == 0, "\(result.stderr)")
                    let expected = status.stdout.isEmpty ? committed : Timestamp(seconds: 1_500_000_000, nanoseconds: 0)
                    #expect(
                        try modificationTime(link) == expected,
                        "\(setting), \(shape), \(forgetsStat ? "no stat" : "stat"): git status \(status.stdout)")
                    cases += 1
                    if status.stdout.isEmpty { clean += 1 }
                }
            }
        }
        #expect(cases == 48 && clean > 0 && clean < cases, "\(clean) of \(cases) clean")
    }
}
