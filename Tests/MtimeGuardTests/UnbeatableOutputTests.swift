import Foundation
import MtimeCore
import MtimeGuard
import Testing
import TestSupport

/// An output dated at or after the latest time its file system stores (ext4 with 128-byte inodes:
/// 2038-01-19T03:14:07Z, the kernel clamps later times to it; tmpfs, btrfs: past year 9999, beyond
/// any time git-mtime represents) can't be beaten by a bump: the changed source lands on the same
/// time, and make takes the output as up to date. Before the fix the guard reported the file changed,
/// set that time and started the build: a stale build. Now `prepare` (and so `run`) exits 74 naming
/// the output, before the command runs, and no content changes.
private struct UnbeatableOutputCase: CustomStringConvertible, Sendable {
    enum FileSystem: String, Sendable { case tmpfs, wholeSecondExt4 = "ext4 -I 128" }
    let fileSystem: FileSystem
    /// `touch -d` argument for `build/out` after the first build.
    let outputTime: String
    /// The changed source is untracked (bumped one step below the tracked bump time).
    let untracked: Bool
    /// Whether a later time exists on that file system: then the build runs and rebuilds.
    let beatable: Bool
    var description: String { "\(fileSystem.rawValue), output at \(outputTime), \(untracked ? "untracked" : "tracked") source" }
}

private let unbeatableCases: [UnbeatableOutputCase] = [
    .init(fileSystem: .tmpfs, outputTime: "@253402300800", untracked: false, beatable: false),  // year 10000
    .init(fileSystem: .tmpfs, outputTime: "@1099511627776", untracked: true, beatable: false),  // 2^40 s
    .init(fileSystem: .tmpfs, outputTime: "@253402300799.999999999", untracked: false, beatable: false),  // the last representable time
    .init(fileSystem: .tmpfs, outputTime: "@253402300799.5", untracked: true, beatable: true),
    .init(fileSystem: .wholeSecondExt4, outputTime: "@2147483647", untracked: false, beatable: false),
    .init(fileSystem: .wholeSecondExt4, outputTime: "@4102444800", untracked: true, beatable: false),  // 2100, stored as 2038
    .init(fileSystem: .wholeSecondExt4, outputTime: "@2147483646", untracked: false, beatable: true),
]

/// The raw stored mtime (no clamping into git-mtime's range).
private func storedTime(_ path: String) -> (Int, Int) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return (Int.min, 0) }
    return (info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
}

@Test(.enabled(if: geteuid() == 0, "mounting tmpfs and a loop ext4 needs root"), arguments: unbeatableCases)
private func aChangedSourceThatCannotOutdateAnOutputStopsTheBuild(_ testCase: UnbeatableOutputCase) throws {
    let project = GuardProject()
    let image = TemporaryDirectory("unbeatable-image")
    switch testCase.fileSystem {
    case .tmpfs:
        let mounted = try run(["mount", "-t", "tmpfs", "none", project.root])
        if !mounted.succeeded { try Test.cancel("cannot mount tmpfs here: \(mounted.stderr)") }
    case .wholeSecondExt4:
        try mountWholeSecondExt4(at: project.root, image: image)
    }
    defer { _ = try? run(["umount", "-l", project.root]) }

    let source = testCase.untracked ? "src/b.c" : "src/a.c"
    try project.write("Makefile", "build/out: src/a.c src/b.c\n\tmkdir -p build && cat src/a.c src/b.c > build/out\n")
    try project.write("src/a.c", "a1\n")
    try project.write("src/b.c", "b1\n")
    let files = ["Makefile", "src/a.c"]
    try project.writeManifest(files, untracked: ["src/b.c"])
    let stamp = ["--stamp", "build/.git-mtime-stamp"]
    let first = try project.guardCommand("run", stamp + ["--", "sh", "-c", "make && touch -d \(testCase.outputTime) build/out"])
    #expect(first.status == 0, "\(first.stderr)")

    try project.write(source, testCase.untracked ? "b2\n" : "a2\n")
    try project.writeManifest(files, untracked: ["src/b.c"])
    let sources = try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("build") }
    let output = storedTime(project.path("build/out"))
    let second = try project.guardCommand("run", stamp + ["--", "make"])
    let built = try String(contentsOfFile: project.path("build/out"), encoding: .utf8)
    #expect(try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("build") } == sources)
    if testCase.beatable {
        #expect(second.status == 0, "\(second.stderr)")
        #expect(storedTime(project.path(source)) > output)
        // GNU make saturates times past 2^34 s (year 2514): only below that can it tell them apart.
        if output.0 < 1 << 34 { #expect(built == (testCase.untracked ? "a1\nb2\n" : "a2\nb1\n"), "stale build: \(built)") }
        return
    }
    // Never a build that takes the old output as current.
    #expect(storedTime(project.path(source)) <= output)
    #expect(second.status == 74, "exit \(second.status): \(second.stderr)")
    #expect(second.stderr.contains("cannot make \(source) newer than \(project.path("build/out")) (dated "), "\(second.stderr)")
    #expect(second.stderr.contains("no later time can be stored"), "not told as the latest storable time: \(second.stderr)")
    #expect(!second.stdout.contains("cat src/a.c"), "the build ran: \(second.stdout)")
    #expect(built == "a1\nb1\n")
    #expect(storedTime(project.path("build/out")) == output)
}

