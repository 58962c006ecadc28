/// One instruction: its keyword, flags (`--mount=…`, `--from=…`), arguments and heredocs, with
/// the lines it spans.
public struct Instruction: Sendable, Equatable {
    /// Upper case: `RUN`, `COPY`, …
    public let keyword: String
    /// The first physical line (1-based).
    public let line: Int
    /// The last physical line, continuation lines and heredoc bodies included.
    public internal(set) var endLine: Int
    /// The instruction's text with continuations joined.
    public let logical: LogicalLine
    public let flags: [Flag]
    public let arguments: Arguments
    /// Heredocs in the order they appear on the line (`RUN <<A <<B` has two).
    public internal(set) var heredocs: [Heredoc] = []
    /// ONBUILD's own instruction (one element), else empty.
    public let trigger: [Instruction]

    public static let keywords: Set<String> = [
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    ]

    /// The values of every `--name` flag (`--mount` may repeat), as written (not expanded).
    public func flagValues(_ name: String) -> [String] {
        flags.filter { $0.name == name }.compactMap(\.value)
    }

    /// True for the JSON (exec) form.
    public var isExecForm: Bool {
        if case .exec = arguments { return true }
        return false
    }

    /// Docker's whitespace-separated arguments (FROM, COPY and ADD in shell form, EXPOSE); the
    /// strings of the JSON form.
    public var words: [String] {
        switch arguments {
        case .none: return []
        case .exec(let strings, _): return strings
        case .text(let text, _):
            return text.utf8.split(whereSeparator: { $0.isSpace && $0 != 0x0A }).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The argument text (shell form), empty for the JSON form.
    public var text: String {
        if case .text(let text, _) = arguments { return text }
        return ""
    }

    var mayHaveHeredocs: Bool {
        let base = trigger.first ?? self
        return ["RUN", "COPY", "ADD"].contains(base.keyword) && !base.isExecForm
    }
}

/// `--name` or `--name=value` before the arguments.
public struct Flag: Sendable, Equatable {
    /// Without the leading `--`.
    public let name: String
    /// Quotes removed, not expanded; nil for a flag without `=`.
    public let value: String?
    /// Where the flag's text is in the instruction's logical line.
    public let range: Range<Int>

    public init(name: String, value: String?, range: Range<Int>) {
        self.name = name
        self.value = value
        self.range = range
    }
}

public enum Arguments: Sendable, Equatable {
    case none
    /// A JSON array of strings (exec form); `range` covers the array in the logical line.
    case exec([String], range: Range<Int>)
    /// The text after the keyword and flags, trimmed; `range` is where it is in the logical line.
    case text(String, range: Range<Int>)

    /// Where the arguments start in the logical line.
    public var start: Int? {
        switch self {
        case .none: return nil
        case .exec(_, let range), .text(_, let range): return range.lowerBound
        }
    }
}

/// `<<NAME`, `<<-NAME` (leading tabs of body lines and terminator stripped), `<<"NAME"` or `<<'NAME'`
/// (no expansion), with an optional file descriptor (`3<<NAME`).
public struct Heredoc: Sendable, Equatable {
    public let name: String
    public let stripsLeadingTabs: Bool
    /// False when the delimiter was quoted: the body is taken literally.
    public let expands: Bool
    public let fileDescriptor: Int?
    /// The body, each line ending in `\n`, as written (tabs not yet stripped).
    public internal(set) var content: [UInt8] = []
    /// The physical line of the body's first line.
    public internal(set) var firstContentLine = 0

    /// The body with `<<-`'s leading tabs removed.
    public var text: String {
        guard stripsLeadingTabs else { return String(decoding: content, as: UTF8.self) }
        let lines = content.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        return String(
            decoding: Array(lines.map { Array($0.drop { $0 == UInt8(ascii: "\t") }) }.joined(separator: [UInt8(ascii: "\n")])),
            as: UTF8.self)
    }
}

/// Splits a logical line into keyword, flags and arguments as BuildKit's `splitCommand` and its
/// per-instruction line parsers do.
struct InstructionParser {
    let escape: UInt8

    func parse(_ logical: LogicalLine, line: Int, startingAt start: Int = 0) throws(DockerfileSyntaxError) -> Instruction {
        let text = logical.text
        var position = start
        while position < text.count, text[position].isSpace { position += 1 }
        let keywordStart = position
        while position < text.count, !text[position].isSpace { position += 1 }
        let keyword = String(decoding: text[keywordStart..<position], as: UTF8.self).uppercased()
        guard Instruction.keywords.contains(keyword) else {
            throw DockerfileSyntaxError(
                line: line, "unknown instruction: \(String(decoding: text[keywordStart..<position], as: UTF8.self))")
        }
        let flags = readFlags(text, &position)
        while position < text.count, text[position].isSpace { position += 1 }
        var end = text.count
        while end > position, text[end - 1].isSpace { end -= 1 }
        let rest = text[position..<end]
        let arguments: Arguments
        var trigger: [Instruction] = []
        if rest.isEmpty {
            arguments = .none
        } else {
            switch keyword {
            case "RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME":
                switch JSONArray.parse(rest) {
                case .strings(let strings, let arrayEnd):
                    arguments = .exec(strings, range: position..<arrayEnd)
                case .notStrings:
                    throw DockerfileSyntaxError(line: line, "when using JSON array syntax, arrays must be comprised of strings only")
                case .notJSON:
                    arguments = .text(String(decoding: rest, as: UTF8.self), range: position..<end)
                }
            case "ONBUILD":
                let inner = try parse(logical, line: line, startingAt: position)
                guard !["ONBUILD", "FROM", "MAINTAINER"].contains(inner.keyword) else {
                    throw DockerfileSyntaxError(line: line, "\(inner.keyword) isn't allowed as an ONBUILD trigger")
                }
                trigger = [inner]
                arguments = .text(String(decoding: rest, as: UTF8.self), range: position..<end)
            default:
                arguments = .text(String(decoding: rest, as: UTF8.self), range: position..<end)
            }
        }
        return Instruction(
            keyword: keyword, line: line, endLine: line, logical: logical, flags: flags,
            arguments: arguments, trigger: trigger)
    }

    /// Words starting with `--` right after the keyword; `--` alone ends them. Quotes group and are
    /// removed, `\` escapes the next character (BuildKit's `extractBuilderFlags`).
    private func readFlags(_ text: [UInt8], _ position: inout Int) -> [Flag] {
        var flags: [Flag] = []
        while true {
            var start = position
            while start < text.count, text[start].isSpace { start += 1 }
            guard start + 1 < text.count, text[start] == UInt8(ascii: "-"), text[start + 1] == UInt8(ascii: "-") else { return flags }
            var word: [UInt8] = []
            var index = start
            var quote: UInt8?
            while index < text.count {
                let byte = text[index]
                if let open = quote {
                    if byte == open { quote = nil; index += 1; continue }
                } else {
                    if byte.isSpace { break }
                    if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") { quote = byte; index += 1; continue }
                }
                if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                    index += 1
                    word.append(text[index])
                } else if byte != UInt8(ascii: "\\") {
                    word.append(byte)
                }
                index += 1
            }
            position = index
            if word == Array("--".utf8) { return flags }
            let body = word.dropFirst(2)
            if let equals = body.firstIndex(of: UInt8(ascii: "=")) {
                flags.append(
                    Flag(
                        name: String(decoding: body[..<equals], as: UTF8.self),
                        value: String(decoding: body[(equals + 1)...], as: UTF8.self), range: start..<index))
            } else {
                flags.append(Flag(name: String(decoding: body, as: UTF8.self), value: nil, range: start..<index))
            }
        }
    }
}

/// Finds heredoc words on an instruction's line as BuildKit does: the line is split into shell words
/// (quotes and escapes kept), and each word of the form `[fd]<<[-]WORD` starts one.
enum HeredocWords {
    static func heredocs(in text: [UInt8], line: Int) throws(DockerfileSyntaxError) -> [Heredoc] {
        var raw = WordLexer()
        raw.rawQuotes = true
        raw.rawEscapes = true
        raw.skipUnsetVariables = true
        let words = (try? raw.words(String(decoding: text, as: UTF8.self), { _ in nil })) ?? []
        var heredocs: [Heredoc] = []
        for word in words {
            let bytes = Array(word.utf8)
            let digits = bytes.prefix { $0.isASCIIDigit }
            var rest = bytes.dropFirst(digits.count)
            guard rest.starts(with: Array("<<".utf8)) else { continue }
            rest = rest.dropFirst(2)
            let strips = rest.first == UInt8(ascii: "-")
            if strips { rest = rest.dropFirst() }
            guard !rest.isEmpty, !rest.contains(UInt8(ascii: "<")) else { continue }
            let restText = String(decoding: rest, as: UTF8.self)
            var plain = WordLexer()
            plain.skipUnsetVariables = true
            var quoted = plain
            quoted.rawQuotes = true
            let names: [String], rawNames: [String]
            do {
                names = try plain.words(restText, { _ in nil })
                rawNames = try quoted.words(restText, { _ in nil })
            } catch {
                throw DockerfileSyntaxError(line: line, "heredoc \(word): \(error)")
            }
            guard names.count == 1, rawNames.count == 1 else { continue }
            func quotes(_ text: String) -> Int { text.filter { $0 == "'" || $0 == "\"" }.count }
            heredocs.append(
                Heredoc(
                    name: names[0], stripsLeadingTabs: strips, expands: quotes(names[0]) == quotes(rawNames[0]),
                    fileDescriptor: digits.isEmpty ? nil : Int(String(decoding: digits, as: UTF8.self))))
        }
        return heredocs
    }
}
