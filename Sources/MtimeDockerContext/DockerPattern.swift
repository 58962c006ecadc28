/// Which pattern code the Docker client runs. Both read `.dockerignore` alike; they differ in how a
/// pattern becomes a test, and their walkers differ in how `!` rules reach below an excluded directory.
public enum DockerPatternEngine: String, Sendable, Equatable, CaseIterable {
    /// docker/docker `pkg/fileutils` (clients up to 20.10): every pattern is a Go regexp; only `.` and
    /// `$` are escaped, so `+ ( ) | { }` are regexp operators; a path's parent is tested at one depth.
    case fileutils
    /// moby/patternmatcher (clients 23 and later, buildx): `. + ( ) $` escaped (`| { }` still operators),
    /// literal patterns compared as strings (`**x` is then "ends with x"), parent results carried down.
    case patternmatcher

    /// The engine of a docker client of this version ("20.10.24", "28.2.2", "Docker version 27.1.0, build …").
    public init?(dockerVersion text: String) {
        let digits = text.drop { !$0.isNumber }.prefix { $0.isNumber }
        guard let major = Int(digits) else { return nil }
        self.init(dockerMajorVersion: major)
    }

    /// docker/cli moved from pkg/fileutils to moby/patternmatcher in 23.0.
    public init(dockerMajorVersion major: Int) {
        self = major >= 23 ? .patternmatcher : .fileutils
    }
}

/// One pattern of a pattern list, as `NewPatternMatcher` / `patternmatcher.New` keeps it.
struct DockerPattern: Sendable {
    /// The cleaned pattern without its `!` (Go: `Pattern.String()`).
    let text: [UInt8]
    /// A `!` rule (re-includes).
    let exclusion: Bool
    /// `len(strings.Split(text, "/"))`: the depth at which docker ≤ 20.10 tests a parent directory.
    let directoryCount: Int
    let test: Test
    /// Where the pattern came from, for messages.
    let origin: DockerIgnoreError.Origin

    enum Test: Sendable {
        case exact([UInt8])
        case prefix([UInt8])
        /// Ends with the bytes, or, when they start with `/`, equals the rest.
        case suffix([UInt8])
        case regexp(GoRegexp)
        /// Go's `regexp.Compile` rejects it: the build fails when the pattern is first evaluated.
        case invalid(GoRegexp.ParseError)
    }

    /// `NewPatternMatcher(patterns)` / `patternmatcher.New(patterns)`: trims, skips empty entries,
    /// `filepath.Clean`s, splits off `!`, and checks the syntax with `filepath.Match(p, ".")`.
    static func compile(_ entries: [(pattern: [UInt8], origin: DockerIgnoreError.Origin)],
                        engine: DockerPatternEngine) throws(DockerIgnoreError) -> [DockerPattern] {
        var patterns: [DockerPattern] = []
        for (raw, origin) in entries {
            let trimmed = GoStrings.trimSpace(raw[...])
            if trimmed.isEmpty { continue }
            var text = GoStrings.clean(Array(trimmed))
            var exclusion = false
            if text.first == UInt8(ascii: "!") {
                guard text.count > 1 else { throw DockerIgnoreError(origin: origin, reason: "illegal exclusion pattern: \"!\"") }
                exclusion = true
                text.removeFirst()
            }
            guard GoFilepathMatch.isValidPattern(text) else {
                throw DockerIgnoreError(origin: origin, reason: "syntax error in pattern \(quoted(text))")
            }
            patterns.append(DockerPattern(
                text: text, exclusion: exclusion,
                directoryCount: text.count { $0 == UInt8(ascii: "/") } + 1,
                test: translate(text, engine: engine), origin: origin))
        }
        return patterns
    }

