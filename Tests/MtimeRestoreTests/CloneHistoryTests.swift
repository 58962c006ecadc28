import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// Blobless, treeless and shallow clones made with `git clone` over file:// from a repository that
/// serves filters (`uploadpack.allowFilter`), compared with the times the full history gives.
@Suite struct CloneHistoryTests {
    /// An upstream whose files change in different commits, in nested directories (so older commits
    /// have trees HEAD doesn't), serving filters unless told not to.
    static func upstream(allowFilter: Bool = true) throws -> GitRepository {
        let repository = try GitRepository(label: "upstream")
        for round in 0..<9 {
            try repository.write("src/module\(round % 3)/part\(round % 4).c", "round \(round)\n")
            if round % 2 == 0 { try repository.write("docs/notes.md", "notes \(round)\n") }
            try repository.commit("round \(round)")
        }
        try repository.git("config", "uploadpack.allowFilter", allowFilter ? "true" : "false")
        return repository
    }

    /// Paths of `clone` whose mtime is not what the full history (`upstream`'s) gives them.
    func filesWithoutTheirCommitTime(_ clone: GitRepository, upstream: GitRepository) throws -> [String] {
        try trackedPaths(upstream.path).filter { tracked in
            try modificationTime(clone.directory.url(tracked.path)) != expectedTime(upstream.path, tracked)
        }.map(\.path)
    }

    func clone(_ upstream: GitRepository, _ arguments: String...) throws -> GitRepository {
        try GitRepository(cloning: "file://\(upstream.path)", arguments: arguments)
    }

    @Test func aBloblessCloneRestoresExactlyWithoutFetchingAnything() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--filter=blob:none")
        // Really partial: blobs of older commits are not here.
        let missing = try clone.git("rev-list", "--objects", "--missing=print", "--all")
        #expect(missing.split(separator: "\n").contains { $0.hasPrefix("?") })
        let objects = try clone.git("count-objects", "-v")
        let result = try gitMtime(["restore"], in: clone.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(try filesWithoutTheirCommitTime(clone, upstream: upstream) == [])
        #expect(try clone.git("count-objects", "-v") == objects, "nothing was fetched")
    }

    @Test func aTreelessCloneStopsWithOneLineNamingCauseAndFix() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--filter=tree:0")
        let before = try mtimeSnapshot(clone.path)
        let line =
            "this partial clone (remote.origin.partialclonefilter=tree:0) lacks the trees of older commits, "
            + "which restore reads; fetch them once, without file contents: git mtime restore --fetch-history "
            + "(or clone with --filter=blob:none); nothing was changed\n"
        for (command, prefix) in [
            (["restore"], "git-mtime restore: error: "), (["restore", "--recurse-submodules", "-v"], "git-mtime restore: error: "),
            (["manifest"], "git-mtime manifest: error: "), (["run", "--", "true"], "git-mtime run: error: "),
        ] {
            let result = try gitMtime(command, in: clone.path)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr == prefix + line, "\(command)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try mtimeSnapshot(clone.path) == before)
    }

