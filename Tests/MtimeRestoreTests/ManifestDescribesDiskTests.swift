import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// The manifest describes what is on disk, whatever git's filters and settings did (issue 13, cases
/// 3 and 4), lists what `git status` lists (issue 10, defect 8), and refuses what isn't a context.
@Suite struct ManifestDescribesDiskTests {
    /// `git mtime manifest -o M` then `git-mtime-guard check`, which hashes the files as they are.
    func manifestAndCheck(_ repo: GitRepository, restore: Bool = false) throws -> (Manifest, ProcessResult) {
        let output = repo.directory.url(".git/test-manifest")
        try runChecked([builtProduct("git-mtime"), "manifest", "-o", output] + (restore ? ["--restore"] : []), in: repo.path)
        let manifest = try Manifest(parsing: try FileSystem.readFile(BytePath(output)))
        let check = try run([builtProduct("git-mtime-guard"), "check", "--manifest", output, "--root", repo.path])
        return (manifest, check)
    }

    func entry(_ manifest: Manifest, _ path: String) throws -> ManifestEntry {
        try #require(manifest.entries.first { $0.path == BytePath(path) }, "no entry for \(path)")
    }

    /// Each filter on its own repository: `.gitattributes` eol=crlf, `core.autocrlf=true`, `ident`,
    /// and the two libgit2 doesn't run: `working-tree-encoding` (UTF-16 on disk) and a `filter=`
    /// driver (its smudge upper-cases, as git-lfs turns a pointer into the content); with those two
    /// every manifest recorded the blob, so every guarded build failed (`changed: run.bat`), and a file
    /// whose stat no longer matched the index was called modified.
    /// The files are clean for git, yet their bytes differ from the blob; the manifest records the
    /// bytes' id, so the guard agrees, and the time stays the commit time with nanoseconds from the blob.
    @Test(arguments: ["eol", "autocrlf", "ident", "working-tree-encoding", "driver"])
    func filteredCleanFilesAreDescribedByTheirBytes(_ filter: String) throws {
        let repo = try GitRepository()
        switch filter {
        case "eol": try repo.write(".gitattributes", "*.bat text eol=crlf\n")
        case "ident": try repo.write(".gitattributes", "*.c ident\n")
        case "working-tree-encoding": try repo.write(".gitattributes", "*.bat text working-tree-encoding=UTF-16LE\n")
        case "driver":
            try repo.git("config", "filter.upper.smudge", "tr a-z A-Z")
            try repo.git("config", "filter.upper.clean", "tr A-Z a-z")
            try repo.write(".gitattributes", "*.bat filter=upper\n")
        default: try repo.git("config", "core.autocrlf", "true")
        }
        try repo.write("run.bat", "echo a\necho b\n")
        try repo.write("x.c", "/* $Id$ */\nint x;\n")
        try repo.write("plain.bin", "\u{0}binary\u{1}\n")
        try repo.commit("first")
        // Check the files out again through the filters, as a clone would.
        try FileManager.default.removeItem(atPath: repo.directory.url("run.bat"))
        try FileManager.default.removeItem(atPath: repo.directory.url("x.c"))
        try repo.git("checkout", "--", ".")
        try repo.expectWorkingTreeMatchesHead()
        let changed = filter == "ident" ? "x.c" : "run.bat"
        let onDisk = try BlobHasher.hash(fileAt: BytePath(repo.directory.url(changed)))
        let blob = try #require(ObjectID(hex: repo.git("rev-parse", "HEAD:\(changed)").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(onDisk != blob, "the filter rewrote \(changed)")

        // Three times: a cold run (files hashed), a warm one (clean by stat, nothing hashed to decide
        // it), and one after a touch (the stat no longer matches: git maps the bytes back to decide).
        for (pass, restore) in [("cold", true), ("warm", false), ("touched", true)] {
            if pass == "touched" {
                try FileSystem.setModificationTime(BytePath(repo.directory.url(changed)), to: Timestamp(seconds: 1_000_000_000))
            }
            let (manifest, check) = try manifestAndCheck(repo, restore: restore)
            #expect(check.status == 0, "\(filter) \(pass): \(check.stderr)")
            let described = try entry(manifest, changed)
            #expect(described.objectID == onDisk, "\(filter) \(pass)")
            #expect(described.isUntracked == false)
            #expect(manifest.dirtyCount == 0)
            let seconds = try #require(Int64(repo.git("log", "-1", "--format=%ct").trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(described.modificationTime == Timestamp(commitSeconds: seconds, objectID: blob), "nanoseconds from the blob id")
        }
        try repo.mtime("restore")
        let seconds = try #require(Int64(repo.git("log", "-1", "--format=%ct").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try repo.time(changed) == Timestamp(commitSeconds: seconds, objectID: blob), "restore gives the clean file its commit time")
    }

