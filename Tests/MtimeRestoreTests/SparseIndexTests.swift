import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// A sparse index (`git sparse-checkout set --sparse-index`, `index.sparse=true`): a directory outside
/// the cone is one index entry (mode 040000) and the index carries the required `sdir` extension,
/// which libgit2 1.5 refuses as "index file corrupt". Before the fix restore, manifest, `run` and
/// every hook failed with that message (a checkout printed a git-mtime error); git lists such an
/// index expanded, as for a split index (git refuses to split a sparse one). Shapes: sparse alone, sparse in
/// index format 4, sparse with
/// checkout filters (autocrlf, fileMode=false) and a touched clean file.
private enum SparseShape: String, CaseIterable, Sendable { case sparse, sparseVersion4, sparseWithFilters }

@Test(arguments: SparseShape.allCases)
private func sparseIndexWorksForEveryCommand(_ shape: SparseShape) throws {
    let repo = try GitRepository()
    try repo.write("top.c", "int top;\n")
    try repo.write("src/a.c", "int a;\n")
    try repo.write("src/edited.c", "int e;\n")
    try repo.write("docs/d.md", "d\n")
    try repo.write("docs/deep/e.md", "e\n")
    try repo.commit("first")
    try repo.git("branch", "other")
    try repo.write("src/a.c", "int a2;\n")
    try repo.commit("second")
    if shape == .sparseWithFilters {
        try repo.git("config", "core.autocrlf", "true")
        try repo.git("config", "core.fileMode", "false")
    }
    try repo.git("sparse-checkout", "set", "--cone", "--sparse-index", "src")
    if shape == .sparseVersion4 { try repo.git("update-index", "--index-version", "4") }
    for file in ["top.c", "src/a.c", "src/edited.c"] { try FileManager.default.removeItem(atPath: repo.directory.url(file)) }
    try repo.git("checkout", "-q", "--", ".")
    #expect(try repo.git("ls-files", "--sparse").contains("docs/\n"), "git wrote a sparse index")
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url("docs")))
    if shape == .sparseWithFilters { try runChecked(["chmod", "755", repo.directory.url("top.c")]) }
    try repo.write("src/edited.c", "int e2;\n")
    #expect(try repo.git("status", "--porcelain", "-uno") == " M src/edited.c\n")

    let restore = try run([builtProduct("git-mtime"), "restore", "-v"], in: repo.path, environment: hookEnvironment)
    #expect(restore.status == 0, "\(restore.stderr)")
    #expect(restore.stdout.contains("modified: src/edited.c\n"), "\(restore.stdout)")
    #expect(summaryValue(restore.stdout, "sparse skipped") == "2", "\(restore.stdout)")
    for file in ["top.c", "src/a.c"] { #expect(try repo.time(file) == repo.commitTime(file), "\(file)") }
    #expect(try repo.time("src/edited.c") > repo.commitTime("src/edited.c"))

    let manifestFile = repo.directory.url(".git/test-manifest")
    let manifest = try run([builtProduct("git-mtime"), "manifest", "-o", manifestFile], in: repo.path)
    #expect(manifest.status == 0, "\(manifest.stderr)")
    let parsed = try Manifest(parsing: try FileSystem.readFile(BytePath(manifestFile)))
    #expect(parsed.entries.map(\.path.description) == ["src/a.c", "src/edited.c", "top.c"])
    #expect(try run([builtProduct("git-mtime-guard"), "check", "--manifest", manifestFile, "--root", repo.path]).status == 0)

    let guarded = try run(
        [builtProduct("git-mtime"), "run", "--stamp", repo.directory.url("out/.stamp"), "--", "true"],
        in: repo.path, environment: hookEnvironment)
    #expect(guarded.status == 0, "\(guarded.stderr)")

    try repo.write("src/edited.c", "int e;\n")
    try repo.mtime("hooks", "install")
    let started = FileSystem.now()
    let checkout = try repo.hookGit("checkout", "-q", "other")
    #expect(checkout.stderr.isEmpty, "\(checkout.stderr)")
    #expect(try repo.time("src/a.c") >= started, "the hook ran and kept the rewritten file new")
}

