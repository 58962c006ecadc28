extension ObjectID {
    /// From 20 raw bytes in memory: three unaligned big-endian loads, no generic collection code
    /// (the history walk runs this for every tree entry and cache record it reads).
    @inlinable
    public init(loading raw: UnsafeRawPointer) {
        self.init(
            high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
            middle: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            low: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
    }
}
