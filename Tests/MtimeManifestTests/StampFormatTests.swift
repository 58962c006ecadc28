import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

private let sample = BuildStamp(
    root: BytePath("/work/ctx"), sealTime: Timestamp(seconds: 1_700_000_000, nanoseconds: 5),
    outputs: OutputState(fileCount: 3, digest: ObjectID(hex: String(repeating: "cd", count: 20))!),
    entries: [
        .init(
            path: BytePath([0x6e, 0x65, 0x77, 0x0a, 0xff, 0x20, 0x78]), objectID: ObjectID(hex: String(repeating: "ab", count: 20))!,
            modificationTime: Timestamp(seconds: 1, nanoseconds: 2), isUntracked: true),
        .init(
            path: BytePath("src/main.rs"), objectID: ObjectID(hex: String(repeating: "01", count: 20))!,
            modificationTime: Timestamp(seconds: 1_600_000_000, nanoseconds: 999_999_999)),
    ])

@Test func stampRoundTripsThroughItsTextForm() throws {
    let text = sample.serialized()
    #expect(try BuildStamp(parsing: text) == sample)
    let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
    #expect(
        Array(lines.prefix(5)) == [
            "git-mtime-stamp 2", "root /work/ctx", "sealed 1700000000.000000005",
            "outputs 3 \(String(repeating: "cd", count: 20))", "entries 2",
        ])
    #expect(lines[5] == "untracked abababababababababababababababababababab 1.000000002 new\\x0a\\xff\\x20x")
    #expect(lines[6] == "tracked 0101010101010101010101010101010101010101 1600000000.999999999 src/main.rs")
    #expect(lines[7].hasPrefix("checksum "))
}

/// A well-formed stamp body with `edit` applied, re-checksummed, so only the edit can be refused.
private func resummed(_ edit: (String) -> String) -> [UInt8] {
    let body = edit(String(decoding: sample.serialized(), as: UTF8.self).split(separator: "\n").dropLast().joined(separator: "\n") + "\n")
    return Array(body.utf8) + Array("checksum \(BlobHasher.hash(bytes: Array(body.utf8)).hex)\n".utf8)
}

@Test func damagedStampsAreErrors() throws {
    let text = sample.serialized()
    #expect(throws: StampError(line: 0, "stamp is truncated (no final newline)")) { try BuildStamp(parsing: Array(text.dropLast(3))) }
    var edited = text
    edited[edited.firstIndex(of: UInt8(ascii: "5"))!] = UInt8(ascii: "6")
    #expect(throws: StampError(line: 0, "stamp checksum does not match its contents")) { try BuildStamp(parsing: edited) }
    let cut = Array(text[...text.firstIndex(of: UInt8(ascii: "\n"))!])
    #expect(throws: StampError(line: 0, "stamp is truncated (no checksum line)")) { try BuildStamp(parsing: cut) }
    // Well-formed checksums over wrong fields are still refused.
    #expect(throws: StampError(line: 5, "entry count is not a number in range")) {
        try BuildStamp(parsing: resummed { $0.replacingOccurrences(of: "entries 2", with: "entries 99999999999") })
    }
    #expect(throws: StampError(line: 5, "entry count is not a number in range")) {
        try BuildStamp(parsing: resummed { $0.replacingOccurrences(of: "entries 2", with: "entries +2") })
    }
    #expect(throws: StampError(line: 3, "time is not <seconds>.<9 digits> between \(Timestamp.minimum) and \(Timestamp.maximum)")) {
        try BuildStamp(
            parsing: resummed { $0.replacingOccurrences(of: "sealed 1700000000.000000005", with: "sealed 9223372036854775807.999999999") })
    }
    #expect(throws: StampError(line: 4, "object id is not 40 lowercase hex digits")) {
        try BuildStamp(
            parsing: resummed { $0.replacingOccurrences(of: String(repeating: "cd", count: 20), with: String(repeating: "CD", count: 20)) })
    }
}

@Test func formatOneStampsAreReadAsUntrusted() throws {
    let root = TemporaryDirectory("guard-stamp-v1")
    let resolved = try FileSystem.resolve(BytePath(root.path))
    let body = "git-mtime-stamp 1\nroot \(resolved)\nsealed 1700000000.000000000\nentries 0\n"
    let text = body + "checksum \(BlobHasher.hash(bytes: Array(body.utf8)).hex)\n"
    try FileManager.default.createDirectory(atPath: root.url("target"), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: root.url("target/.git-mtime-stamp")))
    let stampPath = BytePath(root.url("target/.git-mtime-stamp"))
    #expect(
        BuildStamp.load(at: stampPath, expectedRoot: resolved)
            == .untrusted(
                reason:
                    "\(resolved)/target/.git-mtime-stamp: line 1: stamp format 1 is not supported (this guard reads 2) (it records no output state; the next seal writes format 2)"
            ))
}

/// A stamp sealed now over the files in `root/target`, as `seal` records them.
private func sealedStamp(root: BytePath, stampPath: BytePath, entries: [BuildStamp.Entry] = sample.entries) throws -> BuildStamp {
    let location = try DirectoryTree(root: root).locate(stampPath, rootPath: root, create: true)
    let scan = OutputState.scan(location, excluding: [])
    let stamp = BuildStamp(root: root, sealTime: FileSystem.now(), outputs: scan.state, entries: entries)
    try FileSystem.writeAtomically(stampPath, contents: stamp.serialized())
    return stamp
}

