import Foundation
import GitKit
import Glibc
import MtimeCore
import Testing
import TestSupport

/// `RepositoryLocation` against git itself: in each layout (plain, subdirectory, `--separate-git-dir`,
/// a git dir with `core.worktree`, linked worktrees, bare, ceilings, broken `.git` files, a file
/// system boundary) and environment (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_COMMON_DIR`,
/// `GIT_IMPLICIT_WORK_TREE`, `GIT_CEILING_DIRECTORIES`, `GIT_DISCOVERY_ACROSS_FILESYSTEM`), the git
/// dir, common dir, working tree and prefix must be what `git rev-parse` says, and a layout git
/// refuses must be refused.
@Suite struct RepositoryLocationTests {
    /// One layout of repositories in a temporary directory, shared by the cases.
    final class Layout: @unchecked Sendable {
        let root: TemporaryDirectory
        var top: String { root.path }

        init() throws {
            root = TemporaryDirectory("location")
            let script = """
                set -e
                git init -q -b main plain
                cd plain && mkdir -p sub/deep && echo a > a && echo b > sub/b && echo c > sub/deep/c
                git add -A && git -c user.name=T -c user.email=t@e commit -qm one
                git worktree add -q ../plain-wt -b linked && mkdir -p ../plain-wt/sub
                mkdir -p sub/fake/.git && echo 'ref: refs/heads/main' > sub/fake/.git/HEAD
                cd ..
                git init -q --separate-git-dir separate.git separate-work && mkdir -p separate-work/sub
                git init -q --bare detached.git && git --git-dir=detached.git config core.bare false
                git --git-dir=detached.git config core.worktree ../detached-work && mkdir -p detached-work/sub
                git clone -q --bare plain bare.git
                git init -q cw && git -C cw config core.worktree ../cw-tree && mkdir -p cw-tree/x
                mkdir -p gitfile-bad gitfile-garbage other
                echo 'gitdir: /nonexistent/place' > gitfile-bad/.git && echo 'garbage' > gitfile-garbage/.git
                git init -q other
                """
            try runChecked(["sh", "-c", script], in: root.path)
        }

        func path(_ relative: String) -> String { relative.isEmpty ? top : root.url(relative) }
    }

    struct Case: CustomStringConvertible {
        let directory: String
        let environment: [String: String]
        var description: String { "in \(directory.isEmpty ? "." : directory) with \(environment)" }
    }

    /// What git says, or nil when git refuses.
    private func gitAnswer(_ layout: Layout, _ test: Case) throws -> (
        gitDirectory: String, common: String, workTree: String?, prefix: String
    )? {
        let directory = layout.path(test.directory)
        let paths = try run(
            ["git", "rev-parse", "--absolute-git-dir", "--git-common-dir", "--show-prefix"], in: directory,
            environment: test.environment)
        guard paths.status == 0 else { return nil }
        let lines = paths.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let top = try run(["git", "rev-parse", "--show-toplevel"], in: directory, environment: test.environment)
        // A working tree that does not exist: git finds it, but refuses every working-tree command
        // ("this operation must be run in a work tree"), as we refuse to open it.
        if top.status == 0 && !FileManager.default.fileExists(atPath: top.stdout.trimmingCharacters(in: .newlines)) { return nil }
        let common = lines[1].hasPrefix("/") ? lines[1] : directory + "/" + lines[1]
        return (
            try real(lines[0]), try real(common), top.status == 0 ? try real(top.stdout.trimmingCharacters(in: .newlines)) : nil,
            String(lines[2].drop(while: { $0 == "/" }).reversed().drop(while: { $0 == "/" }).reversed())
        )
    }

    private func real(_ path: String) throws -> String { try FileSystem.resolve(BytePath(path)).description }

