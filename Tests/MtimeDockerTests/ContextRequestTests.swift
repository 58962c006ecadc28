import MtimeCore
import MtimeDockerContext
import Testing
@testable import MtimeDocker

/// Which ignore file and pattern code the wrapper asks the manifest builder for, per injection mode and
/// client: the same builders `git mtime manifest --builder/--docker-version/--daemon-version` describe,
/// which suites/docker/dockerignore.py compares with what a real build receives.
@Suite struct ContextRequestTests {
    func request(
        _ mode: InjectionMode, _ client: Client, copied: Bool = false,
        dockerfile: String? = "ctx/app.Dockerfile"
    ) -> ContextRequest {
        ContextRequest(directory: "ctx", dockerfile: dockerfile, mode: mode, client: client, dockerfileIsCopied: copied)
    }

    @Test func buildContextIsBuildKitWithPatternmatcher() {
        for client in [Client.docker(majorVersion: 28), .podman, .buildah] {
            let build = request(.buildContext, client).contextBuild
            #expect(build.builder == DockerBuilder(kind: .buildKit, client: .patternmatcher))
            #expect(build.dockerfile == .path(BytePath("ctx/app.Dockerfile")))
        }
    }

    @Test func docker20BuildKitKeepsTheOriginalDockerfileForItsIgnoreFile() {
        // The client gets a copy, with the original's `<Dockerfile>.dockerignore` beside it.
        let build = request(.rewrittenMountSource, .docker(majorVersion: 20), copied: true).contextBuild
        #expect(build.builder == DockerBuilder(kind: .buildKit, client: .fileutils))
        #expect(build.dockerfile == .path(BytePath("ctx/app.Dockerfile")))
    }

    @Test func classicBuilderUsesTheClientsPatternCode() {
        #expect(
            request(.rewrittenForClassicBuilder, .docker(majorVersion: 20)).contextBuild.builder
                == DockerBuilder(kind: .classic, client: .fileutils))
        #expect(
            request(.rewrittenForClassicBuilder, .docker(majorVersion: 28)).contextBuild.builder
                == DockerBuilder(kind: .classic, client: .patternmatcher))
        // An unknown client version: today's.
        #expect(
            request(.rewrittenForClassicBuilder, .docker(majorVersion: nil)).contextBuild.builder
                == DockerBuilder(kind: .classic, client: .patternmatcher))
    }

    @Test func classicCopyOfTheDockerfileIsOneTheClientAdds() {
        #expect(request(.rewrittenForClassicBuilder, .docker(majorVersion: 20), copied: true).contextBuild.dockerfile == .standardInput)
        #expect(
            request(.rewrittenForClassicBuilder, .docker(majorVersion: 20), copied: false).contextBuild.dockerfile
                == .path(BytePath("ctx/app.Dockerfile")))
        #expect(request(.buildContext, .docker(majorVersion: 28), dockerfile: nil).contextBuild.dockerfile == .standardInput)
    }

    @Test func patternCodeByDockerVersion() {
        #expect(DockerPatternEngine(dockerMajorVersion: 22) == .fileutils)
        #expect(DockerPatternEngine(dockerMajorVersion: 23) == .patternmatcher)
    }
}
