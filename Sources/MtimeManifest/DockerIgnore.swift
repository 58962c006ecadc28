import MtimeCore

/// The rules of a `.dockerignore` file, evaluated the way Docker's CLI and BuildKit do
/// (moby/patternmatcher): patterns are read in order, the last one that matches a path
/// (or one of its parent directories) decides, and `!` re-includes.
///
/// Reading (as BuildKit's `dockerignore.ReadAll`): a UTF-8 BOM on the first line is dropped;
/// a line starting with `#` is a comment; surrounding white space is trimmed; empty lines are
/// skipped; the pattern is cleaned like Go's `filepath.Clean` and a leading `/` removed.
/// Matching (as `patternmatcher`'s regexp): `*` is any run of bytes other than `/`, `?` one byte
/// other than `/`, `**` any number of whole directories (`**/` may match none), `[...]`
/// a byte class (`^` negates), `\` escapes the next byte; everything else is literal.
public struct DockerIgnore: Sendable {
    public struct Rule: Sendable, Equatable {
        public let pattern: String
        public let reincludes: Bool
        let tokens: [Token]
    }

    public private(set) var rules: [Rule]

    public static let none = DockerIgnore(rules: [])

    private init(rules: [Rule]) { self.rules = rules }

    /// Parses the bytes of a `.dockerignore`; a pattern Docker itself would reject is an error.
    public init(parsing contents: [UInt8]) throws(DockerIgnoreError) {
        var rules: [Rule] = []
        var bytes = contents[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        for (index, rawLine) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if rawLine.first == UInt8(ascii: "#") { continue }
            var line = DockerIgnore.trimmed(rawLine)
            if line.isEmpty { continue }
            let reincludes = line.first == UInt8(ascii: "!")
            if reincludes {
                line = DockerIgnore.trimmed(line.dropFirst())
                guard !line.isEmpty else { throw DockerIgnoreError(line: index + 1, reason: "illegal exclusion pattern: \"!\"") }
            }
            var cleaned = DockerIgnore.clean(Array(line))
            if cleaned.count > 1, cleaned.first == UInt8(ascii: "/") { cleaned.removeFirst() }
            guard let tokens = Token.compile(cleaned) else {
                throw DockerIgnoreError(line: index + 1, reason: "syntax error in pattern \(PathEscaping.display(cleaned))")
            }
            rules.append(Rule(pattern: PathEscaping.display(cleaned), reincludes: reincludes, tokens: tokens))
        }
        self.rules = rules
    }

    /// Reads `<context>/.dockerignore`; no file means nothing is excluded. Anything there but a
    /// regular file (a symlink, a FIFO: the context is anyone's) is an error, never followed or opened
    /// for blocking reads.
    public init(contextDirectory: BytePath) throws {
        let directory = try HeldDirectory(opening: contextDirectory), name = BytePath(".dockerignore")
        guard try directory.statusIfPresent(name) != nil else { self = .none; return }
        guard let bytes = try directory.readRegularFile(name, limit: DockerIgnore.maximumSize) else {
            throw SystemError(operation: "read .dockerignore (not a regular file)", path: directory.pathOf(name), errno: .invalidArgument)
        }
        try self.init(parsing: bytes)
    }

    /// The largest `.dockerignore` read.
    public static let maximumSize = 16 << 20

    /// Whether any `!` rule can bring back a path below an excluded directory.
    public var hasReincludes: Bool { rules.contains { $0.reincludes } }

    /// True when `path` (relative to the context, `/`-separated) is left out of the build context.
    public func excludes(_ path: BytePath) -> Bool {
        let file = DockerIgnore.clean(path.bytes)
        var excluded = false
        for rule in rules {
            // An exclusion only matters for a path not yet excluded, a re-include only for one that is.
            if rule.reincludes != excluded { continue }
            if Token.matchesPathOrParent(rule.tokens, file) { excluded = !rule.reincludes }
        }
        return excluded
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return bytes[first...last]
    }

    /// Go's `filepath.Clean` for `/`-separated byte paths.
    static func clean(_ path: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let rooted = path.first == slash
        var parts: [ArraySlice<UInt8>] = []
        for part in path.split(separator: slash) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if let last = parts.last, !last.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = Array(parts.joined(separator: [slash]))
        if rooted { return [slash] + joined }
        return joined.isEmpty ? [UInt8(ascii: ".")] : joined
    }
}

public struct DockerIgnoreError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { ".dockerignore line \(line): \(reason)" }
}

