import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

private func smallProject() throws -> GuardProject {
    let project = GuardProject()
    try project.write("a.txt", "alpha\n")
    try project.writeManifest(["a.txt"])
    return project
}

@Test func runExitsWithTheCommandsStatusAndSealsOnlyOnSuccess() throws {
    let project = try smallProject()
    let stamp = project.path("target/.git-mtime-stamp")

    let failed = try project.guardCommand("run", ["--", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"])
    #expect(failed.status == 3)
    #expect(failed.stdout == "to-stdout\n")
    #expect(failed.stderr.contains("to-stderr\n"))
    #expect(failed.stderr.contains("git-mtime-guard: sh exited with status 3; the stamp was not sealed"))
    #expect(!FileManager.default.fileExists(atPath: stamp))

    let killed = try project.guardCommand("run", ["--", "sh", "-c", "kill -TERM $$"])
    #expect(killed.status == 128 + SIGTERM)
    #expect(!FileManager.default.fileExists(atPath: stamp))

    let notFound = try project.guardCommand("run", ["--", "no-such-command-for-the-guard"])
    #expect(notFound.status == 127)
    #expect(notFound.stderr.contains("git-mtime-guard: cannot run no-such-command-for-the-guard: No such file or directory"))

    let noCommand = try project.guardCommand("run")
    #expect(noCommand.status == 64)
    #expect(noCommand.stderr.contains("give the build command after `--`"))

    let before = try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("target") }
    let succeeded = try project.guardCommand("run", ["--", "sh", "-c", "mkdir -p target && echo built > target/output"])
    #expect(succeeded.status == 0, "\(succeeded.stderr)")
    guard case .trusted(let sealed) = BuildStamp.load(at: BytePath(stamp), expectedRoot: try FileSystem.resolve(BytePath(project.root)))
    else {
        Issue.record("no trusted stamp after a successful run"); return
    }
    #expect(sealed.entries.map(\.path) == [BytePath("a.txt")])
    #expect(sealed.entries[0].modificationTime == (try modificationTime(project.path("a.txt"))))
    // The seal time comes from the file system's clock and is not before anything beside the stamp.
    #expect(sealed.sealTime >= (try modificationTime(project.path("target/output"))))
    #expect(sealed.sealTime <= FileSystem.now())
    #expect(try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("target") } == before)

    // A failing run after a sealed one leaves the earlier stamp in place.
    let stampBytes = try Data(contentsOf: URL(fileURLWithPath: stamp))
    #expect(try project.guardCommand("run", ["--", "false"]).status == 1)
    #expect(try Data(contentsOf: URL(fileURLWithPath: stamp)) == stampBytes)
}

@Test(arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
func signalToTheGuardReachesTheCommand(_ signal: Int32) throws {
    let project = try smallProject()
    let script = "trap 'echo caught > got-signal; exit 7' \(signal); touch started; while :; do sleep 0.05; done"
    let process = try Subprocess(
        [builtProduct("git-mtime-guard"), "run", "--manifest", project.manifestPath, "--", "sh", "-c", script],
        in: project.root, stdout: .discard, stderr: .discard)
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: project.path("started")) && Date() < deadline { usleep(10_000) }
    try #require(FileManager.default.fileExists(atPath: project.path("started")))
    // Only the guard is signalled (as `docker stop` or a supervisor would); it must pass it on.
    process.signal(signal)
    #expect(process.wait().status == 7)
    #expect(try String(contentsOfFile: project.path("got-signal"), encoding: .utf8) == "caught\n")
    #expect(!FileManager.default.fileExists(atPath: project.path("target/.git-mtime-stamp")))
}

@Test func stampLocationFollowsOptionThenEnvironmentThenDefault() throws {
    let project = try smallProject()
    let elsewhere = TemporaryDirectory("guard-cache")
    let fromEnvironment = elsewhere.url("env/stamp")
    #expect(try project.guardCommand("run", ["--", "true"], environment: ["GIT_MTIME_STAMP": fromEnvironment]).status == 0)
    #expect(FileManager.default.fileExists(atPath: fromEnvironment))
    let fromOption = elsewhere.url("option/stamp")
    #expect(try project.guardCommand("seal", ["--stamp", fromOption], environment: ["GIT_MTIME_STAMP": fromEnvironment]).status == 0)
    #expect(FileManager.default.fileExists(atPath: fromOption))
    #expect(!FileManager.default.fileExists(atPath: project.path("target")))
    #expect(try project.guardCommand("seal").status == 0)
    #expect(FileManager.default.fileExists(atPath: project.path("target/.git-mtime-stamp")))
    // A stamp sealed for another root is foreign: prepare bumps everything.
    let other = try smallProject()
    let foreign = try other.guardCommand("prepare", ["--stamp", project.path("target/.git-mtime-stamp")])
    #expect(foreign.status == 0)
    #expect(foreign.stderr.contains("was sealed for root \(try FileSystem.resolve(BytePath(project.root))), not "))
    #expect(foreign.stderr.contains("1 of 1 files changed"))
}

@Test func damagedOrHugeStampIsUntrustedAndEverythingIsBumped() throws {
    let project = try smallProject()
    #expect(try project.guardCommand("run", ["--", "true"]).status == 0)
    let stamp = project.path("target/.git-mtime-stamp")
    let before = try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("target") }

    // Cut off the checksum line: detected, one warning line, every file bumped.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: stamp))
    try bytes.prefix(bytes.count - 20).write(to: URL(fileURLWithPath: stamp))
    let truncated = try project.guardCommand("prepare")
    #expect(truncated.status == 0, "\(truncated.stderr)")
    #expect(
        truncated.stderr.contains(
            "git-mtime-guard: warning: ignoring the build stamp: \(stamp): stamp is truncated (no final newline); treating all files as changed\n"
        ))
    #expect(truncated.stderr.contains("1 of 1 files changed"))

    // A sparse 2 GiB stamp is refused unread.
    try runChecked(["truncate", "-s", "2G", stamp])
    let huge = try project.guardCommand("prepare")
    #expect(huge.status == 0, "\(huge.stderr)")
    #expect(huge.stderr.contains("warning: ignoring the build stamp: \(stamp): cannot read (larger than 1073741824 bytes)"))
    #expect(huge.stderr.contains("1 of 1 files changed"))
    try FileManager.default.removeItem(atPath: stamp)  // so the snapshot below doesn't read 2 GiB
    #expect(try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("target") } == before)
}

@Test func hugeManifestIsRefusedUnread() throws {
    let project = try smallProject()
    let before = try modificationTime(project.path("a.txt"))
    try runChecked(["truncate", "-s", "2G", project.manifestPath])
    let result = try project.guardCommand("check")
    #expect(result.status == 64)
    #expect(result.stderr == "git-mtime-guard: \(project.manifestPath): manifest is larger than 1073741824 bytes\n")
    #expect(try modificationTime(project.path("a.txt")) == before)
}
