import Foundation
import MtimeCore
import Testing
import TestSupport
@testable import MtimeDockerContext

/// Which ignore file a build reads and how a symlinked one is followed, on real files. Every expectation
/// here is what Debian's docker 20.10 engine did with the same layout (BuildKit and classic builder,
/// with the 20.10 and the 28 client), checked again by the layouts of suites/docker/dockerignore.py.
@Suite struct IgnoreFileSelectionTests {
    let buildKit = DockerBuilder(kind: .buildKit, client: .fileutils)
    let classic = DockerBuilder(kind: .classic, client: .fileutils)
    let buildKit23 = DockerBuilder.current
    let classic23 = DockerBuilder(kind: .classic, client: .patternmatcher)

    /// A context `ctx` (with a Dockerfile) inside a scratch directory; `files`: relative path → contents.
    func layout(_ files: [String: String], symlinks: [String: String] = [:]) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        for (path, contents) in files.merging(["ctx/Dockerfile": "FROM scratch\nCOPY . /\n"], uniquingKeysWith: { a, _ in a }) {
            let url = directory.url(path)
            try FileManager.default.createDirectory(atPath: (url as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: url, atomically: false, encoding: .utf8)
        }
        for (link, target) in symlinks {
            try FileManager.default.createSymbolicLink(atPath: directory.url(link), withDestinationPath: target)
        }
        return directory
    }

    func kept(
        _ directory: TemporaryDirectory, _ builder: DockerBuilder, dockerfile: DockerfileLocation = .standard,
        paths: [String]
    ) throws -> [String] {
        let rules = try DockerContextRules(contextDirectory: BytePath(directory.url("ctx")), dockerfile: dockerfile, builder: builder)
        let context = rules.evaluator()
        return try paths.filter { try context.includes(BytePath($0)) }
    }