    @Test func fetchHistoryCompletesATreelessCloneOnce() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--filter=tree:0")
        let result = try gitMtime(["restore", "--fetch-history"], in: clone.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("git-mtime restore: fetching history: git fetch --refetch --filter=blob:none origin\n"),
            "\(result.stderr)")
        #expect(
            result.stderr.contains("fetching history: git config remote.origin.partialclonefilter blob:none (was tree:0)"),
            "\(result.stderr)")
        #expect(try filesWithoutTheirCommitTime(clone, upstream: upstream) == [])
        #expect(try clone.git("config", "remote.origin.partialclonefilter") == "blob:none\n")

        // Later fetches bring trees: a restore after a pull needs no flag and fetches nothing.
        try upstream.write("src/module1/new.c", "new\n")
        try upstream.commit("new file")
        try clone.git("pull", "-q", "--ff-only")
        let later = try gitMtime(["restore"], in: clone.path)
        #expect(later.status == 0, "\(later.stderr)")
        #expect(later.stderr.isEmpty, "\(later.stderr)")
        #expect(try filesWithoutTheirCommitTime(clone, upstream: upstream) == [])
    }

    /// A shallow clone deepened by --fetch-history gives what a full clone gives, whether or not the
    /// server serves filters (without, git warns and sends the blobs too).
    @Test(arguments: [true, false])
    func fetchHistoryDeepensAShallowCloneToAFullClonesResult(allowFilter: Bool) throws {
        let upstream = try Self.upstream(allowFilter: allowFilter)
        let shallow = try clone(upstream, "--depth=1")
        let boundary = try gitMtime(["restore", "-n"], in: shallow.path)
        #expect(boundary.stderr.contains("got the shallow clone's boundary commit time"), "\(boundary.stderr)")
        #expect(boundary.stderr.contains("--fetch-history fetches it, without file contents"), "\(boundary.stderr)")

        let result = try gitMtime(["restore", "--fetch-history"], in: shallow.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("git-mtime restore: fetching history: git fetch --unshallow --filter=blob:none origin\n"),
            "\(result.stderr)")
        #expect(!result.stderr.contains("boundary"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: shallow.directory.url(".git/shallow")))
        #expect(try filesWithoutTheirCommitTime(shallow, upstream: upstream) == [])

        let full = try clone(upstream)
        #expect(try gitMtime(["restore"], in: full.path).status == 0)
        for tracked in try trackedPaths(upstream.path) {
            #expect(try modificationTime(shallow.directory.url(tracked.path)) == modificationTime(full.directory.url(tracked.path)))
        }
        // Deepened, nothing is left to fetch: the flag does nothing more.
        let again = try gitMtime(["restore", "--fetch-history"], in: shallow.path)
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
    }

    @Test func aShallowTreelessCloneIsCompletedInOneFetch() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--depth=1", "--filter=tree:0")
        let result = try gitMtime(["restore", "--fetch-history"], in: clone.path)
        #expect(result.status == 0, "\(result.stderr)")
        let fetches = result.stderr.split(separator: "\n").filter { $0.contains("git fetch") }
        #expect(
            fetches == ["git-mtime restore: fetching history: git fetch --unshallow --refetch --filter=blob:none origin"],
            "\(result.stderr)")
        #expect(try filesWithoutTheirCommitTime(clone, upstream: upstream) == [])
    }

    @Test func aCloneWithoutARemoteSaysSoAndChangesNothing() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--depth=1")
        try clone.git("remote", "remove", "origin")
        let before = try mtimeSnapshot(clone.path)
        let result = try gitMtime(["restore", "--fetch-history"], in: clone.path)
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("lacks history and has no remote to fetch it from; nothing was changed\n"), "\(result.stderr)")
        #expect(try mtimeSnapshot(clone.path) == before)
    }

    @Test func aFailingFetchIsOneLineAndChangesNoTime() throws {
        let upstream = try Self.upstream()
        let clone = try clone(upstream, "--depth=1")
        try clone.git("remote", "set-url", "origin", "file:///nonexistent/upstream")
        let before = try mtimeSnapshot(clone.path)
        let result = try gitMtime(["restore", "--fetch-history"], in: clone.path)
        #expect(result.status == 1)
        #expect(
            result.stderr.hasSuffix(
                "git-mtime restore: error: fetching history failed: `git fetch --unshallow --filter=blob:none origin` "
                    + "exited with status 128; no mtime was changed\n"), "\(result.stderr)")
        #expect(try mtimeSnapshot(clone.path) == before)
    }

    /// Treeless submodules (`git submodule update --filter=tree:0`): the stop names the submodule and
    /// the fix that reaches it; that fix completes each one in its own repository.
    @Test func treelessSubmodulesAreNamedAndCompleted() throws {
        let project = try SubmoduleProject(cloneArguments: [])
        try project.git(in: ".", "submodule", "update", "-q", "--init", "--recursive", "--filter=tree:0")
        #expect(try project.git(in: "vendor/library", "config", "remote.origin.partialclonefilter") == "tree:0\n")
        let before = try mtimeSnapshot(project.path)
        let manifest = try gitMtime(["manifest"], in: project.path)
        #expect(manifest.status == 1)
        #expect(
            manifest.stderr == "git-mtime manifest: error: submodule vendor/library: this partial clone "
                + "(remote.origin.partialclonefilter=tree:0) lacks the trees of older commits, which restore reads; fetch them once, "
                + "without file contents: git mtime restore --recurse-submodules --fetch-history (or clone with --filter=blob:none); "
                + "nothing was changed\n", "\(manifest.stderr)")
        #expect(try mtimeSnapshot(project.path) == before)

        let result = try gitMtime(["restore", "--recurse-submodules", "--fetch-history"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("fetching history: git fetch --refetch --filter=blob:none origin (in submodule vendor/library)\n"),
            "\(result.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: ["."] + SubmoduleProject.submodules) == [])
        #expect(try gitMtime(["manifest"], in: project.path).status == 0)
    }

    /// `git clone --recurse-submodules --shallow-submodules` (CI's usual checkout): each shallow
    /// submodule is deepened in its own repository.
    @Test func fetchHistoryDeepensShallowSubmodules() throws {
        let project = try SubmoduleProject(cloneArguments: ["--recurse-submodules", "--shallow-submodules"])
        #expect(FileManager.default.fileExists(atPath: project.clone.directory.url(".git/modules/vendor/library/shallow")))
        let result = try gitMtime(["restore", "--recurse-submodules", "--fetch-history"], in: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        let fetches = result.stderr.split(separator: "\n").filter { $0.contains("git fetch") }
        #expect(
            fetches == [
                "git-mtime restore: fetching history: git fetch --unshallow --filter=blob:none origin (in submodule vendor/library)",
                "git-mtime restore: fetching history: git fetch --unshallow --filter=blob:none origin (in submodule vendor/library/deps/inner)",
            ],
            "\(result.stderr)")
        #expect(try project.filesWithoutTheirCommitTime(in: ["."] + SubmoduleProject.submodules) == [])
    }
}
