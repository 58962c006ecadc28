import MtimeCore
import Testing
@testable import MtimeDockerContext

/// Reading `.dockerignore` and evaluating patterns: what the engine cases (EngineCaseTests) can't
/// show one rule at a time. Behaviour that differs between engines is checked against the recording.
@Suite struct DockerIgnoreTests {
    func rules(_ text: String, _ builder: DockerBuilder = .current) throws -> DockerContextRules {
        try DockerContextRules(builder: builder, ignoreFile: ".dockerignore", contents: Array(text.utf8), classic: nil)
    }

    func kept(_ text: String, _ paths: [String], _ builder: DockerBuilder = .current) throws -> [String] {
        let context = try rules(text, builder).evaluator()
        return try paths.filter { try context.includes(BytePath($0)) }
    }

    @Test func readAllSplitsTrimsAndCleans() throws {
        let entries = try DockerIgnoreFile.readAll(
            Array("\u{FEFF}# c\n\n  /target  \r\n ! ./a/../b \n#x\n !\n\u{00A0}y\u{3000}\n".utf8), file: "f")
        #expect(entries.map { String(decoding: $0.pattern, as: UTF8.self) } == ["target", "!b", "!", "y"])
        #expect(entries.map(\.origin.line) == [3, 4, 6, 7])
    }

    @Test func aCommentIsOnlyAHashAtTheVeryStart() throws {
        #expect(try kept(" #x\n#y\n", ["#x", "#y"]) == ["#y"])
    }

    @Test func aLineOf64KiBFailsTheRead() throws {
        let long = String(repeating: "a", count: DockerIgnoreFile.maximumLineLength)
        #expect(throws: DockerIgnoreError.self) { try rules("x\n" + long + "\n") }
        _ = try rules(String(long.dropFirst()) + "\n")
    }

    @Test func errorsNameTheFileAndLine() throws {
        let error = #expect(throws: DockerIgnoreError.self) { try rules("ok\n\n[abc\n") }
        #expect(error?.description == ".dockerignore line 3: syntax error in pattern \"[abc\"")
        let lone = #expect(throws: DockerIgnoreError.self) { try rules("!\n") }
        #expect(lone?.description == ".dockerignore line 1: illegal exclusion pattern: \"!\"")
    }

    /// Go's regexp rejects some patterns filepath.Match accepts: Docker fails when it evaluates them.
    @Test func aPatternGoRejectsFailsWhenEvaluated() throws {
        let context = try rules("a\n[z-a]\n").evaluator()
        let error = #expect(throws: DockerIgnoreError.self) { try context.includes(BytePath("x")) }
        #expect(error?.description.contains("invalid character class range") == true)
        // patternmatcher skips an exception that can't change the verdict, and so never compiles it.
        #expect(try kept("!x[z-a]\n", ["x", "y"]) == ["x", "y"])
        #expect(throws: DockerIgnoreError.self) { try kept("!x[z-a]\n", ["x"], DockerBuilder(kind: .buildKit, client: .fileutils)) }
    }

    @Test func unicodeClassesAreRefusedAsUnsupported() throws {
        let error = #expect(throws: DockerIgnoreError.self) { try kept("\\pL*\n", ["x"]) }
        #expect(error?.description.contains("git-mtime does not evaluate") == true)
    }

    @Test func goRegexpEscapesAndAssertions() throws {
        // \b is a word boundary, \Q…\E quotes, \x41 and \101 are "A", \t a tab; \o is an error.
        #expect(try kept("a\\bb*\n", ["ab", "a-b"]) == ["ab", "a-b"])
        #expect(try kept("[a]\\b*\n", ["a-b", "ab"]) == ["ab"])
        #expect(try kept("\\Q[x]\\E*\n", ["[x]1", "x1"]) == ["x1"])
        #expect(try kept("\\x41*\n\\101b*\n", ["Ab", "Ac", "ab"]) == ["ab"])
        #expect(try kept("a\\tb*\n", ["a\tb", "atb"]) == ["atb"])
        #expect(throws: DockerIgnoreError.self) { try kept("a\\ob*\n", ["x"]) }
    }

