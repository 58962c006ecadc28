/// The simple commands of a POSIX shell script (a RUN's shell form, or a heredoc body run by the
/// shell), enough to see which programs it runs with which words: quotes, escapes, `$(…)`,
/// backquotes, redirections (their targets are not words), heredoc bodies inside the script, comments,
/// `;` `&&` `||` `|` `&` and newlines between commands, and the reserved words of compound commands.
/// Nothing is expanded: `$VAR` stays as written.
public struct ShellScript: Sendable {
    public let commands: [SimpleCommand]

    public init(_ text: String) { self.init(Array(text.utf8)) }

    public init(_ bytes: [UInt8]) {
        var scanner = ShellScanner(bytes: bytes)
        commands = scanner.run()
    }
}

/// One word: quotes removed, escapes resolved, substitutions kept as written.
public struct ShellWord: Sendable, Equatable {
    public let text: String
    /// Where the word is in the script's bytes.
    public let range: Range<Int>
    /// True when some part of it was quoted or escaped.
    public let isQuoted: Bool
}

/// `NAME=value … word word …`
public struct SimpleCommand: Sendable, Equatable {
    public var assignments: [ShellWord] = []
    public var words: [ShellWord] = []

    /// Where the command (its first assignment or word) starts in the script.
    public var start: Int { (assignments.first ?? words.first)?.range.lowerBound ?? 0 }
    /// The words' texts.
    public var arguments: [String] { words.map(\.text) }
}

private struct ShellScanner {
    let bytes: [UInt8]
    var position = 0
    var commands: [SimpleCommand] = []
    var current = SimpleCommand()
    /// The words of a `for`/`case`/`select` header are not a command.
    var skippingHeader = false
    var pendingHeredocs: [(delimiter: [UInt8], stripsTabs: Bool)] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    static let reserved: Set<String> = ["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "esac"]
    static let headers: Set<String> = ["for", "case", "select"]

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func run() -> [SimpleCommand] {
        while let byte = peek {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                position += 1
            case UInt8(ascii: "\\") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "\n"):
                position += 2
            case UInt8(ascii: "\n"):
                endCommand()
                position += 1
                skipHeredocBodies()
            case UInt8(ascii: "#"):
                while let next = peek, next != UInt8(ascii: "\n") { position += 1 }
            case UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "("), UInt8(ascii: ")"):
                endCommand()
                position += 1
            case UInt8(ascii: "<"), UInt8(ascii: ">"):
                redirection()
            default:
                let word = readWord()
                if !word.isQuoted, word.text.allSatisfy(\.isNumber), let next = peek,
                    next == UInt8(ascii: "<") || next == UInt8(ascii: ">")
                {
                    redirection()  // `2>&1`: the digits name a file descriptor
                    continue
                }
                add(word)
            }
        }
        endCommand()
        return commands
    }

    private mutating func add(_ word: ShellWord) {
        if skippingHeader { return }
        if current.words.isEmpty {
            if current.assignments.isEmpty && !word.isQuoted {
                if ShellScanner.reserved.contains(word.text) { return }
                if ShellScanner.headers.contains(word.text) { skippingHeader = true; return }
            }
            // An assignment's name is unquoted: `"A=1"` is a command word.
            if ShellScanner.isAssignment(String(decoding: bytes[word.range], as: UTF8.self)) {
                current.assignments.append(word)
                return
            }
        }
        current.words.append(word)
    }

    /// `NAME=…` with NAME a shell name.
    static func isAssignment(_ text: String) -> Bool {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return false }
        let name = text[..<equals]
        return name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    private mutating func endCommand() {
        if !current.words.isEmpty || !current.assignments.isEmpty { commands.append(current) }
        current = SimpleCommand()
        skippingHeader = false
    }

    /// `<`, `>`, `>>`, `<<`, `<<-`, `<<<`, `<&`, `>&`, `<>`, `>|`, `&>`… and the word they take.
    private mutating func redirection() {
        var operatorBytes: [UInt8] = []
        while let byte = peek, "<>&|-".utf8.contains(byte), operatorBytes.count < 3 {
            operatorBytes.append(byte)
            position += 1
        }
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
        guard let byte = peek, !" \t\n;&|()<>".utf8.contains(byte) else { return }
        let target = readWord()
        if operatorBytes == Array("<<".utf8) || operatorBytes == Array("<<-".utf8) {
            pendingHeredocs.append((Array(target.text.utf8), operatorBytes.count == 3))
        }
    }

    /// After a newline: the bodies of the heredocs the previous line opened.
    private mutating func skipHeredocBodies() {
        for heredoc in pendingHeredocs {
            while position < bytes.count {
                let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                var line = bytes[position..<end]
                position = min(end + 1, bytes.count)
                if heredoc.stripsTabs { line = line.drop { $0 == UInt8(ascii: "\t") } }
                if Array(line) == heredoc.delimiter { break }
            }
        }
        pendingHeredocs = []
    }

    private mutating func readWord() -> ShellWord {
        let start = position
        var text: [UInt8] = []
        var quoted = false
        loop: while let byte = peek {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"), UInt8(ascii: "&"),
                UInt8(ascii: "|"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                break loop
            case UInt8(ascii: "\\"):
                position += 1
                guard let next = peek else { break loop }
                position += 1
                if next != UInt8(ascii: "\n") { text.append(next); quoted = true }
            case UInt8(ascii: "'"):
                quoted = true
                position += 1
                while let next = peek, next != UInt8(ascii: "'") { text.append(next); position += 1 }
                position = min(position + 1, bytes.count)
            case UInt8(ascii: "\""):
                quoted = true
                position += 1
                while let next = peek, next != UInt8(ascii: "\"") {
                    if next == UInt8(ascii: "\\"), position + 1 < bytes.count, "\"\\$`\n".utf8.contains(bytes[position + 1]) {
                        if bytes[position + 1] != UInt8(ascii: "\n") { text.append(bytes[position + 1]) }
                        position += 2
                    } else if next == UInt8(ascii: "$") || next == UInt8(ascii: "`") {
                        text += substitution()
                    } else {
                        text.append(next)
                        position += 1
                    }
                }
                position = min(position + 1, bytes.count)
            case UInt8(ascii: "$"), UInt8(ascii: "`"):
                text += substitution()
            default:
                text.append(byte)
                position += 1
            }
        }
        return ShellWord(text: String(decoding: text, as: UTF8.self), range: start..<position, isQuoted: quoted)
    }

    /// `$(…)`, `$((…))`, `${…}`, `` `…` `` or a plain `$`, copied as written (nesting and quotes respected).
    private mutating func substitution() -> [UInt8] {
        let start = position
        if bytes[position] == UInt8(ascii: "`") {
            position += 1
            while let next = peek, next != UInt8(ascii: "`") { position += next == UInt8(ascii: "\\") ? 2 : 1 }
            position = min(position + 1, bytes.count)
            return Array(bytes[start..<min(position, bytes.count)])
        }
        position += 1
        guard let open = peek, open == UInt8(ascii: "(") || open == UInt8(ascii: "{") else { return [UInt8(ascii: "$")] }
        let close = open == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "}")
        var depth = 0
        while let next = peek {
            switch next {
            case open: depth += 1
            case close: depth -= 1
            case UInt8(ascii: "'"):
                position += 1
                while let inner = peek, inner != UInt8(ascii: "'") { position += 1 }
            case UInt8(ascii: "\\"):
                position += 1
            default: break
            }
            position += 1
            if depth == 0 { break }
        }
        position = min(position, bytes.count)
        return Array(bytes[start..<position])
    }
}
