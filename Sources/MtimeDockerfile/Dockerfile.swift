/// A Dockerfile read the way BuildKit's parser reads it (moby/buildkit frontend/dockerfile/parser):
/// parser directives (`# escape=`, `# syntax=`, `# check=`), comments, line continuations with the
/// escape token, heredocs on `RUN`/`COPY`/`ADD`, JSON (exec) and shell forms, and each instruction's
/// flags. Variables are not expanded here: `BuildStages` does that where the build needs it.
public struct Dockerfile: Sendable {
    /// How the file is named in messages (the path as given).
    public let name: String
    /// `\` unless `# escape=` says `` ` ``.
    public let escape: UInt8
    /// The `# syntax=` directive's value, if any.
    public let syntax: String?
    public let instructions: [Instruction]
    /// The physical lines (1-based through `line(_:)`), without their line ends: what fixes edit.
    public let lines: [[UInt8]]

    /// The physical line `number` (1-based) as text.
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= lines.count else { return "" }
        return String(decoding: lines[number - 1], as: UTF8.self)
    }

    /// The largest Dockerfile doctor reads: a bound on what a hostile file can make it hold.
    public static let maximumSize = 1 << 20

    public init(parsing text: [UInt8], name: String) throws(DockerfileError) {
        self.name = name
        var reader = LineReader(text)
        var directives = Directives()
        var instructions: [Instruction] = []
        do throws(DockerfileSyntaxError) {
            while let first = reader.next() {
                let firstText = first.bytes.trimmingLeadingSpace()
                try directives.consider(firstText, line: first.number)
                if firstText.isComment { continue }
                var logical = LogicalLine()
                var (kept, continues) = directives.trimmingContinuation(firstText)
                if !continues && kept.isEmpty { continue }
                logical.append(kept, line: first.number, column: first.bytes.count - firstText.count)
                var lastLine = first.number
                while continues, let next = reader.next() {
                    try directives.consider(next.bytes, line: next.number)
                    lastLine = next.number
                    // A comment line inside a continuation is dropped; an empty one is skipped (BuildKit warns).
                    if next.bytes.trimmingLeadingSpace().isComment || next.bytes.allSatisfy(\.isSpace) { continue }
                    (kept, continues) = directives.trimmingContinuation(next.bytes[...])
                    logical.append(kept, line: next.number, column: 0)
                }
                var instruction = try InstructionParser(escape: directives.escape).parse(logical, line: first.number)
                if instruction.mayHaveHeredocs {
                    for var heredoc in try HeredocWords.heredocs(in: logical.text, line: first.number) {
                        let start = lastLine + 1
                        var content: [UInt8] = []
                        var terminated = false
                        while let body = reader.next() {
                            lastLine = body.number
                            var candidate = body.bytes
                            if heredoc.stripsLeadingTabs { candidate = candidate.drop { $0 == UInt8(ascii: "\t") } }
                            if Array(candidate) == Array(heredoc.name.utf8) { terminated = true; break }
                            content += body.bytes
                            content.append(UInt8(ascii: "\n"))
                        }
                        guard terminated else {
                            throw DockerfileSyntaxError(line: first.number, "unterminated heredoc \(heredoc.name)")
                        }
                        heredoc.content = content
                        heredoc.firstContentLine = start
                        instruction.heredocs.append(heredoc)
                    }
                }
                instruction.endLine = lastLine
                instructions.append(instruction)
            }
        } catch {
            throw DockerfileError(file: name, line: error.line, message: error.message)
        }
        guard !instructions.isEmpty else {
            throw DockerfileError(file: name, line: max(1, reader.lines.count), message: "file with no instructions")
        }
        self.instructions = instructions
        escape = directives.escape
        syntax = directives.syntax
        lines = reader.lines.map { Array($0) }
    }
}

/// Physical lines, with their 1-based numbers; a UTF-8 byte-order mark on the first is dropped
/// and `\r\n` ends a line like `\n`.
struct LineReader {
    private(set) var lines: [ArraySlice<UInt8>] = []
    private var position = 0