    /// `(*Pattern).compile`: the pattern read rune by rune (Go's text/scanner: a leading BOM is skipped,
    /// an invalid byte is U+FFFD) into `^…$`, `*` → `[^/]*`, `?` → `[^/]`, `**` → `(.*/)?` or a final `.*`;
    /// escaped: `.` `$` (fileutils), `.+()$` (patternmatcher); `\x` → `\x`; everything else as is.
    /// patternmatcher keeps a pattern of plain characters as an exact, prefix (`abc**`) or suffix
    /// (`**abc`) comparison of the bytes.
    static func translate(_ pattern: [UInt8], engine: DockerPatternEngine) -> Test {
        enum Kind { case exact, prefix, suffix, regexp }
        var runes = GoUTF8.runes(pattern[...])
        if runes.first == 0xFEFF { runes.removeFirst() }
        // patternmatcher means to escape `.+()|{}$`, but its bitmap (`escapeBytes [8]byte`, bit `b/8`)
        // drops every character from 64 up: `|`, `{`, `}` reach the expression as operators.
        let escaped: Set<Rune> = engine == .fileutils ? [0x2E, 0x24] : Set(".+()$".unicodeScalars.map(\.value))
        let star: Rune = 0x2A, slash: Rune = 0x2F
        let anyInDirectory: [Rune] = Array("[^/]".unicodeScalars.map(\.value))
        var expression: [Rune] = [0x5E]
        var kind = Kind.exact
        var index = 0
        var iteration = 0
        while index < runes.count {
            defer { iteration += 1 }
            let rune = runes[index]
            index += 1
            switch rune {
            case star where index < runes.count && runes[index] == star:
                index += 1
                if index < runes.count, runes[index] == slash { index += 1 }
                if index == runes.count {
                    if engine == .patternmatcher && kind == .exact { kind = .prefix } else { expression += [0x2E, star]; kind = .regexp }
                } else {
                    expression += Array("(.*/)?".unicodeScalars.map(\.value))
                    kind = .regexp
                }
                if iteration == 0 { kind = .suffix }
            case star:
                expression += anyInDirectory + [star]
                kind = .regexp
            case 0x3F /* ? */:
                expression += anyInDirectory
                kind = .regexp
            case _ where escaped.contains(rune):
                expression += [0x5C, rune]
            case 0x5C /* \ */:
                if index < runes.count {
                    expression += [0x5C, runes[index]]
                    index += 1
                    kind = .regexp
                } else {
                    expression.append(0x5C)
                }
            case 0x5B /* [ */, 0x5D /* ] */:
                expression.append(rune)
                kind = .regexp
            default:
                expression.append(rune)
            }
        }
        if engine == .patternmatcher {
            switch kind {
            case .exact: return .exact(pattern)
            case .prefix: return .prefix(Array(pattern.dropLast(2)))
            case .suffix: return .suffix(Array(pattern.dropFirst(2)))
            case .regexp: break
            }
        }
        expression.append(0x24)
        do { return .regexp(try GoRegexp(expression)) } catch { return .invalid(error) }
    }

    /// `(*Pattern).match(path)`; throws where Docker's matcher returns an error (a pattern Go's regexp rejects).
    func matches(_ path: ArraySlice<UInt8>) throws(DockerIgnoreError) -> Bool {
        switch test {
        case .exact(let bytes): return path.elementsEqual(bytes)
        case .prefix(let bytes): return path.starts(with: bytes)
        case .suffix(let bytes):
            if path.count >= bytes.count, path.suffix(bytes.count).elementsEqual(bytes) { return true }
            return bytes.first == UInt8(ascii: "/") && path.elementsEqual(bytes.dropFirst())
        case .regexp(let regexp): return regexp.matches(path)
        case .invalid(let error): throw DockerIgnoreError(origin: origin, reason: Self.describe(error, pattern: text))
        }
    }

