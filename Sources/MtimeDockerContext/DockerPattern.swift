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
    static func compile(
        _ entries: [(pattern: [UInt8], origin: DockerIgnoreError.Origin)],
        engine: DockerPatternEngine
    ) throws(DockerIgnoreError) -> [DockerPattern] {
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
            patterns.append(
                DockerPattern(
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

/// Go's `filepath.Match`, which Docker calls as `filepath.Match(pattern, ".")` to check a pattern's
/// syntax. A chunk (the text between unbracketed `*`s) is checked whole once it is tried (a `[` class
/// needs a closing `]` and at least one character or range, `-` and `]` can't start a range end, a `\`
/// needs a following character, a class character must be valid UTF-8), but Match returns at the
/// first chunk that fails to match: what follows it is never checked. So `x*[*` is accepted and `*[*`
/// is not (measured with docker 20.10 and 28, both builders).
enum GoFilepathMatch {
    enum Outcome: Equatable { case matched, notMatched, badPattern }

    static func isValidPattern(_ pattern: [UInt8]) -> Bool {
        match(pattern[...], name: Array(".".utf8)[...]) != .badPattern
    }

    static func match(_ pattern: ArraySlice<UInt8>, name: ArraySlice<UInt8>) -> Outcome {
        var pattern = pattern, name = name
        chunks: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            // A trailing `*` matches the rest unless it holds a `/`.
            if star && chunk.isEmpty { return name.contains(slash) ? .notMatched : .matched }
            switch matchChunk(chunk, name) {
            case .badPattern: return .badPattern
            case .matched(let remainder) where remainder.isEmpty || !pattern.isEmpty:
                name = remainder
                continue chunks
            default: break
            }
            if star {
                var index = name.startIndex
                while index < name.endIndex, name[index] != slash {
                    switch matchChunk(chunk, name[(index + 1)...]) {
                    case .badPattern: return .badPattern
                    case .matched(let remainder) where !(pattern.isEmpty && !remainder.isEmpty):
                        name = remainder
                        continue chunks
                    default: break
                    }
                    index += 1
                }
            }
            return .notMatched
        }
        return name.isEmpty ? .matched : .notMatched
    }

    private static let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), backslash = UInt8(ascii: "\\")

    /// `scanChunk`: leading stars, then up to the next `*` outside a class.
    private static func scanChunk(_ pattern: ArraySlice<UInt8>) -> (star: Bool, chunk: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        var pattern = pattern
        var star = false
        while pattern.first == Self.star { pattern = pattern.dropFirst(); star = true }
        var end = pattern.startIndex
        var inRange = false
        scan: while end < pattern.endIndex {
            switch pattern[end] {
            case backslash: if end + 1 < pattern.endIndex { end += 1 }
            case UInt8(ascii: "["): inRange = true
            case UInt8(ascii: "]"): inRange = false
            case Self.star where !inRange: break scan
            default: break
            }
            end += 1
        }
        return (star, pattern[..<end], pattern[end...])
    }

    private enum ChunkOutcome { case matched(ArraySlice<UInt8>), notMatched, badPattern }

    /// `matchChunk` (Go ≥ 1.16): after a mismatch it still reads the rest of the chunk, for its syntax.
    private static func matchChunk(_ chunk: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> ChunkOutcome {
        var chunk = chunk, name = name
        var failed = false
        /// `getEsc`: one class character, or nil on a syntax error.
        func classCharacter() -> Rune? {
            guard let first = chunk.first, first != UInt8(ascii: "-"), first != UInt8(ascii: "]") else { return nil }
            if first == backslash {
                chunk = chunk.dropFirst()
                guard !chunk.isEmpty else { return nil }
            }
            let (rune, width) = GoUTF8.decode(chunk, at: chunk.startIndex)
            if rune == GoUTF8.runeError && width == 1 { return nil }
            chunk = chunk.dropFirst(width)
            return chunk.isEmpty ? nil : rune
        }
        while let first = chunk.first {
            if !failed && name.isEmpty { failed = true }
            switch first {
            case UInt8(ascii: "["):
                var rune: Rune = 0
                if !failed {
                    let (decoded, width) = GoUTF8.decode(name, at: name.startIndex)
                    rune = decoded
                    name = name.dropFirst(width)
                }
                chunk = chunk.dropFirst()
                var negated = false
                if chunk.first == UInt8(ascii: "^") { negated = true; chunk = chunk.dropFirst() }
                var matched = false, ranges = 0
                while true {
                    if chunk.first == UInt8(ascii: "]"), ranges > 0 { chunk = chunk.dropFirst(); break }
                    guard let low = classCharacter() else { return .badPattern }
                    var high = low
                    if chunk.first == UInt8(ascii: "-") {
                        chunk = chunk.dropFirst()
                        guard let end = classCharacter() else { return .badPattern }
                        high = end
                    }
                    if low <= rune && rune <= high { matched = true }
                    ranges += 1
                }
                if matched == negated { failed = true }
            case UInt8(ascii: "?"):
                if !failed {
                    if name.first == slash { failed = true }
                    name = name.dropFirst(GoUTF8.decode(name, at: name.startIndex).width)
                }
                chunk = chunk.dropFirst()
            default:
                if first == backslash {
                    chunk = chunk.dropFirst()
                    if chunk.isEmpty { return .badPattern }
                }
                if !failed {
                    if chunk.first != name.first { failed = true }
                    name = name.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? .notMatched : .matched(name)
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

    /// A string after a round trip through `encoding/json`: each byte that starts no valid UTF-8
    /// sequence is replaced by U+FFFD (a valid U+FFFD stays as it is).
    static func coercedToValidUTF8(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let (rune, width) = GoUTF8.decode(bytes[...], at: index)
            if rune == GoUTF8.runeError, width == 1 { out += [0xEF, 0xBF, 0xBD] } else { out += bytes[index..<index + width] }
            index += width
        }
        return out
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