@Test func loadTrustsOnlyAStampWhoseOutputsAreExactlyAsSealed() throws {
    let directory = TemporaryDirectory("guard-stamp")
    let root = try FileSystem.resolve(BytePath(directory.path))
    let stampPath = root.appending("target/.git-mtime-stamp")
    #expect(BuildStamp.load(at: stampPath, expectedRoot: root) == .absent)
    try FileManager.default.createDirectory(atPath: directory.url("target/debug"), withIntermediateDirectories: true)
    try Data("old output".utf8).write(to: URL(fileURLWithPath: directory.url("target/debug/app")))
    let stamp = try sealedStamp(root: root, stampPath: stampPath)
    #expect(BuildStamp.load(at: stampPath, expectedRoot: root) == .trusted(stamp))
    #expect(
        BuildStamp.load(at: stampPath, expectedRoot: BytePath("/")) == .untrusted(reason: "\(stampPath) was sealed for root \(root), not /")
    )

    // Older, not newer: an output's mtime going back is a change too (an unsealed build of an older commit).
    let app = BytePath(directory.url("target/debug/app"))
    try FileSystem.setModificationTime(app, to: Timestamp(seconds: 1_000_000_000))
    #expect(
        BuildStamp.load(at: stampPath, expectedRoot: root)
            == .untrusted(
                reason:
                    "the files beside \(stampPath) changed after the stamp was sealed (a build ran without sealing): 1 files then, 1 now; newest file there: \(root)/target/debug/app"
            ))

    try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: stampPath.description))
    #expect(BuildStamp.load(at: stampPath, expectedRoot: root) == .untrusted(reason: "\(stampPath): stamp is truncated (no checksum line)"))
}

/// One output dated 2099 doesn't blind the rule (issue 13, case 6): a later change to any other
/// output is still seen, whatever its mtime.
@Test func aFutureDatedOutputDoesNotBlindTheTrustRule() throws {
    let directory = TemporaryDirectory("guard-stamp-future")
    let root = try FileSystem.resolve(BytePath(directory.path))
    let stampPath = root.appending("target/.git-mtime-stamp")
    try FileManager.default.createDirectory(atPath: directory.url("target"), withIntermediateDirectories: true)
    try Data("unpacked".utf8).write(to: URL(fileURLWithPath: directory.url("target/from-archive")))
    try Data("v1".utf8).write(to: URL(fileURLWithPath: directory.url("target/out")))
    try FileSystem.setModificationTime(BytePath(directory.url("target/from-archive")), to: Timestamp(seconds: 4_070_908_800))
    let stamp = try sealedStamp(root: root, stampPath: stampPath)
    #expect(BuildStamp.load(at: stampPath, expectedRoot: root) == .trusted(stamp))
    try Data("v2".utf8).write(to: URL(fileURLWithPath: directory.url("target/out")))
    guard case .untrusted = BuildStamp.load(at: stampPath, expectedRoot: root) else {
        Issue.record("an unsealed rewrite of target/out went unnoticed behind a 2099 output"); return
    }
}

/// A stamp at the root (in-tree builds): `.git` and the tracked files the stamp records are left
/// out of the output state, so restore rewriting its caches or a source's time keeps it trusted.
@Test func aStampAtTheRootIgnoresGitAndTrackedFiles() throws {
    let directory = TemporaryDirectory("guard-stamp-root")
    let root = try FileSystem.resolve(BytePath(directory.path))
    let stampPath = root.appending(".git-mtime-stamp")
    try FileManager.default.createDirectory(atPath: directory.url(".git/git-mtime"), withIntermediateDirectories: true)
    try Data("cache 1".utf8).write(to: URL(fileURLWithPath: directory.url(".git/git-mtime/cache")))
    try FileManager.default.createDirectory(atPath: directory.url("src"), withIntermediateDirectories: true)
    try Data("int main;".utf8).write(to: URL(fileURLWithPath: directory.url("src/main.c")))
    try Data("object".utf8).write(to: URL(fileURLWithPath: directory.url("main.o")))
    let tracked = BuildStamp.Entry(
        path: BytePath("src/main.c"), objectID: BlobHasher.hash(bytes: Array("int main;".utf8)),
        modificationTime: Timestamp(seconds: 1_600_000_000))
    let location = try DirectoryTree(root: root).locate(stampPath, rootPath: root, create: false)
    let scan = OutputState.scan(location, excluding: [tracked.path])
    #expect(scan.state.fileCount == 1, "only main.o is an output")
    let stamp = BuildStamp(root: root, sealTime: FileSystem.now(), outputs: scan.state, entries: [tracked])
    try FileSystem.writeAtomically(stampPath, contents: stamp.serialized())
    try Data("cache 2, rewritten by restore".utf8).write(to: URL(fileURLWithPath: directory.url(".git/git-mtime/cache")))
    try FileSystem.setModificationTime(BytePath(directory.url("src/main.c")), to: Timestamp(seconds: 1_600_000_000))
    #expect(BuildStamp.load(at: stampPath, expectedRoot: root) == .trusted(stamp))
    try Data("object 2".utf8).write(to: URL(fileURLWithPath: directory.url("main.o")))
    guard case .untrusted = BuildStamp.load(at: stampPath, expectedRoot: root) else {
        Issue.record("an unsealed in-tree build went unnoticed"); return
    }
}
