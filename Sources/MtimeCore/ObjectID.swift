/// A git object id (SHA-1, 20 bytes), stored inline so tables of them stay flat and cheap to hash.
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 20
    public static let zero = ObjectID(high: 0, middle: 0, low: 0)

    // Big-endian words: comparing them in order compares the raw bytes.
    public let high: UInt64
    public let middle: UInt64
    public let low: UInt32

    public init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// From exactly 20 raw bytes.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == ObjectID.byteCount, "object ids are 20 bytes")
        var high: UInt64 = 0, middle: UInt64 = 0, low: UInt32 = 0
        for (offset, byte) in bytes.enumerated() {
            switch offset {
            case 0..<8: high = high << 8 | UInt64(byte)
            case 8..<16: middle = middle << 8 | UInt64(byte)
            default: low = low << 8 | UInt32(byte)
            }
        }
        self.init(high: high, middle: middle, low: low)
    }

    /// From 40 hex digits (either case).
    public init?<S: StringProtocol>(hex: S) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 2 * ObjectID.byteCount else { return nil }
        var raw = [UInt8]()
        raw.reserveCapacity(ObjectID.byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = ObjectID.nibble(utf8[index]), let low = ObjectID.nibble(utf8[index + 1]) else { return nil }
            raw.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: raw)
    }

    /// From exactly 40 lowercase hex digits, the only form the manifest and stamp formats allow.
    public init?<S: StringProtocol>(lowercaseHex hex: S) {
        guard
            hex.utf8.allSatisfy({
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            })
        else { return nil }
        self.init(hex: hex)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(ObjectID.byteCount)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: middle >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt32(shift))) }
        return out
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(40)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    /// The sub-second part of an assigned mtime: the id's first four bytes, reduced below 1e9.
    public var deterministicNanoseconds: Int32 {
        Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: high >> 32) % 1_000_000_000)
    }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
