/// The one escaping rule for paths in our text formats and messages.
///
/// Bytes 0x21–0x7E other than `\` stand for themselves, as do valid UTF-8 sequences of
/// non-ASCII characters; `\\` is a backslash; every other byte (controls, space-free formats
/// aside, invalid UTF-8) is `\xHH` with two lowercase hex digits. Space (0x20) is kept
/// literal in `display`, but escaped as `\x20` in `encodeField` so fields never contain it.
public enum PathEscaping {
    public static func encodeField(_ bytes: [UInt8]) -> String {
        encode(bytes, escapeSpace: true)
    }

    public static func display(_ bytes: [UInt8]) -> String {
        encode(bytes, escapeSpace: false)
    }

    /// Inverse of `encodeField`; nil for a malformed escape or an unescaped control byte.
    public static func decodeField<S: Sequence>(_ text: S) -> [UInt8]? where S.Element == UInt8 {
        var out: [UInt8] = []
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            if byte < 0x21 || byte == 0x7F { return nil }
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            switch iterator.next() {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "x"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                out.append(high << 4 | low)
            default: return nil
            }
        }
        return out
    }

    private static func encode(_ bytes: [UInt8], escapeSpace: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x80, let length = utf8SequenceLength(bytes, at: index) {
                out.append(contentsOf: bytes[index..<index + length])
                index += length
                continue
            }
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x20 where !escapeSpace: out.append(byte)
            case 0x21...0x7E: out.append(byte)
            default:
                out.append(contentsOf: Array("\\x".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Length of a well-formed (shortest-form, non-surrogate) UTF-8 sequence starting at `index`.
    private static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        let minimum: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80
        case 0xE0...0xEF: length = 3; minimum = 0x800
        case 0xF0...0xF4: length = 4; minimum = 0x10000
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        var scalar = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let next = bytes[index + offset]
            guard next & 0xC0 == 0x80 else { return nil }
            scalar = scalar << 6 | UInt32(next & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
        return length
    }
}
