/// Go's `regexp` as Docker's pattern code calls it (`regexp.Compile`: RE2 syntax with the Perl flags
/// ClassNL, OneLine, PerlX), for the expressions Docker builds from `.dockerignore` patterns, and
/// `MatchString`'s answer: is there a match anywhere in the text.
///
/// Docker's translation passes `[...]`, `\x` and `^` (and in docker ≤ 20.10 also `+ ( ) | { }`) into
/// the expression untouched, so those mean what Go's regexp says they mean: `[[:digit:]]` is a POSIX
/// class, `\d` a digit, `a+` one or more `a`. Parsing follows Go's parser, including the errors (Docker
/// then fails the build). Unicode classes (`\pL`, `\p{Greek}`) are refused as unsupported.
///
/// Matching simulates the Thompson automaton over the text's runes (invalid UTF-8: one U+FFFD per
/// byte, as Go decodes it): O(text × program), no backtracking, whatever the pattern.
struct GoRegexp: Sendable {
    enum ParseError: Error, Equatable, Sendable {
        /// What Go's parser says (`regexp.Compile` fails, and so does the build that evaluates it).
        case invalid(code: String, expression: String)
        /// Valid in Go, but beyond what this reimplementation evaluates.
        case unsupported(String)
    }

    let program: Program

    init(_ expression: [Rune]) throws(ParseError) {
        var parser = Parser(expression)
        let tree = try parser.parse()
        var compiler = Compiler()
        program = try compiler.compile(tree)
    }

    /// `MatchString(text)`.
    func matches(_ text: ArraySlice<UInt8>) -> Bool {
        program.search(text)
    }
}

typealias Rune = UInt32

enum GoUTF8 {
    static let runeError: Rune = 0xFFFD
    static let maxRune: Rune = 0x10FFFF

    /// Go's `utf8.DecodeRune`: an invalid or truncated sequence is `(RuneError, 1)`.
    static func decode(_ bytes: ArraySlice<UInt8>, at index: Int) -> (rune: Rune, width: Int) {
        let b0 = bytes[index]
        if b0 < 0x80 { return (Rune(b0), 1) }
        let end = bytes.endIndex
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> UInt8? {
            guard index + offset < end else { return nil }
            let byte = bytes[index + offset]
            return byte >= low && byte <= high ? byte : nil
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let b1 = continuation(1) else { break }
            return (Rune(b0 & 0x1F) << 6 | Rune(b1 & 0x3F), 2)
        case 0xE0...0xEF:
            let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80, high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            guard let b1 = continuation(1, low, high), let b2 = continuation(2) else { break }
            return (Rune(b0 & 0x0F) << 12 | Rune(b1 & 0x3F) << 6 | Rune(b2 & 0x3F), 3)
        case 0xF0...0xF4:
            let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80, high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            guard let b1 = continuation(1, low, high), let b2 = continuation(2), let b3 = continuation(3) else { break }
            return (Rune(b0 & 0x07) << 18 | Rune(b1 & 0x3F) << 12 | Rune(b2 & 0x3F) << 6 | Rune(b3 & 0x3F), 4)
        default: break
        }
        return (runeError, 1)
    }

    static func runes(_ bytes: ArraySlice<UInt8>) -> [Rune] {
        var result: [Rune] = []
        result.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let (rune, width) = decode(bytes, at: index)
            result.append(rune)
            index += width
        }
        return result
    }

    static func encode(_ rune: Rune) -> [UInt8] {
        switch rune {
        case 0..<0x80: return [UInt8(rune)]
        case 0x80..<0x800: return [UInt8(0xC0 | rune >> 6), UInt8(0x80 | rune & 0x3F)]
        case 0x800..<0x10000: return [UInt8(0xE0 | rune >> 12), UInt8(0x80 | rune >> 6 & 0x3F), UInt8(0x80 | rune & 0x3F)]
        default:
            return [UInt8(0xF0 | rune >> 18), UInt8(0x80 | rune >> 12 & 0x3F), UInt8(0x80 | rune >> 6 & 0x3F), UInt8(0x80 | rune & 0x3F)]
        }
    }
}

/// A set of runes as sorted, disjoint, non-adjacent closed ranges.
struct RuneSet: Equatable, Sendable {
    private(set) var ranges: [ClosedRange<Rune>] = []