    static func describe(_ error: GoRegexp.ParseError, pattern: [UInt8]) -> String {
        switch error {
        case .invalid(let code, let expression):
            return "pattern \(quoted(pattern)) is not a valid Go regular expression once Docker translates it "
                + "(\(code): `\(expression)`); Docker fails the build when it evaluates it"
        case .unsupported(let what):
            return "pattern \(quoted(pattern)) uses \(what), which Docker reads as a Go regular expression "
                + "and git-mtime does not evaluate"
        }
    }
}

/// Go's `filepath.Match` syntax check (Go ≥ 1.16 checks the whole pattern): a `[` class needs a
/// closing `]` and at least one character or range, `-` and `]` can't start a range end, a `\` needs
/// a following character, a class character must be valid UTF-8.
enum GoFilepathMatch {
    static func isValidPattern(_ pattern: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*"), backslash = UInt8(ascii: "\\")
        var index = 0
        while index < pattern.count {
            while index < pattern.count, pattern[index] == star { index += 1 }
            // scanChunk: up to the next `*` outside a class.
            var end = index
            var inRange = false
            scan: while end < pattern.count {
                switch pattern[end] {
                case backslash: if end + 1 < pattern.count { end += 1 }
                case UInt8(ascii: "["): inRange = true
                case UInt8(ascii: "]"): inRange = false
                case star where !inRange: break scan
                default: break
                }
                end += 1
            }
            guard isValidChunk(pattern[index..<end]) else { return false }
            index = end
        }
        return true
    }

    private static func isValidChunk(_ chunk: ArraySlice<UInt8>) -> Bool {
        var index = chunk.startIndex
        let end = chunk.endIndex
        /// `getEsc`: one class character; false on a syntax error.
        func classCharacter() -> Bool {
            guard index < end, chunk[index] != UInt8(ascii: "-"), chunk[index] != UInt8(ascii: "]") else { return false }
            if chunk[index] == UInt8(ascii: "\\") {
                index += 1
                guard index < end else { return false }
            }
            let (rune, width) = GoUTF8.decode(chunk, at: index)
            if rune == GoUTF8.runeError && width == 1 { return false }
            index += width
            return index < end
        }
        while index < end {
            switch chunk[index] {
            case UInt8(ascii: "["):
                index += 1
                if index < end, chunk[index] == UInt8(ascii: "^") { index += 1 }
                var ranges = 0
                while true {
                    if index < end, chunk[index] == UInt8(ascii: "]"), ranges > 0 { index += 1; break }
                    guard classCharacter() else { return false }
                    if chunk[index] == UInt8(ascii: "-") {
                        index += 1
                        guard classCharacter() else { return false }
                    }
                    ranges += 1
                }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < end else { return false }
                index += 1
            default:
                index += 1
            }
        }
        return true
    }
}

/// Go's `strings.TrimSpace` and `path/filepath.Clean`, on bytes.
enum GoStrings {
    /// `unicode.IsSpace`.
    static func isSpace(_ rune: Rune) -> Bool {
        switch rune {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    static func trimSpace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let (rune, width) = GoUTF8.decode(bytes, at: start)
            guard isSpace(rune) else { break }
            start += width
        }
        var end = bytes.endIndex
        while end > start {
            // Go's DecodeLastRune: the last rune if the bytes before the end encode one validly.
            var runeStart = end - 1
            while runeStart > max(start, end - 4), bytes[runeStart] & 0xC0 == 0x80 { runeStart -= 1 }
            let (rune, width) = GoUTF8.decode(bytes[start..<end], at: runeStart)
            guard runeStart + width == end, isSpace(rune) else { break }
            end = runeStart
        }
        return bytes[start..<end]
    }

    static func clean(_ path: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        let rooted = path.first == slash
        var parts: [ArraySlice<UInt8>] = []
        for part in path.split(separator: slash) {
            if part.elementsEqual([dot]) { continue }
            if part.elementsEqual([dot, dot]) {
                if let last = parts.last, !last.elementsEqual([dot, dot]) {
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
        return joined.isEmpty ? [dot] : joined
    }
}
