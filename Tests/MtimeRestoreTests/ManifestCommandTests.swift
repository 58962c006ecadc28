import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

@Suite struct ManifestCommandTests {
    func oracleSeconds(_ repo: GitRepository, _ path: String) throws -> Int64 {
        try #require(
            Int64(
                repo.git("log", "-1", "--first-parent", "--format=%ct", "--", path)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func blobID(_ repo: GitRepository, _ path: String) throws -> ObjectID {
        try #require(ObjectID(hex: repo.git("hash-object", "--", path).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func describesTheContextAsDockerWouldSendIt() throws {
        let repo = try GitRepository()
        try repo.write("app/Cargo.toml", "[package]\n")
        try repo.write("app/src/main.rs", "fn main() {}\n")
        try repo.write("app/notes.md", "notes\n")
        try repo.write("app/docs/keep.md", "keep\n")
        try repo.write("app/target/stale", "build output that is tracked by mistake\n")
        try repo.write("app/.dockerignore", "# comment\n*.md\ntarget\n!docs/keep.md\n")
        try repo.write("outside.txt", "not in the context\n")
        try repo.commit("first")
        try repo.write("app/src/lib.rs", "pub fn f() {}\n")
        try repo.commit("second")
        try repo.write("app/src/main.rs", "fn main() { println!(\"dirty\"); }\n")  // dirty, unstaged
        try repo.write("app/untracked.rs", "untracked\n")
        try repo.write("app/new/mod.rs", "in an untracked directory\n")
        try repo.write("app/new/trace.log", "ignored by git\n")
        try repo.write("app/target/out.o", "untracked, excluded by .dockerignore\n")
        try repo.write("app/notes-2.md", "untracked, excluded by .dockerignore\n")
        try repo.write(".git/info/exclude", "*.log\n")
        let untrackedPaths = ["new/mod.rs", "untracked.rs"]
        let before = try contentSnapshot(of: repo.path)
        let mtimeBefore = try modificationTime(repo.directory.url("app/Cargo.toml"))

        let result = try runChecked([builtProduct("git-mtime"), "manifest", "-C", repo.path, "--context", "app"])
        let manifest = try Manifest(parsing: Array(result.stdout.utf8))
        #expect(
            manifest.entries.map(\.path.description)
                == [".dockerignore", "Cargo.toml", "docs/keep.md", "new/mod.rs", "src/lib.rs", "src/main.rs", "untracked.rs"])
        #expect(manifest.dirtyCount == 1)
        #expect(manifest.entries.filter(\.isUntracked).map(\.path.description) == untrackedPaths)
        #expect(manifest.headCommit == ObjectID(hex: try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)))
        for entry in manifest.entries {
            let path = "app/\(entry.path)"
            #expect(entry.objectID == (try blobID(repo, path)), "\(path)")
            #expect(entry.mode == ManifestEntry.regularMode)
            if entry.path.description == "src/main.rs" || entry.isUntracked {
                #expect(
                    entry.modificationTime == (try modificationTime(repo.directory.url(path))),
                    "dirty and untracked files keep their mtimes")
            } else {
                #expect(entry.modificationTime == Timestamp(commitSeconds: try oracleSeconds(repo, path), objectID: entry.objectID))
            }
        }
        #expect(try modificationTime(repo.directory.url("app/Cargo.toml")) == mtimeBefore, "manifest alone changes nothing")

        let again = try runChecked([builtProduct("git-mtime"), "manifest", "-C", repo.path, "--context", "app"])
        #expect(again.stdout == result.stdout, "the same tree gives a byte-identical manifest")
        #expect(try contentSnapshot(of: repo.path) == before)
    }

    @Test func restoreFlagAppliesTheRecordedTimesAndOutputIsAtomic() throws {
        let repo = try GitRepository()
        try repo.write("a.c", "int a;\n")
        try repo.write("odd name\twith tab.c", "int b;\n")
        try repo.commit()
        let output = repo.directory.url("manifest.txt")
        try runChecked([builtProduct("git-mtime"), "manifest", "--restore", "-o", output], in: repo.path)
        let manifest = try Manifest(parsing: try FileSystem.readFile(BytePath(output)))
        #expect(manifest.entries.count == 2)
        for entry in manifest.entries {
            #expect(try modificationTime(repo.directory.url(String(decoding: entry.path.bytes, as: UTF8.self))) == entry.modificationTime)
        }
        #expect(String(decoding: try FileSystem.readFile(BytePath(output)), as: UTF8.self).contains("odd\\x20name\\x09with\\x20tab.c"))
    }

