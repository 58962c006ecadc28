import Foundation
import MtimeCore
import Testing
import TestSupport

/// Options, errors and exit codes of `git mtime restore`.
@Suite struct RestoreCommandTests {
    @Test func refusesWhatItCannotRestore() throws {
        let empty = try GitRepository(label: "empty")
        try empty.write("file.txt", "never committed\n")
        let emptyTime = try modificationTime(empty.directory.url("file.txt"))
        expectFailure(try gitMtime(["restore"], in: empty.path), containing: "no commits yet")
        #expect(try modificationTime(empty.directory.url("file.txt")) == emptyTime)

        let plain = TemporaryDirectory("not-a-repo")
        expectFailure(try gitMtime(["restore"], in: plain.path), containing: "not a git repository")
        expectFailure(try gitMtime(["restore", "-C", plain.path], in: "/"), containing: "not a git repository")

        let bare = TemporaryDirectory("bare")
        try runChecked(["git", "init", "-q", "--bare", bare.path], in: bare.path)
        expectFailure(try gitMtime(["restore"], in: bare.path), containing: "bare repository")

        let sha256 = TemporaryDirectory("sha256")
        try runChecked(["git", "init", "-q", "--object-format=sha256", sha256.path], in: sha256.path)
        try runChecked(["sh", "-c", "echo x > f && git add f && git -c user.name=T -c user.email=t@e commit -qm x"], in: sha256.path)
        expectFailure(try gitMtime(["restore"], in: sha256.path), containing: "SHA-256")
    }

