import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// The reader accepts each number, id and mode only in the one spelling the writer uses (issue 10,
/// "Also"): a mutation generator rewrites every field of a real manifest in the other spellings a
/// lenient parser would take (uppercase hex, leading zeros, `+`, a sign on a count, out-of-range
/// times) and random bytes besides. Every mutation is either rejected, or parsed into a manifest
/// with safe paths that serializes back to the same bytes (paths aside: their escapes have
/// equivalent spellings). Never a crash or a hang.
@Test func mutatedManifestsAreRejectedOrCanonical() throws {
    let id = BlobHasher.hash(bytes: Array("x".utf8))
    let seed = Manifest(
        headCommit: ObjectID(hex: String(repeating: "0a", count: 20))!, dirtyCount: 1,
        entries: [
            ManifestEntry(
                path: BytePath("Cargo.toml"), objectID: id, modificationTime: Timestamp(seconds: 1_600_000_000, nanoseconds: 5),
                mode: ManifestEntry.regularMode),
            ManifestEntry(
                path: BytePath("run.sh"), objectID: id, modificationTime: Timestamp(seconds: 1_600_000_001, nanoseconds: 0),
                mode: ManifestEntry.executableMode),
            ManifestEntry(
                path: BytePath("src/a b"), objectID: id, modificationTime: Timestamp(seconds: 7, nanoseconds: 999_999_999),
                mode: ManifestEntry.symlinkMode,
                isUntracked: true),
        ]
    ).serialized()
    var mutations: [[UInt8]] = []
    // Targeted: every digit or hex letter uppercased, or preceded by `0`, `+` or `-`.
    for (index, byte) in seed.enumerated() {
        let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        let isHexLetter = (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        if isHexLetter { var copy = seed; copy[index] = byte - 32; mutations.append(copy) }
        guard isDigit, index == 0 || seed[index - 1] == UInt8(ascii: " ") else { continue }
        for prefix in ["0", "+", "-", "00", " "] {
            var copy = seed
            copy.insert(contentsOf: Array(prefix.utf8), at: index)
            mutations.append(copy)
        }
    }
    // Named cases from the issue, and times outside the documented range.
    let text = String(decoding: seed, as: UTF8.self)
    for (from, to) in [
        ("untracked 1\n", "untracked +1\n"), ("entries 3\n", "entries 03\n"), ("dirty 1\n", "dirty +1\n"),
        ("git-mtime-manifest 2\n", "git-mtime-manifest +2\n"), (" 100644 ", " 0100644 "), (" 100755 ", " +100755 "),
        (id.hex, id.hex.uppercased()), ("1600000000.000000005", "9223372036854775807.999999999"),
        ("1600000000.000000005", "253402300800.000000000"), ("1600000000.000000005", "-62135596801.000000000"),
    ] {
        mutations.append(Array(text.replacingOccurrences(of: from, with: to).utf8))
    }
    // Random: bytes replaced (by any byte, or one that spells numbers and paths), removed, inserted
    // (path-breaking bytes), or the rest cut off.
    var generator = SeededGenerator(seed: 0x6769_746D_7469_6D65)
    for _ in 0..<3000 {
        var bytes = seed
        for _ in 0...Int(generator.next() % 4) where !bytes.isEmpty {
            let position = Int(generator.next() % UInt64(bytes.count))
            switch generator.next() % 5 {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            case 1: bytes[position] = Array("0123456789abcdefABCDEF+- .\n\\x".utf8)[Int(generator.next() % 29)]
            case 2: bytes.remove(at: position)
            case 3:
                bytes.insert(
                    [UInt8(ascii: "\n"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "\\"), 0][Int(generator.next() % 5)],
                    at: position)
            default: bytes = Array(bytes[..<position])
            }
        }
        mutations.append(bytes)
    }

    var parsed = 0, rejected = 0
    for bytes in mutations where bytes != seed {
        guard let manifest = try? Manifest(parsing: bytes) else { rejected += 1; continue }
        parsed += 1
        for entry in manifest.entries { #expect(ManifestEntry.unsafePathReason(entry.path) == nil) }
        let again = manifest.serialized()
        let inputLines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let outputLines = again.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        #expect(inputLines.count == outputLines.count)
        for (input, output) in zip(inputLines, outputLines) {
            let inputFields = input.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            let outputFields = output.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            // Every field but an entry's path (the fifth) must be spelled exactly as the writer spells it.
            let compared = inputFields.count == 5 ? 4 : inputFields.count
            #expect(
                Array(inputFields.prefix(compared)) == Array(outputFields.prefix(compared)),
                "accepted a non-canonical line: \(String(decoding: input, as: UTF8.self))")
        }
    }
    #expect(parsed > 0, "the generator never produced a valid manifest: it tests nothing")
    #expect(rejected > 0)
    for (from, to) in [(" 100644 ", " 0100644 "), ("entries 3\n", "entries +3\n"), (id.hex, id.hex.uppercased())] {
        #expect(throws: ManifestError.self) { try Manifest(parsing: Array(text.replacingOccurrences(of: from, with: to).utf8)) }
    }
    print("manifest mutations: \(parsed) parsed, \(rejected) rejected")
}
