import Foundation
import MtimeCore
import Testing
import TestSupport

/// Every byte value survives the manifest/stamp field escaping, and the escaped form holds no
/// separator a line-based reader could split on.
@Test func pathEscapingRoundTripsEveryByte() throws {
    var random = SeededGenerator(seed: 7)
    let samples: [[UInt8]] =
        [Array(0...255), Array("plain/path.rs".utf8), Array("with space\nand\\slash".utf8), [0xFF, 0xFE, 0x80]]
        + (0..<200).map { _ in (0..<Int.random(in: 1...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
    for bytes in samples {
        let field = PathEscaping.encodeField(bytes)
        #expect(!field.utf8.contains(UInt8(ascii: " ")) && !field.utf8.contains(UInt8(ascii: "\n")), "\(field)")
        #expect(PathEscaping.decodeField(Array(field.utf8)) == bytes)
    }
}

/// Blob ids are git's: checked against `git hash-object` for empty, text, binary and large contents.
@Test func blobHasherAgreesWithGit() throws {
    let directory = TemporaryDirectory()
    let contents: [(String, [UInt8])] = [
        ("empty", []), ("text", Array("hello\n".utf8)), ("binary", Array(0...255)),
        ("large", (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
    ]
    for (name, bytes) in contents {
        let path = directory.url(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let expected = try #require(
            ObjectID(
                hex: try runChecked(["git", "hash-object", path], in: directory.path).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(BlobHasher.hash(bytes: bytes) == expected, "\(name)")
        #expect(try BlobHasher.hash(fileAt: BytePath(path)) == expected, "\(name)")
        #expect(try BufferedBlobHasher(bufferSize: 4096).hash(regularFileAt: BytePath(path)).id == expected, "\(name)")
    }
}

/// Hex parsing accepts exactly 40 lowercase hex digits (the formats' spelling) and round-trips.
@Test func objectIDHexIsStrictAndRoundTrips() {
    let hex = "0123456789abcdef0123456789abcdef01234567"
    #expect(ObjectID(hex: hex)?.hex == hex)
    #expect(ObjectID(hex: String(hex.dropLast())) == nil)
    #expect(ObjectID(hex: hex + "0") == nil)
    #expect(ObjectID(hex: "g" + hex.dropFirst()) == nil)
}

/// `isWithin` compares whole components: `/a/bc` is not within `/a/b`.
@Test func bytePathContainmentIsByComponent() {
    #expect(BytePath("/a/b/c").isWithin(BytePath("/a/b")))
    #expect(BytePath("/a/b").isWithin(BytePath("/a/b")))
    #expect(!BytePath("/a/bc").isWithin(BytePath("/a/b")))
    #expect(BytePath("a/b/c").parent == BytePath("a/b"))
    #expect(BytePath("a/b/c").lastComponent == BytePath("c"))
}