    @Test func repeatCountsFollowGo() throws {
        let legacy = DockerBuilder(kind: .buildKit, client: .fileutils)
        #expect(try kept("a{2,3}\n", ["a", "aa", "aaa", "aaaa"], legacy) == ["a", "aaaa"])
        #expect(try kept("a{02}\n", ["a{02}", "aa"], legacy) == ["aa"], "a leading zero makes the brace a literal")
        #expect(throws: DockerIgnoreError.self) { try kept("a{1001}\n", ["a"], legacy) }
        #expect(throws: DockerIgnoreError.self) { try kept("(a{100}){100}\n", ["a"], legacy) }
        #expect(throws: DockerIgnoreError.self) { try kept("a{2}{3}\n", ["a"], legacy) }
    }

    /// Backtracking would never finish these (2^60 ways to split the name among the stars); the
    /// automaton reads each byte once per state, so finishing at all is the proof.
    @Test func hostilePatternsStayLinear() throws {
        let stars = String(repeating: "*a", count: 60) + "b\n"
        let nested = String(repeating: "**/", count: 30) + "z\n"
        let alternation = "(" + String(repeating: "(a|aa)+", count: 20) + ")+b\n"
        let name = String(repeating: "a", count: 4000)
        let deep = Array(repeating: "d", count: 100).joined(separator: "/")
        for builder in [DockerBuilder.current, DockerBuilder(kind: .classic, client: .fileutils)] {
            #expect(try kept(stars + nested, [name, deep], builder) == [name, deep])
        }
        #expect(try kept(alternation, [name], DockerBuilder(kind: .classic, client: .fileutils)) == [name])
    }

    /// BuildKit 23+ walks with fsutil's filter: an exception with a wildcard lets it enter every excluded
    /// directory, and a trailing `/*` or `/**` is not a wildcard for that. (No docker 23 BuildKit client
    /// here: from fsutil's filter.go, not from the engine.)
    @Test func buildKit23EntersExcludedDirectoriesForWildcardExceptions() throws {
        let buildKit23 = DockerBuilder.current
        let classic23 = DockerBuilder(kind: .classic, client: .patternmatcher)
        #expect(try kept("a\n!*/keep\n", ["a/keep", "a/x"], buildKit23) == ["a/keep"])
        #expect(try kept("a\n!*/keep\n", ["a/keep", "a/x"], classic23) == [])
        #expect(try kept("a\n!a/b/**\n", ["a/b/x", "a/c"], buildKit23) == ["a/b/x"])
    }

    /// Docker checks a pattern with `filepath.Match(p, ".")`, which returns at the first chunk that
    /// does not match: a syntax error after it goes unnoticed (measured with docker 20.10 and 28, both
    /// builders; the differential test's seed 421c4099 case 10 found it).
    @Test func onlyTheChunksFilepathMatchTriesAreChecked() throws {
        for valid in ["x*[*", "targeta*b.rs/[*", "x\\[", "*", "a/b*["] {
            #expect(GoFilepathMatch.isValidPattern(Array(valid.utf8)), "\(valid)")
        }
        for invalid in ["*[*", "x[", "[", "[]a]", ".[", "\\", "[z-]"] {
            #expect(!GoFilepathMatch.isValidPattern(Array(invalid.utf8)), "\(invalid)")
        }
        for builder in [DockerBuilder.current, DockerBuilder(kind: .classic, client: .fileutils)] {
            #expect(try kept("x*[*\n", ["x", "y"], builder) == ["y"])
        }
    }

    func keptBytes(_ contents: [UInt8], _ paths: [[UInt8]], _ builder: DockerBuilder) throws -> [[UInt8]] {
        let context = try DockerContextRules(builder: builder, ignoreFile: ".dockerignore", contents: contents, classic: nil).evaluator()
        return try paths.filter { try context.includes(BytePath($0)) }
    }

