import MtimeCore
import Testing
@testable import MtimeManifest

@Suite struct DockerIgnoreTests {
    func rules(_ text: String) throws -> DockerIgnore { try DockerIgnore(parsing: Array(text.utf8)) }

    @Test func starStaysInOneDirectory() throws {
        let ignore = try rules("*.md\n")
        #expect(ignore.excludes(BytePath("README.md")))
        #expect(!ignore.excludes(BytePath("docs/guide.md")))
        #expect(!ignore.excludes(BytePath("main.rs")))
    }

    @Test func doubleStarCrossesDirectories() throws {
        let ignore = try rules("**/*.o\nbuild/**\n")
        #expect(ignore.excludes(BytePath("a.o")))
        #expect(ignore.excludes(BytePath("src/deep/b.o")))
        #expect(ignore.excludes(BytePath("build/x/y")))
        #expect(!ignore.excludes(BytePath("builder/x")))
        #expect(!ignore.excludes(BytePath("src/a.c")))
    }

    @Test func questionMarkAndClasses() throws {
        let ignore = try rules("file?.txt\nlog[0-9]\n[^a]x\n")
        #expect(ignore.excludes(BytePath("file1.txt")))
        #expect(!ignore.excludes(BytePath("file/.txt")))
        #expect(!ignore.excludes(BytePath("file12.txt")))
        #expect(ignore.excludes(BytePath("log7")))
        #expect(!ignore.excludes(BytePath("logx")))
        #expect(ignore.excludes(BytePath("bx")))
        #expect(!ignore.excludes(BytePath("ax")))
    }

    @Test func lastMatchingLineWinsAndReincludes() throws {
        let ignore = try rules("*.md\n!README.md\nREADME*\n")
        #expect(ignore.excludes(BytePath("CHANGES.md")))
        #expect(ignore.excludes(BytePath("README.md")), "README* comes last and excludes again")
        let reinclude = try rules("docs\n!docs/keep.txt\n")
        #expect(ignore.excludes(BytePath("CHANGES.md")))
        #expect(reinclude.excludes(BytePath("docs/a.txt")), "a parent directory match excludes what is below it")
        #expect(!reinclude.excludes(BytePath("docs/keep.txt")), "unlike .gitignore, a file below an excluded directory can come back")
    }

    @Test func commentsWhitespaceLeadingSlashAndCleaning() throws {
        let ignore = try rules("\u{FEFF}# a comment\n   \n  /target  \n ! target/keep \n./src/../tmp/\n#not/ignored\n")
        #expect(ignore.rules.map(\.pattern) == ["target", "target/keep", "tmp"])
        #expect(ignore.excludes(BytePath("target/debug/app")))
        #expect(!ignore.excludes(BytePath("target/keep")))
        #expect(ignore.excludes(BytePath("tmp/x")))
        #expect(!ignore.excludes(BytePath("#not/ignored")))
        #expect(!ignore.excludes(BytePath("src/target")), "a pattern without ** matches from the context root only")
    }

    @Test func escapes() throws {
        let ignore = try rules("\\*literal\nweird\\?\n")
        #expect(ignore.excludes(BytePath("*literal")))
        #expect(!ignore.excludes(BytePath("xliteral")))
        #expect(ignore.excludes(BytePath("weird?")))
        #expect(!ignore.excludes(BytePath("weirdo")))
    }

    @Test func rejectsWhatDockerRejects() throws {
        #expect(throws: DockerIgnoreError.self) { try rules("ok\n!\n") }
        #expect(throws: DockerIgnoreError.self) { try rules("[abc\n") }
        #expect(throws: DockerIgnoreError.self) { try rules("trailing\\\n") }
    }

    /// Many stars against a long name must stay linear-ish, not explode.
    @Test func hostilePatternsDoNotHang() throws {
        let ignore = try rules(String(repeating: "*a", count: 40) + "b\n" + String(repeating: "**/", count: 30) + "z\n")
        let name = BytePath(String(repeating: "a", count: 4000))
        #expect(!ignore.excludes(name))
        let deep = BytePath(Array(repeating: "d", count: 500).joined(separator: "/"))
        #expect(!ignore.excludes(deep))
    }
}