    @Test func buildKitPrefersTheDockerfilesOwnIgnoreFile() throws {
        let directory = try layout(["ctx/a": "", "ctx/b": "", "ctx/.dockerignore": "a\n", "ctx/Dockerfile.dockerignore": "b\n"])
        for builder in [buildKit, buildKit23] { #expect(try kept(directory, builder, paths: ["a", "b"]) == ["a"]) }
        for builder in [classic, classic23] { #expect(try kept(directory, builder, paths: ["a", "b"]) == ["b"]) }
    }

    /// `-f` names the file: its directory and last component, relative to the working directory.
    @Test func dashFChoosesTheIgnoreFileBesideTheDockerfile() throws {
        let directory = try layout([
            "ctx/a": "", "ctx/b": "", "ctx/.dockerignore": "a\n", "ctx/build/x.Dockerfile": "FROM scratch\n",
            "ctx/build/x.Dockerfile.dockerignore": "b\n", "docker/Dockerfile": "FROM scratch\n",
            "docker/Dockerfile.dockerignore": "a\nb\n",
        ])
        let inside = DockerfileLocation.path(BytePath(directory.url("ctx/build/x.Dockerfile")))
        #expect(try kept(directory, buildKit, dockerfile: inside, paths: ["a", "b"]) == ["a"])
        #expect(try kept(directory, classic, dockerfile: inside, paths: ["a", "b"]) == ["b"])
        let outside = DockerfileLocation.path(BytePath(directory.url("docker/Dockerfile")))
        #expect(try kept(directory, buildKit, dockerfile: outside, paths: ["a", "b"]) == [])
    }

    /// An empty `Dockerfile.dockerignore` is read: no rules, and no falling back to `.dockerignore`.
    @Test func anEmptyDockerfileIgnoreFileMeansNoRules() throws {
        let directory = try layout(["ctx/a": "", "ctx/.dockerignore": "a\n", "ctx/Dockerfile.dockerignore": ""])
        #expect(try kept(directory, buildKit, paths: ["a"]) == ["a"])
    }

    /// Without `-f`, BuildKit falls back to a lowercase `dockerfile` but still reads `Dockerfile.dockerignore`.
    @Test func aLowercaseDockerfileStillReadsTheCapitalisedIgnoreFile() throws {
        let directory = try layout([
            "ctx/a": "", "ctx/b": "", "ctx/dockerfile": "FROM scratch\n", "ctx/dockerfile.dockerignore": "a\n",
            "ctx/Dockerfile.dockerignore": "b\n",
        ])
        try FileManager.default.removeItem(atPath: directory.url("ctx/Dockerfile"))
        #expect(try kept(directory, buildKit, paths: ["a", "b"]) == ["a"])
        // buildx renames the Dockerfile to `dockerfile` before BuildKit sees it (handleLowercaseDockerfile,
        // from buildx's code: no buildx here to run).
        #expect(try kept(directory, buildKit23, paths: ["a", "b"]) == ["b"])
    }

    /// Defect 4: a symlinked `.dockerignore` is followed by both builders.
    @Test func aSymlinkedIgnoreFileIsFollowed() throws {
        let directory = try layout(["ctx/a": "", "ctx/conf/rules": "a\n"], symlinks: ["ctx/.dockerignore": "conf/rules"])
        for builder in [buildKit, classic, buildKit23, classic23] {
            #expect(
                try kept(directory, builder, paths: ["a", "conf/rules", ".dockerignore"]) == ["conf/rules", ".dockerignore"], "\(builder)")
        }
    }

    /// BuildKit resolves the link as if the context were `/`: an absolute target is read inside it and
    /// `..` stops at it. The classic client opens the link like any program, wherever it leads.
    @Test func aSymlinkLeavingTheContextIsReadInsideItByBuildKit() throws {
        let directory = try layout(
            [
                "ctx/a": "", "ctx/b": "", "outside": "a\n", "ctx/outside": "b\n",
                "ctx/nonexistent-gm/rules": "b\n",
            ], symlinks: ["ctx/.dockerignore": "../outside"])
        #expect(try kept(directory, buildKit, paths: ["a", "b"]) == ["a"])
        #expect(try kept(directory, classic, paths: ["a", "b"]) == ["b"])
        try FileManager.default.removeItem(atPath: directory.url("ctx/.dockerignore"))
        try FileManager.default.createSymbolicLink(atPath: directory.url("ctx/.dockerignore"), withDestinationPath: "/nonexistent-gm/rules")
        #expect(try kept(directory, buildKit, paths: ["a", "b"]) == ["a"])
        #expect(try kept(directory, classic, paths: ["a", "b"]) == ["a", "b"], "no such file on the host: no rules")
    }

    @Test func danglingLoopingAndDirectoryIgnoreFiles() throws {
        let dangling = try layout(["ctx/a": ""], symlinks: ["ctx/.dockerignore": "missing"])
        for builder in [buildKit, classic] { #expect(try kept(dangling, builder, paths: ["a"]) == ["a"]) }
        let loop = try layout(["ctx/a": ""], symlinks: ["ctx/.dockerignore": "x", "ctx/x": ".dockerignore"])
        #expect(try kept(loop, buildKit, paths: ["a"]) == ["a"])
        #expect(throws: SystemError.self) { try kept(loop, classic, paths: ["a"]) }
        let directory = try layout(["ctx/a": "", "ctx/.dockerignore/x": ""])
        #expect(try kept(directory, buildKit, paths: ["a"]) == ["a"])
        #expect(throws: DockerIgnoreError.self) { try kept(directory, classic, paths: ["a"]) }
    }

    /// The classic daemon removes an excluded `.dockerignore` by resolving its name: for a symlink it
    /// deletes the file the link points to and leaves the link.
    @Test func theClassicDaemonDeletesTheTargetOfAnExcludedSymlinkedIgnoreFile() throws {
        let directory = try layout(["ctx/a": "", "ctx/rules": "[.]*\n"], symlinks: ["ctx/.dockerignore": "rules"])
        for builder in [classic, classic23] {
            #expect(
                try kept(directory, builder, paths: ["a", "rules", ".dockerignore", "Dockerfile"]) == ["a", ".dockerignore", "Dockerfile"])
        }
        #expect(try kept(directory, buildKit, paths: ["a", "rules", ".dockerignore", "Dockerfile"]) == ["a", "rules", "Dockerfile"])
    }

    /// The classic daemon resolves `.dockerignore` in the context it received; a file where that path
    /// needs a directory fails the build ("forbidden path outside the build context"), where BuildKit
    /// just finds no rules.
    @Test func theClassicDaemonFailsOnAFileInTheWayOfTheLink() throws {
        let directory = try layout(["ctx/a": "", "ctx/tmp": ""], symlinks: ["ctx/.dockerignore": "/tmp/git-mtime-no-such-dir/rules"])
        #expect(try kept(directory, buildKit, paths: ["a", "tmp"]) == ["a", "tmp"])
        #expect(throws: DockerIgnoreError.self) { try kept(directory, classic, paths: ["a", "tmp"]) }
    }

    /// The classic client appends to the `.dockerignore` it sends when it adds a Dockerfile from
    /// outside the context, and fails on a symlink there ("archive/tar: write too long").
    @Test func theClassicBuilderRefusesASymlinkedIgnoreFileWithAnOutsideDockerfile() throws {
        let directory = try layout(
            ["ctx/a": "", "ctx/rules": "a\n", "docker/Dockerfile": "FROM scratch\n"],
            symlinks: ["ctx/.dockerignore": "rules"])
        let outside = DockerfileLocation.path(BytePath(directory.url("docker/Dockerfile")))
        let error = #expect(throws: DockerIgnoreError.self) { try kept(directory, classic, dockerfile: outside, paths: ["a"]) }
        #expect(error?.description.contains("archive/tar: write too long") == true)
        #expect(throws: DockerIgnoreError.self) { try kept(directory, classic, dockerfile: .standardInput, paths: ["a"]) }
        #expect(try kept(directory, buildKit, dockerfile: outside, paths: ["a"]) == [])
    }

    /// The classic client re-includes an excluded Dockerfile (and the daemon removes it again): on the
    /// way, the walk enters the Dockerfile's excluded directory.
    @Test func theClassicClientSendsAnExcludedDockerfile() throws {
        let directory = try layout(["ctx/build/x.Dockerfile": "FROM scratch\n", "ctx/build/other": "", "ctx/.dockerignore": "build\n"])
        let dockerfile = DockerfileLocation.path(BytePath(directory.url("ctx/build/x.Dockerfile")))
        #expect(
            try kept(directory, classic, dockerfile: dockerfile, paths: ["build/x.Dockerfile", "build/other", "Dockerfile"]) == [
                "Dockerfile"
            ])
        #expect(
            try DockerContextRules(contextDirectory: BytePath(directory.url("ctx")), dockerfile: dockerfile, builder: classic)
                .evaluator().entersDirectory(BytePath("build")))
    }

    /// docker 23+'s classic client decides whether to re-include the Dockerfile with the deprecated
    /// `Matches` and walks with `MatchesUsingParentResults`; when they disagree it leaves the Dockerfile
    /// out and the daemon fails ("Cannot locate specified Dockerfile"). docker 20.10 uses one for both.
    @Test func theClassicBuildFailsWhenTheClientLeavesItsDockerfileOut() throws {
        let directory = try layout(["ctx/a": "", "ctx/build/x.Dockerfile": "FROM scratch\n", "ctx/.dockerignore": "**/[x].*\n![^.]*\n"])
        let dockerfile = DockerfileLocation.path(BytePath(directory.url("ctx/build/x.Dockerfile")))
        let error = #expect(throws: DockerIgnoreError.self) { try kept(directory, classic23, dockerfile: dockerfile, paths: ["a"]) }
        #expect(error?.description.contains("Cannot locate specified Dockerfile") == true)
        #expect(try kept(directory, classic, dockerfile: dockerfile, paths: ["a", "build/x.Dockerfile"]) == ["a", "build/x.Dockerfile"])
    }

    @Test func confinedResolutionNeverLeavesTheRoot() throws {
        let directory = try layout(
            ["secret": "outside\n", "ctx/inside": "in\n", "ctx/dir/file": "deep\n"],
            symlinks: [
                "ctx/up": "../secret", "ctx/abs": "/secret", "ctx/chain": "up",
                "ctx/dirlink": "/dir/../dir", "ctx/viaDir": "dirlink/file",
            ])
        let root = BytePath(directory.url("ctx"))
        for escaping in ["up", "abs", "chain", "inside/../../secret", "../secret", "/../secret"] {
            let (result, _) = try ConfinedPath.resolve(BytePath(escaping), under: root)
            #expect(failure(result) == .missing, "\(escaping)")
        }
        let (found, symlinks) = try ConfinedPath.resolve(BytePath("viaDir"), under: root)
        let resolved = try found.get()
        #expect(resolved.path == BytePath("dir/file"))
        #expect(symlinks == [BytePath("viaDir"), BytePath("dirlink")])
        #expect(try resolved.readContents(limit: 100) == Array("deep\n".utf8))
        let (blocked, _) = try ConfinedPath.resolve(BytePath("inside/x"), under: root)
        #expect(failure(blocked) == .notADirectory(BytePath("inside")))
    }

    func failure(_ result: Result<ConfinedPath, ConfinedPath.Failure>) -> ConfinedPath.Failure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }
}