    init() {}
    init(_ ranges: [ClosedRange<Rune>]) {
        self.ranges = ranges
        normalize()
    }

    /// Sorts and merges: O(n log n) however the ranges came (a class may list thousands of characters).
    private mutating func normalize() {
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Rune>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        ranges = merged
    }

    var inverted: RuneSet {
        var result = RuneSet()
        var next: Rune = 0
        for range in ranges {
            if range.lowerBound > next { result.ranges.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= GoUTF8.maxRune { result.ranges.append(next...GoUTF8.maxRune) }
        return result
    }
}

extension GoRegexp {
    enum Assertion: UInt8, Sendable {
        case beginText, endText, wordBoundary, notWordBoundary
    }

    indirect enum Node: Sendable {
        case runes(RuneSet)
        case assertion(Assertion)
        case concat([Node])
        case alternate([Node])
        /// `min...max` copies; `max == nil`: unbounded. `braces`: written `{n,m}` (Go limits those).
        case `repeat`(Node, min: Int, max: Int?, braces: Bool)
    }

    /// Go's `regexp/syntax` parser for the Perl flags, producing `Node`s.
    struct Parser {
        let text: [Rune]
        var position = 0

        init(_ text: [Rune]) { self.text = text }

        static func isWordRune(_ rune: Rune) -> Bool {
            (0x30...0x39).contains(rune) || (0x41...0x5A).contains(rune) || (0x61...0x7A).contains(rune) || rune == 0x5F
        }

        func rest(from start: Int) -> String { Self.string(text[start...]) }
        static func string<S: Sequence>(_ runes: S) -> String where S.Element == Rune {
            String(decoding: runes.flatMap { GoUTF8.encode($0) }, as: UTF8.self)
        }

        mutating func parse() throws(ParseError) -> Node {
            let node = try parseAlternation(depth: 0)
            if position < text.count {  // only a `)` stops the top level early
                throw .invalid(code: "unexpected )", expression: Self.string(text))
            }
            return node
        }

        private mutating func parseAlternation(depth: Int) throws(ParseError) -> Node {
            guard depth < 1000 else { throw .invalid(code: "expression nests too deeply", expression: Self.string(text)) }
            var branches = [try parseConcatenation(depth: depth)]
            while position < text.count, text[position] == 0x7C /* | */ {
                position += 1
                branches.append(try parseConcatenation(depth: depth))
            }
            return branches.count == 1 ? branches[0] : .alternate(branches)
        }

        private mutating func parseConcatenation(depth: Int) throws(ParseError) -> Node {
            var items: [Node] = []
            /// The text of the last repetition operator, if the previous item ended with one.
            var lastRepeatStart: Int?
            while position < text.count {
                let start = position
                let rune = text[position]
                switch rune {
                case 0x7C /* | */, 0x29 /* ) */:
                    return items.count == 1 ? items[0] : .concat(items)
                case 0x2A /* * */, 0x2B /* + */, 0x3F /* ? */:
                    position += 1
                    let (min, max): (Int, Int?) = rune == 0x2A ? (0, nil) : rune == 0x2B ? (1, nil) : (0, 1)
                    try applyRepeat(&items, min: min, max: max, braces: false, start: start, lastRepeatStart: &lastRepeatStart)
                    continue
                case 0x7B /* { */:
                    if let (min, max) = parseRepeatBraces() {
                        try applyRepeat(&items, min: min, max: max, braces: true, start: start, lastRepeatStart: &lastRepeatStart)
                        continue
                    }
                    position += 1
                    items.append(.runes(RuneSet([rune...rune])))
                case 0x28 /* ( */:
                    position += 1
                    if position < text.count, text[position] == 0x3F /* ? */ {
                        throw .unsupported("a `(?` group or flag in \(rest(from: start))")
                    }
                    let inner = try parseAlternation(depth: depth + 1)
                    guard position < text.count, text[position] == 0x29 else {
                        throw .invalid(code: "missing closing )", expression: Self.string(text))
                    }
                    position += 1
                    items.append(inner)
                case 0x5B /* [ */:
                    items.append(.runes(try parseClass()))
                case 0x2E /* . */:
                    position += 1
                    items.append(.runes(RuneSet([0...0x09, 0x0B...GoUTF8.maxRune])))
                case 0x5E /* ^ */:
                    position += 1
                    items.append(.assertion(.beginText))
                case 0x24 /* $ */:
                    position += 1
                    items.append(.assertion(.endText))
                case 0x5C /* \ */:
                    items.append(contentsOf: try parseTopLevelEscape())
                default:
                    position += 1
                    items.append(.runes(RuneSet([rune...rune])))
                }
                lastRepeatStart = nil
            }
            return items.count == 1 ? items[0] : .concat(items)
        }

        private mutating func applyRepeat(
            _ items: inout [Node], min: Int, max: Int?, braces: Bool, start: Int,
            lastRepeatStart: inout Int?
        ) throws(ParseError) {
            // A trailing `?` makes it non-greedy: the same set of matches.
            if position < text.count, text[position] == 0x3F { position += 1 }
            if let previous = lastRepeatStart {
                throw .invalid(code: "invalid nested repetition operator", expression: Self.string(text[previous..<position]))
            }
            guard let operand = items.popLast() else {
                throw .invalid(code: "missing argument to repetition operator", expression: Self.string(text[start..<position]))
            }
            let repeated = Node.repeat(operand, min: min, max: max, braces: braces)
            if min > 1000 || (max ?? 0) > 1000 || (max.map { $0 < min } ?? false)
                || braces && (min >= 2 || (max ?? 0) >= 2) && !Self.repeatIsValid(repeated, 1000)
            {
                throw .invalid(code: "invalid repeat count", expression: Self.string(text[start..<position]))
            }
            items.append(repeated)
            lastRepeatStart = start
        }

        /// Go's `repeatIsValid`: nested `{n,m}` counts multiply to at most `limit`.
        static func repeatIsValid(_ node: Node, _ limit: Int) -> Bool {
            var limit = limit
            switch node {
            case .repeat(let body, let min, let max, let braces):
                if braces, max != 0 {
                    let count = max ?? min
                    if count > limit { return false }
                    if count > 0 { limit /= count }
                }
                return repeatIsValid(body, limit)
            case .concat(let items), .alternate(let items):
                return items.allSatisfy { repeatIsValid($0, limit) }
            case .runes, .assertion:
                return true
            }
        }

        /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when the brace is a literal, as Go reads it
        /// (a number with a leading zero makes it one).
        private mutating func parseRepeatBraces() -> (Int, Int?)? {
            var index = position + 1
            func number() -> Int? {
                let start = index
                var value = 0
                while index < text.count, (0x30...0x39).contains(text[index]) {
                    value = Swift.min(value * 10 + Int(text[index] - 0x30), 100_000_000)
                    index += 1
                }
                if index - start >= 2, text[start] == 0x30 { return nil }
                return index > start ? value : nil
            }
            guard let min = number() else { return nil }
            var max: Int? = min
            if index < text.count, text[index] == 0x2C /* , */ {
                index += 1
                max = number()
            }
            guard index < text.count, text[index] == 0x7D /* } */ else { return nil }
            position = index + 1
            return (min, max)
        }

        /// `\A`, `\z`, `\b`, `\B`, `\Q…\E`, Perl classes and single-rune escapes outside a class.
        private mutating func parseTopLevelEscape() throws(ParseError) -> [Node] {
            let start = position
            if position + 1 < text.count {
                switch text[position + 1] {
                case 0x41 /* A */: position += 2; return [.assertion(.beginText)]
                case 0x7A /* z */: position += 2; return [.assertion(.endText)]
                case 0x62 /* b */: position += 2; return [.assertion(.wordBoundary)]
                case 0x42 /* B */: position += 2; return [.assertion(.notWordBoundary)]
                case 0x43 /* C */: throw .invalid(code: "invalid escape sequence", expression: rest(from: start).prefix(2).description)
                case 0x51 /* Q */:
                    position += 2
                    var literal: [Node] = []
                    while position < text.count {
                        if text[position] == 0x5C, position + 1 < text.count, text[position + 1] == 0x45 /* E */ {
                            position += 2
                            break
                        }
                        literal.append(.runes(RuneSet([text[position]...text[position]])))
                        position += 1
                    }
                    return literal
                default: break
                }
            }
            if let set = try parsePerlOrUnicodeClass() { return [.runes(set)] }
            let rune = try parseEscape()
            return [.runes(RuneSet([rune...rune]))]
        }

        /// `\d \D \s \S \w \W`; `\p`/`\P` are refused.
        private mutating func parsePerlOrUnicodeClass() throws(ParseError) -> RuneSet? {
            guard position + 1 < text.count, text[position] == 0x5C else { return nil }
            let digits = RuneSet([0x30...0x39])
            let space = RuneSet([0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
            let word = RuneSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
            let set: RuneSet
            switch text[position + 1] {
            case 0x64 /* d */: set = digits
            case 0x44 /* D */: set = digits.inverted
            case 0x73 /* s */: set = space
            case 0x53 /* S */: set = space.inverted
            case 0x77 /* w */: set = word
            case 0x57 /* W */: set = word.inverted
            case 0x70 /* p */, 0x50 /* P */:
                throw .unsupported("the Unicode class escape in \(rest(from: position))")
            default: return nil
            }
            position += 2
            return set
        }

        /// Go's `parseEscape`: one rune (punctuation, C escapes, octal, hex).
        private mutating func parseEscape() throws(ParseError) -> Rune {
            let start = position
            position += 1
            guard position < text.count else { throw .invalid(code: "trailing backslash at end of expression", expression: "") }
            let c = text[position]
            position += 1
            func invalid() -> ParseError { .invalid(code: "invalid escape sequence", expression: Self.string(text[start..<position])) }
            func isOctal(_ index: Int) -> Bool { index < text.count && (0x30...0x37).contains(text[index]) }
            func hex(_ rune: Rune) -> Rune? {
                switch rune {
                case 0x30...0x39: return rune - 0x30
                case 0x61...0x66: return rune - 0x61 + 10
                case 0x41...0x46: return rune - 0x41 + 10
                default: return nil
                }
            }
            switch c {
            case 0x31...0x37 where isOctal(position), 0x30:
                var value = c - 0x30
                for _ in 1..<3 where isOctal(position) {
                    value = value * 8 + text[position] - 0x30
                    position += 1
                }
                return value
            case 0x78 /* x */:
                guard position < text.count else { throw invalid() }
                let first = text[position]
                position += 1
                if first == 0x7B /* { */ {
                    var value: Rune = 0, digits = 0
                    while true {
                        guard position < text.count else { throw invalid() }
                        let digit = text[position]
                        position += 1
                        if digit == 0x7D /* } */ { break }
                        guard let v = hex(digit) else { throw invalid() }
                        value = value * 16 + v
                        guard value <= GoUTF8.maxRune else { throw invalid() }
                        digits += 1
                    }
                    guard digits > 0 else { throw invalid() }
                    return value
                }
                guard position < text.count else { throw invalid() }
                let second = text[position]
                position += 1
                guard let x = hex(first), let y = hex(second) else { throw invalid() }
                return x * 16 + y
            case 0x61 /* a */: return 0x07
            case 0x66 /* f */: return 0x0C
            case 0x6E /* n */: return 0x0A
            case 0x72 /* r */: return 0x0D
            case 0x74 /* t */: return 0x09
            case 0x76 /* v */: return 0x0B
            default:
                let isAlphanumeric = (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                if c < 0x80 && !isAlphanumeric { return c }
                throw invalid()
            }
        }

        /// Go's `parseClass`: `[` … `]` with ranges, negation, POSIX `[:name:]` and Perl escapes.
        private mutating func parseClass() throws(ParseError) -> RuneSet {
            let start = position
            position += 1
            var negated = false
            if position < text.count, text[position] == 0x5E /* ^ */ {
                negated = true
                position += 1
            }
            var ranges: [ClosedRange<Rune>] = []
            var first = true
            while position >= text.count || text[position] != 0x5D /* ] */ || first {
                first = false
                guard position < text.count else {
                    throw .invalid(code: "missing closing ]", expression: rest(from: start))
                }
                if let named = try parseNamedClass() { ranges += named.ranges; continue }
                if let perl = try parsePerlOrUnicodeClass() { ranges += perl.ranges; continue }
                let rangeStart = position
                let low = try parseClassCharacter(classStart: start)
                var high = low
                if position + 1 < text.count, text[position] == 0x2D /* - */, text[position + 1] != 0x5D {
                    position += 1
                    high = try parseClassCharacter(classStart: start)
                    if high < low {
                        throw .invalid(code: "invalid character class range", expression: Self.string(text[rangeStart..<position]))
                    }
                }
                ranges.append(low...high)
            }
            position += 1
            let set = RuneSet(ranges)
            return negated ? set.inverted : set
        }

        private mutating func parseClassCharacter(classStart: Int) throws(ParseError) -> Rune {
            guard position < text.count else { throw .invalid(code: "missing closing ]", expression: rest(from: classStart)) }
            if text[position] == 0x5C { return try parseEscape() }
            position += 1
            return text[position - 1]
        }

        /// `[:alpha:]` and `[:^alpha:]`; Go looks for the closing `:]` anywhere in the rest of the expression.
        private mutating func parseNamedClass() throws(ParseError) -> RuneSet? {
            guard position + 2 < text.count, text[position] == 0x5B, text[position + 1] == 0x3A else { return nil }
            var end = position + 2
            while end + 1 < text.count, !(text[end] == 0x3A && text[end + 1] == 0x5D) { end += 1 }
            guard end + 1 < text.count else { return nil }
            let name = Self.string(text[position...(end + 1)])
            var inner = name.dropFirst(2).dropLast(2)
            let negated = inner.hasPrefix("^")
            if negated { inner = inner.dropFirst() }
            let ranges: [ClosedRange<Rune>]
            switch inner {
            case "alnum": ranges = [0x30...0x39, 0x41...0x5A, 0x61...0x7A]
            case "alpha": ranges = [0x41...0x5A, 0x61...0x7A]
            case "ascii": ranges = [0...0x7F]
            case "blank": ranges = [0x09...0x09, 0x20...0x20]
            case "cntrl": ranges = [0...0x1F, 0x7F...0x7F]
            case "digit": ranges = [0x30...0x39]
            case "graph": ranges = [0x21...0x7E]
            case "lower": ranges = [0x61...0x7A]
            case "print": ranges = [0x20...0x7E]
            case "punct": ranges = [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]
            case "space": ranges = [0x09...0x0D, 0x20...0x20]
            case "upper": ranges = [0x41...0x5A]
            case "word": ranges = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
            case "xdigit": ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]
            default: throw .invalid(code: "invalid character class range", expression: name)
            }
            position = end + 2
            let set = RuneSet(ranges)
            return negated ? set.inverted : set
        }
    }
}

extension GoRegexp {
    /// A Thompson automaton: each instruction names its successor(s). Stored as flat arrays so the
    /// simulation reads plain integers (no enum payload copies in the inner loop).
    struct Program: Sendable {
        enum Instruction: Sendable {
            case runes(RuneSet, next: Int)
            case assertion(Assertion, next: Int)
            case split(Int, Int)
            case match
        }

        enum Kind: UInt8 { case runes, assertion, split, match }

        /// The instructions as plain arrays behind one reference, read through pointers in the inner
        /// loops: a struct of arrays would be retained and released at every step of an unoptimised build.
        final class Storage: @unchecked Sendable {  // immutable after init
            let count: Int
            let kinds: UnsafeMutableBufferPointer<Kind>
            /// Successor; for `split` the first branch.
            let next: UnsafeMutableBufferPointer<Int32>
            /// `split`: the second branch; `runes`: the index of its set; `assertion`: its raw value.
            let operand: UnsafeMutableBufferPointer<Int32>
            /// Each set as an ASCII bitmap (two words) and its ranges above ASCII: set `i` owns
            /// `rangeLower/rangeUpper[rangeStart[i]..<rangeStart[i + 1]]`.
            let asciiLow: UnsafeMutableBufferPointer<UInt64>, asciiHigh: UnsafeMutableBufferPointer<UInt64>
            let rangeStart: UnsafeMutableBufferPointer<Int32>
            let rangeLower: UnsafeMutableBufferPointer<Rune>, rangeUpper: UnsafeMutableBufferPointer<Rune>

            init(_ instructions: [Instruction]) {
                var kinds: [Kind] = [], next: [Int32] = [], operand: [Int32] = []
                var asciiLow: [UInt64] = [], asciiHigh: [UInt64] = [], rangeStart: [Int32] = [0]
                var rangeLower: [Rune] = [], rangeUpper: [Rune] = []
                for instruction in instructions {
                    switch instruction {
                    case .runes(let set, let target):
                        kinds.append(.runes); next.append(Int32(target)); operand.append(Int32(asciiLow.count))
                        var low: UInt64 = 0, high: UInt64 = 0
                        for range in set.ranges {
                            for rune in range.lowerBound..<max(range.lowerBound, min(range.upperBound + 1, 128)) {
                                if rune < 64 { low |= 1 << UInt64(rune) } else { high |= 1 << UInt64(rune - 64) }
                            }
                            if range.upperBound >= 128 {
                                rangeLower.append(max(range.lowerBound, 128))
                                rangeUpper.append(range.upperBound)
                            }
                        }
                        asciiLow.append(low); asciiHigh.append(high); rangeStart.append(Int32(rangeLower.count))
                    case .assertion(let assertion, let target):
                        kinds.append(.assertion); next.append(Int32(target)); operand.append(Int32(assertion.rawValue))
                    case .split(let a, let b):
                        kinds.append(.split); next.append(Int32(a)); operand.append(Int32(b))
                    case .match:
                        kinds.append(.match); next.append(-1); operand.append(-1)
                    }
                }
                func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
                    let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
                    _ = buffer.initialize(from: array)
                    return buffer
                }
                count = kinds.count
                (self.kinds, self.next, self.operand) = (copy(kinds), copy(next), copy(operand))
                (self.asciiLow, self.asciiHigh, self.rangeStart) = (copy(asciiLow), copy(asciiHigh), copy(rangeStart))
                (self.rangeLower, self.rangeUpper) = (copy(rangeLower), copy(rangeUpper))
            }

            deinit {
                for buffer in [
                    UnsafeMutableRawBufferPointer(kinds), UnsafeMutableRawBufferPointer(next), UnsafeMutableRawBufferPointer(operand),
                    UnsafeMutableRawBufferPointer(asciiLow), UnsafeMutableRawBufferPointer(asciiHigh),
                    UnsafeMutableRawBufferPointer(rangeStart), UnsafeMutableRawBufferPointer(rangeLower),
                    UnsafeMutableRawBufferPointer(rangeUpper),
                ] {
                    buffer.deallocate()
                }
            }

            func set(_ index: Int, contains rune: Rune) -> Bool {
                if rune < 64 { return asciiLow[index] & (1 << UInt64(rune)) != 0 }
                if rune < 128 { return asciiHigh[index] & (1 << UInt64(rune - 64)) != 0 }
                var range = Int(rangeStart[index])
                let end = Int(rangeStart[index + 1])
                while range < end {
                    if rangeLower[range] <= rune && rune <= rangeUpper[range] { return true }
                    range += 1
                }
                return false
            }
        }

        let storage: Storage
        let start: Int

        init(_ instructions: [Instruction], start: Int) {
            storage = Storage(instructions)
            self.start = start
        }

        /// The position a rune is read at: what the assertions there can see.
        struct Context {
            var atBeginning: Bool
            var atEnd: Bool
            var previousIsWord: Bool
            var nextIsWord: Bool

            func holds(_ assertion: Assertion) -> Bool {
                switch assertion {
                case .beginText: return atBeginning
                case .endText: return atEnd
                case .wordBoundary: return previousIsWord != nextIsWord
                case .notWordBoundary: return previousIsWord == nextIsWord
                }
            }
        }

        /// Unanchored search, as `MatchString`: is there a match anywhere in the text.
        func search(_ text: ArraySlice<UInt8>) -> Bool {
            let runes = GoUTF8.runes(text)
            var simulation = Simulation(self)
            for position in 0...runes.count {
                let atEnd = position == runes.count
                let context = Context(
                    atBeginning: position == 0, atEnd: atEnd,
                    previousIsWord: position > 0 && Parser.isWordRune(runes[position - 1]),
                    nextIsWord: !atEnd && Parser.isWordRune(runes[position]))
                if simulation.close(context) { return true }
                if atEnd { break }
                simulation.step(runes[position])
            }
            return false
        }

        /// The state sets of one search, in buffers allocated once: the inner loops read and write
        /// through pointers (no reference counting per step).
        struct Simulation: ~Copyable {
            let program: Storage
            let start: Int32
            /// Rune-reading states after the last closure; `seeds`: the states the last rune led to.
            let current: UnsafeMutableBufferPointer<Int32>, seeds: UnsafeMutableBufferPointer<Int32>
            let stack: UnsafeMutableBufferPointer<Int32>
            let marks: UnsafeMutableBufferPointer<Int>
            var currentCount = 0, seedCount = 0
            var generation = 0

            init(_ program: Program) {
                self.program = program.storage
                start = Int32(program.start)
                let count = program.storage.count
                current = .allocate(capacity: count)
                seeds = .allocate(capacity: count)
                // Each state is pushed at most twice per closure (by a split and as a seed), plus the start.
                stack = .allocate(capacity: 3 * count + 1)
                marks = .allocate(capacity: count)
                marks.initialize(repeating: -1)
            }

            deinit {
                current.deallocate(); seeds.deallocate(); stack.deallocate(); marks.deallocate()
            }

            /// The closure of `seeds` and the start state (an unanchored search may begin anywhere)
            /// under `context` into `current`: true if it reaches `match`.
            mutating func close(_ context: Context) -> Bool {
                generation += 1
                let kinds = program.kinds, next = program.next, operand = program.operand
                let (stack, marks, current, generation) = (stack, marks, current, generation)
                var matched = false
                var depth = 0
                stack[depth] = start; depth += 1
                var index = seedCount
                while index > 0 { index -= 1; stack[depth] = seeds[index]; depth += 1 }
                var kept = 0
                while depth > 0 {
                    depth -= 1
                    let pc = Int(stack[depth])
                    if marks[pc] == generation { continue }
                    marks[pc] = generation
                    switch kinds[pc] {
                    case .runes:
                        current[kept] = Int32(pc); kept += 1
                    case .match:
                        matched = true
                    case .split:
                        stack[depth] = operand[pc]; stack[depth + 1] = next[pc]; depth += 2
                    case .assertion:
                        if context.holds(Assertion(rawValue: UInt8(operand[pc]))!) { stack[depth] = next[pc]; depth += 1 }
                    }
                }
                currentCount = kept
                return matched
            }

            mutating func step(_ rune: Rune) {
                let next = program.next, operand = program.operand
                var count = 0
                for index in 0..<currentCount {
                    let pc = Int(current[index])
                    if program.set(Int(operand[pc]), contains: rune) { seeds[count] = next[pc]; count += 1 }
                }
                seedCount = count
            }
        }
    }

    /// Builds the automaton back to front: each node is compiled knowing where it continues.
    struct Compiler {
        var instructions: [Program.Instruction] = [.match]
        static let limit = 100_000

        mutating func compile(_ node: Node) throws(ParseError) -> Program {
            let start = try emit(node, next: 0)
            return Program(instructions, start: start)
        }

        private mutating func append(_ instruction: Program.Instruction) throws(ParseError) -> Int {
            guard instructions.count < Self.limit else {
                throw .unsupported("an expression this large (over \(Self.limit) automaton states)")
            }
            instructions.append(instruction)
            return instructions.count - 1
        }

        private mutating func emit(_ node: Node, next: Int) throws(ParseError) -> Int {
            switch node {
            case .runes(let set):
                return try append(.runes(set, next: next))
            case .assertion(let assertion):
                return try append(.assertion(assertion, next: next))
            case .concat(let items):
                var entry = next
                for item in items.reversed() { entry = try emit(item, next: entry) }
                return entry
            case .alternate(let branches):
                var entry = try emit(branches[branches.count - 1], next: next)
                for branch in branches.dropLast().reversed() {
                    let first = try emit(branch, next: next)
                    entry = try append(.split(first, entry))
                }
                return entry
            case .repeat(let body, let min, let max, _):
                var entry = next
                if let max {
                    // Optional copies, nested: (x(x(x)?)?)?
                    for _ in 0..<(max - min) {
                        let bodyEntry = try emit(body, next: entry)
                        entry = try append(.split(bodyEntry, next))
                    }
                } else {
                    // x*: a loop through a split that either runs the body again or leaves.
                    let loop = try append(.split(-1, entry))
                    let bodyEntry = try emit(body, next: loop)
                    instructions[loop] = .split(bodyEntry, entry)
                    entry = loop
                }
                for _ in 0..<min { entry = try emit(body, next: entry) }
                return entry
            }
        }
    }
}
