import Glibc

/// Little-endian fixed-width fields for our cache files, written straight into one buffer of a
/// size computed up front: a warm run encodes and decodes thousands of records, and per-field
/// array appends or per-entry allocations showed up in its profile.
public struct BinaryWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0

    /// Builds an array of exactly `size` bytes; `body` must write all of them.
    public static func bytes(size: Int, _ body: (inout BinaryWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = BinaryWriter(base: UnsafeMutableRawPointer(buffer.baseAddress!), capacity: size)
            body(&writer)
            precondition(writer.count == size, "cache encoding wrote \(writer.count) of \(size) bytes")
            initialized = size
        }
    }

    private init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inlinable @inline(__always)
    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        precondition(count + MemoryLayout<T>.size <= capacity)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// The id's 20 raw bytes, in git's (big-endian) order.
    @inlinable @inline(__always)
    public mutating func append(_ id: ObjectID) {
        precondition(count + ObjectID.byteCount <= capacity)
        base.storeBytes(of: id.high.bigEndian, toByteOffset: count, as: UInt64.self)
        base.storeBytes(of: id.middle.bigEndian, toByteOffset: count + 8, as: UInt64.self)
        base.storeBytes(of: id.low.bigEndian, toByteOffset: count + 16, as: UInt32.self)
        count += ObjectID.byteCount
    }

    @inlinable @inline(__always)
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= capacity)
        if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
    }

    @inlinable
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// `value` as an unsigned LEB128 varint: seven bits a byte, low bits first, the high bit set on
    /// every byte but the last; `varintSize(value)` bytes, the fewest that hold it.
    @inlinable @inline(__always)
    public mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }

    /// The bytes `appendVarint(value)` writes.
    @inlinable @inline(__always)
    public static func varintSize(_ value: UInt64) -> Int {
        max(1, (UInt64.bitWidth - value.leadingZeroBitCount + 6) / 7)
    }

    /// The SHA-1 of everything written so far, appended as a trailer.
    public mutating func appendChecksum() {
        let digest = Checksum.sha1(UnsafeRawBufferPointer(start: base, count: count))
        append(digest)
    }
}

/// Bounds-checked little-endian reads over borrowed bytes; every read returns nil past the end.
public struct BinaryReader {
    public let bytes: UnsafeRawBufferPointer
    @usableFromInline var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var isAtEnd: Bool { offset == bytes.count }
    @inlinable public var remaining: Int { bytes.count - offset }

    @inlinable @inline(__always)
    public mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard bytes.count - offset >= MemoryLayout<T>.size else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable @inline(__always)
    public mutating func objectID() -> ObjectID? {
        guard bytes.count - offset >= ObjectID.byteCount else { return nil }
        defer { offset += ObjectID.byteCount }
        return ObjectID(loading: bytes.baseAddress! + offset)
    }

    /// A varint as `BinaryWriter.appendVarint` writes it; nil past the end, beyond 64 bits, or when
    /// not in its shortest form (a trailing zero byte), which the writer never produces.
    @inlinable
    public mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            let bits = UInt64(byte & 0x7f)
            guard shift < 64, shift == 0 || bits >> (64 - shift) == 0 else { return nil }
            value |= bits << shift
            if byte & 0x80 == 0 { return byte == 0 && shift > 0 ? nil : value }
            shift += 7
        }
        return nil
    }

    /// The next `count` bytes, borrowed (valid as long as `bytes` is).
    @inlinable @inline(__always)
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }
}

extension Checksum {
    /// SHA-1 of raw bytes in memory, without the generic collection path.
    public static func sha1(_ bytes: UnsafeRawBufferPointer) -> ObjectID {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Whether `file` ends in the SHA-1 of everything before it (our cache files' trailer).
    public static func hasValidTrailer(_ file: UnsafeRawBufferPointer) -> Bool {
        guard file.count >= ObjectID.byteCount else { return false }
        let bodyCount = file.count - ObjectID.byteCount
        return sha1(UnsafeRawBufferPointer(rebasing: file[..<bodyCount])) == ObjectID(loading: file.baseAddress! + bodyCount)
    }

    /// What `parse` makes of `file`, when `file` ends in the SHA-1 of everything before it; nil
    /// otherwise. From `concurrentTrailerSize` bytes on (the index and the stat cache of a large tree,
    /// where the SHA-1 is a third of reading them) the checksum is computed on another thread while
    /// `parse` runs, so `parse` must take any bytes (bounds-checked) and its result counts only if
    /// the checksum holds.
    public static func verifyingTrailer<T>(of file: FileBytes, _ parse: () -> T?) -> T? {
        guard file.count >= concurrentTrailerSize else {
            return file.withUnsafeBytes { hasValidTrailer($0) } ? parse() : nil
        }
        let checksum = Background { file.withUnsafeBytes { hasValidTrailer($0) } }
        let parsed = parse()
        return (try? checksum.value()) == true ? parsed : nil
    }

    /// Below this size a thread costs more than the checksum it would take over.
    public static let concurrentTrailerSize = 256 << 10
}

/// Byte order of two byte strings (git's path order): <0, 0, >0.
@inlinable @inline(__always)
public func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let order = memcmp(a.baseAddress!, b.baseAddress!, common)
        if order != 0 { return Int(order) }
    }
    return a.count - b.count
}
