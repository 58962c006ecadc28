import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

private let sample = BuildStamp(
    root: BytePath("/work/ctx"), sealTime: Timestamp(seconds: 1_700_000_000, nanoseconds: 5),
    entries: [
        .init(path: BytePath([0x6e, 0x65, 0x77, 0x0a, 0xff, 0x20, 0x78]), objectID: ObjectID(hex: String(repeating: "ab", count: 20))!,
              modificationTime: Timestamp(seconds: 1, nanoseconds: 2)),
        .init(path: BytePath("src/main.rs"), objectID: ObjectID(hex: String(repeating: "01", count: 20))!,
              modificationTime: Timestamp(seconds: 1_600_000_000, nanoseconds: 999_999_999)),
    ])

@Test func stampRoundTripsThroughItsTextForm() throws {
    let text = sample.serialized()
    #expect(try BuildStamp(parsing: text) == sample)
    let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
    #expect(Array(lines.prefix(4)) == ["git-mtime-stamp 1", "root /work/ctx", "sealed 1700000000.000000005", "entries 2"])
    #expect(lines[4] == "abababababababababababababababababababab 1.000000002 new\\x0a\\xff\\x20x")
    #expect(lines[6].hasPrefix("checksum "))
}

@Test func damagedStampsAreErrors() throws {
    let text = sample.serialized()
    #expect(throws: StampError(line: 0, "stamp is truncated (no final newline)")) { try BuildStamp(parsing: Array(text.dropLast(3))) }
    var edited = text
    edited[edited.firstIndex(of: UInt8(ascii: "5"))!] = UInt8(ascii: "6")
    #expect(throws: StampError(line: 0, "stamp checksum does not match its contents")) { try BuildStamp(parsing: edited) }
    let cut = Array(text[...text.firstIndex(of: UInt8(ascii: "\n"))!])
    #expect(throws: StampError(line: 0, "stamp is truncated (no checksum line)")) { try BuildStamp(parsing: cut) }
    // A well-formed checksum over a wrong count is still refused.
    var body = String(decoding: text, as: UTF8.self).split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
    body = body.replacingOccurrences(of: "entries 2", with: "entries 99999999999")
    let resummed = Array(body.utf8) + Array("checksum \(BlobHasher.hash(bytes: Array(body.utf8)).hex)\n".utf8)
    #expect(throws: StampError(line: 4, "entry count is not a number in range")) { try BuildStamp(parsing: resummed) }
}

@Test func loadTrustsOnlyAStampNothingBesideItIsNewerThan() throws {
    let directory = TemporaryDirectory("guard-stamp")
    let stampPath = BytePath(directory.url("target/.git-mtime-stamp"))
    #expect(BuildStamp.load(at: stampPath) == .absent)
    try FileManager.default.createDirectory(atPath: directory.url("target/debug"), withIntermediateDirectories: true)
    try Data("old output".utf8).write(to: URL(fileURLWithPath: directory.url("target/debug/app")))
    let outputTime = try modificationTime(directory.url("target/debug/app"))
    let stamp = BuildStamp(root: BytePath("/ctx"), sealTime: outputTime, entries: sample.entries)
    try FileSystem.writeAtomically(stampPath, contents: stamp.serialized())
    #expect(BuildStamp.load(at: stampPath) == .trusted(stamp))
    #expect(BuildStamp.load(at: stampPath, expectedRoot: BytePath("/ctx")) == .trusted(stamp))
    #expect(BuildStamp.load(at: stampPath, expectedRoot: BytePath("/other")) ==
        .untrusted(reason: "\(stampPath) was sealed for root /ctx, not /other"))
    #expect(try BuildStamp.newestModificationTime(besideStamp: stampPath) == outputTime)

    try FileSystem.setModificationTime(BytePath(directory.url("target/debug/app")), to: Timestamp(seconds: outputTime.seconds, nanoseconds: outputTime.nanoseconds + 1))
    #expect(BuildStamp.load(at: stampPath) ==
        .untrusted(reason: "\(directory.url("target/debug/app")) changed after the stamp was sealed (a build ran without sealing)"))

    try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: stampPath.description))
    #expect(BuildStamp.load(at: stampPath) == .untrusted(reason: "\(stampPath): stamp is truncated (no checksum line)"))
}