    init(_ text: [UInt8]) {
        var bytes = text[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append(LineReader.withoutCarriageReturn(bytes[start..<index]))
            start = index + 1
        }
        if start < bytes.endIndex { lines.append(LineReader.withoutCarriageReturn(bytes[start...])) }
    }

    private static func withoutCarriageReturn(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return line
    }

    mutating func next() -> (bytes: ArraySlice<UInt8>, number: Int)? {
        guard position < lines.count else { return nil }
        position += 1
        return (lines[position - 1], position)
    }
}

/// Parser directives: only at the top of the file, each at most once; the first line that is not
/// one (an instruction, a blank line, a plain comment, an unknown key) ends them.
struct Directives {
    private(set) var escape = UInt8(ascii: "\\")
    private(set) var syntax: String?
    private var done = false
    private var seen: Set<String> = []
    static let known: Set<String> = ["escape", "syntax", "check"]

    mutating func consider(_ line: ArraySlice<UInt8>, line number: Int) throws(DockerfileSyntaxError) {
        guard !done else { return }
        guard let (key, value) = Directives.match(line), Directives.known.contains(key) else { done = true; return }
        guard seen.insert(key).inserted else { throw DockerfileSyntaxError(line: number, "only one \(key) parser directive can be used") }
        switch key {
        case "escape":
            guard value == "\\" || value == "`" else {
                throw DockerfileSyntaxError(line: number, "invalid escape token '\(value)' does not match ` or \\")
            }
            escape = value.utf8.first!
        case "syntax":
            syntax = value
        default:
            break
        }
    }

    /// `#` [space] name [space] `=` [space] value: the name a letter then letters or digits (lowercased).
    static func match(_ line: ArraySlice<UInt8>) -> (String, String)? {
        var rest = line
        guard rest.first == UInt8(ascii: "#") else { return nil }
        rest = rest.dropFirst().trimmingLeadingSpace()
        let name = rest.prefix { $0.isASCIILetter || $0.isASCIIDigit }
        guard let first = name.first, first.isASCIILetter else { return nil }
        rest = rest.dropFirst(name.count).trimmingLeadingSpace()
        guard rest.first == UInt8(ascii: "=") else { return nil }
        let value = rest.dropFirst().trimmingLeadingSpace().trimmingTrailingSpace()
        guard !value.isEmpty else { return nil }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))
    }

    /// The line without a trailing continuation (the escape token, then only blanks), and whether it
    /// had one. An escape token preceded by another escape token is an escaped character, not a continuation.
    func trimmingContinuation(_ line: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Bool) {
        let content = line.trimmingTrailingBlanks()
        guard content.last == escape else { return (line, false) }
        let before = content.dropLast()
        if let previous = before.last, previous == escape { return (line, false) }
        return (before, true)
    }
}

extension UInt8 {
    /// Go's `unicode.IsSpace` for ASCII: what Docker trims around lines and splits words on.
    var isSpace: Bool { self == 0x20 || (0x09...0x0D).contains(self) }
    var isBlank: Bool { self == 0x20 || self == 0x09 }
    var isASCIILetter: Bool { (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
    var isASCIIDigit: Bool { (0x30...0x39).contains(self) }
}

extension ArraySlice where Element == UInt8 {
    func trimmingLeadingSpace() -> ArraySlice<UInt8> { drop { $0.isSpace } }
    func trimmingTrailingSpace() -> ArraySlice<UInt8> {
        var slice = self
        while let last = slice.last, last.isSpace { slice = slice.dropLast() }
        return slice
    }
    func trimmingTrailingBlanks() -> ArraySlice<UInt8> {
        var slice = self
        while let last = slice.last, last.isBlank { slice = slice.dropLast() }
        return slice
    }
    var isComment: Bool { first == UInt8(ascii: "#") }
}