    /// An index whose trailing checksum is all zeros (`index.skipHash`, git 2.40; on with
    /// `feature.manyFiles`) is read as git reads it: libgit2 1.5 called it corrupt and restore failed.
    @Test func anIndexWrittenWithoutItsChecksumIsRead() throws {
        let repository = try GitRepository.basic()
        let index = URL(fileURLWithPath: repository.directory.url(".git/index"))
        let bytes = Array(try Data(contentsOf: index))
        try Data(bytes.dropLast(20) + [UInt8](repeating: 0, count: 20)).write(to: index)
        #expect(try repository.git("status", "--porcelain").isEmpty, "git reads it")
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "dirty skipped")?.hasPrefix("0 ") == true, "\(result.stdout)")
        try expectRestored(repository.path)
    }

    @Test func unreadableFileStopsEverythingBeforeAnyChange() throws {
        let repository = try GitRepository.basic()
        let secret = repository.directory.url("src/util/helper.c")
        try runChecked(["chmod", "000", secret])
        let before = try mtimeSnapshot(repository.path)
        // root reads anything; drop the capabilities that let it, so the permission bits apply.
        let command =
            getuid() == 0
            ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", builtProduct("git-mtime"), "restore"]
            : [builtProduct("git-mtime"), "restore"]
        let contents = try contentSnapshot(of: repository.path)
        let result = try run(command, in: repository.path)
        expectFailure(result, containing: "src/util/helper.c")
        #expect(try contentSnapshot(of: repository.path) == contents)
        #expect(result.stderr.contains("Permission denied"))
        #expect(try mtimeSnapshot(repository.path) == before)
    }

    @Test func dryRunPrintsEachChangeAndChangesNothing() throws {
        let repository = try GitRepository.basic()
        let before = try mtimeSnapshot(repository.path)
        let result = try gitMtime(["restore", "-n"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try mtimeSnapshot(repository.path) == before)
        let lines = result.stdout.split(separator: "\n")
        let tracked = try trackedPaths(repository.path)
        #expect(lines.count == tracked.count)
        for file in tracked {
            let old = before[file.path]!
            let new = try expectedTime(repository.path, file)
            #expect(lines.contains("\(file.path)\t\(old)\t\(new)"), "\(file.path) in\n\(result.stdout)")
        }
    }

    @Test func directoriesGetTheNewestTimeBelowThem() throws {
        let repository = try GitRepository.basic()
        let before = try contentSnapshot(of: repository.path)
        let result = try gitMtime(["restore", "--dirs"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path)
        let tracked = try trackedPaths(repository.path)
        func newest(under prefix: String) throws -> Timestamp {
            try tracked.filter { prefix.isEmpty || $0.path.hasPrefix(prefix + "/") }
                .map { try expectedTime(repository.path, $0) }.max()!
        }
        for directory in ["src", "src/util", "docs"] {
            #expect(try modificationTime(repository.directory.url(directory)) == newest(under: directory), "\(directory)")
        }
        #expect(try modificationTime(repository.path) == newest(under: ""))
        #expect(try contentSnapshot(of: repository.path) == before)
    }

    @Test func pathspecIsRelativeToTheCurrentDirectory() throws {
        let repository = try GitRepository.basic()
        let before = try mtimeSnapshot(repository.path)
        let result = try gitMtime(
            ["restore", "-C", repository.directory.url("src"), "util"], in: "/",
            contentsOf: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path, except: ["README.md", "src/main.c", "docs/guide.md", "docs/notes.txt"])
        for path in ["README.md", "src/main.c", "docs/guide.md", "docs/notes.txt"] {
            #expect(try modificationTime(repository.directory.url(path)) == before[path], "\(path)")
        }

        let top = try gitMtime(["restore", ":/docs/*.md"], in: repository.directory.url("src"))
        #expect(top.status == 0, "\(top.stderr)")
        try expectRestored(repository.path, except: ["README.md", "src/main.c", "docs/notes.txt"])
        #expect(try modificationTime(repository.directory.url("docs/notes.txt")) == before["docs/notes.txt"])

        let dashed = try gitMtime(["restore", "--", "../README.md"], in: repository.directory.url("src"))
        #expect(dashed.status == 0, "\(dashed.stderr)")
        try expectRestored(repository.path, except: ["src/main.c", "docs/notes.txt"])

        let outside = try gitMtime(["restore", "../../x"], in: repository.directory.url("src"))
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("../../x: '../../x' is outside repository at"), "\(outside.stderr)")

        let unmatched = try gitMtime(["restore", "util", "nothing-here"], in: repository.directory.url("src"))
        expectFailure(unmatched, containing: "pathspec 'nothing-here' did not match any tracked file")
    }

    @Test func progressIsDrawnOnlyOnATerminalAndErased() throws {
        let repository = try GitRepository.basic()
        let quiet = try gitMtime(["restore", "-n"], in: repository.path)
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty)
        // `script` runs the command on a pseudo-terminal (stdout and stderr both go to it).
        let onTerminal = try runChecked(
            ["script", "-qec", "\(builtProduct("git-mtime")) restore -n", "/dev/null"],
            in: repository.path
        ).stdout
        #expect(onTerminal.contains("\rgit-mtime: walking history: "))
        #expect(onTerminal.contains("\r\u{1B}[K"))
        let afterErase = try #require(onTerminal.range(of: "\r\u{1B}[K", options: .backwards))
        #expect(!onTerminal[afterErase.upperBound...].contains("git-mtime: "))
    }

    @Test func historyAllUsesTheSideBranchCommit() throws {
        let repository = try RestoreHistoryShapeTests.varied()
        let result = try gitMtime(["restore", "--history", "all"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        let side = try repository.git("log", "-1", "--no-merges", "--format=%ct", "--", "side-only.txt")
        #expect("\(try modificationTime(repository.directory.url("side-only.txt")).seconds)\n" == side)
        let invalid = try gitMtime(["restore", "--history", "sideways"], in: repository.path)
        #expect(invalid.status == 64)
    }

    @Test func helpDocumentsExitCodesAndOptions() throws {
        let help = try gitMtime(["restore", "--help"], in: "/")
        #expect(help.status == 0)
        for text in [
            "--dry-run", "--verbose", "--author-date", "--history", "--dirs", "--strict", "-C",
            "--recurse-submodules", "--no-recurse-submodules", "submodule.recurse", "--fetch-history", "--filter=blob:none",
            "Exit codes", "75", "root",
        ] {
            #expect(help.stdout.contains(text), "\(text)")
        }
    }
}