    private func check(_ layout: Layout, _ test: Case, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try gitAnswer(layout, test)
        let found: RepositoryLocation
        do {
            found = try RepositoryLocation.find(
                workingDirectory: BytePath(layout.path(test.directory)),
                environment: GitEnvironment(test.environment))
        } catch {
            #expect(
                expected == nil, "\(test): we refused (\(error)), git found \(String(describing: expected))",
                sourceLocation: sourceLocation)
            return
        }
        guard let expected else {
            Issue.record("\(test): git refused, we found \(found)", sourceLocation: sourceLocation)
            return
        }
        #expect(found.gitDirectory.description == expected.gitDirectory, "\(test)", sourceLocation: sourceLocation)
        #expect(found.commonDirectory.description == expected.common, "\(test)", sourceLocation: sourceLocation)
        #expect(found.workTree?.description == expected.workTree, "\(test)", sourceLocation: sourceLocation)
        #expect((found.prefix?.description ?? "") == expected.prefix, "\(test)", sourceLocation: sourceLocation)
    }

    @Test func everyLayoutAndEnvironmentIsWhereGitFindsIt() throws {
        let layout = try Layout()
        let top = layout.top
        let cases: [Case] = [
            Case(directory: "plain", environment: [:]),
            Case(directory: "plain/sub/deep", environment: [:]),
            // GIT_DIR and GIT_WORK_TREE, relative to the current directory, which may be outside.
            Case(directory: "", environment: ["GIT_DIR": "plain/.git", "GIT_WORK_TREE": "plain"]),
            Case(directory: "other", environment: ["GIT_DIR": "\(top)/plain/.git", "GIT_WORK_TREE": "\(top)/plain"]),
            Case(directory: "plain/sub", environment: ["GIT_DIR": "\(top)/plain/.git", "GIT_WORK_TREE": "\(top)/plain"]),
            Case(directory: "plain/sub", environment: ["GIT_DIR": "../.git", "GIT_WORK_TREE": ".."]),
            // GIT_DIR alone: the current directory is the top of the working tree.
            Case(directory: "plain/sub", environment: ["GIT_DIR": "../.git"]),
            // GIT_WORK_TREE alone: the git dir is discovered.
            Case(directory: "plain/sub", environment: ["GIT_WORK_TREE": "\(top)/plain"]),
            // `.git` files.
            Case(directory: "separate-work/sub", environment: [:]),
            Case(directory: "", environment: ["GIT_DIR": "separate-work/.git", "GIT_WORK_TREE": "separate-work"]),
            Case(directory: "gitfile-bad", environment: [:]),
            Case(directory: "gitfile-garbage", environment: [:]),
            // core.worktree, relative to the git dir.
            Case(directory: "", environment: ["GIT_DIR": "detached.git"]),
            Case(directory: "detached-work/sub", environment: ["GIT_DIR": "../../detached.git"]),
            Case(directory: "cw", environment: [:]),
            Case(directory: "cw-tree/x", environment: ["GIT_DIR": "\(top)/cw/.git"]),
            // Linked worktrees, also as their hooks see them (GIT_DIR absolute, no GIT_WORK_TREE).
            Case(directory: "plain-wt/sub", environment: [:]),
            Case(directory: "plain-wt", environment: ["GIT_DIR": "\(top)/plain/.git/worktrees/plain-wt"]),
            Case(
                directory: "plain-wt",
                environment: [
                    "GIT_DIR": "\(top)/plain/.git/worktrees/plain-wt",
                    "GIT_COMMON_DIR": "\(top)/plain/.git",
                ]),
            // Bare repositories.
            Case(directory: "bare.git", environment: [:]),
            Case(directory: "", environment: ["GIT_DIR": "bare.git", "GIT_WORK_TREE": "plain"]),
            Case(directory: "plain", environment: ["GIT_DIR": ".git", "GIT_IMPLICIT_WORK_TREE": "0"]),
            // A `.git` directory that is no repository is passed over.
            Case(directory: "plain/sub/fake", environment: [:]),
            // What git refuses.
            Case(directory: "", environment: ["GIT_DIR": "\(top)/nonexistent"]),
            Case(directory: "", environment: ["GIT_DIR": "plain/.git", "GIT_WORK_TREE": "\(top)/missing"]),
            Case(directory: "other", environment: ["GIT_DIR": "plain"]),
            // Ceilings: never searched, only proper ancestors count, an empty entry stops canonicalizing.
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": "\(top)/plain/sub"]),
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": "\(top)/plain"]),
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": top]),
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": "\(top)/plain/sub/deep"]),
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": "relative:\(top)/plain/sub/"]),
            Case(directory: "plain/sub/deep", environment: ["GIT_CEILING_DIRECTORIES": ":\(top)/plain/./sub"]),
            Case(directory: "plain", environment: ["GIT_CEILING_DIRECTORIES": "\(top)/plain", "GIT_DIR": "\(top)/plain/.git"]),
            Case(directory: "plain", environment: ["GIT_DISCOVERY_ACROSS_FILESYSTEM": "maybe"]),
        ]
        for test in cases { try check(layout, test) }
    }

    @Test(.enabled(if: geteuid() == 0, "mounting a file system inside a repository needs root"))
    func discoveryStopsAtAFileSystemBoundaryUnlessAllowed() throws {
        let layout = try Layout()
        let mountPoint = layout.path("plain/mnt")
        try runChecked(["mkdir", "-p", mountPoint])
        let mounted = try run(["mount", "-t", "tmpfs", "none", mountPoint])
        // Root without CAP_SYS_ADMIN (an unprivileged container): skipped, saying why.
        if !mounted.succeeded { try Test.cancel("cannot mount tmpfs here: \(mounted.stderr)") }
        defer { _ = try? run(["umount", mountPoint]) }
        try runChecked(["mkdir", "-p", "\(mountPoint)/inner"])
        for environment in [[:], ["GIT_DISCOVERY_ACROSS_FILESYSTEM": "1"], ["GIT_DISCOVERY_ACROSS_FILESYSTEM": "false"]] {
            try check(layout, Case(directory: "plain/mnt/inner", environment: environment))
        }
        // The message names the boundary, as git's does.
        #expect(throws: RepositoryError.self) {
            try RepositoryLocation.find(workingDirectory: BytePath("\(mountPoint)/inner"), environment: GitEnvironment())
        }
    }

    @Test func gitBooleansAreParsedLikeGit() throws {
        let values: [(String, Bool?)] = [
            ("1", true), ("0", false), ("", false), ("true", true), ("YES", true), ("on", true),
            ("off", false), ("No", false), ("2", true), ("1k", true), ("maybe", nil),
        ]
        for (text, expected) in values {
            let environment = GitEnvironment(["GIT_GLOB_PATHSPECS": text])
            if let expected {
                #expect(try environment.flag("GIT_GLOB_PATHSPECS") == expected, "\(text)")
            } else {
                #expect(throws: GitEnvironmentError.self) { try environment.flag("GIT_GLOB_PATHSPECS") }
            }
        }
        #expect(try GitEnvironment().flag("GIT_GLOB_PATHSPECS") == nil)
    }
}

