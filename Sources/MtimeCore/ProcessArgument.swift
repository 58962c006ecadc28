import Glibc

/// One word of a child's argv: the bytes the kernel passes. A path crossing into another program
/// keeps its bytes (it need not be UTF-8, and may hold a backslash or a newline); interpolating a
/// `BytePath` here appends its bytes, never its escaped `description`.
public struct ProcessArgument: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public var bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(_ path: BytePath) { bytes = path.bytes }
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(stringLiteral text: String) { self.init(text) }
    public init(stringInterpolation: StringInterpolation) { bytes = stringInterpolation.bytes }

    /// How messages show it: escaped as paths are.
    public var description: String { PathEscaping.display(bytes) }

    public struct StringInterpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []
        public init(literalCapacity: Int, interpolationCount: Int) { bytes.reserveCapacity(literalCapacity) }
        public mutating func appendLiteral(_ literal: String) { bytes += literal.utf8 }
        public mutating func appendInterpolation(_ path: BytePath) { bytes += path.bytes }
        public mutating func appendInterpolation(_ text: String) { bytes += text.utf8 }
    }

    /// Every word of `words` as its UTF-8 bytes.
    public static func words(_ words: [String]) -> [ProcessArgument] { words.map { ProcessArgument($0) } }
}

/// This process's own argv, byte for byte. Swift's `CommandLine.arguments` (and so every parsed
/// option) repairs bytes that aren't UTF-8 into U+FFFD: a build command handed on after `--`, and a
/// path given as an option, must mean what the bytes that reached us mean.
public enum RawCommandLine {
    static var words: [[UInt8]] {
        (0..<Int(CommandLine.argc)).map { index -> [UInt8] in
            guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
            return BytePath(cString: pointer).bytes
        }
    }

    /// The path an option's parsed `value` was given as: the bytes of the argv word (or of the part
    /// after `=` in `--option=value`) that reads as `value`. When words with different bytes read as
    /// it alike, none is chosen: an error says the option's value must be given unambiguously.
    public static func path(_ value: String) throws(AmbiguousArgument) -> BytePath {
        let text = Array(value.utf8)
        var found: Set<[UInt8]> = []
        for word in words.dropFirst() {
            if String(decoding: word, as: UTF8.self) == value { found.insert(word) }
            if word.starts(with: Array("--".utf8)), let equals = word.firstIndex(of: UInt8(ascii: "=")) {
                let rest = Array(word[(equals + 1)...])
                if String(decoding: rest, as: UTF8.self) == value { found.insert(rest) }
            }
        }
        guard found.count <= 1 else { throw AmbiguousArgument(value: value) }
        return BytePath(found.first ?? text)
    }

    /// The trailing words of argv that `parsed` (the words a parser kept, in order, at the end of the
    /// command line) came from, as their bytes; a word whose bytes don't read back as the parsed
    /// text (the parser changed it) is passed as parsed.
    public static func trailing(_ parsed: [String]) -> [ProcessArgument] {
        let raw = words
        guard raw.count >= parsed.count else { return ProcessArgument.words(parsed) }
        return zip(raw.suffix(parsed.count), parsed).map { bytes, text in
            String(decoding: bytes, as: UTF8.self) == text ? ProcessArgument(bytes: bytes) : ProcessArgument(text)
        }
    }
}

/// Two argv words whose bytes differ (not UTF-8) read as one parsed option value.
public struct AmbiguousArgument: Error, CustomStringConvertible {
    public let value: String
    public var description: String {
        "the path '\(value)' was given twice with different bytes that aren't UTF-8; give it once"
    }
}