    /// BuildKit's frontend passes the patterns on as JSON, so an invalid UTF-8 byte in one arrives as
    /// U+FFFD, which Go's regexp then matches against the byte in a name (seed 421c4099 cases 147, 166,
    /// 207, 342 of the differential test); the classic client reads the file's bytes as they are.
    @Test func buildKitPatternsArriveAsValidUTF8() throws {
        let buildKit20 = DockerBuilder(kind: .buildKit, client: .fileutils)
        let range: [UInt8] = Array("a/[".utf8) + [0xFF, UInt8(ascii: "-"), 0xFF] + Array("]\n".utf8)
        let byteName: [UInt8] = Array("a/".utf8) + [0xFF]
        for builder in [buildKit20, .current] {
            #expect(try keptBytes(range, [byteName, Array("a/b".utf8)], builder) == [Array("a/b".utf8)])
        }
        #expect(throws: DockerIgnoreError.self) { try keptBytes(range, [], DockerBuilder(kind: .classic, client: .fileutils)) }
        // `ab\xff` excluded, `!ab\xff/x` excepted: BuildKit's exception reads `ab\u{FFFD}/x`, which no
        // longer starts with the directory's path, so the walk does not enter it.
        let directory: [UInt8] = Array("ab".utf8) + [0xFF]
        let exception = directory + [UInt8(ascii: "\n"), UInt8(ascii: "!")] + directory + Array("/x\n".utf8)
        #expect(try keptBytes(exception, [directory + Array("/x".utf8), Array("y".utf8)], buildKit20) == [Array("y".utf8)])
        #expect(
            try keptBytes(exception, [directory + Array("/x".utf8), Array("y".utf8)], DockerBuilder(kind: .classic, client: .fileutils))
                == [directory + Array("/x".utf8), Array("y".utf8)])
        #expect(
            GoStrings.coercedToValidUTF8([0x61, 0xFF, 0xEF, 0xBF, 0xBD, 0xC3]) == [
                0x61, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD,
            ])
    }

    @Test func engineFromDockerVersion() {
        #expect(DockerPatternEngine(dockerVersion: "20.10.24+dfsg1") == .fileutils)
        #expect(DockerPatternEngine(dockerVersion: "Docker version 28.2.2, build e6534b4") == .patternmatcher)
        #expect(DockerPatternEngine(dockerVersion: "23") == .patternmatcher)
        #expect(DockerPatternEngine(dockerVersion: "latest") == nil)
    }

    @Test func goUTF8DecodingMatchesGo() {
        #expect(GoUTF8.runes([0xFF, 0x61][...]) == [0xFFFD, 0x61])
        #expect(GoUTF8.runes([0xED, 0xA0, 0x80][...]) == [0xFFFD, 0xFFFD, 0xFFFD], "surrogates are invalid")
        #expect(GoUTF8.runes([0xC0, 0xAF][...]) == [0xFFFD, 0xFFFD], "overlong")
        #expect(GoUTF8.runes(Array("é日🙂".utf8)[...]) == [0xE9, 0x65E5, 0x1F642])
    }

    @Test func goTrimSpaceAndClean() {
        #expect(Array(GoStrings.trimSpace(Array("\u{2003} a \u{85}".utf8)[...])) == Array("a".utf8))
        #expect(Array(GoStrings.trimSpace([0x20, 0xFF, 0x20][...])) == [0xFF])
        #expect(GoStrings.clean(Array("a//b/./../c/".utf8)) == Array("a/c".utf8))
        #expect(GoStrings.clean(Array("/../x".utf8)) == Array("/x".utf8))
        #expect(GoStrings.clean(Array("../../x/..".utf8)) == Array("../..".utf8))
        #expect(GoStrings.clean([]) == Array(".".utf8))
    }
}