/// One element of a compiled pattern.
enum Token: Sendable, Equatable {
    case byte(UInt8)
    case anyRun                 // `*`
    case anyOne                 // `?`
    case anyDirectories         // `**/` or `**` before more pattern: `(.*/)?`
    case anything               // `**` at the end: `.*`
    case byteClass(negated: Bool, ranges: [ClosedRange<UInt8>])

    static func compile(_ pattern: [UInt8]) -> [Token]? {
        var tokens: [Token] = []
        var index = 0
        while index < pattern.count {
            let byte = pattern[index]
            index += 1
            switch byte {
            case UInt8(ascii: "*"):
                guard index < pattern.count, pattern[index] == UInt8(ascii: "*") else { tokens.append(.anyRun); continue }
                index += 1
                if index < pattern.count, pattern[index] == UInt8(ascii: "/") { index += 1 }
                tokens.append(index == pattern.count ? .anything : .anyDirectories)
            case UInt8(ascii: "?"): tokens.append(.anyOne)
            case UInt8(ascii: "\\"):
                guard index < pattern.count else { return nil }
                tokens.append(.byte(pattern[index]))
                index += 1
            case UInt8(ascii: "["):
                var negated = false
                if index < pattern.count, pattern[index] == UInt8(ascii: "^") { negated = true; index += 1 }
                var ranges: [ClosedRange<UInt8>] = []
                var closed = false
                while index < pattern.count {
                    var low = pattern[index]
                    index += 1
                    if low == UInt8(ascii: "]") && !ranges.isEmpty { closed = true; break }
                    if low == UInt8(ascii: "\\") {
                        guard index < pattern.count else { return nil }
                        low = pattern[index]; index += 1
                    }
                    var high = low
                    if index + 1 < pattern.count, pattern[index] == UInt8(ascii: "-"), pattern[index + 1] != UInt8(ascii: "]") {
                        high = pattern[index + 1]
                        index += 2
                        if high == UInt8(ascii: "\\") {
                            guard index < pattern.count else { return nil }
                            high = pattern[index]; index += 1
                        }
                        guard low <= high else { return nil }
                    }
                    ranges.append(low...high)
                }
                guard closed else { return nil }
                tokens.append(.byteClass(negated: negated, ranges: ranges))
            default: tokens.append(.byte(byte))
            }
        }
        return tokens
    }

    /// Does the pattern match `text`, or one of its parent directories (the text before any `/`)?
    /// One forward pass of the pattern's automaton over the bytes answers for every prefix at
    /// once: O(tokens × length) time, no recursion, no backtracking, so neither a hostile
    /// `.dockerignore` nor a deep path can make it hang or overflow the stack.
    static func matchesPathOrParent(_ tokens: [Token], _ text: [UInt8]) -> Bool {
        let slash = UInt8(ascii: "/")
        let end = tokens.count
        // at[t]: the bytes so far match tokens[..<t] exactly. inside[t]: inside the `.*` of a
        // `**/` at t (bytes consumed since its last `/`).
        var at = [Bool](repeating: false, count: end + 1)
        var inside = [Bool](repeating: false, count: end + 1)
        var nextAt = at, nextInside = inside
        at[0] = true
        func close(_ states: inout [Bool]) {
            for t in 0..<end where states[t] {
                switch tokens[t] {
                case .anyRun, .anything, .anyDirectories: states[t + 1] = true
                default: break
                }
            }
        }
        close(&at)
        for byte in text {
            if byte == slash, at[end] { return true }   // a parent directory matched
            for t in 0...end { nextAt[t] = false; nextInside[t] = false }
            for t in 0..<end {
                if inside[t] { if byte == slash { nextAt[t] = true } else { nextInside[t] = true } }
                guard at[t] else { continue }
                switch tokens[t] {
                case .byte(let b): if byte == b { nextAt[t + 1] = true }
                case .anyOne: if byte != slash { nextAt[t + 1] = true }
                case .byteClass(let negated, let ranges):
                    if ranges.contains(where: { $0.contains(byte) }) != negated { nextAt[t + 1] = true }
                case .anyRun: if byte != slash { nextAt[t] = true }
                case .anything: nextAt[t] = true
                case .anyDirectories: if byte == slash { nextAt[t] = true } else { nextInside[t] = true }
                }
            }
            close(&nextAt)
            swap(&at, &nextAt)
            swap(&inside, &nextInside)
            if !at.contains(true) && !inside.contains(true) { return false }
                    }
        return at[end]
    }
}
