import Foundation
import MtimeCore
import Testing
import TestSupport

/// HMAC-SHA1 against RFC 2202's published vectors and against Python's `hmac` for keys and messages
/// around the 64-byte block edges (a key longer than a block is hashed first).
@Suite struct HMACTests {
    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    private static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    /// RFC 2202 section 3, all seven HMAC-SHA-1 test cases.
    @Test func rfc2202Vectors() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8), "b617318655057264e28bc0b6fb378c8ef146be00"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
            (
                Self.bytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da"
            ),
            ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
            (
                [UInt8](repeating: 0xaa, count: 80), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "aa4ae5e15272d00e95705637ce8a3b55ed402112"
            ),
            (
                [UInt8](repeating: 0xaa, count: 80),
                Array("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".utf8),
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"
            ),
        ]
        for (key, data, mac) in cases {
            #expect(Self.hex(HMACSHA1.authenticationCode(key: key, message: data)) == mac)
        }
    }

    @Test func matchesPythonHMAC() throws {
        var generator = SeededGenerator(seed: 2104)
        var lines: [String] = []
        var ours: [String] = []
        for keyLength in [1, 16, 63, 64, 65, 200] {
            for messageLength in [0, 1, 55, 56, 64, 119, 1000, 70_000] {
                let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                lines.append("\(Self.hex(key)) \(Self.hex(message))")
                // The same bytes in uneven pieces: streaming must not change the MAC.
                var mac = HMACSHA1(key: key)
                var offset = 0
                while offset < message.count {
                    let count = min(offset % 7 + 1 + offset / 3, message.count - offset)
                    mac.update(Array(message[offset..<offset + count]))
                    offset += count
                }
                ours.append(Self.hex(mac.finalize()))
            }
        }
        let script = """
            import hmac, hashlib, sys
            for line in sys.stdin.read().split("\\n"):
                key, _, message = line.partition(" ")
                print(hmac.new(bytes.fromhex(key), bytes.fromhex(message), hashlib.sha1).hexdigest())
            """
        let python = try runChecked(["python3", "-c", script], input: lines.joined(separator: "\n"))
        #expect(python.stdout.split(separator: "\n").map(String.init) == ours)
    }

    @Test func constantTimeEqualComparesLengthAndEveryByte() {
        let mac = HMACSHA1.authenticationCode(key: Array("key".utf8), message: Array("message".utf8))
        #expect(HMACSHA1.constantTimeEqual(mac, mac))
        #expect(!HMACSHA1.constantTimeEqual(mac, Array(mac.dropLast())))
        #expect(!HMACSHA1.constantTimeEqual(mac, []))
        for index in mac.indices {
            var flipped = mac
            flipped[index] ^= 0x01
            #expect(!HMACSHA1.constantTimeEqual(mac, flipped), "byte \(index)")
        }
    }
}
