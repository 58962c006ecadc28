import Foundation
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// The planning API other commands build on (manifest builder, hooks).
@Suite struct RestoreSessionTests {
    @Test func planDescribesDirtyFilesAndChangesNothing() throws {
        let repository = try GitRepository.basic()
        try repository.write("README.md", "edited\n")
        try runChecked(["chmod", "+x", repository.directory.url("docs/guide.md")])
        let before = try mtimeSnapshot(repository.path)
        let session = try RestoreSession(discoveringFrom: repository.directory.url("src"))
        #expect(session.discoveryPrefix == BytePath("src"))
        let plan = try session.plan(RestoreOptions(identifyWorkingTreeBytes: true))
        #expect(try mtimeSnapshot(repository.path) == before)
        #expect(plan.head.hex == (try repository.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(plan.files.map(\.path.description) == ["README.md", "docs/guide.md", "docs/notes.txt", "src/main.c", "src/util/helper.c"])

        let readme = try #require(plan.files.first { $0.path == BytePath("README.md") })
        #expect(readme.state == .modified)
        #expect(readme.target == nil)
        let hashed = try runChecked(["git", "hash-object", "README.md"], in: repository.path).stdout
        #expect(readme.worktreeObjectID?.hex == hashed.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(readme.finalModificationTime == before["README.md"])

        let guide = try #require(plan.files.first { $0.path == BytePath("docs/guide.md") })
        #expect(guide.state == .modified)
        #expect(guide.worktreeMode == 0o100755)
        #expect(guide.mode == 0o100644)

        let main = try #require(plan.files.first { $0.path == BytePath("src/main.c") })
        #expect(main.state == .clean)
        let tracked = try #require(try trackedPaths(repository.path).first { $0.path == "src/main.c" })
        #expect(main.target == (try expectedTime(repository.path, tracked)))
        #expect(main.objectID == tracked.objectID)
        #expect(plan.pendingFiles.count == 3)
    }

    @Test func applySetsTargetsACallerEdited() throws {
        let repository = try GitRepository.basic()
        let session = try RestoreSession(discoveringFrom: repository.path)
        let lock = try session.lock()
        var plan = try session.plan(RestoreOptions(pathspec: ["src"]))
        #expect(plan.files.count == 2)
        let chosen = Timestamp(seconds: 1_700_000_000, nanoseconds: 42)
        let index = try #require(plan.files.firstIndex { $0.path == BytePath("src/main.c") })
        plan.files[index].target = chosen
        let summary = try session.apply(plan)
        withExtendedLifetime(lock) {}
        #expect(summary.filesSet == 2)
        #expect(try modificationTime(repository.directory.url("src/main.c")) == chosen)
        try expectRestored(repository.path, except: ["src/main.c", "README.md", "docs/guide.md", "docs/notes.txt"])
    }

    @Test func exactPathsSelectFilesWithWildcardAndNonUTF8Names() throws {
        let repository = try GitRepository.basic()
        try repository.write("weird[1]*.txt", "literal brackets\n")
        try repository.write("weird1x.txt", "would match the glob\n")
        try runChecked(["sh", "-c", "mkdir raw && printf 'x\\n' > \"raw/$(printf 'caf\\351')\""], in: repository.path)
        try repository.commit("odd names")
        let untouchedTime = try modificationTime(repository.directory.url("weird1x.txt"))
        let session = try RestoreSession(discoveringFrom: repository.path)
        let latin1 = BytePath([UInt8]("raw/caf".utf8) + [0xE9])
        let plan = try session.plan(RestoreOptions(paths: [BytePath("weird[1]*.txt"), BytePath("src/util"), latin1]))
        #expect(plan.files.map(\.path) == [latin1, BytePath("src/util/helper.c"), BytePath("weird[1]*.txt")])
        #expect(plan.files.allSatisfy { $0.state == .clean && $0.target != nil })
        #expect(!plan.coversWholeTree)
        let summary = try session.apply(plan)
        #expect(summary.filesSet == 3)
        #expect(try modificationTime(repository.directory.url("weird1x.txt")) == untouchedTime)
        let latin1Time = try FileSystem.status(BytePath(repository.path).appending(latin1)).modificationTime
        #expect(latin1Time == plan.files[0].target)
        try expectRestored(
            repository.path,
            except: Set(try trackedPaths(repository.path).map(\.path))
                .subtracting(["weird[1]*.txt", "src/util/helper.c"]))
    }

    @Test func historyScopeIsTheLiteralPartOfEachPattern() throws {
        func scope(_ patterns: [String], in prefix: String = "") throws -> [BytePath]? {
            try PathSelection(
                pathspec: ProcessArgument.words(patterns), paths: nil, prefix: BytePath(prefix), workTree: BytePath("/nowhere"),
                settings: PathspecSettings()
            ).historyScope
        }
        #expect(try scope([]) == nil)
        #expect(try scope(["src/util", "docs/*.md", "a/b/"]) == [BytePath("src/util"), BytePath("docs"), BytePath("a/b")])
        #expect(try scope(["*.c"]) == nil)
        // Exclusions never widen the walk; exclusions alone mean everything.
        #expect(try scope(["src", ":!src/x"]) == [BytePath("src")])
        #expect(try scope([":!src/x"]) == nil)
        // Typed in a subdirectory: the directory is literal, wildcards in its name included.
        #expect(try scope(["*.c"], in: "we*rd/sub") == [BytePath("we*rd/sub")])
        #expect(try scope([":(icase)Docs/x"], in: "src") == [BytePath("src")])
        #expect(try scope([":(icase)x"]) == nil)
        #expect(try scope([":(glob)src/**/*.c", ":(literal)a*b/c"]) == [BytePath("src"), BytePath("a*b/c")])
    }

    @Test func pathspecsAreRewrittenFromTheDiscoveryDirectory() throws {
        let repository = try GitRepository.basic()
        let session = try RestoreSession(discoveringFrom: repository.directory.url("src/util"))
        let selection = try session.pathSelection(
            RestoreOptions(pathspec: [
                "x.c", "../main.c", ":/docs", ":!*.h", "./", "..",
                ":(top)README.md",
            ]))
        #expect(
            selection.pathspec?.items.map { String(decoding: $0.match, as: UTF8.self) }
                == ["src/util/x.c", "src/main.c", "docs", "src/util/*.h", "src/util/", "src/", "README.md"])
        #expect(throws: RestoreError.self) { try session.pathSelection(RestoreOptions(pathspec: ["../../../x"])) }
        // As in git, `*` matches across directories.
        let plan = try session.plan(RestoreOptions(pathspec: [":/*.c", ":!/src/util"]))
        #expect(plan.files.map(\.path) == [BytePath("src/main.c")])
        #expect(plan.unmatchedPatterns.isEmpty)
        let everyC = try session.plan(RestoreOptions(pathspec: [":/*.c", ":/nothing/*"]))
        #expect(everyC.files.map(\.path) == [BytePath("src/main.c"), BytePath("src/util/helper.c")])
        #expect(everyC.unmatchedPatterns == [":/nothing/*"])
    }
}
