import Foundation
import Testing
import TestSupport
@testable import MtimeDocker

@Suite struct BuildInputsTests {
    func inputs(_ arguments: [String], _ rules: BuildInputs.Rules) throws -> BuildInputs {
        try BuildInputs(try BuildArguments(parsing: ["build"] + arguments), rules: rules)
    }

    func touch(_ directory: TemporaryDirectory, _ name: String) throws {
        try FileManager.default.createDirectory(
            atPath: (directory.url(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("FROM scratch\n".utf8).write(to: URL(fileURLWithPath: directory.url(name)))
    }

    @Test func defaultDockerfileInTheContext() throws {
        let context = TemporaryDirectory()
        try touch(context, "Dockerfile")
        for rules in [BuildInputs.Rules.classicClient, .buildKit] {
            let found = try inputs([context.path], rules)
            #expect(found.context == .directory(context.path))
            #expect(found.dockerfiles == [.file(context.url("Dockerfile"))])
            #expect(found.dockerfilePath == context.url("Dockerfile"))
        }
    }

    /// docker/cli (getDockerfileRelPath) and BuildKit fall back to a lowercase `dockerfile` (defect 3).
    @Test func lowercaseDockerfileWhenNoDockerfile() throws {
        let context = TemporaryDirectory()
        try touch(context, "dockerfile")
        for rules in [BuildInputs.Rules.classicClient, .buildKit] {
            #expect(try inputs([context.path], rules).dockerfiles == [.file(context.url("dockerfile"))])
        }
        // Both present: `Dockerfile` wins.
        try touch(context, "Dockerfile")
        #expect(try inputs([context.path], .buildKit).dockerfiles == [.file(context.url("Dockerfile"))])
    }

    /// BuildKit applies the fallback to an explicit `-f DIR/Dockerfile` too; the classic client does not.
    @Test func lowercaseFallbackForAnExplicitPath() throws {
        let context = TemporaryDirectory()
        try touch(context, "sub/dockerfile")
        #expect(
            try inputs(["-f", context.url("sub/Dockerfile"), context.path], .buildKit).dockerfiles == [.file(context.url("sub/dockerfile"))]
        )
        #expect(throws: DockerWrapperError("cannot locate Dockerfile: \(context.url("sub/Dockerfile"))")) {
            try inputs(["-f", context.url("sub/Dockerfile"), context.path], .classicClient)
        }
        // Only a file named exactly `Dockerfile` falls back.
        try touch(context, "sub/build.dockerfile")
        #expect(throws: DockerWrapperError("cannot locate Dockerfile: \(context.url("sub/Build.Dockerfile"))")) {
            try inputs(["-f", context.url("sub/Build.Dockerfile"), context.path], .buildKit)
        }
    }

    @Test func noDockerfileAtAll() throws {
        let context = TemporaryDirectory()
        #expect(throws: DockerWrapperError("cannot locate Dockerfile: \(context.url("Dockerfile"))")) {
            try inputs([context.path], .buildKit)
        }
        #expect(throws: DockerWrapperError("cannot find Containerfile or Dockerfile in context directory \(context.path)")) {
            try inputs([context.path], .buildah)
        }
    }

    @Test func dockerfileOnStandardInput() throws {
        let context = TemporaryDirectory()
        let found = try inputs(["-f", "-", context.path], .buildKit)
        #expect(found.dockerfiles == [.standardInput])
        #expect(found.dockerfilePath == nil)
    }

    /// buildah and podman: `Containerfile` first, then `Dockerfile`; `-f` relative to the working
    /// directory, else to the context; every `-f` counts; a context that is a file is the Containerfile.
    @Test func buildahRules() throws {
        let context = TemporaryDirectory()
        try touch(context, "Dockerfile")
        #expect(try inputs([context.path], .buildah).dockerfiles == [.file(context.url("Dockerfile"))])
        try touch(context, "Containerfile")
        #expect(try inputs([context.path], .buildah).dockerfiles == [.file(context.url("Containerfile"))])
        try touch(context, "extra.Containerfile")
        #expect(
            try inputs(["-f", "Containerfile", "-f", "extra.Containerfile", context.path], .buildah).dockerfiles
                == [.file(context.url("Containerfile")), .file(context.url("extra.Containerfile"))])
        let asFile = try inputs([context.url("extra.Containerfile")], .buildah)
        #expect(asFile.context == .directory(context.path))
        #expect(asFile.dockerfiles == [.file(context.url("extra.Containerfile"))])
        #expect(
            try inputs(["-f", "https://example.invalid/Containerfile", context.path], .buildah).dockerfiles
                == [.remote("https://example.invalid/Containerfile")])
    }

    @Test func remoteAndStandardInputContexts() throws {
        for url in [
            "https://github.com/a/b.git", "http://host/ctx.tar.gz", "git@github.com:a/b.git", "git://host/r", "ssh://git@host/r.git",
        ] {
            let found = try inputs(["-f", "Dockerfile", url], .buildKit)
            #expect(found.context == .remote(url))
            #expect(found.dockerfiles == [])
        }
        #expect(try inputs(["-"], .classicClient).context == .standardInput)
    }

    @Test func aContextThatIsNeitherADirectoryNorAURL() throws {
        let context = TemporaryDirectory()
        try touch(context, "file")
        #expect(throws: DockerWrapperError("unable to prepare context: context must be a directory: \(context.url("file"))")) {
            try inputs([context.url("file")], .buildKit)
        }
        #expect(throws: DockerWrapperError("unable to prepare context: path \"\(context.url("absent"))\" not found")) {
            try inputs([context.url("absent")], .buildKit)
        }
        #expect(throws: DockerWrapperError("no build context given: docker build [OPTIONS] PATH | URL | -")) { try inputs([], .buildKit) }
    }
}
