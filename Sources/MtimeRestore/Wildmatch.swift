/// Git's `wildmatch` (wildmatch.c), byte for byte: `*`, `?`, `[...]` with ranges, `!`/`^` negation and
/// `[:class:]`, `\` escapes. Without `pathname`, `*` and `?` also match `/` (git's default pathspec
/// matching); with it, `*` stays within one component and `**` between slashes spans components
/// (`:(glob)`). `caseFold` folds ASCII letters only, as git's own ctype does.
struct Wildmatch {
    let pathname: Bool
    let caseFold: Bool

    private enum Outcome { case match, noMatch, abortAll, abortToStarStar }

    func matches(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        pattern.withUnsafeBufferPointer { p in text.withUnsafeBufferPointer { t in match(p, 0, t, 0) == .match } }
    }

    /// Byte `index` of `buffer`, 0 past its end (the C code reads NUL terminators).
    @inline(__always) private static func at(_ buffer: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt8 {
        index < buffer.count ? buffer[index] : 0
    }

    @inline(__always) private func folded(_ byte: UInt8) -> UInt8 {
        caseFold && GitCharacter.isUpper(byte) ? byte + 0x20 : byte
    }

    private func match(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ t: UnsafeBufferPointer<UInt8>, _ textStart: Int) -> Outcome {
        var pi = start, ti = textStart
        while pi < p.count {
            var pc = folded(p[pi])
            var tc = folded(Self.at(t, ti))
            if ti >= t.count && pc != UInt8(ascii: "*") { return .abortAll }
            switch pc {
            case UInt8(ascii: "?"):
                if pathname && tc == UInt8(ascii: "/") { return .noMatch }
            case UInt8(ascii: "*"):
                var matchSlash: Bool
                pi += 1
                if Self.at(p, pi) == UInt8(ascii: "*") {
                    let before = pi - 2
                    while Self.at(p, pi + 1) == UInt8(ascii: "*") { pi += 1 }
                    pi += 1
                    if !pathname {
                        matchSlash = true
                    } else if (before < start || p[before] == UInt8(ascii: "/"))
                        && (pi >= p.count || p[pi] == UInt8(ascii: "/")
                            || (p[pi] == UInt8(ascii: "\\") && Self.at(p, pi + 1) == UInt8(ascii: "/")))
                    {
                        // `**/` may match no directory at all: try the rest right here.
                        if Self.at(p, pi) == UInt8(ascii: "/") && match(p, pi + 1, t, ti) == .match { return .match }
                        matchSlash = true
                    } else {
                        matchSlash = false
                    }
                } else {
                    matchSlash = !pathname
                }
                if pi >= p.count {
                    // A trailing `**` matches everything, a trailing `*` only within the component.
                    if !matchSlash && t[ti...].contains(UInt8(ascii: "/")) { return .noMatch }
                    return .match
                }
                if !matchSlash && p[pi] == UInt8(ascii: "/") {
                    // One `*` then `/`: the rest of this component, and the slash is matched next.
                    guard let slash = t[ti...].firstIndex(of: UInt8(ascii: "/")) else { return .noMatch }
                    ti = slash
                    break
                }
                while true {
                    if ti >= t.count { break }
                    // Skip ahead to the next occurrence of a literal that follows the star.
                    if !GitCharacter.isGlobSpecial(p[pi]) {
                        let literal = folded(p[pi])
                        while ti < t.count && (matchSlash || t[ti] != UInt8(ascii: "/")) {
                            tc = folded(t[ti])
                            if tc == literal { break }
                            ti += 1
                        }
                        tc = folded(Self.at(t, ti))
                        if ti >= t.count || tc != literal { return .noMatch }
                    }
                    let matched = match(p, pi, t, ti)
                    if matched != .noMatch {
                        if !matchSlash || matched != .abortToStarStar { return matched }
                    } else if !matchSlash && Self.at(t, ti) == UInt8(ascii: "/") {
                        return .abortToStarStar
                    }
                    ti += 1
                }
                return .abortAll
            case UInt8(ascii: "["):
                pi += 1
                pc = Self.at(p, pi)
                if pc == UInt8(ascii: "^") { pc = UInt8(ascii: "!") }
                let negated = pc == UInt8(ascii: "!")
                if negated { pi += 1; pc = Self.at(p, pi) }
                var previous: UInt8 = 0
                var matched = false
                repeat {
                    if pi >= p.count { return .abortAll }
                    if pc == UInt8(ascii: "\\") {
                        pi += 1
                        pc = Self.at(p, pi)
                        if pi >= p.count { return .abortAll }
                        if tc == pc { matched = true }
                    } else if pc == UInt8(ascii: "-") && previous != 0 && pi + 1 < p.count && p[pi + 1] != UInt8(ascii: "]") {
                        pi += 1
                        pc = p[pi]
                        if pc == UInt8(ascii: "\\") {
                            pi += 1
                            pc = Self.at(p, pi)
                            if pi >= p.count { return .abortAll }
                        }
                        if tc <= pc && tc >= previous {
                            matched = true
                        } else if caseFold && GitCharacter.isLower(tc) {
                            let upper = tc - 0x20
                            if upper <= pc && upper >= previous { matched = true }
                        }
                        pc = 0
                    } else if pc == UInt8(ascii: "[") && Self.at(p, pi + 1) == UInt8(ascii: ":") {
                        let nameStart = pi + 2
                        var end = nameStart
                        while end < p.count && p[end] != UInt8(ascii: "]") { end += 1 }
                        if end >= p.count { return .abortAll }
                        let length = end - nameStart - 1
                        if length < 0 || p[end - 1] != UInt8(ascii: ":") {
                            // No closing `:]`: the `[` is an ordinary member of the set.
                            pc = UInt8(ascii: "[")
                            if tc == pc { matched = true }
                        } else {
                            pi = end
                            guard let inClass = GitCharacter.classMember(Array(p[nameStart..<(nameStart + length)]), tc, caseFold: caseFold)
                            else { return .abortAll }
                            if inClass { matched = true }
                            pc = 0
                        }
                    } else if tc == pc {
                        matched = true
                    }
                    previous = pc
                    pi += 1
                    pc = Self.at(p, pi)
                } while pc != UInt8(ascii: "]")
                if matched == negated || (pathname && tc == UInt8(ascii: "/")) { return .noMatch }
            case UInt8(ascii: "\\"):
                // An escaped byte matches itself (unfolded, as in git); a trailing `\` matches nothing.
                pi += 1
                pc = Self.at(p, pi)
                if tc != pc || pi >= p.count { return .noMatch }
            default:
                if tc != pc { return .noMatch }
            }
            pi += 1
            ti += 1
        }
        return ti >= t.count ? .match : .noMatch
    }
}

/// Git's locale-independent ASCII ctype (ctype.c, git-compat-util.h): what its pathspec parser and
/// wildmatch call letters, digits, magic and glob characters.
enum GitCharacter {
    static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    static func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isAlphanumeric(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }
    static func isGlobSpecial(_ c: UInt8) -> Bool { "*?[\\".utf8.contains(c) }
    /// The non-alphanumeric characters that may follow `:` as short pathspec magic (`!`, `/` and
    /// others git reserves: using a reserved one is an error, anything else ends the magic).
    static func isPathspecMagic(_ c: UInt8) -> Bool { "!\"#%&',-/:;<=>@_`~".utf8.contains(c) }
    static func asciiLowercased(_ c: UInt8) -> UInt8 { isUpper(c) ? c + 0x20 : c }

    /// Whether `c` is in the `[:name:]` class; nil for a name wildmatch does not know (no match at all).
    static func classMember(_ name: [UInt8], _ c: UInt8, caseFold: Bool) -> Bool? {
        switch String(decoding: name, as: UTF8.self) {
        case "alnum": return isAlphanumeric(c)
        case "alpha": return isAlpha(c)
        case "blank": return c == 0x20 || c == 0x09
        case "cntrl": return c < 0x20 || c == 0x7F
        case "digit": return isDigit(c)
        case "graph": return c > 0x20 && c < 0x7F
        case "lower": return isLower(c)
        case "print": return c >= 0x20 && c < 0x7F
        case "punct": return c > 0x20 && c < 0x7F && !isAlphanumeric(c)
        // Git's isspace: space, tab, newline and carriage return (not \v or \f).
        case "space": return c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
        case "upper": return isUpper(c) || (caseFold && isLower(c))
        case "xdigit": return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
        default: return nil
        }
    }
}
