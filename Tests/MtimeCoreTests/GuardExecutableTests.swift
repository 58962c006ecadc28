import Foundation
import Testing
import TestSupport
@testable import MtimeCore

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
        #expect(
            try GuardExecutable.locate(
                environment: ["GIT_MTIME_GUARD": chosen, "PATH": directory.path],
                runningExecutable: directory.url("git-mtime")) == chosen)
    }

    @Test func environmentVariableNamingNothingIsAnError() {
        #expect(throws: GuardExecutableError("GIT_MTIME_GUARD=/nonexistent/guard is not an executable file")) {
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
        #expect(
            try GuardExecutable.locate(
                environment: ["PATH": "\(elsewhere.path):\(onPath.path)"],
                runningExecutable: elsewhere.url("git-mtime")) == found)
    }

    @Test func noGuardAnywhere() {
        let empty = TemporaryDirectory()
        #expect(
            throws: GuardExecutableError("cannot find git-mtime-guard: set GIT_MTIME_GUARD, or install it next to git-mtime or on PATH")
        ) {
            try GuardExecutable.locate(environment: ["PATH": empty.path], runningExecutable: empty.url("git-mtime"))
        }
    }
}
