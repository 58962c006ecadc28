import Foundation
import MtimeCore
import Testing
import TestSupport

/// `git mtime restore` (and `manifest`) acting on the repository git's environment names, as git
/// runs them: `git --git-dir=A --work-tree=B mtime …` exports GIT_DIR and GIT_WORK_TREE, `git -C`
/// changes directory, `--glob-pathspecs` and friends export GIT_*_PATHSPECS. Checked against git
/// itself under the same environment.
@Suite struct GitEnvironmentRestoreTests {
    /// Every file of the working tree gets the current time, so restore has something to set.
    private func touchAll(_ root: String) throws {
        try runChecked(["sh", "-c", "find . -path ./.git -prune -o -type f -exec touch {} +"], in: root)
    }

    /// `git ARGS` with the built git-mtime on PATH, as a user types it.
    private func git(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> ProcessResult {
        try run(["git"] + arguments, in: directory, environment: hookEnvironment.merging(environment) { $1 })
    }

    @Test func gitDirAndWorkTreeOptionsRestoreThatRepositoryNotTheCurrentOne() throws {
        let repository = try GitRepository.basic()
        let bystander = try GitRepository.basic()
        try touchAll(repository.path)
        try touchAll(bystander.path)
        let untouched = try mtimeSnapshot(bystander.path)
        let name = (repository.path as NSString).lastPathComponent

        // Relative options, from inside another repository: relative to where git was started.
        let relative = try git(["--git-dir=../\(name)/.git", "--work-tree=../\(name)", "mtime", "restore"], in: bystander.path)
        #expect(relative.status == 0, "\(relative.stderr)")
        try expectRestored(repository.path)
        #expect(try mtimeSnapshot(bystander.path) == untouched)

        // The same through the environment, calling git-mtime directly.
        try touchAll(repository.path)
        let direct = try run(
            [builtProduct("git-mtime"), "restore"], in: bystander.path,
            environment: ["GIT_DIR": "\(repository.path)/.git", "GIT_WORK_TREE": repository.path])
        #expect(direct.status == 0, "\(direct.stderr)")
        try expectRestored(repository.path)
        #expect(try mtimeSnapshot(bystander.path) == untouched)
    }

    @Test func aGitDirOutsideTheWorkTreeWithPathspecsTypedInASubdirectory() throws {
        let repository = try GitRepository.basic()
        let elsewhere = TemporaryDirectory("gitdir-elsewhere")
        let gitDirectory = elsewhere.url("repo.git")
        try FileManager.default.moveItem(atPath: repository.directory.url(".git"), toPath: gitDirectory)
        try touchAll(repository.path)
        let environment = ["GIT_DIR": gitDirectory, "GIT_WORK_TREE": repository.path]
        let before = try mtimeSnapshot(repository.path)

        // From src/: `util` is src/util, as for `git ls-files util` there.
        let result = try run([builtProduct("git-mtime"), "restore", "util"], in: repository.directory.url("src"), environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let listed = try runChecked(
            ["git", "ls-files", "--full-name", "util"], in: repository.directory.url("src"), environment: environment)
        #expect(listed.stdout == "src/util/helper.c\n")
        try expectRestored(
            repository.path, except: ["README.md", "src/main.c", "docs/guide.md", "docs/notes.txt"],
            environment: environment)
        #expect(try modificationTime(repository.directory.url("src/main.c")) == before["src/main.c"])

        // From outside the working tree, git takes pathspecs from its top.
        let outside = try run([builtProduct("git-mtime"), "restore", "docs"], in: elsewhere.path, environment: environment)
        #expect(outside.status == 0, "\(outside.stderr)")
        try expectRestored(repository.path, except: ["README.md", "src/main.c"], environment: environment)

        // Without the environment there is no repository here at all.
        expectFailure(try gitMtime(["restore"], in: repository.path), containing: "not a git repository")
    }

    @Test func coreWorktreeOfAGitDirNamesTheWorkingTree() throws {
        let repository = try GitRepository.basic()
        let elsewhere = TemporaryDirectory("core-worktree")
        let gitDirectory = elsewhere.url("repo.git")
        try FileManager.default.moveItem(atPath: repository.directory.url(".git"), toPath: gitDirectory)
        try runChecked(["git", "--git-dir=\(gitDirectory)", "config", "core.worktree", repository.path], in: elsewhere.path)
        try touchAll(repository.path)
        let result = try run([builtProduct("git-mtime"), "restore"], in: elsewhere.path, environment: ["GIT_DIR": "repo.git"])
        #expect(result.status == 0, "\(result.stderr)")
        try expectRestored(repository.path, environment: ["GIT_DIR": gitDirectory])
    }

    @Test func gitIndexFileDecidesWhatIsStaged() throws {
        let repository = try GitRepository.basic()
        // Another index without README.md: under it, README.md is a staged deletion.
        try runChecked(
            ["sh", "-c", "GIT_INDEX_FILE=other.index git read-tree HEAD && GIT_INDEX_FILE=other.index git rm -q --cached README.md"],
            in: repository.path)
        try touchAll(repository.path)
        let readmeBefore = try modificationTime(repository.directory.url("README.md"))
        // Relative, typed in a subdirectory: git reads it from the top of the working tree.
        let environment = ["GIT_INDEX_FILE": "other.index"]
        let status = try runChecked(
            ["git", "status", "--porcelain", "--", ":/README.md"], in: repository.directory.url("src"),
            environment: environment)
        #expect(status.stdout.hasPrefix("D  "), "\(status.stdout)")
        let result = try run(
            [builtProduct("git-mtime"), "restore", "-v", ":/"], in: repository.directory.url("src"),
            environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("staged: README.md"), "\(result.stdout)")
        #expect(try modificationTime(repository.directory.url("README.md")) == readmeBefore)
        try expectRestored(repository.path, except: ["README.md", "other.index"])

        // The repository's own index stages nothing.
        let plain = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(!plain.stdout.contains("staged:"), "\(plain.stdout)")
        try expectRestored(repository.path, except: ["other.index"])
    }

    @Test func linkedWorktreesAndGitDashC() throws {
        let repository = try GitRepository.basic()
        let worktree = repository.directory.url("../\((repository.path as NSString).lastPathComponent)-linked")
        try repository.git("worktree", "add", "-q", worktree, "-b", "linked")
        defer { try? FileManager.default.removeItem(atPath: worktree) }
        try touchAll(worktree)
        try touchAll(repository.path)
        let mainBefore = try mtimeSnapshot(repository.path)

        let dashC = try git(["-C", "\(worktree)/src", "mtime", "restore", "util"], in: "/")
        #expect(dashC.status == 0, "\(dashC.stderr)")
        try expectRestored(worktree, except: ["README.md", "src/main.c", "docs/guide.md", "docs/notes.txt"])

        // As a hook in the linked worktree sees it: GIT_DIR absolute, no GIT_WORK_TREE, at the top.
        let gitDirectory = try runChecked(["git", "rev-parse", "--absolute-git-dir"], in: worktree).stdout
            .trimmingCharacters(in: .newlines)
        let hookLike = try run([builtProduct("git-mtime"), "restore"], in: worktree, environment: ["GIT_DIR": gitDirectory])
        #expect(hookLike.status == 0, "\(hookLike.stderr)")
        try expectRestored(worktree)
        #expect(try mtimeSnapshot(repository.path) == mainBefore)
    }

    @Test func pathspecMagicThroughGitSelectsWhatLsFilesLists() throws {
        let repository = try GitRepository.basic()
        try repository.write("docs/deep/more.md", "more\n")
        try repository.write("README.txt", "text\n")
        try repository.write("lit*.txt", "a star in the name\n")
        try repository.write("litx.txt", "what lit*.txt matches as a pattern\n")
        try repository.commit("more")
        let cases: [(options: [String], patterns: [String], directory: String)] = [
            ([], [":(exclude)docs"], ""),
            ([], [":(glob)**/*.md"], ""),
            ([], [":(icase)readme.MD"], ""),
            ([], [":!*.c", ":^docs/deep"], ""),
            ([], [":(top,icase)DOCS/*.MD"], "src"),
            ([], [":/docs/*", ":(exclude,glob)docs/*/*"], "src"),
            (["--glob-pathspecs"], ["*.md"], ""),
            (["--glob-pathspecs"], ["**/*.md"], ""),
            (["--icase-pathspecs"], ["SRC"], ""),
            (["--noglob-pathspecs"], ["lit*.txt", ":(glob)docs/*.md"], ""),
            ([], ["lit*.txt"], ""),
            (["--literal-pathspecs"], ["README.md"], ""),
            ([], ["../README.*", "util"], "src"),
        ]
        for test in cases {
            try touchAll(repository.path)
            let directory = test.directory.isEmpty ? repository.path : repository.directory.url(test.directory)
            let listed = try runChecked(["git"] + test.options + ["ls-files", "--full-name", "--"] + test.patterns, in: directory)
            let expected = listed.stdout.split(separator: "\n").map(String.init).sorted()
            #expect(!expected.isEmpty, "\(test)")
            let dryRun = try git(test.options + ["mtime", "restore", "-n", "--"] + test.patterns, in: directory)
            #expect(dryRun.status == 0, "\(test): \(dryRun.stderr)")
            let planned = dryRun.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }.sorted()
            #expect(planned == expected, "\(test)")
        }

        // What git refuses, and what matches nothing, fail and change nothing.
        try touchAll(repository.path)
        let before = try mtimeSnapshot(repository.path)
        for (options, patterns, message) in [
            ([], [":(glob)nothing/**"], "pathspec ':(glob)nothing/**' did not match any tracked file"),
            (["--literal-pathspecs"], ["*.md"], "pathspec '*.md' did not match any tracked file"),
            ([], [":(bogus)x"], "Invalid pathspec magic 'bogus' in ':(bogus)x'"),
            ([], [":(attr:foo)x"], "pathspec magic not supported by git-mtime: 'attr'"),
            (["--glob-pathspecs", "--noglob-pathspecs"], ["x"], "global 'glob' and 'noglob' pathspec settings are incompatible"),
            ([], [""], "empty string is not a valid pathspec"),
        ] as [([String], [String], String)] {
            let result = try git(options + ["mtime", "restore", "--"] + patterns, in: repository.path)
            expectFailure(result, containing: message)
        }
        #expect(try mtimeSnapshot(repository.path) == before)
    }

    /// git reads GIT_*_PATHSPECS only when it parses a pattern: with none, a value it would refuse
    /// (or a combination) is no error, for git nor for us; with one, both refuse it.
    @Test func pathspecSettingsMatterOnlyForAPattern() throws {
        let repository = try GitRepository.basic()
        for environment in [["GIT_GLOB_PATHSPECS": "maybe"], ["GIT_GLOB_PATHSPECS": "1", "GIT_NOGLOB_PATHSPECS": "1"]] {
            try runChecked(["git", "ls-files"], in: repository.path, environment: environment)
            try touchAll(repository.path)
            let whole = try run([builtProduct("git-mtime"), "restore"], in: repository.path, environment: environment)
            #expect(whole.status == 0, "\(environment): \(whole.stderr)")
            try expectRestored(repository.path)
            let manifest = try run([builtProduct("git-mtime"), "manifest"], in: repository.path, environment: environment)
            #expect(manifest.status == 0, "\(environment): \(manifest.stderr)")

            let git = try run(["git", "ls-files", "README.md"], in: repository.path, environment: environment)
            #expect(git.status != 0)
            let message = git.stderr.replacingOccurrences(of: "fatal: ", with: "").trimmingCharacters(in: .newlines)
            expectFailure(
                try run([builtProduct("git-mtime"), "restore", "README.md"], in: repository.path, environment: environment),
                containing: message)
        }
    }

    @Test func manifestDescribesTheWorkTreeTheEnvironmentNames() throws {
        let repository = try GitRepository.basic()
        let bystander = try GitRepository.basic()
        try bystander.write("only-here.txt", "x\n")
        try bystander.commit("bystander")
        let name = (repository.path as NSString).lastPathComponent
        let manifest = try git(["--git-dir=../\(name)/.git", "--work-tree=../\(name)", "mtime", "manifest"], in: bystander.path)
        #expect(manifest.status == 0, "\(manifest.stderr)")
        #expect(manifest.stdout.contains("README.md") && manifest.stdout.contains("docs/notes.txt"))
        #expect(!manifest.stdout.contains("only-here.txt"))

        let context = try git(
            ["--git-dir=../\(name)/.git", "--work-tree=../\(name)", "mtime", "manifest", "--context", "../\(name)/src"],
            in: bystander.path)
        #expect(context.status == 0, "\(context.stderr)")
        #expect(context.stdout.contains("util/helper.c") && !context.stdout.contains("README.md"), "\(context.stdout)")

        // A context outside the working tree git was told about is refused, not silently another repository.
        let outside = try git(
            ["--git-dir=../\(name)/.git", "--work-tree=../\(name)", "mtime", "manifest", "--context", "."],
            in: bystander.path)
        expectFailure(outside, containing: "is outside the working tree")
    }
}

/// An index git cannot read is named, with git's reason and where it came from, not libgit2's
/// message ("no longer exists" for a file that is there); nothing is changed.
@Suite struct UnreadableIndexTests {
    @Test func anUnreadableIndexIsNamedWithGitsReason() throws {
        let repository = try GitRepository.basic()
        try runChecked(["sh", "-c", "find . -path ./.git -prune -o -type f -exec touch {} +"], in: repository.path)
        let holder = TemporaryDirectory("bad-index")
        let good = try Data(contentsOf: URL(fileURLWithPath: repository.directory.url(".git/index")))
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: holder.url("short.index")))
        try (Data("DIRC".utf8) + Data([0, 0, 0, 9]) + Data(count: 40)).write(to: URL(fileURLWithPath: holder.url("v9.index")))
        try (Data("XXXX".utf8) + good.dropFirst(4)).write(to: URL(fileURLWithPath: holder.url("signature.index")))
        // A right header claiming 1000 entries, then zeros.
        try (Data("DIRC".utf8) + Data([0, 0, 0, 2, 0, 0, 3, 232]) + Data(count: 60)).write(
            to: URL(fileURLWithPath: holder.url("cut.index")))
        try FileManager.default.createDirectory(atPath: holder.url("dir.index"), withIntermediateDirectories: false)
        let before = try mtimeSnapshot(repository.path)
        let cases: [(String, String)] = [
            ("short.index", "index file smaller than expected"), ("v9.index", "bad index version 9"),
            ("signature.index", "bad signature"), ("cut.index", "index file corrupt"), ("dir.index", "not a regular file"),
        ]
        for (name, reason) in cases {
            // git refuses it too.
            let git = try run(["git", "status", "--porcelain"], in: repository.path, environment: ["GIT_INDEX_FILE": holder.url(name)])
            #expect(git.status != 0, "\(name): \(git.stdout)")
            for command in [["restore"], ["status"], ["manifest"]] {
                let result = try run(
                    [builtProduct("git-mtime")] + command, in: repository.path,
                    environment: ["GIT_INDEX_FILE": holder.url(name)])
                expectFailure(result, containing: "cannot read the index \(holder.url(name)) (named by GIT_INDEX_FILE): \(reason)")
            }
        }
        // The repository's own index, broken: the same reason, without the variable.
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: repository.directory.url(".git/index")))
        let own = try run([builtProduct("git-mtime"), "restore"], in: repository.path)
        expectFailure(
            own,
            containing:
                "cannot read the index \(try FileSystem.resolve(BytePath(repository.path)))/.git/index: index file smaller than expected")
        #expect(try mtimeSnapshot(repository.path) == before)
    }
}

