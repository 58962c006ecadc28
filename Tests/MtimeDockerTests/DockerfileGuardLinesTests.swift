import Testing
import TestSupport
@testable import MtimeDocker

@Suite struct DockerfileGuardLinesTests {
    let guardLine = "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release"

    func classic(_ text: String, image: String = "img:1") throws -> String {
        String(decoding: try DockerfileGuardLines(parsing: Array(text.utf8)).rewrittenForClassicBuilder(image: image), as: UTF8.self)
    }

    func buildKit(_ text: String, image: String = "img:1") throws -> String {
        String(decoding: try DockerfileGuardLines(parsing: Array(text.utf8)).rewritingMountSource(to: image), as: UTF8.self)
    }

    @Test func findsTheDocumentedLine() {
        let text = "FROM rust\nWORKDIR /app\nCOPY . .\n\(guardLine)\nCMD [\"app\"]\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.line) == [4])
        #expect(lines.guardRuns.first?.target == "/git-mtime")
        #expect(lines.guardRuns.first?.otherMounts == [])
    }

    @Test func rewritesTheDocumentedLine() throws {
        let text = "FROM rust\nCOPY . .\n\(guardLine)\nCMD [\"app\"]\n"
        #expect(
            try classic(text) == """
                FROM rust
                COPY . .
                COPY --from=img:1 ["/", "/git-mtime/"]
                RUN /git-mtime/guard run -- cargo build --release
                RUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true
                CMD ["app"]

                """)
        #expect(try buildKit(text) == text.replacingOccurrences(of: "from=git-mtime,", with: "from=img:1,"))
    }

    @Test func ignoresOtherRunsAndMountsFromOtherSources() {
        let text = """
            FROM rust AS deps
            RUN --mount=type=cache,target=/root/.cargo cargo fetch
            run --mount=type=bind,from=deps,target=/d ls /d
            # RUN --mount=type=bind,from=git-mtime,target=/git-mtime commented out
            COPY --from=git-mtime / /x
            RUN --mount=type=cache,from=git-mtime,target=/c true
            RUN echo --mount=type=bind,from=git-mtime,target=/git-mtime

            """
        #expect(DockerfileGuardLines(parsing: Array(text.utf8)).guardRuns.isEmpty)
    }

    @Test func keywordAndKeysAreCaseInsensitiveAndTargetAliasesWork() {
        let text = "run --mount=from=git-mtime,TYPE=Bind,DST=/opt/gm /opt/gm/guard run -- make\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.target) == ["/opt/gm"])
    }

    @Test func continuationLinesAndCommentsInside() throws {
        let text = """
            FROM rust
            RUN --mount=type=bind,from=git-mtime,target=/git-mtime \\
            # a comment inside the instruction

                /git-mtime/guard run -- \\
                cargo build --release
            CMD ["app"]

            """
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.line) == [2])
        #expect(
            try classic(text) == """
                FROM rust
                COPY --from=img:1 ["/", "/git-mtime/"]
                RUN \\
                # a comment inside the instruction

                    /git-mtime/guard run -- \\
                    cargo build --release
                RUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true
                CMD ["app"]

                """)
    }

    /// A shell comment at the end of the guarded line used to swallow the appended `&& rm -rf` (defect 8).
    @Test func trailingShellComment() throws {
        let text = "FROM rust\n\(guardLine) # release build\nCMD x\n"
        #expect(
            try classic(text) == """
                FROM rust
                COPY --from=img:1 ["/", "/git-mtime/"]
                RUN /git-mtime/guard run -- cargo build --release # release build
                RUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true
                CMD x

                """)
    }

    /// The heredoc body belongs to the RUN: the cleanup goes after its terminator; a body line that
    /// looks like a guard line is not one.
    @Test func heredocs() throws {
        let text = """
            FROM rust
            RUN --mount=type=bind,from=git-mtime,target=/git-mtime <<EOF
            /git-mtime/guard run -- make
            RUN --mount=type=bind,from=git-mtime,target=/git-mtime not an instruction
            EOF
            RUN <<-"END" cat
            \t\(guardLine)
            \tEND
            CMD x

            """
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.line) == [2])
        #expect(
            try classic(text) == """
                FROM rust
                COPY --from=img:1 ["/", "/git-mtime/"]
                RUN <<EOF
                /git-mtime/guard run -- make
                RUN --mount=type=bind,from=git-mtime,target=/git-mtime not an instruction
                EOF
                RUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true
                RUN <<-"END" cat
                \t\(guardLine)
                \tEND
                CMD x

                """)
        #expect(
            try buildKit(text)
                == text.replacingOccurrences(
                    of: "RUN --mount=type=bind,from=git-mtime,target=/git-mtime <<EOF",
                    with: "RUN --mount=type=bind,from=img:1,target=/git-mtime <<EOF"))
    }

    @Test func mountFlagOnItsOwnContinuationLine() throws {
        let text = "FROM rust\nRUN \\\n  --network=none \\\n  --mount=type=bind,from=git-mtime,target=/gm \\\n  /gm/guard run -- make\n"
        #expect(
            try classic(text)
                == "FROM rust\nCOPY --from=img:1 [\"/\", \"/gm/\"]\nRUN \\\n  --network=none \\\n  \\\n  /gm/guard run -- make\nRUN rm -f '/gm/guard' '/gm/manifest' && rmdir '/gm' 2>/dev/null || true\n"
        )
    }

    /// `# escape=`` ` ``: the backtick continues lines, a backslash at the end is just a character.
    @Test func backtickEscapeDirective() throws {
        let text =
            "# syntax=docker/dockerfile:1\n# escape=`\nFROM rust\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime `\n  /git-mtime/guard run -- make C:\\\nCMD x\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.line) == [4])
        #expect(DockerfileInstructions(Array(text.utf8)).escape == UInt8(ascii: "`"))
        #expect(
            try classic(text)
                == "# syntax=docker/dockerfile:1\n# escape=`\nFROM rust\nCOPY --from=img:1 [\"/\", \"/git-mtime/\"]\nRUN `\n  /git-mtime/guard run -- make C:\\\nRUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true\nCMD x\n"
        )
    }

    /// A directive after an instruction or a blank line is a comment; an escaped escape ends no line.
    @Test func directivesOnlyAtTheTopAndEscapedEscapes() throws {
        let late = "FROM rust\n# escape=`\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime `\n  echo\n"
        #expect(DockerfileInstructions(Array(late.utf8)).escape == UInt8(ascii: "\\"))
        #expect(DockerfileInstructions(Array(late.utf8)).instructions.count == 3)
        let escaped = "FROM rust\n\(guardLine) \\\\\nCMD x\n"
        #expect(
            try classic(escaped).contains(
                "--release \\\\\nRUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true\nCMD x\n"))
    }

    @Test func quotedMountFlagAndSourceField() throws {
        let text = "FROM rust\nRUN --mount=\"type=bind,from=git-mtime,source=/,target=/g m\" '/g m/guard' run -- make\n"
        let run = try #require(DockerfileGuardLines(parsing: Array(text.utf8)).guardRuns.first)
        #expect(run.target == "/g m")
        #expect(
            try classic(text)
                == "FROM rust\nCOPY --from=img:1 [\"/\", \"/g m/\"]\nRUN '/g m/guard' run -- make\nRUN rm -f '/g m/guard' '/g m/manifest' && rmdir '/g m' 2>/dev/null || true\n"
        )
        // The BuildKit rewrite writes the mount plainly; a value that would need quoting is refused.
        #expect(throws: DockerfileRewriteError.self) { try buildKit(text) }
        let plain = "FROM rust\nRUN --mount='type=bind,from=git-mtime,target=/gm' /gm/guard run -- make\n"
        #expect(try buildKit(plain) == "FROM rust\nRUN --mount=type=bind,from=img:1,target=/gm /gm/guard run -- make\n")
    }

    /// The mount may target a directory the image has: the cleanup removes only the two files it copied.
    @Test func cleanupRemovesOnlyWhatItCopied() throws {
        let text = "FROM rust\nRUN --mount=type=bind,from=git-mtime,target=/usr/local/bin /usr/local/bin/guard run -- make\n"
        let rewritten = try classic(text)
        #expect(
            rewritten.hasSuffix(
                "\nRUN rm -f '/usr/local/bin/guard' '/usr/local/bin/manifest' && rmdir '/usr/local/bin' 2>/dev/null || true\n"))
        #expect(!rewritten.contains("rm -rf"))
    }

    @Test func crlfAndByteOrderMark() throws {
        let text = "\u{FEFF}# escape=\\\r\nFROM rust\r\n\(guardLine)\r\nCMD x\r\n"
        #expect(
            try classic(text)
                == "\u{FEFF}# escape=\\\r\nFROM rust\r\nCOPY --from=img:1 [\"/\", \"/git-mtime/\"]\n\(guardLine.replacingOccurrences(of: "--mount=type=bind,from=git-mtime,target=/git-mtime ", with: ""))\r\nRUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true\nCMD x\r\n"
        )
    }

    @Test func execFormGetsNoShellCleanup() throws {
        let text = "FROM rust\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime [\"/git-mtime/guard\", \"run\", \"--\", \"make\"]\n"
        #expect(
            try classic(text)
                == "FROM rust\nCOPY --from=img:1 [\"/\", \"/git-mtime/\"]\nRUN [\"/git-mtime/guard\", \"run\", \"--\", \"make\"]\n")
    }

    @Test func aFileWithoutFinalNewline() throws {
        #expect(
            try classic("FROM rust\n\(guardLine)")
                == "FROM rust\nCOPY --from=img:1 [\"/\", \"/git-mtime/\"]\nRUN /git-mtime/guard run -- cargo build --release\nRUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true"
        )
    }

    @Test func cacheMountsCannotBeRewrittenForTheClassicBuilder() throws {
        let text =
            "FROM rust\nRUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.first?.otherMounts == ["--mount=type=cache,target=/app/target"])
        #expect(throws: DockerfileRewriteError.self) { try lines.rewrittenForClassicBuilder(image: "img:1") }
        do {
            _ = try lines.rewrittenForClassicBuilder(image: "img:1")
        } catch {
            #expect(error.description.hasPrefix("line 2: the classic builder has no RUN --mount"))
        }
        // BuildKit keeps the cache mount.
        #expect(try buildKit(text) == text.replacingOccurrences(of: "from=git-mtime", with: "from=img:1"))
    }

    @Test func twoGuardedStages() throws {
        let text = "FROM a AS one\n\(guardLine)\nFROM b\n\(guardLine)\n"
        #expect(try classic(text).components(separatedBy: "COPY --from=img:1 [\"/\", \"/git-mtime/\"]\n").count == 3)
        #expect(try buildKit(text).components(separatedBy: "from=img:1").count == 3)
    }

    /// Generated Dockerfiles: guarded RUNs with every decoration the parser must see through (comments,
    /// blank lines and breaks inside continuations, trailing shell comments, heredocs, CRLF, the backtick
    /// escape), among other instructions and look-alikes. Whatever the decoration:
    /// - every guarded RUN is found, nothing else;
    /// - the BuildKit rewrite changes the mount's source and nothing else;
    /// - the classic rewrite leaves no guard mount, keeps every instruction's command, and puts a COPY
    ///   before and the cleanup RUN right after each guarded RUN.
    @Test func generatedDockerfiles() throws {
        var random = SeededGenerator(seed: 0x6d74696d65)
        for _ in 0..<400 {
            let backtick = Bool.random(using: &random)
            let escape = backtick ? "`" : "\\"
            let newline = Bool.random(using: &random) ? "\r\n" : "\n"
            var text = backtick ? "# escape=`\(newline)" : ""
            text += "FROM rust\(newline)"
            var guarded = 0
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    text += "COPY . .\(newline)"
                case 1:
                    text += "# RUN --mount=type=bind,from=git-mtime,target=/git-mtime commented\(newline)"
                case 2:
                    text += "RUN <<EOF\(newline)RUN --mount=type=bind,from=git-mtime,target=/x inside a heredoc\(newline)EOF\(newline)"
                default:
                    guarded += 1
                    let breakLine = " \(escape)\(newline)"
                    var words = ["RUN", "--mount=type=bind,from=git-mtime,target=/git-mtime", "/git-mtime/guard", "run", "--", "make"]
                    if Bool.random(using: &random) { words.insert("--network=none", at: 1) }
                    var line = words[0]
                    for word in words.dropFirst() {
                        switch Int.random(in: 0..<5, using: &random) {
                        case 0: line += breakLine + "  " + word
                        case 1: line += breakLine + "# inside\(newline)" + "    " + word
                        case 2: line += breakLine + "   \(newline)" + word
                        default: line += " " + word
                        }
                    }
                    if Bool.random(using: &random) { line += " # trailing comment" }
                    if Bool.random(using: &random) { line += " <<EOF\(newline)echo body\(newline)EOF" }
                    text += line + newline
                }
            }
            let original = DockerfileGuardLines(parsing: Array(text.utf8))
            #expect(original.guardRuns.count == guarded, "\(text)")

            let mounted = try original.rewritingMountSource(to: "img:1")
            #expect(
                String(decoding: mounted, as: UTF8.self).replacingOccurrences(of: "from=img:1", with: "from=git-mtime") == text, "\(text)")

            let rewritten = try original.rewrittenForClassicBuilder(image: "img:1")
            #expect(DockerfileGuardLines(parsing: rewritten).guardRuns.isEmpty, "\(text)")
            let before = DockerfileInstructions(Array(text.utf8))
            let after = DockerfileInstructions(rewritten)
            var expected: [String] = []
            for instruction in before.instructions {
                let command = String(decoding: instruction.arguments(escape: before.escape), as: UTF8.self)
                let isGuard = DockerfileGuardLines.guardRun(instruction, escape: before.escape) != nil
                if isGuard { expected.append("COPY:[\"/\", \"/git-mtime/\"]") }
                expected.append("\(instruction.keyword):\(command)")
                if isGuard {
                    expected.append("RUN:rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true")
                }
            }
            let actual = after.instructions.map { "\($0.keyword):\(String(decoding: $0.arguments(escape: after.escape), as: UTF8.self))" }
            #expect(actual == expected, "\(text)")
        }
    }
}
