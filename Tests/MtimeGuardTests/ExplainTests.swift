import Foundation
import MtimeCore
import Testing
import TestSupport

// The guard says what it decided: one summary line always, each bumped file with its reason on --explain
// (or when `git mtime docker --explain` injected the file `explain` beside it).

/// The guard's stderr lines that are not the build's.
private func guardLines(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("git-mtime-guard: ") }
}

@Test func summaryLineAlwaysAndEachBumpedFileOnExplain() throws {
    let project = GuardProject()
    try project.write("src/a.c", "int a;\n")
    try project.write("src/b.c", "int b;\n")
    let stampArguments = ["--stamp", "out/.git-mtime-stamp"]
    let build = ["--", "sh", "-c", "mkdir -p out && cat src/*.c > out/all"]
    try project.writeManifest(["src/a.c", "src/b.c"])

    let first = try project.guardCommand("run", stampArguments + ["--explain"] + build)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(
        guardLines(first.stderr).dropFirst().prefix(3) == [
            "git-mtime-guard: 2 of 2 files changed since the last sealed build; no stamp",
            "git-mtime-guard: bumped src/a.c: no build stamp",
            "git-mtime-guard: bumped src/b.c: no build stamp",
        ])

    // A change that arrives with an old mtime: the default output is the one summary line.
    let oldID = try BlobHasher.hash(fileAt: BytePath(project.path("src/a.c")))
    try project.write("src/a.c", "int a = 2;\n")
    try FileSystem.setModificationTime(BytePath(project.path("src/a.c")), to: project.commitTime)
    // An untracked source copied in with an old mtime (a new file with a fresh mtime keeps it).
    try project.write("src/new.c", "int n;\n")
    try FileSystem.setModificationTime(BytePath(project.path("src/new.c")), to: project.commitTime)
    try project.writeManifest(["src/a.c", "src/b.c"], untracked: ["src/new.c"])
    let quiet = try project.guardCommand("prepare", stampArguments)
    #expect(guardLines(quiet.stderr) == ["git-mtime-guard: 2 of 3 files changed since the last sealed build; stamp trusted"])

    // prepare gave new.c a fresh mtime; arriving old again, it is bumped again.
    try FileSystem.setModificationTime(BytePath(project.path("src/new.c")), to: project.commitTime)
    try project.writeManifest(["src/a.c", "src/b.c"], untracked: ["src/new.c"])
    let explained = try project.guardCommand("run", stampArguments + ["--explain"] + build)
    let lines = guardLines(explained.stderr)
    #expect(
        lines.prefix(3) == [
            "git-mtime-guard: 2 of 3 files changed since the last sealed build; stamp trusted",
            "git-mtime-guard: bumped src/a.c: content differs from the stamp's \(oldID.hex.prefix(12))",
            "git-mtime-guard: bumped src/new.c (untracked): not in the stamp",
        ])
    try #require(lines.count >= 4)
    #expect(lines[3].hasPrefix("git-mtime-guard: changed files got mtime ") && lines[3].contains(", changed untracked files "))

    // An output written by a build that did not seal: the reason names it.
    try project.write("out/unsealed", "x\n")
    try FileSystem.setModificationTime(BytePath(project.path("out/unsealed")), to: Timestamp(seconds: 4_000_000_000))
    let untrusted = try project.guardCommand("prepare", stampArguments + ["--explain"])
    let untrustedLines = guardLines(untrusted.stderr)
    try #require(untrustedLines.count >= 3, "\(untrusted.stderr)")
    #expect(untrustedLines[1] == "git-mtime-guard: 3 of 3 files changed since the last sealed build; stamp untrusted")
    #expect(untrustedLines[2].hasPrefix("git-mtime-guard: bumped src/a.c: stamp untrusted: ") && untrustedLines[2].contains("out/unsealed"))
}

@Test func explainFileBesideTheGuardSwitchesItOnAndCountsAreGrouped() throws {
    let project = GuardProject()
    let names = (0..<1_234).map { "f\($0).txt" }
    for name in names { try project.write(name, name) }
    // The layout `git mtime docker` injects: guard and manifest side by side, and `explain` when asked.
    let injected = TemporaryDirectory("guard-injected")
    // Written through a close-on-exec descriptor: a copy whose write descriptor leaks into another
    // test's child cannot be executed (ETXTBSY) while that child runs.
    try FileSystem.writeAtomically(
        BytePath(injected.url("guard")), contents: FileSystem.readFile(BytePath(builtProduct("git-mtime-guard"))),
        permissions: 0o755, durable: false)
    try project.writeManifest(names)
    try FileManager.default.copyItem(atPath: project.manifestPath, toPath: injected.url("manifest"))
    let plain = try run([injected.url("guard"), "prepare"], in: project.root)
    #expect(
        guardLines(plain.stderr).last == "git-mtime-guard: 1,234 of 1,234 files changed since the last sealed build; no stamp",
        "status \(plain.status): \(plain.stderr)")
    #expect(!plain.stderr.contains("bumped"))

    try Data().write(to: URL(fileURLWithPath: injected.url("explain")))
    let explained = try run([injected.url("guard"), "prepare"], in: project.root)
    #expect(guardLines(explained.stderr).filter { $0.hasPrefix("git-mtime-guard: bumped ") }.count == 1_234)
}