/// A repository another user owns is refused as git refuses it, in git's words, and accepted when
/// `safe.directory` names it as git's message says (libgit2 1.5 compares it with the git dir and
/// knows no `*`): checked against git itself, through `git -c`, `GIT_CONFIG_COUNT` and the global
/// file, with GIT_TEST_ASSUME_DIFFERENT_OWNER (git's own test switch) and, as root, a real owner.
@Suite struct RepositoryOwnershipTests {
    @Test func safeDirectoryIsReadAsGitReadsIt() throws {
        let repository = try GitRepository.basic()
        let root = try FileSystem.resolve(BytePath(repository.path)).description
        let home = TemporaryDirectory("ownership-home")
        let isolated = [
            "HOME": home.path, "XDG_CONFIG_HOME": home.url(".config"), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TEST_ASSUME_DIFFERENT_OWNER": "1",
        ]
        let cases: [(options: [String], environment: [String: String], global: [String], directory: String)] = [
            ([], [:], [], ""),
            (["-c", "safe.directory=\(root)"], [:], [], ""),
            (["-c", "safe.directory=\(root)"], [:], [], "src/util"),
            (["-c", "safe.directory=\(root)/"], [:], [], ""),
            (["-c", "safe.directory=\(root)/.git"], [:], [], ""),
            (["-c", "safe.directory=*"], [:], [], ""),
            (["-c", "safe.directory=*", "-c", "safe.directory="], [:], [], ""),
            (["-c", "safe.directory="], [:], ["*"], ""),
            ([], [:], [root], "src"),
            ([], [:], ["/elsewhere", "*"], ""),
            ([], ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": root], [], ""),
            ([], ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "Safe.Directory", "GIT_CONFIG_VALUE_0": "*"], [], ""),
            // An explicit git dir is not checked at all.
            (["--git-dir=\(root)/.git", "--work-tree=\(root)"], [:], [], ""),
        ]
        for test in cases {
            try? FileManager.default.removeItem(atPath: home.url(".gitconfig"))
            for value in test.global {
                try runChecked(["git", "config", "--global", "--add", "safe.directory", value], in: home.path, environment: isolated)
            }
            let environment = isolated.merging(test.environment) { $1 }.merging(hookEnvironment) { $1 }
            let directory = test.directory.isEmpty ? repository.path : repository.directory.url(test.directory)
            let git = try run(["git"] + test.options + ["status", "--porcelain"], in: directory, environment: environment)
            let ours = try run(["git"] + test.options + ["mtime", "restore", "-n"], in: directory, environment: environment)
            if git.status == 0 {
                #expect(ours.status == 0, "\(test): git accepts, we refused: \(ours.stderr)")
            } else {
                #expect(git.stderr.contains("detected dubious ownership in repository at '\(root)'"), "\(test): \(git.stderr)")
                expectFailure(
                    ours,
                    containing: "detected dubious ownership in repository at '\(root)' (GIT_TEST_ASSUME_DIFFERENT_OWNER is set); "
                        + "to trust it: git config --global --add safe.directory \(root)")
            }
        }
    }

