import Foundation
import Testing
import TestSupport
@testable import MtimeDocker

@Suite struct GuardExecutableTests {
    func executable(in directory: TemporaryDirectory, _ name: String) throws -> String {
        let path = directory.url(name)
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: path))
        try runChecked(["chmod", "755", path])
        return path
    }

    @Test func environmentVariableWins() throws {
        let directory = TemporaryDirectory()
        let chosen = try executable(in: directory, "my-guard")
        _ = try executable(in: directory, "git-mtime-guard")
        #expect(try GuardExecutable.locate(environment: ["GIT_MTIME_GUARD": chosen, "PATH": directory.path],
                                           runningExecutable: directory.url("git-mtime")) == chosen)
    }

    @Test func environmentVariableNamingNothingIsAnError() {
        #expect(throws: DockerWrapperError("GIT_MTIME_GUARD=/nonexistent/guard is not an executable file")) {
            try GuardExecutable.locate(environment: ["GIT_MTIME_GUARD": "/nonexistent/guard"], runningExecutable: nil)
        }
    }

    @Test func nextToTheRunningExecutableBeforePath() throws {
        let installed = TemporaryDirectory(), onPath = TemporaryDirectory()
        let sibling = try executable(in: installed, "git-mtime-guard")
        _ = try executable(in: onPath, "git-mtime-guard")
        #expect(try GuardExecutable.locate(environment: ["PATH": onPath.path], runningExecutable: installed.url("git-mtime")) == sibling)
    }

    @Test func pathIsTheLastResort() throws {
        let elsewhere = TemporaryDirectory(), onPath = TemporaryDirectory()
        let found = try executable(in: onPath, "git-mtime-guard")
        // A non-executable file of that name is skipped.
        try Data().write(to: URL(fileURLWithPath: elsewhere.url("git-mtime-guard")))
        #expect(try GuardExecutable.locate(environment: ["PATH": "\(elsewhere.path):\(onPath.path)"],
                                           runningExecutable: elsewhere.url("git-mtime")) == found)
    }

    @Test func noGuardAnywhere() {
        let empty = TemporaryDirectory()
        #expect(throws: DockerWrapperError("cannot find git-mtime-guard: set GIT_MTIME_GUARD, or install it next to git-mtime or on PATH")) {
            try GuardExecutable.locate(environment: ["PATH": empty.path], runningExecutable: empty.url("git-mtime"))
        }
    }
}

/// The built `git-mtime docker` front end, run as a real process.
@Suite struct DockerCommandTests {
    let gitMtime = builtProduct("git-mtime")

    @Test func wrapperHelpStillWorks() throws {
        let result = try run([gitMtime, "docker", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("git mtime docker [--docker <path>] build [docker build options] <context>"))
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