    /// `core.fileMode=false`: an executable in HEAD that lost its bit on disk is clean for git; the
    /// manifest records the mode on disk, so the guard accepts it.
    @Test func fileModeFalseRecordsTheModeOnDisk() throws {
        let repo = try GitRepository()
        try repo.write("tool.sh", "#!/bin/sh\n")
        try repo.write("data.txt", "data\n")
        try runChecked(["chmod", "755", repo.directory.url("tool.sh")])
        try repo.commit()
        try repo.git("config", "core.fileMode", "false")
        try runChecked(["chmod", "644", repo.directory.url("tool.sh")])
        try runChecked(["chmod", "755", repo.directory.url("data.txt")])
        try repo.expectWorkingTreeMatchesHead()
        let (manifest, check) = try manifestAndCheck(repo, restore: true)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(try entry(manifest, "tool.sh").mode == ManifestEntry.regularMode)
        #expect(try entry(manifest, "data.txt").mode == ManifestEntry.executableMode)
        #expect(manifest.dirtyCount == 0)
    }

    /// A tracked file replaced by a directory, and a tracked directory replaced by a symlink: what is
    /// there now is untracked, listed like `git status` lists it, and in the manifest.
    @Test func untrackedEntriesUnderReplacedPathsAreListed() throws {
        let repo = try GitRepository()
        try repo.write("src/gen", "generated once\n")
        try repo.write("src/main.c", "int main;\n")
        try repo.write("d/x", "x\n")
        try repo.write("keep/y", "y\n")
        try repo.commit()
        try FileManager.default.removeItem(atPath: repo.directory.url("src/gen"))
        try repo.write("src/gen/main.c", "int generated;\n")
        let outside = TemporaryDirectory("outside")
        try Data("outside\n".utf8).write(to: URL(fileURLWithPath: outside.url("x")))
        try FileManager.default.removeItem(atPath: repo.directory.url("d"))
        try FileManager.default.createSymbolicLink(atPath: repo.directory.url("d"), withDestinationPath: outside.path)
        try FileManager.default.removeItem(atPath: repo.directory.url("keep/y"))
        try repo.write("keep/y/inner.txt", "inner\n")
        let status = try repo.git("status", "--porcelain", "-uall")
        #expect(status.contains("?? d\n") && status.contains("?? src/gen/main.c") && status.contains("?? keep/y/inner.txt"), "\(status)")

        let (manifest, _) = try manifestAndCheck(repo)
        let untracked = manifest.entries.filter(\.isUntracked)
        #expect(untracked.map(\.path.description) == ["d", "keep/y/inner.txt", "src/gen/main.c"])
        #expect(try entry(manifest, "d").mode == ManifestEntry.symlinkMode)
        #expect(try entry(manifest, "d").objectID == BlobHasher.hash(bytes: Array(outside.path.utf8)))
        #expect(manifest.entries.filter { !$0.isUntracked }.map(\.path.description) == ["src/main.c"])

        let verbose = try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path).stdout
        for line in ["deleted: src/gen", "deleted: d/x", "deleted: keep/y", "untracked: d", "untracked: src/gen", "untracked: keep/y"] {
            #expect(verbose.contains(line + "\n"), "\(line) in \(verbose)")
        }
    }

    /// A gitlink's directory belongs to the submodule: never listed as untracked.
    @Test func submoduleDirectoriesAreNotUntracked() throws {
        let inner = try GitRepository(label: "inner")
        try inner.write("lib.c", "int lib;\n")
        try inner.commit()
        let repo = try GitRepository()
        try repo.write("a.c", "int a;\n")
        try repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", inner.path, "sub")
        try repo.commit()
        try repo.git("-c", "protocol.file.allow=always", "submodule", "deinit", "-q", "-f", "sub")  // an empty directory now
        let (manifest, _) = try manifestAndCheck(repo)
        #expect(manifest.entries.map(\.path.description) == [".gitmodules", "a.c"])
        let verbose = try runChecked([builtProduct("git-mtime"), "restore", "-v"], in: repo.path).stdout
        #expect(!verbose.contains("untracked: sub"), "\(verbose)")
    }

    /// `--context FILE` and `-C MISSING` are errors naming the path, for every command that takes them.
    @Test func aContextOrDirectoryThatIsNotADirectoryIsAnError() throws {
        let repo = try GitRepository()
        try repo.write("a.c", "int a;\n")
        try repo.commit()
        let file = repo.directory.url("a.c")
        let context = try run([builtProduct("git-mtime"), "manifest", "--context", file], in: repo.path)
        #expect(context.status == 1)
        #expect(context.stderr.contains("\(file) is not a directory"), "\(context.stderr)")
        #expect(context.stdout.isEmpty)
        let missing = repo.directory.url("no/such/dir")
        for command in [["restore"], ["manifest"], ["status"]] {
            let result = try run([builtProduct("git-mtime")] + command + ["-C", missing], in: repo.path)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr.contains("\(missing): no such directory"), "\(command): \(result.stderr)")
        }
        let hooks = try run([builtProduct("git-mtime"), "hooks", "install", "--repo", missing], in: repo.path)
        #expect(hooks.status == 1)
        #expect(hooks.stderr.contains("\(missing): no such directory"), "\(hooks.stderr)")
    }
}
