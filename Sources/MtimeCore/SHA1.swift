import CSHA1

/// SHA-1, streaming: git's object ids and our cache files' trailers. Our own C implementation
/// (CSHA1: the x86-64 SHA instructions where present), so neither executable links a crypto
/// library or the Foundation it would bring.
public struct SHA1 {
    private var context = gitmtime_sha1()

    public init() { gitmtime_sha1_init(&context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        gitmtime_sha1_update(&context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest; the hasher must not be updated afterwards.
    public mutating func finalize() -> ObjectID {
        var digest = (UInt64(0), UInt64(0), UInt32(0))
        return withUnsafeMutableBytes(of: &digest) { raw in
            gitmtime_sha1_final(&context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return ObjectID(loading: UnsafeRawPointer(raw.baseAddress!))
        }
    }

    /// Whether the CPU's SHA instructions are in use. `allowHardware: false` forces the portable
    /// code for the whole process (the tests compare both); the default is the fastest available.
    @discardableResult
    public static func selectImplementation(allowHardware: Bool) -> Bool {
        gitmtime_sha1_select(allowHardware ? 1 : 0) != 0
    }
}
