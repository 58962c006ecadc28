/// Dockerfile word processing as BuildKit's `shell.Lex` does it: single and double quotes, the
/// escape token, and variable references (`$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`,
/// `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME#glob}`, `${NAME%glob}` and their doubled
/// forms). Used for the instructions Docker expands (FROM, WORKDIR, ENV, ARG, COPY, `--mount` values)
/// and, in its raw modes, to find heredoc words.
public struct WordLexer: Sendable {
    public var escape: UInt8
    /// Keep the quote characters in the result (the quoting still groups words).
    public var rawQuotes = false
    /// Keep the escape token in the result.
    public var rawEscapes = false
    /// Leave a reference to an unset variable as written instead of making it empty.
    public var skipUnsetVariables = false

    public init(escape: UInt8 = UInt8(ascii: "\\")) { self.escape = escape }

    /// The text as one word: quotes removed, references replaced, white space kept.
    public func expand(_ text: String, _ lookup: (String) -> String?) throws(WordError) -> String {
        try withoutActuallyEscaping(lookup) { lookup throws(WordError) in
            var scan = Scan(bytes: Array(text.utf8), lexer: self, lookup: lookup)
            return try scan.process(stoppingAt: nil).text
        }
    }

    /// The text split into words at unquoted white space (white space a reference expands to splits too).
    public func words(_ text: String, _ lookup: (String) -> String?) throws(WordError) -> [String] {
        try withoutActuallyEscaping(lookup) { lookup throws(WordError) in
            var scan = Scan(bytes: Array(text.utf8), lexer: self, lookup: lookup)
            return try scan.process(stoppingAt: nil).words
        }
    }
}

private struct Scan {
    let bytes: [UInt8]
    let lexer: WordLexer
    let lookup: (String) -> String?
    var position = 0
    /// `${…}` inside `${…}`: bounded, so hostile input cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 64

    init(bytes: [UInt8], lexer: WordLexer, lookup: @escaping (String) -> String?) {
        self.bytes = bytes
        self.lexer = lexer
        self.lookup = lookup
    }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
    mutating func next() -> UInt8? {
        guard position < bytes.count else { return nil }
        position += 1
        return bytes[position - 1]
    }

    /// BuildKit's `processStopOn`: reads up to `stop` (consumed), or to the end when `stop` is nil.
    mutating func process(stoppingAt stop: UInt8?) throws(WordError) -> (text: String, words: [String]) {
        var result: [UInt8] = []
        var words = Words()
        while let byte = peek {
            if let stop, byte == stop {
                position += 1
                return (string(result), words.finish())
            }
            switch byte {
            case UInt8(ascii: "'"):
                let quoted = try singleQuoted()
                result += quoted
                words.addRaw(quoted)
            case UInt8(ascii: "\""):
                let quoted = try doubleQuoted()
                result += quoted
                words.addRaw(quoted)
            case UInt8(ascii: "$"):
                let value = try dollar()
                result += value
                words.add(value)
            default:
                var character = next()!
                if character == lexer.escape {
                    if lexer.rawEscapes {
                        words.addRaw([character])
                        result.append(character)
                    }
                    guard let escaped = next() else { break }
                    character = escaped
                    words.addRaw([character])
                } else {
                    words.add([character])
                }
                result.append(character)
            }
        }
        if let stop {
            throw WordError("unexpected end of statement while looking for matching \(String(UnicodeScalar(stop)))")
        }
        return (string(result), words.finish())
    }

    private mutating func singleQuoted() throws(WordError) -> [UInt8] {
        var result: [UInt8] = []
        position += 1
        if lexer.rawQuotes { result.append(UInt8(ascii: "'")) }
        while true {
            guard let byte = next() else { throw WordError("unexpected end of statement while looking for matching single-quote") }
            if byte == UInt8(ascii: "'") {
                if lexer.rawQuotes { result.append(byte) }
                return result
            }
            result.append(byte)
        }
    }

    private mutating func doubleQuoted() throws(WordError) -> [UInt8] {
        var result: [UInt8] = []
        position += 1
        if lexer.rawQuotes { result.append(UInt8(ascii: "\"")) }
        while true {
            guard let byte = peek else { throw WordError("unexpected end of statement while looking for matching double-quote") }
            if byte == UInt8(ascii: "\"") {
                position += 1
                if lexer.rawQuotes { result.append(byte) }
                return result
            }
            if byte == UInt8(ascii: "$") {
                result += try dollar()
                continue
            }
            var character = next()!
            if character == lexer.escape {
                if lexer.rawEscapes { result.append(character) }
                guard let following = peek else { continue }
                // Only `"`, `$` and the escape token can be escaped; any other escape stays as written.
                if following == UInt8(ascii: "\"") || following == UInt8(ascii: "$") || following == lexer.escape {
                    character = next()!
                }
            }
            result.append(character)
        }
    }