    @Test(.enabled(if: geteuid() == 0, "giving the repository to another user needs root"))
    func anotherUsersRepositoryIsRefusedAsGitRefusesIt() throws {
        let repository = try GitRepository.basic()
        try runChecked(["sh", "-c", "find . -path ./.git -prune -o -type f -exec touch {} +"], in: repository.path)
        try runChecked(["chown", "-R", "12345:12345", repository.path])
        defer { _ = try? run(["chown", "-R", "0:0", repository.path]) }
        let home = TemporaryDirectory("ownership-home")
        let environment = ["HOME": home.path, "XDG_CONFIG_HOME": home.url(".config"), "GIT_CONFIG_NOSYSTEM": "1"]
        let before = try mtimeSnapshot(repository.path)

        let git = try run(["git", "status"], in: repository.path, environment: environment)
        #expect(git.status != 0 && git.stderr.contains("detected dubious ownership"), "\(git.stderr)")
        let root = try FileSystem.resolve(BytePath(repository.path)).description
        for command in [["restore"], ["status"], ["manifest"]] {
            let result = try run([builtProduct("git-mtime")] + command, in: repository.path, environment: environment)
            expectFailure(
                result,
                containing: "detected dubious ownership in repository at '\(root)' (\(root) is owned by uid 12345, not by you); "
                    + "to trust it: git config --global --add safe.directory \(root)")
        }
        #expect(try mtimeSnapshot(repository.path) == before)
        // Root's own repository with SUDO_UID naming someone else is still root's, as for git.
        let rootsOwn = try GitRepository.basic()
        let sudo = try run([builtProduct("git-mtime"), "restore", "-n"], in: rootsOwn.path, environment: ["SUDO_UID": "12345"])
        #expect(sudo.status == 0, "\(sudo.stderr)")

        try runChecked(["git", "config", "--global", "--add", "safe.directory", root], in: home.path, environment: environment)
        try runChecked(["git", "status"], in: repository.path, environment: environment)
        let trusted = try run([builtProduct("git-mtime"), "restore"], in: repository.path, environment: environment)
        #expect(trusted.status == 0, "\(trusted.stderr)")
        try expectRestored(repository.path, environment: environment)
    }
}
