import Glibc
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
                explicit: BytePath(chosen), searchPath: BytePath(directory.path),
                runningExecutable: BytePath(directory.url("git-mtime"))) == BytePath(chosen))
    }

    @Test func environmentVariableNamingNothingIsAnError() {
        #expect(throws: GuardExecutableError("GIT_MTIME_GUARD=/nonexistent/guard is not an executable file")) {
            try GuardExecutable.locate(explicit: BytePath("/nonexistent/guard"), searchPath: nil, runningExecutable: nil)
        }
    }

    @Test func nextToTheRunningExecutableBeforePath() throws {
        let installed = TemporaryDirectory(), onPath = TemporaryDirectory()
        let sibling = try executable(in: installed, "git-mtime-guard")
        _ = try executable(in: onPath, "git-mtime-guard")
        #expect(
            try GuardExecutable.locate(
                explicit: nil, searchPath: BytePath(onPath.path), runningExecutable: BytePath(installed.url("git-mtime")))
                == BytePath(sibling))
    }

    @Test func pathIsTheLastResort() throws {
        let elsewhere = TemporaryDirectory(), onPath = TemporaryDirectory()
        let found = try executable(in: onPath, "git-mtime-guard")
        // A non-executable file of that name is skipped.
        try Data().write(to: URL(fileURLWithPath: elsewhere.url("git-mtime-guard")))
        #expect(
            try GuardExecutable.locate(
                explicit: nil, searchPath: BytePath("\(elsewhere.path):\(onPath.path)"),
                runningExecutable: BytePath(elsewhere.url("git-mtime"))) == BytePath(found))
    }

    @Test func noGuardAnywhere() {
        let empty = TemporaryDirectory()
        #expect(
            throws: GuardExecutableError("cannot find git-mtime-guard: set GIT_MTIME_GUARD, or install it next to git-mtime or on PATH")
        ) {
            try GuardExecutable.locate(explicit: nil, searchPath: BytePath(empty.path), runningExecutable: BytePath(empty.url("git-mtime")))
        }
    }

    /// An install directory whose name isn't UTF-8 (or holds a newline or backslash) is the one
    /// searched: read as text it named another directory, and the guard was "not found".
    @Test func installDirectoriesNamedWithAnyBytes() throws {
        let base = TemporaryDirectory()
        for name: [UInt8] in [Array("d".utf8) + [0xE9], Array("new\nline".utf8), Array("back\\slash".utf8)] {
            let directory = BytePath(base.path).appending(BytePath(name))
            let guardPath = directory.appending(GuardExecutable.name)
            #expect(try directory.withCString { mkdir($0, 0o755) } == 0)
            let fd = try guardPath.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o755) }
            #expect(fd >= 0)
            close(fd)
            // Beside the running executable, on PATH and as GIT_MTIME_GUARD: the same bytes come back.
            let running = directory.appending("git-mtime")
            #expect(try GuardExecutable.locate(explicit: nil, searchPath: nil, runningExecutable: running) == guardPath)
            #expect(try GuardExecutable.locate(explicit: nil, searchPath: directory, runningExecutable: nil) == guardPath)
            #expect(try GuardExecutable.locate(explicit: guardPath, searchPath: nil, runningExecutable: nil) == guardPath)
        }
    }
}