/// `index.skipHash=true` (git 2.40+, and `feature.manyFiles=true` turns it on): the index ends in a
/// null hash instead of its SHA-1, which git reads as "not computed" and libgit2 1.5 refuses as
/// "index file corrupt" (libgit2 issue 6531). Before the fix every command failed on such a
/// repository. Shapes: index versions 2, 3 and 4, with checkout filters (attributes libgit2 would
/// read through the index) or without, and a sparse index.
@Test(arguments: [(2, false, false), (3, true, false), (4, false, false), (4, true, false), (2, true, true)])
private func anIndexWithoutItsHashWorksForEveryCommand(version: Int, filters: Bool, sparse: Bool) throws {
    let repo = try GitRepository()
    try repo.write("a.c", "int a;\n")
    try repo.write("src/edited.c", "int e;\n")
    try repo.write("docs/d.md", "d\n")
    if filters { try repo.write(".gitattributes", "*.c text eol=crlf\n") }
    try repo.commit("first")
    if sparse { try repo.git("sparse-checkout", "set", "--cone", "--sparse-index", "src") }
    try repo.git("update-index", "--index-version", "\(version)")
    if version == 3 {
        // An intent-to-add entry: extended flags, which version 3 exists for.
        try repo.write("src/new.c", "int n;\n")
        try repo.git("add", "--intent-to-add", "src/new.c")
    }
    for file in ["a.c", "src/edited.c"] where !sparse || file.hasPrefix("src/") {
        try FileManager.default.removeItem(atPath: repo.directory.url(file))
    }
    try repo.git("checkout", "-q", "--", ".")
    try repo.write("src/edited.c", "int e2;\n")
    // What git 2.40 writes with index.skipHash=true: the same file with a null trailer.
    let index = repo.directory.url(".git/index")
    var bytes = try FileSystem.readFile(BytePath(index))
    bytes.replaceSubrange((bytes.count - 20)..., with: [UInt8](repeating: 0, count: 20))
    try Data(bytes).write(to: URL(fileURLWithPath: index))
    let status = try repo.git("status", "--porcelain", "-uno", environment: ["GIT_OPTIONAL_LOCKS": "0"])
    #expect(status == " M src/edited.c\n" + (version == 3 ? " A src/new.c\n" : ""), "git reads the index")
    #expect(try FileSystem.readFile(BytePath(index)).suffix(20).allSatisfy { $0 == 0 }, "git left it as it was")

    let restore = try run([builtProduct("git-mtime"), "restore", "-v"], in: repo.path, environment: hookEnvironment)
    #expect(restore.status == 0, "\(restore.stderr)")
    #expect(restore.stdout.contains("modified: src/edited.c\n"), "\(restore.stdout)")
    if !sparse { #expect(try repo.time("a.c") == repo.commitTime("a.c")) }
    let manifestFile = repo.directory.url(".git/test-manifest")
    let manifest = try run([builtProduct("git-mtime"), "manifest", "-o", manifestFile], in: repo.path)
    #expect(manifest.status == 0, "\(manifest.stderr)")
    #expect(try run([builtProduct("git-mtime-guard"), "check", "--manifest", manifestFile, "--root", repo.path]).status == 0)
    for command in [["status"], ["explain", "src/edited.c"]] {
        let result = try run([builtProduct("git-mtime")] + command, in: repo.path, environment: hookEnvironment)
        #expect(result.status == 0, "\(command): \(result.stderr)")
    }
    let guarded = try run(
        [builtProduct("git-mtime"), "run", "--stamp", repo.directory.url("out/.stamp"), "--", "true"],
        in: repo.path, environment: hookEnvironment)
    #expect(guarded.status == 0, "\(guarded.stderr)")
}
