import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

private func project(_ files: [String: String] = ["a.txt": "alpha\n"]) throws -> GuardProject {
    let project = GuardProject()
    for (path, contents) in files { try project.write(path, contents) }
    try project.writeManifest(files.keys.sorted())
    return project
}

/// Starts `git-mtime-guard run` on `script` in the background, waits for the script to touch
/// `started`, and returns the process.
private func startRun(_ project: GuardProject, script: String, prefix: [String] = []) throws -> Subprocess {
    let process = try Subprocess(
        prefix + [builtProduct("git-mtime-guard"), "run", "--manifest", project.manifestPath, "--", "sh", "-c", script],
        in: project.root, stdout: .discard)
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: project.path("started")) && Date() < deadline { usleep(10_000) }
    try #require(FileManager.default.fileExists(atPath: project.path("started")))
    return process
}

/// Issue 10, defect 9: a command that traps the forwarded signal and exits 0 did not finish its
/// build; the stamp must not claim it did.
@Test(arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
func aRunThatReceivedASignalNeverSeals(_ signal: Int32) throws {
    let project = try project()
    let process = try startRun(project, script: "trap 'exit 0' \(signal); touch started; while :; do sleep 0.05; done")
    process.signal(signal)
    let result = process.wait()
    let stderr = result.stderr
    #expect(result.status == 0, "\(stderr)")
    #expect(stderr.contains("sh was sent signal \(signal)"), "\(stderr)")
    #expect(stderr.contains("the stamp was not sealed"))
    #expect(!FileManager.default.fileExists(atPath: project.path("target/.git-mtime-stamp")))
}

/// Issue 10, defect 16: `nohup git-mtime-guard run -- CMD` survives a hangup, and so does CMD.
@Test func inheritedIgnoredHangupStaysIgnoredForTheGuardAndItsCommand() throws {
    let project = try project()
    // `nohup` itself, so the guard really starts with SIGHUP ignored.
    let process = try startRun(project, script: "touch started; kill -HUP $$; sleep 1; echo finished > done", prefix: ["nohup"])
    process.signal(SIGHUP)
    #expect(process.wait().status == 0)
    #expect(try String(contentsOfFile: project.path("done"), encoding: .utf8) == "finished\n")
    #expect(FileManager.default.fileExists(atPath: project.path("target/.git-mtime-stamp")), "a completed, unsignalled run seals")
}

/// Issue 13, case 2: a build that rewrites a tracked source (a generator, `cargo fmt`) consumed the
/// new content, not the manifest's. The stamp must not record the manifest's id for it, or putting
/// the old content back would give it its old time and make leaves the output built from the new one.
@Test func aTrackedFileTheBuildChangedIsNotRecordedAsConsumed() throws {
    let project = try project([
        "src.txt": "v1\n", "Makefile": "out.txt: src.txt\n\tif [ -f regenerate ]; then echo v2 > src.txt; fi\n\tcat src.txt > out.txt\n",
    ])
    try project.write("regenerate", "")
    let built = try project.guardCommand("run", ["--", "make", "-s"])
    #expect(built.status == 0, "\(built.stderr)")
    #expect(built.stderr.contains("warning: 1 tracked files changed while make ran (src.txt); not recorded as consumed"), "\(built.stderr)")
    #expect(try String(contentsOfFile: project.path("out.txt"), encoding: .utf8) == "v2\n")
    guard
        case .trusted(let stamp) = BuildStamp.load(
            at: BytePath(project.path("target/.git-mtime-stamp")),
            expectedRoot: try FileSystem.resolve(BytePath(project.root)))
    else {
        Issue.record("no trusted stamp"); return
    }
    #expect(stamp.entries.map(\.path) == [BytePath("Makefile")])
    // `git checkout src.txt`: the manifest's content again, with an old time.
    try FileManager.default.removeItem(atPath: project.path("regenerate"))
    try project.write("src.txt", "v1\n")
    try FileSystem.setModificationTime(BytePath(project.path("src.txt")), to: Timestamp(seconds: 1_000_000_000))
    let again = try project.guardCommand("run", ["--", "make", "-s"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try String(contentsOfFile: project.path("out.txt"), encoding: .utf8) == "v1\n", "stale: out.txt still built from v2")
    #expect(again.stderr.contains("1 of 2 files changed since the last sealed build"), "\(again.stderr)")
}

/// A build that rewrites a tracked source and puts it back before it ends (a version stamped in
/// for a release build, `cargo hack --no-dev-deps` editing Cargo.toml): the build consumed the
/// rewritten content, so the stamp must not record the manifest's. Each variant ends with the
/// manifest's bytes again: a new inode; the same inode and size with a new mtime; the old mtime put
/// back (`touch -r`); renamed away and back (same inode, size and mtime: only ctime tells).
@Test(arguments: [
    "sed -i s/v1/v2/ src.txt; cat src.txt > out.txt; rm src.txt; printf 'v1\\n' > src.txt",
    "printf 'v2\\n' > src.txt; cat src.txt > out.txt; printf 'v1\\n' > src.txt",
    "cp -p src.txt keep; printf 'v2\\n' > src.txt; cat src.txt > out.txt; cat keep > src.txt; touch -r keep src.txt; rm keep",
    "mv src.txt keep; printf 'v2\\n' > src.txt; cat src.txt > out.txt; rm src.txt; mv keep src.txt",
])
func aTrackedFileRewrittenAndPutBackDuringTheBuildIsNotRecordedAsConsumed(_ script: String) throws {
    let project = try project(["src.txt": "v1\n", "Makefile": "out.txt: src.txt\n\tcat src.txt > out.txt\n"])
    let built = try project.guardCommand("run", ["--", "sh", "-c", script])
    #expect(built.status == 0, "\(built.stderr)")
    #expect(try String(contentsOfFile: project.path("out.txt"), encoding: .utf8) == "v2\n")
    #expect(try String(contentsOfFile: project.path("src.txt"), encoding: .utf8) == "v1\n")
    #expect(
        built.stderr.contains("warning: 1 tracked files changed while sh ran (src.txt); not recorded as consumed"),
        "\(script): \(built.stderr)")
    let again = try project.guardCommand("run", ["--", "make", "-s"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("1 of 2 files changed since the last sealed build"), "\(script): \(again.stderr)")
    #expect(try String(contentsOfFile: project.path("out.txt"), encoding: .utf8) == "v1\n", "stale: \(script)")
}

/// A build that only hard-links a tracked source (`cp -al`, a sandbox linking its inputs) moves its ctime,
/// not its bytes: still consumed, so the next build has nothing to redo.
@Test func aHardLinkMadeDuringTheBuildStillCountsAsConsumed() throws {
    let project = try project(["src.txt": "v1\n", "Makefile": "out.txt: src.txt\n\tcat src.txt > out.txt\n"])
    let built = try project.guardCommand("run", ["--", "sh", "-c", "ln src.txt linked && make -s"])
    #expect(built.status == 0, "\(built.stderr)")
    #expect(!built.stderr.contains("changed while"), "\(built.stderr)")
    let again = try project.guardCommand("run", ["--", "make", "-s"])
    #expect(again.stderr.contains("0 of 2 files changed since the last sealed build"), "\(again.stderr)")
}

/// Issue 10, defect 15: a context copied in parts. `missing:` names `--allow-missing`, which
/// `run` and `prepare` take like `check`.
@Test func allowMissingWorksForRunAndPrepareAndTheErrorNamesIt() throws {
    let project = try project(["Cargo.toml": "[package]\n", "src/main.rs": "fn main() {}\n", "README": "r\n"])
    try FileManager.default.removeItem(atPath: project.path("README"))
    let refused = try project.guardCommand("run", ["--", "touch", "ran"])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("missing: README"))
    #expect(refused.stderr.contains("--allow-missing skips absent ones"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: project.path("ran")))
    #expect(try project.guardCommand("prepare", ["--allow-missing"]).status == 0)
    let allowed = try project.guardCommand("run", ["--allow-missing", "--", "touch", "ran"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
    #expect(FileManager.default.fileExists(atPath: project.path("ran")))
    guard
        case .trusted(let stamp) = BuildStamp.load(
            at: BytePath(project.path("target/.git-mtime-stamp")),
            expectedRoot: try FileSystem.resolve(BytePath(project.root)))
    else {
        Issue.record("no trusted stamp"); return
    }
    #expect(stamp.entries.map(\.path) == [BytePath("Cargo.toml"), BytePath("src/main.rs")])
}

/// Issue 10, defect 13: a stamp path that can't name a file is refused before the command runs.
@Test(arguments: ["", "/", "target/", ".", "sub/..", "a.txt/x"])
func unusableStampPathsAreRefusedBeforeTheCommandRuns(_ stamp: String) throws {
    let project = try project()
    let result = try project.guardCommand("run", ["--stamp", stamp, "--", "touch", "ran"])
    #expect(result.status == 64, "\(stamp): \(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: project.path("ran")), "\(stamp): the command ran")
    #expect(result.stderr.hasPrefix("git-mtime-guard: "))
}

@Test func aStampPathNamingADirectoryIsRefused() throws {
    let project = try project()
    try FileManager.default.createDirectory(atPath: project.path("target/stamp"), withIntermediateDirectories: true)
    let result = try project.guardCommand("run", ["--stamp", "target/stamp", "--", "touch", "ran"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("'target/stamp' is a directory: name a file"), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: project.path("ran")))
}

/// A stamp path naming anything but a regular file is refused before the command runs, and left
/// as it was: sealing renames a new file over the name, which would turn /dev/null (named as the
/// stamp by a careless script, as root) into a regular file, or replace a symlink instead of
/// writing through it. FIFOs stand for devices here (making a device node needs root).
@Test(arguments: ["fifo", "symlink to a fifo", "symlink to a file"])
func aStampPathNamingANonRegularFileIsRefusedAndLeftAsItWas(_ kind: String) throws {
    let project = try project()
    let outside = TemporaryDirectory("guard-special")
    let fifo = outside.url("fifo"), file = outside.url("file"), link = outside.url("link")
    #expect(mkfifo(fifo, 0o644) == 0)
    try Data("keep\n".utf8).write(to: URL(fileURLWithPath: file))
    let stamp = kind == "fifo" ? fifo : link
    if kind != "fifo" {
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: kind.hasSuffix("fifo") ? fifo : file)
    }
    for command in [["seal"], ["run", "--", "touch", "ran"]] {
        let result = try project.guardCommand(command[0], ["--stamp", stamp] + command.dropFirst())
        #expect(result.status == 64, "\(kind), \(command[0]): \(result.stderr)")
        #expect(result.stderr.contains(kind == "fifo" ? "is not a regular file" : "is a symlink"), "\(result.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: project.path("ran")))
    #expect(try FileSystem.status(BytePath(fifo)).kind == .other)
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep\n")
    if kind != "fifo" { #expect(try FileSystem.status(BytePath(link)).kind == .symlink) }
}

/// Issue 10, defect 2: a committed `target -> /elsewhere` must not make the guard write the stamp,
/// its temporary or its clock probe there. The rule (docs/stamp.md): a symlink at or below the root
/// is followed only while it stays inside the root; otherwise `run` stops before the command.
@Test func aStampDirectoryLeavingTheRootThroughASymlinkIsRefused() throws {
    let project = try project()
    let elsewhere = TemporaryDirectory("guard-elsewhere")
    try FileManager.default.createSymbolicLink(atPath: project.path("target"), withDestinationPath: elsewhere.path)
    for subcommand in [["run", "--", "touch", "ran"], ["seal"], ["prepare"]] {
        let result = try project.guardCommand(subcommand[0], Array(subcommand.dropFirst()))
        #expect(result.status == 64, "\(subcommand): \(result.stderr)")
        #expect(
            result.stderr.contains(
                "would be written outside the root: \(try FileSystem.resolve(BytePath(project.root)))/target is a symlink to \(elsewhere.path)"
            ), "\(result.stderr)")
        #expect(result.stderr.contains("--stamp (or GIT_MTIME_STAMP) \(elsewhere.path)/.git-mtime-stamp"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path) == [])
    #expect(!FileManager.default.fileExists(atPath: project.path("ran")))
    // Named explicitly, the place is the environment's choice: used, and walked for trust.
    let named = try project.guardCommand("run", ["--stamp", elsewhere.url(".git-mtime-stamp"), "--", "true"])
    #expect(named.status == 0, "\(named.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path) == [".git-mtime-stamp"])
}

/// Issue 10, defect 6: a stamp directory reached through a symlink that stays inside the root is
/// the real output directory: it is walked, so an unsealed build makes the stamp untrusted.
@Test func aSymlinkedStampDirectoryInsideTheRootIsWalked() throws {
    let project = try project()
    try FileManager.default.createDirectory(atPath: project.path("cache/out"), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: project.path("target"), withDestinationPath: "cache/out")
    let sealed = try project.guardCommand("run", ["--", "sh", "-c", "echo v1 > target/app"])
    #expect(sealed.status == 0, "\(sealed.stderr)")
    #expect(FileManager.default.fileExists(atPath: project.path("cache/out/.git-mtime-stamp")))
    #expect(try project.guardCommand("prepare").stderr.contains("0 of 1 files changed"))
    try Data("v2 from an unsealed build\n".utf8).write(to: URL(fileURLWithPath: project.path("cache/out/app")))
    let after = try project.guardCommand("prepare")
    #expect(after.stderr.contains("warning: ignoring the build stamp: the files beside"), "\(after.stderr)")
    #expect(after.stderr.contains("1 of 1 files changed"))
}

/// Issue 13, case 6: an output dated in the future neither blinds the rule nor lets a bump fall
/// behind it: changed files are bumped past it (make may warn about clock skew, but rebuilds).
@Test func aFutureDatedOutputIsBeatenByTheBumpAndDoesNotBlindTrust() throws {
    let project = try project()
    let future = Timestamp(seconds: 4_070_908_800, nanoseconds: 5)  // 2099
    let built = try project.guardCommand(
        "run", ["--", "sh", "-c", "mkdir -p target && echo v1 > target/out && touch -d @4070908800.000000005 target/unpacked"])
    #expect(built.status == 0, "\(built.stderr)")
    try project.write("a.txt", "changed\n")
    try project.writeManifest(["a.txt"])
    let prepared = try project.guardCommand("prepare")
    #expect(prepared.stderr.contains("1 of 1 files changed"), "\(prepared.stderr)")
    #expect(try modificationTime(project.path("a.txt")) > future)
    // Sealed again; then an unsealed rewrite of another output is still noticed.
    #expect(try project.guardCommand("seal").status == 0)
    try Data("v2".utf8).write(to: URL(fileURLWithPath: project.path("target/out")))
    #expect(try project.guardCommand("prepare").stderr.contains("warning: ignoring the build stamp"))
}

/// Started with standard descriptors closed (`2>&-`, a daemon's careless parent), the guard fills
/// them with /dev/null before opening anything, as git does: otherwise the manifest or the stamp
/// takes the number, messages meant for stderr go to that file, and the command inherits it.
@Test(arguments: ["0", "1", "2", "0 1 2"])
func closedStandardDescriptorsAreFilledBeforeAnythingIsOpened(_ closed: String) throws {
    let project = try project()
    let closing = closed.split(separator: " ").map { "\($0)>&-" }.joined(separator: " ")
    let report = "for n in 0 1 2; do echo \"$n $(readlink /proc/$$/fd/$n)\" >> fds; done"
    let result = try run(
        [
            "sh", "-c", "exec \"$@\" \(closing)", "sh", builtProduct("git-mtime-guard"), "run",
            "--manifest", project.manifestPath, "--", "sh", "-c", report,
        ], in: project.root)
    #expect(result.status == 0, "\(result.stderr)")
    let seen = try String(contentsOfFile: project.path("fds"), encoding: .utf8).split(separator: "\n")
    for line in seen where closed.split(separator: " ").contains(line.prefix(1)) {
        #expect(line.hasSuffix(" /dev/null"), "\(seen)")
    }
    #expect(FileManager.default.fileExists(atPath: project.path("target/.git-mtime-stamp")))
    #expect(try project.guardCommand("check").status == 0)
}

/// A file someone holds open for writing can't be leased: the guard hashes it again after setting its
/// time, and unchanged content keeps the manifest's time (changed content would get the current time).
/// With a lease (nobody writing) the same check needs no second read. (The racing writer itself is
/// the fault suite's `guard_write_race`.)
@Test func aFileHeldOpenForWritingStillGetsItsManifestTime() throws {
    let project = try project(["a.txt": "alpha\n", "b.txt": "beta\n"])
    let writer = open(project.path("a.txt"), O_WRONLY | O_APPEND | O_CLOEXEC)
    try #require(writer >= 0)
    defer { close(writer) }
    for name in ["a.txt", "b.txt"] { #expect(utimes(project.path(name), nil) == 0) }
    let result = try project.guardCommand("check")
    #expect(result.status == 0, "\(result.stderr)")
    for name in ["a.txt", "b.txt"] {
        let time = try modificationTime(project.path(name))
        #expect(time.seconds == project.commitTime.seconds, "\(name): \(time)")
    }
}
