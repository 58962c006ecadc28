import Foundation
import MtimeCore
import Testing
import TestSupport

/// `git mtime explain --format json PATHS` in `repo`, one dictionary per path; checks no content changed.
func explain(_ arguments: [String], in directory: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
    let before = try contentSnapshot(of: directory)
    let result = try run([builtProduct("git-mtime"), "explain", "--format", "json"] + arguments, in: directory)
    #expect(try contentSnapshot(of: directory) == before, "explain changed a file", sourceLocation: sourceLocation)
    try #require(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
    return try #require(
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], sourceLocation: sourceLocation)
}

extension Dictionary where Key == String, Value == Any {
    func string(_ path: String...) -> String? {
        var value: Any? = self
        for key in path { value = (value as? [String: Any])?[key] }
        return value as? String
    }
    func bool(_ path: String...) -> Bool? {
        var value: Any? = self
        for key in path { value = (value as? [String: Any])?[key] }
        return value as? Bool
    }
}

func head(_ repo: GitRepository, _ arguments: String...) throws -> String {
    try repo.gitArray(["log", "-1", "--format=%H"] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct ExplainStateTests {
    @Test func cleanFileTheCommitThatDecidesItAndTheManifest() throws {
        let repo = try GitRepository(label: "explain")
        try repo.write("src/main.c", "int main(void) { return 0; }\n")
        try repo.write("README", "readme\n")
        try repo.commit("first")
        try repo.write("src/main.c", "int main(void) { return 1; }\n")
        try repo.commit("Return one\n\nBody text.")
        try runChecked([builtProduct("git-mtime"), "restore"], in: repo.path)

        let main = try #require(try explain(["src/main.c"], in: repo.path).first)
        #expect(main.string("state") == "clean")
        #expect(main.string("commit", "id") == (try head(repo, "--first-parent", "--", "src/main.c")))
        #expect(main.string("commit", "subject") == "Return one")
        #expect(main.string("commit", "date") == "2020-09-13 12:30:00 UTC")
        let restored = try modificationTime(repo.directory.url("src/main.c"))
        #expect(main.string("mtime") == restored.description && main.string("restoreTime") == restored.description)
        #expect(main.bool("manifest", "listed") == true && main.string("manifest", "mtime") == restored.description)

        // From a subdirectory, the text form says the same in a block.
        let text = try runChecked([builtProduct("git-mtime"), "explain", "main.c"], in: repo.directory.url("src")).stdout
        #expect(
            text.hasPrefix(
                "src/main.c: clean\n  mtime now:      \(restored) (2020-09-13 12:30:00 UTC)\n  restore gives:  \(restored) (already set)\n  decided by:     "
            ))
        #expect(text.contains(" Return one [first-parent]\n  manifest:       listed, mtime \(restored), blob "))
    }

    @Test func firstParentAndAllDisagreeOnAMergedChange() throws {
        let repo = try GitRepository(label: "explain-merge")
        try repo.write("a.txt", "a\n")
        try repo.write("b.txt", "b\n")
        try repo.commit("base")
        try repo.git("checkout", "-q", "-b", "side")
        try repo.write("a.txt", "changed on side\n")
        let side = try repo.commit("side change")
        try repo.git("checkout", "-q", "main")
        try repo.write("b.txt", "changed on main\n")
        try repo.commit("main change", advancing: 500)
        repo.clock += 100
        try repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
        let merge = try head(repo)

        let firstParent = try #require(try explain(["a.txt"], in: repo.path).first)
        #expect(firstParent.string("commit", "id") == merge && firstParent.string("commit", "subject") == "merge side")
        let all = try #require(try explain(["--history", "all", "a.txt"], in: repo.path).first)
        #expect(all.string("commit", "id") == side && all.string("commit", "history") == "all")
    }

    @Test func dirtyUntrackedIgnoredDeletedAndGitFiles() throws {
        let repo = try GitRepository(label: "explain-states")
        try repo.write("kept.txt", "kept\n")
        try repo.write("edited.txt", "old\n")
        try repo.write("staged.txt", "old\n")
        try repo.write("gone.txt", "gone\n")
        try repo.write(".gitignore", "target/\n")
        try repo.write("docs/guide.md", "guide\n")
        try repo.write(".dockerignore", "docs\n")
        try repo.commit()
        try repo.write("edited.txt", "new\n")
        try repo.write("staged.txt", "new\n")
        try repo.git("add", "staged.txt")
        try FileManager.default.removeItem(atPath: repo.directory.url("gone.txt"))
        try repo.write("new.txt", "new\n")
        try repo.write("target/out.o", "object\n")

        let found = try explain(
            ["edited.txt", "staged.txt", "gone.txt", "new.txt", "target/out.o", ".git/HEAD", "docs/guide.md"], in: repo.path)
        #expect(found.map { $0.string("state") } == ["modified", "staged", "deleted", "untracked", "ignored", "git-directory", "clean"])
        let edited = found[0]
        let editedBlob = try repo.git("hash-object", "edited.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(edited["restoreTime"] is NSNull)
        #expect(edited.string("manifest", "blob") == editedBlob && edited.string("manifest", "mtime") == edited.string("mtime"))
        #expect(edited.string("commit", "subject") == "change")
        #expect(found[2]["mtime"] is NSNull && found[2].bool("manifest", "listed") == false)
        #expect(found[3].bool("manifest", "listed") == true && found[3].bool("manifest", "untracked") == true)
        #expect(found[4].string("manifest", "reason") == "not listed: ignored by git" && found[4]["guard"] is NSNull)
        #expect(found[5].bool("manifest", "listed") == false)
        // Excluded from the Docker context, but a host build (`git mtime run`) guards it.
        #expect(found[6].string("manifest", "reason") == "not listed: excluded by .dockerignore")
        #expect(found[6].bool("guard", "bumps") == true)

        let outside = try run([builtProduct("git-mtime"), "explain", "../elsewhere", "kept.txt"], in: repo.path)
        #expect(outside.status == 1 && outside.stderr.contains("../elsewhere is outside the working tree"))
        #expect(outside.stdout.contains("kept.txt: clean"))
        #expect(try run([builtProduct("git-mtime"), "explain"], in: repo.path).status == 64)
    }

    @Test func submodulesAndTheFilesInThem() throws {
        let inner = try GitRepository(label: "explain-inner")
        try inner.write("lib.c", "int lib;\n")
        try inner.commit()
        let repo = try GitRepository(label: "explain-outer")
        try repo.write("main.c", "int main;\n")
        try repo.commit()
        try repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", inner.path, "vendor/lib")
        try repo.commit("add submodule")
        let found = try explain(["vendor/lib", "vendor/lib/lib.c"], in: repo.path)
        #expect(found.map { $0.string("state") } == ["submodule", "inside-submodule"])
        #expect(found.allSatisfy { $0["restoreTime"] is NSNull })
        // The gitlink is no file of the context; the submodule's files are (manifest format 3).
        #expect(found.map { $0.bool("manifest", "listed") } == [false, true])
        // Restore walks no history for a gitlink: no deciding commit.
        #expect(found[0]["commit"] is NSNull)
    }

    @Test func nulFieldsForScripts() throws {
        let repo = try GitRepository(label: "explain-z")
        try repo.write("a b.txt", "a\n")
        try repo.commit("one file")
        let output = try runChecked([builtProduct("git-mtime"), "explain", "-z", "a b.txt", "missing"], in: repo.path).stdout
        let fields = output.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 19 && fields.last == "")
        #expect(Array(fields[0..<2]) == ["a b.txt", "clean"] && fields[6] == "one file")
        #expect(fields[4] == (try head(repo)))
        #expect(Array(fields[9..<11]) == ["missing", "absent"] && fields[11] == "")
        #expect(try run([builtProduct("git-mtime"), "explain", "-z", "--format", "json", "x"], in: repo.path).status == 64)
    }
}

@Suite struct ExplainGuardTests {
    @Test func whatTheNextGuardedBuildDoesAndWhy() throws {
        let repo = try GitRepository(label: "explain-guard")
        try repo.write("src/a.c", "int a;\n")
        try repo.write("src/b.c", "int b;\n")
        try repo.commit()
        let guardEnvironment = ["GIT_MTIME_GUARD": builtProduct("git-mtime-guard")]
        func reasons(_ paths: [String], _ extra: [String] = []) throws -> [String] {
            try explain(extra + paths, in: repo.path).map {
                ($0.bool("guard", "bumps") == true ? "bump: " : "keep: ") + ($0.string("guard", "reason") ?? "-")
            }
        }
        #expect(try reasons(["src/a.c"]) == ["bump: no build stamp"])

        try runChecked(
            [builtProduct("git-mtime"), "run", "--", "sh", "-c", "mkdir -p target && cat src/*.c > target/all"], in: repo.path,
            environment: guardEnvironment)
        #expect(
            try reasons(["src/a.c", "src/b.c"]) == [
                "keep: content is what the last sealed build consumed", "keep: content is what the last sealed build consumed",
            ])

        try repo.write("src/a.c", "int a = 2;\n")
        try repo.write("src/new.c", "int n;\n")
        try repo.git("add", "src/new.c")
        let changed = try reasons(["src/a.c", "src/new.c", "src/b.c"])
        #expect(changed[0].hasPrefix("bump: content differs from the stamp's "))
        #expect(changed[1] == "bump: not in the stamp")
        #expect(changed[2] == "keep: content is what the last sealed build consumed")
        // The guard, asked to explain, bumps exactly the files explain said it would, for the same reasons.
        let guarded = try runChecked(
            [builtProduct("git-mtime"), "run", "--explain", "--", "true"], in: repo.path, environment: guardEnvironment)
        let bumped = guarded.stderr.split(separator: "\n").filter { $0.hasPrefix("git-mtime-guard: bumped ") }
        #expect(
            bumped.map { String($0.dropFirst("git-mtime-guard: bumped ".count)) } == [
                "src/a.c: " + changed[0].dropFirst("bump: ".count), "src/new.c: not in the stamp",
            ])
        #expect(guarded.stderr.contains("git-mtime-guard: 2 of 4 files changed since the last sealed build; stamp trusted\n"))

        // The file that made the stamp untrusted is named.
        try repo.write("target/stray.o", "not sealed\n")
        try FileSystem.setModificationTime(BytePath(repo.directory.url("target/stray.o")), to: Timestamp(seconds: 4_000_000_000))
        let untrusted = try reasons(["src/b.c"])
        #expect(untrusted[0].hasPrefix("bump: stamp untrusted: ") && untrusted[0].contains("target/stray.o"))

        // Another stamp, given or configured.
        #expect(try reasons(["src/b.c"], ["--stamp", "out/stamp"]) == ["bump: no build stamp"])
        try repo.git("config", "mtime.stamp", "out/stamp")
        let configured = try #require(try explain(["src/b.c"], in: repo.path).first)
        #expect(configured.string("stamp", "path") == "out/stamp" && configured.string("stamp", "state") == "absent")
    }
}

@Suite struct ExplainHostileContextTests {
    /// A FIFO or a symlink leaving the context where the context's .dockerignore should be: explain
    /// and manifest never block on it and never read outside the context; as BuildKit does, such a
    /// file counts as no .dockerignore (docs/docker.md, "Which files the context holds").
    @Test(arguments: ["fifo", "symlink"]) func dockerignoreThatIsNotARegularFile(_ kind: String) throws {
        let repo = try GitRepository(label: "explain-hostile")
        try repo.write("a.txt", "a\n")
        try repo.commit("a")
        let ignore = repo.directory.url(".dockerignore")
        if kind == "fifo" {
            try runChecked(["mkfifo", ignore])
        } else {
            try FileManager.default.createSymbolicLink(atPath: ignore, withDestinationPath: "/etc/hostname")
        }
        for command in ["explain a.txt", "manifest"] {
            let result = try run(
                ["timeout", "60", builtProduct("git-mtime")] + command.split(separator: " ").map(String.init), in: repo.path)
            #expect(result.status == 0, "\(command): \(result.status) (124: blocked): \(result.stderr)")
            if command == "manifest" { #expect(result.stdout.contains(" a.txt\n"), "\(result.stdout)") }
        }
    }
}
