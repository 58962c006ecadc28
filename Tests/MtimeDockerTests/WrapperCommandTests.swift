import Foundation
import Testing
import TestSupport
@testable import MtimeDocker

/// The built `git-mtime docker` front end, run as a real process.
@Suite struct DockerCommandTests {
    let gitMtime = builtProduct("git-mtime")

    @Test func wrapperHelpStillWorks() throws {
        let result = try run([gitMtime, "docker", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("git mtime docker [--docker <path>] [--explain] build [docker build options] <context>"))
        #expect(result.stdout.contains("--docker <path>"))
        #expect(result.stdout.contains("RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run"))
    }

    @Test func dockerHelpAfterBuildIsPassedToDocker() throws {
        // `--help` after `build` belongs to docker: the wrapper must not answer it. `echo` stands in as the client.
        let result = try run([gitMtime, "docker", "--docker", "echo", "build", "--help", "-"])
        #expect(result.status == 0)
        #expect(result.stdout == "build --help -\n")
        #expect(result.stderr == "git-mtime: the build context is stdin: nothing to restore, running docker unchanged\n")
    }

    @Test func urlContextIsPassedThroughUntouched() throws {
        let arguments = ["build", "-t", "x", "--build-arg=A=B", "https://example.invalid/repo.git"]
        let result = try run([gitMtime, "docker", "--docker", "echo"] + arguments, environment: ["DOCKER": "/nonexistent"])
        #expect(result.status == 0)
        #expect(result.stdout == arguments.joined(separator: " ") + "\n")
        #expect(result.stderr == "git-mtime: the build context is a URL: nothing to restore, running docker unchanged\n")
    }

    @Test func exitStatusIsTheClients() throws {
        let result = try run([gitMtime, "docker", "build", "-"], environment: ["DOCKER": "false"])
        #expect(result.status == 1)
    }

    @Test func badArgumentsAreOneClearLine() throws {
        let result = try run([gitMtime, "docker", "build", "--frobnicate", "x", "."], environment: ["DOCKER": "false"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Error: unknown docker build option --frobnicate; if it takes a value, write it as --frobnicate=VALUE"))
    }

    @Test func missingGuardStopsBeforeAnythingRuns() throws {
        let project = try GitRepository()
        try project.write("Dockerfile", "FROM scratch\n")
        try project.commit()
        let before = try contentSnapshot(of: project.path)
        let empty = TemporaryDirectory()
        let result = try run([gitMtime, "docker", "build", project.path],
                             environment: ["DOCKER": "false", "GIT_MTIME_GUARD": empty.url("nothing"), "TMPDIR": empty.path])
        #expect(result.status == 125)
        #expect(result.stderr == "git-mtime: error: GIT_MTIME_GUARD=\(empty.url("nothing")) is not an executable file\n")
        #expect(try contentSnapshot(of: project.path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
    }
}
