/// The JSON (exec) form of RUN, CMD, COPY and friends, read as Go's `json.Decoder` reads it: the
/// first JSON value in the text (anything after it is ignored, as Docker ignores it).
enum JSONArray {
    enum Outcome: Equatable {
        /// Not a JSON value starting with `[`: the instruction is in shell form.
        case notJSON
        /// A JSON array with a value that is not a string: Docker refuses the instruction.
        case notStrings
        case strings([String], end: Int)
    }

    static func parse(_ text: ArraySlice<UInt8>) -> Outcome {
        var reader = Reader(bytes: text, position: text.startIndex)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "[") else { return .notJSON }
        guard let value = reader.value() else { return .notJSON }
        guard case .array(let items) = value else { return .notJSON }
        var strings: [String] = []
        for item in items {
            guard case .string(let string) = item else { return .notStrings }
            strings.append(string)
        }
        return .strings(strings, end: reader.position)
    }

    private enum Value {
        case string(String)
        case array([Value])
        case other
    }

    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int
        /// Arrays and objects inside each other: bounded like Go's decoder (which stops at 10,000).
        var depth = 0
        static let maximumDepth = 1000

        var peek: UInt8? { position < bytes.endIndex ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        }

        mutating func value() -> Value? {
            skipSpace()
            guard let byte = peek else { return nil }
            depth += 1
            defer { depth -= 1 }
            guard depth <= Reader.maximumDepth else { return nil }
            switch byte {
            case UInt8(ascii: "["):
                position += 1
                var items: [Value] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { position += 1; return .array(items) }
                while true {
                    guard let item = value() else { return nil }
                    items.append(item)
                    skipSpace()
                    switch peek {
                    case UInt8(ascii: ","): position += 1
                    case UInt8(ascii: "]"): position += 1; return .array(items)
                    default: return nil
                    }
                }
            case UInt8(ascii: "{"):
                position += 1
                skipSpace()
                if peek == UInt8(ascii: "}") { position += 1; return .other }
                while true {
                    skipSpace()
                    guard case .string? = value() else { return nil }
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { return nil }
                    position += 1
                    guard value() != nil else { return nil }
                    skipSpace()
                    switch peek {
                    case UInt8(ascii: ","): position += 1
                    case UInt8(ascii: "}"): position += 1; return .other
                    default: return nil
                    }
                }
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            default:
                return literal()
            }
        }

        private mutating func literal() -> Value? {
            for word in ["true", "false", "null"] where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return .other
            }
            // A number: -? digits [. digits] [e [+-] digits]
            let start = position
            if peek == UInt8(ascii: "-") { position += 1 }
            var digits = 0
            while let byte = peek, byte.isASCIIDigit { position += 1; digits += 1 }
            guard digits > 0 else { position = start; return nil }
            if peek == UInt8(ascii: ".") {
                position += 1
                var fraction = 0
                while let byte = peek, byte.isASCIIDigit { position += 1; fraction += 1 }
                guard fraction > 0 else { return nil }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                var exponent = 0
                while let byte = peek, byte.isASCIIDigit { position += 1; exponent += 1 }
                guard exponent > 0 else { return nil }
            }
            return .other
        }

        private mutating func string() -> String? {
            position += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                if !raw.isEmpty { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw = [] }
            }
            while let byte = peek {
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard let escaped = peek else { return nil }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        guard var code = hex4() else { return nil }
                        // A surrogate pair; a lone surrogate becomes U+FFFD, as Go decodes it.
                        if (0xD800..<0xDC00).contains(code), bytes[position...].starts(with: Array("\\u".utf8)) {
                            let saved = position
                            position += 2
                            if let low = hex4(), (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                position = saved
                            }
                        }
                        scalars.append(UnicodeScalar(code) ?? "\u{FFFD}")
                    default: return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    raw.append(byte)
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard position + 4 <= bytes.endIndex,
                bytes[position..<position + 4].allSatisfy({ $0.isASCIIDigit || (0x41...0x46).contains($0 & 0xDF) })
            else { return nil }
            guard let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else { return nil }
            position += 4
            return value
        }
    }
}
