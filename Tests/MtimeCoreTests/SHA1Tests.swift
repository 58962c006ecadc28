import Foundation
import MtimeCore
import Testing
import TestSupport

// Our own SHA-1 (CSHA1) against published vectors and against git itself, for both block functions:
// the CPU's SHA instructions and the portable C. Sizes straddle the 55/56/64-byte padding edges and
// the hasher's 1 MiB read buffer; updates come in odd-sized pieces so partial blocks are exercised.
@Suite(.serialized) struct SHA1Tests {
    static let vectors: [(String, String)] = [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    ]

    @Test(arguments: [true, false]) func publishedVectors(hardware: Bool) {
        SHA1.selectImplementation(allowHardware: hardware)
        defer { SHA1.selectImplementation(allowHardware: true) }
        for (text, digest) in Self.vectors {
            #expect(Checksum.sha1(Array(text.utf8)).hex == digest, "\(text)")
        }
        var hasher = SHA1()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(thousand) }
        #expect(hasher.finalize().hex == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test(arguments: [true, false]) func blobIDsMatchGit(hardware: Bool) throws {
        SHA1.selectImplementation(allowHardware: hardware)
        defer { SHA1.selectImplementation(allowHardware: true) }
        let directory = TemporaryDirectory("sha1")
        var generator = SeededGenerator(seed: hardware ? 1 : 2)
        let sizes = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 4095, 65_537, (1 << 20) - 7, (1 << 20) + 13, 3 << 20]
        var paths: [String] = []
        for size in sizes {
            let path = directory.url("file-\(size)")
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: size, by: 8) {
                    withUnsafeBytes(of: generator.next()) { word in
                        raw.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: min(8, size - offset))
                    }
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let expected = try runChecked(["git", "hash-object", "--no-filters"] + paths, in: directory.path).stdout.split(separator: "\n").map(
            String.init)
        #expect(expected.count == sizes.count)
        for (path, id) in zip(paths, expected) {
            #expect(try BlobHasher.hash(fileAt: BytePath(path)).hex == id, "\(path)")
            // The same bytes in pieces of 1, 7, 63 and 1000 bytes, cycling.
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            var hasher = SHA1()
            hasher.update(Array("blob \(bytes.count)\0".utf8))
            var offset = 0, piece = 0
            while offset < bytes.count {
                let count = min([1, 7, 63, 1000][piece % 4], bytes.count - offset)
                bytes[offset..<offset + count].withUnsafeBytes { hasher.update($0) }
                offset += count
                piece += 1
            }
            #expect(hasher.finalize().hex == id, "\(path) in pieces")
        }
    }
}