    /// A repository with no commit yet, or a directory in no repository (defect 7): the manifest lists what
    /// is there, every file untracked with its current mtime, `head -`; a note says why; nothing changes.
    @Test func contextsWithoutHistoryListWhatIsThere() throws {
        let unborn = try GitRepository()
        let outside = TemporaryDirectory("no-repository")
        for root in [unborn.path, outside.path] {
            for (path, contents) in [
                ("a.txt", "a\n"), ("sub/b.txt", "b\n"), ("trace.log", "log\n"), ("skip/x", "x\n"),
                (".dockerignore", "skip\n"), (".gitignore", "*.log\n"),
            ] {
                try FileManager.default.createDirectory(
                    atPath: ((root + "/" + path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: URL(fileURLWithPath: root + "/" + path))
            }
        }
        try unborn.git("add", "a.txt")  // staged, but still no commit
        for (root, reason, listed) in [
            (unborn.path, "the repository has no commit yet", [".dockerignore", ".gitignore", "a.txt", "sub/b.txt"]),
            (
                outside.path, "\(outside.path) is not in a git repository",
                [".dockerignore", ".gitignore", "a.txt", "sub/b.txt", "trace.log"]
            ),
        ] {
            let before = try contentSnapshot(of: root)
            let times = try listed.map { try modificationTime(root + "/" + $0) }
            for restore in [false, true] {
                let result = try run([builtProduct("git-mtime"), "manifest", "-C", root] + (restore ? ["--restore"] : []))
                #expect(result.status == 0, "\(result.stderr)")
                let manifest = try Manifest(parsing: Array(result.stdout.utf8))
                #expect(manifest.headCommit == nil)
                #expect(result.stdout.contains("\nhead -\n"))
                #expect(manifest.entries.map(\.path.description) == listed)
                #expect(manifest.entries.filter { !$0.isUntracked }.isEmpty)
                #expect(manifest.entries.map(\.modificationTime) == times)
                for entry in manifest.entries {
                    let id = try runChecked(["git", "hash-object", "--no-filters", entry.path.description], in: root).stdout
                    #expect(entry.objectID == ObjectID(hex: id.trimmingCharacters(in: .whitespacesAndNewlines)))
                }
                let note =
                    restore
                    ? "git-mtime manifest: note: times not restored (\(reason)): manifest of \(listed.count) file(s), all untracked\n"
                    : "git-mtime manifest: note: no commit times (\(reason)): every file is listed as untracked\n"
                #expect(result.stderr == note)
            }
            #expect(try contentSnapshot(of: root) == before)
            #expect(try listed.map { try modificationTime(root + "/" + $0) } == times)
        }
    }

    @Test func badDockerignoreIsAClearError() throws {
        let repo = try GitRepository()
        try repo.write(".dockerignore", "[unclosed\n")
        try repo.write("a", "a\n")
        try repo.commit()
        let bad = try run([builtProduct("git-mtime"), "manifest", "-C", repo.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(".dockerignore line 1"))
        #expect(bad.stdout.isEmpty)
    }

    func listedPaths(_ repo: GitRepository, _ arguments: [String] = []) throws -> [String] {
        let result = try runChecked([builtProduct("git-mtime"), "manifest", "-C", repo.path, "--context", "ctx"] + arguments)
        return try Manifest(parsing: Array(result.stdout.utf8)).entries.map(\.path.description)
    }

    /// Defect 1 (issue 11): Docker 23+ reads `**.log` as "ends with .log" and `?` as one UTF-8 character;
    /// docker 20.10 as `(.*/)?\.log` (what the engine here does with its own client).
    @Test func patternsFollowTheDockerVersionsRules() throws {
        let repo = try GitRepository()
        for path in ["ctx/x.log", "ctx/logs/app.log", "ctx/é.txt", "ctx/ab.txt", "ctx/keep"] { try repo.write(path, "x\n") }
        try repo.write("ctx/.dockerignore", "**.log\n?.txt\n")
        try repo.commit()
        #expect(try listedPaths(repo) == [".dockerignore", "ab.txt", "keep"])
        #expect(try listedPaths(repo, ["--docker-version", "20.10.24"]) == [".dockerignore", "ab.txt", "keep", "logs/app.log", "x.log"])
        #expect(try listedPaths(repo, ["--builder", "classic", "--docker-version", "28.2.2"]) == [".dockerignore", "ab.txt", "keep"])
        let bad = try run([builtProduct("git-mtime"), "manifest", "-C", repo.path, "--docker-version", "latest"])
        #expect(bad.status != 0 && bad.stderr.contains("--docker-version expects a docker version"))
    }

    /// Defect 2: BuildKit reads `<Dockerfile>.dockerignore` first; `--dockerfile` names the Dockerfile.
    @Test func theDockerfilesOwnIgnoreFileWinsUnderBuildKit() throws {
        let repo = try GitRepository()
        for path in ["ctx/a", "ctx/b", "ctx/c"] { try repo.write(path, "x\n") }
        try repo.write("ctx/.dockerignore", "a\n")
        try repo.write("ctx/Dockerfile.dockerignore", "b\n")
        try repo.write("ctx/build/x.Dockerfile", "FROM scratch\n")
        try repo.write("ctx/build/x.Dockerfile.dockerignore", "c\nbuild\n")
        try repo.commit()
        #expect(
            try listedPaths(repo) == [
                ".dockerignore", "Dockerfile.dockerignore", "a", "build/x.Dockerfile",
                "build/x.Dockerfile.dockerignore", "c",
            ])
        #expect(
            try listedPaths(repo, ["--builder", "classic"]) == [
                ".dockerignore", "Dockerfile.dockerignore", "b",
                "build/x.Dockerfile", "build/x.Dockerfile.dockerignore", "c",
            ])
        // Relative to -C, as docker resolves -f from where it runs.
        #expect(
            try listedPaths(repo, ["--dockerfile", "ctx/build/x.Dockerfile"]) == [".dockerignore", "Dockerfile.dockerignore", "a", "b"])
    }

    /// Defect 4: a symlinked `.dockerignore` is followed (it was refused: "Too many levels of symbolic links").
    @Test func aSymlinkedDockerignoreIsFollowed() throws {
        let repo = try GitRepository()
        for path in ["ctx/a", "ctx/b"] { try repo.write(path, "x\n") }
        try repo.write("ctx/docker/ignore", "a\n")
        try FileManager.default.createSymbolicLink(atPath: repo.directory.url("ctx/.dockerignore"), withDestinationPath: "docker/ignore")
        try repo.commit()
        #expect(try listedPaths(repo) == [".dockerignore", "b", "docker/ignore"])
        #expect(try listedPaths(repo, ["--builder", "classic"]) == [".dockerignore", "b", "docker/ignore"])
    }
}
