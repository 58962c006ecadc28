import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// Issue 13, case 9: a split index (`core.splitIndex=true`) works for restore, manifest, run and the
/// hooks: libgit2 1.5 can't read it, so git lists the entries.
@Test func splitIndexWorksForEveryCommand() throws {
    let repo = try GitRepository()
    try repo.write("a.c", "int a;\n")
    try repo.write("src/b.c", "int b;\n")
    try repo.write("src/gone.c", "int gone;\n")
    try repo.commit("first")
    try repo.git("branch", "other")
    try repo.git("config", "core.splitIndex", "true")
    try repo.git("update-index", "--split-index")
    try repo.write("src/b.c", "int b2;\n")
    try repo.write("c.c", "int c;\n")
    try repo.commit("second")
    try repo.git("update-index", "--skip-worktree", "src/gone.c")
    try FileManager.default.removeItem(atPath: repo.directory.url("src/gone.c"))
    let shared = try FileManager.default.contentsOfDirectory(atPath: repo.directory.url(".git")).filter { $0.hasPrefix("sharedindex.") }
    #expect(!shared.isEmpty, "git wrote a split index")

    let restore = try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path, environment: hookEnvironment)
    #expect(summaryValue(restore.stdout, "sparse skipped") == "1", "\(restore.stdout)")
    try expectRestored(repo.path, except: ["src/gone.c"])
    #expect(try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path).stdout.contains("files set: 0"))

    let manifestFile = repo.directory.url(".git/test-manifest")
    try runChecked([builtProduct("git-mtime"), "manifest", "-o", manifestFile], in: repo.path)
    let manifest = try Manifest(parsing: try FileSystem.readFile(BytePath(manifestFile)))
    #expect(manifest.entries.map(\.path.description) == ["a.c", "c.c", "src/b.c"])
    #expect(try run([builtProduct("git-mtime-guard"), "check", "--manifest", manifestFile, "--root", repo.path]).status == 0)

    let guarded = try run(
        [builtProduct("git-mtime"), "run", "--stamp", repo.directory.url("out/.stamp"), "--", "true"],
        in: repo.path, environment: hookEnvironment)
    #expect(guarded.status == 0, "\(guarded.stderr)")

    try repo.mtime("hooks", "install")
    let started = FileSystem.now()
    let checkout = try repo.hookGit("checkout", "-q", "other")
    #expect(checkout.stderr.isEmpty, "\(checkout.stderr)")
    #expect(try repo.time("src/b.c") >= started, "the hook ran and kept the rewritten file new")
    try repo.expectWorkingTreeMatchesHead()
}

/// A split index with checkout filters (`core.autocrlf=true`): a clean file whose stat no longer
/// matches the index (touched, chmod under core.fileMode=false) has bytes unlike its blob, and
/// libgit2 can't filter them (its attribute lookup reads the index), so git hashes them as that path:
/// clean, it gets its commit time; a real edit is still modified. (Found by the scenario harness.)
@Test func splitIndexWithFiltersTellsCleanFromModified() throws {
    let repo = try GitRepository()
    try repo.write("a.txt", "a\nb\n")
    try repo.write("edited.txt", "e\n")
    try repo.commit("first")
    try repo.git("config", "core.autocrlf", "true")
    try repo.git("config", "core.fileMode", "false")
    try repo.git("config", "core.splitIndex", "true")
    try repo.git("update-index", "--split-index")
    for file in ["a.txt", "edited.txt"] { try FileManager.default.removeItem(atPath: repo.directory.url(file)) }
    try repo.git("checkout", "-q", "--", ".")
    #expect(try FileSystem.readFile(BytePath(repo.directory.url("a.txt"))) == Array("a\r\nb\r\n".utf8), "checked out with CRLF")
    try runChecked(["chmod", "755", repo.directory.url("a.txt")])  // a new ctime: the index's stat data no longer matches
    try repo.write("edited.txt", "edited\r\n")
    #expect(try repo.git("status", "--porcelain") == " M edited.txt\n")

    let restore = try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path)
    #expect(restore.stdout.contains("modified: edited.txt\n"), "\(restore.stdout)")
    #expect(!restore.stdout.contains("modified: a.txt"), "\(restore.stdout)")
    #expect(try repo.time("a.txt") == repo.commitTime("a.txt"))
    #expect(try FileSystem.readFile(BytePath(repo.directory.url("a.txt"))) == Array("a\r\nb\r\n".utf8), "contents untouched")
    let litter = try FileManager.default.contentsOfDirectory(atPath: repo.directory.url(".git/git-mtime")).filter {
        $0.contains("filter-input")
    }
    #expect(litter.isEmpty, "\(litter)")
}

/// Every command that reads the index reads a split one (found by the scenario harness: with a
/// submodule, the submodule step read the index through libgit2 and failed on the `link` extension).
@Test func splitIndexWithASubmoduleWorksForEveryCommandThatReadsTheIndex() throws {
    let library = try GitRepository(label: "library")
    try library.write("lib.c", "int lib;\n")
    try library.commit("library")
    let repo = try GitRepository()
    try repo.write("Dockerfile", "FROM scratch\nCOPY . .\n")
    try repo.write("a.c", "int a;\n")
    try repo.git("-c", "protocol.file.allow=always", "submodule", "-q", "add", library.path, "vendor/lib")
    try repo.commit("with a submodule")
    try repo.git("config", "core.splitIndex", "true")
    try repo.git("update-index", "--split-index")
    #expect(try FileManager.default.contentsOfDirectory(atPath: repo.directory.url(".git")).contains { $0.hasPrefix("sharedindex.") })

    let restore = try run([builtProduct("git-mtime"), "restore", "--recurse-submodules"], in: repo.path)
    #expect(restore.status == 0, "\(restore.stderr)")
    let manifest = try run([builtProduct("git-mtime"), "manifest"], in: repo.path)
    #expect(manifest.status == 0, "\(manifest.stderr)")
    #expect(manifest.stdout.contains(" vendor/lib/lib.c\n"), "\(manifest.stdout)")
    for command in [["explain", "vendor/lib/lib.c"], ["doctor"]] {
        let result = try run([builtProduct("git-mtime")] + command, in: repo.path)
        #expect(!result.stderr.contains("extension"), "\(command): \(result.stderr)")
        #expect(result.status == 0 || (command == ["doctor"] && result.status == 1), "\(command): \(result.status) \(result.stderr)")
    }
}