/// What libgit2 cannot follow is refused by name; the object directories git's environment names
/// are read by both our pack reader and libgit2.
@Suite struct RepositoryOpeningTests {
    @Test func aCommonDirectoryOtherThanTheGitDirsOwnIsRefused() throws {
        let repo = try GitRepository(label: "common-dir")
        try repo.write("a", "a\n")
        try repo.commit()
        let copy = TemporaryDirectory("common-copy")
        try runChecked(["cp", "-a", repo.directory.url(".git/."), copy.path])
        let environment = GitEnvironment(["GIT_DIR": "\(repo.path)/.git", "GIT_COMMON_DIR": copy.path])
        // git itself takes it.
        let common = try runChecked(
            ["git", "rev-parse", "--git-common-dir"], in: repo.path,
            environment: ["GIT_DIR": "\(repo.path)/.git", "GIT_COMMON_DIR": copy.path]
        ).stdout
        #expect(common.trimmingCharacters(in: .newlines) == copy.path)
        let location = try RepositoryLocation.find(workingDirectory: BytePath(repo.path), environment: environment)
        #expect(location.commonDirectory == (try FileSystem.resolve(BytePath(copy.path))))
        do {
            _ = try Repository(location)
            Issue.record("opened with a common directory libgit2 ignores")
        } catch {
            guard case .unsupportedCommonDirectory = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("GIT_COMMON_DIR is \(try FileSystem.resolve(BytePath(copy.path)))"))
        }
    }

    @Test func objectAndAlternateDirectoriesFromTheEnvironmentAreRead() throws {
        let origin = try GitRepository(label: "objects-origin")
        try origin.write("a", "a\n")
        try origin.commit("packed")
        try origin.git("gc", "-q")
        try origin.write("b", "b\n")
        try origin.commit("loose")
        let head = try origin.git("rev-parse", "HEAD").trimmingCharacters(in: .newlines)

        // A repository whose objects all live elsewhere, named only by GIT_ALTERNATE_OBJECT_DIRECTORIES.
        let borrower = TemporaryDirectory("objects-borrower")
        try runChecked(["git", "clone", "-q", "--shared", "--no-checkout", origin.path, "."], in: borrower.path)
        try FileManager.default.removeItem(atPath: borrower.url(".git/objects/info/alternates"))
        let alternates = GitEnvironment(["GIT_ALTERNATE_OBJECT_DIRECTORIES": "\(origin.path)/.git/objects"])
        #expect(throws: GitError.self) {
            try ObjectDatabase(try Repository(discoveringFrom: borrower.path, environment: GitEnvironment())).commit(ObjectID(hex: head)!)
        }
        let objects = try ObjectDatabase(try Repository(discoveringFrom: borrower.path, environment: alternates))
        #expect(try objects.commit(ObjectID(hex: head)!).parents.count == 1)

        // The same objects moved out of the git dir, named by GIT_OBJECT_DIRECTORY.
        let moved = TemporaryDirectory("objects-moved")
        try runChecked(["sh", "-c", "cp -a .git/objects/. '\(moved.path)' && rm -rf .git/objects/* "], in: origin.path)
        let relocated = GitEnvironment(["GIT_OBJECT_DIRECTORY": moved.path])
        let log = try runChecked(["git", "log", "--format=%H", "-1"], in: origin.path, environment: ["GIT_OBJECT_DIRECTORY": moved.path])
        #expect(log.stdout.trimmingCharacters(in: .newlines) == head)
        let database = try ObjectDatabase(try Repository(discoveringFrom: origin.path, environment: relocated))
        let commit = try database.commit(ObjectID(hex: head)!)
        #expect(try database.commit(commit.parents[0]).parents.isEmpty)
    }
}