    /// `$NAME` or `${…}`; a `$` not followed by a name stands for itself.
    private mutating func dollar() throws(WordError) -> [UInt8] {
        position += 1
        guard peek == UInt8(ascii: "{") else {
            let name = self.name()
            if name.isEmpty { return [UInt8(ascii: "$")] }
            guard let value = lookup(name) else { return lexer.skipUnsetVariables ? Array("$\(name)".utf8) : [] }
            return Array(value.utf8)
        }
        position += 1
        depth += 1
        defer { depth -= 1 }
        guard depth <= Scan.maximumDepth else { throw WordError("substitutions nested more than \(Scan.maximumDepth) deep") }
        switch peek {
        case nil: throw WordError("syntax error: missing '}'")
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ":"): throw WordError("syntax error: bad substitution")
        default: break
        }
        let name = self.name()
        let value = lookup(name)
        guard let modifier = next() else { throw WordError("syntax error: missing '}'") }
        switch modifier {
        case UInt8(ascii: "}"):
            guard let value else { return lexer.skipUnsetVariables ? Array("${\(name)}".utf8) : [] }
            return Array(value.utf8)
        case UInt8(ascii: ":"):
            guard let kind = next() else { throw WordError("syntax error: missing '}'") }
            let word = try process(stoppingAt: UInt8(ascii: "}")).text
            switch kind {
            case UInt8(ascii: "-"): return Array(((value ?? "").isEmpty ? word : value!).utf8)
            case UInt8(ascii: "+"): return (value ?? "").isEmpty ? [] : Array(word.utf8)
            case UInt8(ascii: "?"):
                guard let value, !value.isEmpty else { throw WordError("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
                return Array(value.utf8)
            default:
                throw WordError("unsupported modifier (\(String(UnicodeScalar(kind)))) in substitution")
            }
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            let word = try process(stoppingAt: UInt8(ascii: "}")).text
            switch modifier {
            case UInt8(ascii: "-"): return Array((value ?? word).utf8)
            case UInt8(ascii: "+"): return value == nil ? [] : Array(word.utf8)
            default:
                guard let value else { throw WordError("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
                return Array(value.utf8)
            }
        case UInt8(ascii: "#"), UInt8(ascii: "%"):
            let longest = peek == modifier
            if longest { position += 1 }
            let pattern = try process(stoppingAt: UInt8(ascii: "}")).text
            return Array(Glob.remove(pattern, from: value ?? "", fromStart: modifier == UInt8(ascii: "#"), longest: longest).utf8)
        default:
            throw WordError("unsupported modifier (\(String(UnicodeScalar(modifier)))) in substitution")
        }
    }

    /// Letters, digits and `_`; or a run of digits; or one special parameter character.
    private mutating func name() -> String {
        var name: [UInt8] = []
        if let first = peek, first.isASCIIDigit {
            while let byte = peek, byte.isASCIIDigit { name.append(byte); position += 1 }
            return string(name)
        }
        if let first = peek, "@*#?-$!0".utf8.contains(first) {
            position += 1
            return string([first])
        }
        while let byte = peek, byte.isASCIILetter || byte.isASCIIDigit || byte == UInt8(ascii: "_") || byte >= 0x80 {
            name.append(byte)
            position += 1
        }
        return string(name)
    }

    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// Words as BuildKit collects them: unquoted white space ends a word, quoted text never does, and
/// an empty word is dropped.
private struct Words {
    private var words: [String] = []
    private var word: [UInt8] = []

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            if byte.isSpace {
                if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)); word = [] }
            } else {
                word.append(byte)
            }
        }
    }

    mutating func addRaw(_ bytes: [UInt8]) { word += bytes }

    mutating func finish() -> [String] {
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)); word = [] }
        return words
    }
}

/// Shell glob matching (`*`, `?`, `[…]`) for `${NAME#pattern}` and friends.
enum Glob {
    static func remove(_ pattern: String, from value: String, fromStart: Bool, longest: Bool) -> String {
        let characters = Array(value)
        let lengths = longest ? Array((0...characters.count).reversed()) : Array(0...characters.count)
        for length in lengths {
            let candidate = fromStart ? characters.prefix(length) : characters.suffix(length)
            if matches(Array(pattern), ArraySlice(candidate)) {
                return String(fromStart ? characters.dropFirst(length) : characters.dropLast(length))
            }
        }
        return value
    }

    /// Iterative, with one backtrack point for the last `*` (linear in practice, never exponential).
    static func matches(_ pattern: [Character], _ text: ArraySlice<Character>) -> Bool {
        let text = Array(text)
        var p = 0, t = 0
        var star: (pattern: Int, text: Int)?
        while t < text.count {
            if p < pattern.count, pattern[p] == "*" {
                star = (p, t)
                p += 1
                continue
            }
            if p < pattern.count, let length = single(pattern, at: p, matches: text[t]) {
                p += length
                t += 1
                continue
            }
            guard let backtrack = star else { return false }
            p = backtrack.pattern + 1
            t = backtrack.text + 1
            star = (backtrack.pattern, backtrack.text + 1)
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// How many pattern characters the element at `index` takes when it matches `character`; nil when it doesn't.
    private static func single(_ pattern: [Character], at index: Int, matches character: Character) -> Int? {
        switch pattern[index] {
        case "?":
            return 1
        case "\\" where index + 1 < pattern.count:
            return pattern[index + 1] == character ? 2 : nil
        case "[":
            guard let close = pattern[(index + 1)...].firstIndex(of: "]") else { return character == "[" ? 1 : nil }
            var set = pattern[(index + 1)..<close]
            let negated = set.first == "!" || set.first == "^"
            if negated { set = set.dropFirst() }
            var found = false
            var position = set.startIndex
            while position < set.endIndex {
                if position + 2 < set.endIndex, set[position + 1] == "-" {
                    if set[position] <= character && character <= set[position + 2] { found = true }
                    position += 3
                } else {
                    if set[position] == character { found = true }
                    position += 1
                }
            }
            return found != negated ? close - index + 1 : nil
        default:
            return pattern[index] == character ? 1 : nil
        }
    }
}
