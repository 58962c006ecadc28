/// HMAC-SHA1 (RFC 2104 over our own SHA-1): authenticates the history cache's snapshots under a key
/// only trusted writers hold. HMAC's security rests on the compression function being a PRF, not
/// on collision resistance, so SHA-1's known collisions do not weaken it.
public struct HMACSHA1 {
    private static let blockSize = 64
    private var inner = SHA1()
    private var outerPad: [UInt8]

    public init(key: [UInt8]) {
        // A key longer than a block is replaced by its digest; shorter ones are zero-padded.
        var block = key.count > HMACSHA1.blockSize ? Checksum.sha1(key).bytes : key
        block += [UInt8](repeating: 0, count: HMACSHA1.blockSize - block.count)
        outerPad = block.map { $0 ^ 0x5c }
        inner.update(block.map { $0 ^ 0x36 })
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }

    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }

    /// The MAC; the instance must not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        var outer = SHA1()
        outer.update(outerPad)
        outer.update(inner.finalize().bytes)
        return outer.finalize().bytes
    }

    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = HMACSHA1(key: key)
        mac.update(message)
        return mac.finalize()
    }

    /// Equal lengths and bytes, in a time that depends only on the length: a MAC compared byte by
    /// byte with an early exit tells a forger, by timing, how many leading bytes were right.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