/// The exit-74 message says why the bump lost, from the time read back: clamped to the latest time
/// the file system stores (defect 8), or truncated to a coarser step than the guard probed (defect 14's
/// shape: a source directory mounted from a whole-second file system). Both set on a real
/// whole-second ext4 (`-I 128`), as `prepare` sets a bump and reads it back.
@Test(.enabled(if: geteuid() == 0, "loop-mounting an ext4 image needs root"))
private func aTruncatedBumpIsToldApartFromTheLatestStorableTime() throws {
    let image = TemporaryDirectory("shortfall-image")
    let mountPoint = TemporaryDirectory("shortfall-mount")
    try mountWholeSecondExt4(at: mountPoint.path, image: image)
    defer { _ = try? run(["umount", "-l", mountPoint.path]) }
    let file = BytePath(mountPoint.url("a.c"))
    try runChecked(["touch", mountPoint.url("a.c")])
    func readBack(_ wanted: Timestamp) throws -> BumpShortfall {
        try FileSystem.setModificationTime(file, to: wanted)
        return BumpShortfall(wanted: wanted, stored: try FileSystem.status(file).modificationTime)
    }
    func message(_ shortfall: BumpShortfall) -> String {
        GuardError.outputNotOutdated(
            file: BytePath("src/a.c"), output: BytePath("build/out"), outputTime: Timestamp(seconds: 1_800_000_000, nanoseconds: 0),
            shortfall: shortfall
        ).description
    }
    let now = FileSystem.now()
    for nanoseconds: Int32 in [1, 500_000_000, 999_999_999] {
        let wanted = Timestamp(seconds: now.seconds, nanoseconds: nanoseconds)
        let shortfall = try readBack(wanted)
        #expect(shortfall == .truncated(wanted: wanted, stored: Timestamp(seconds: now.seconds, nanoseconds: 0)))
        #expect(message(shortfall).contains("its file system truncated the bump \(wanted) to its granularity, \(now.seconds).000000000"))
        #expect(!message(shortfall).contains("no later time can be stored"))
    }
    // Past 2038-01-19T03:14:07Z the kernel clamps to it, a whole second too: not a truncation.
    for wanted in [Timestamp(seconds: 2_147_483_648, nanoseconds: 0), Timestamp(seconds: 4_102_444_800, nanoseconds: 500_000_000)] {
        let shortfall = try readBack(wanted)
        #expect(shortfall == .latestStorable, "\(wanted)")
        #expect(message(shortfall).contains("no later time can be stored"))
    }
    // git-mtime's own limit: stored as wanted, and still not later than the output.
    #expect(BumpShortfall(wanted: .maximum, stored: .maximum) == .latestStorable)
}
