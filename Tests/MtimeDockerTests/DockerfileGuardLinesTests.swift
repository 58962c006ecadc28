import Testing
@testable import MtimeDocker

@Suite struct DockerfileGuardLinesTests {
    let guardLine = "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release"

    func rewrite(_ text: String, image: String = "img:1") throws -> String {
        String(decoding: try DockerfileGuardLines(parsing: Array(text.utf8)).rewrittenForClassicBuilder(image: image), as: UTF8.self)
    }

    @Test func findsTheDocumentedLine() {
        let text = "FROM rust\nWORKDIR /app\nCOPY . .\n\(guardLine)\nCMD [\"app\"]\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.map(\.line) == [4])
        #expect(lines.guardRuns.first?.target == "/git-mtime")
        #expect(lines.guardRuns.first?.otherMounts == [])
    }

    @Test func rewritesTheDocumentedLineForTheClassicBuilder() throws {
        let text = "FROM rust\nCOPY . .\n\(guardLine)\nCMD [\"app\"]\n"
        #expect(try rewrite(text) == """
            FROM rust
            COPY . .
            COPY --from=img:1 / /git-mtime/
            RUN /git-mtime/guard run -- cargo build --release && rm -rf /git-mtime
            CMD ["app"]

            """)
    }

    @Test func ignoresOtherRunsAndMountsFromOtherSources() {
        let text = """
            FROM rust AS deps
            RUN --mount=type=cache,target=/root/.cargo cargo fetch
            run --mount=type=bind,from=deps,target=/d ls /d
            # RUN --mount=type=bind,from=git-mtime,target=/git-mtime commented out
            COPY --from=git-mtime / /x

            """
        #expect(DockerfileGuardLines(parsing: Array(text.utf8)).guardRuns.isEmpty)
    }

    @Test func keywordAndKeysAreCaseInsensitiveAndTargetAliasesWork() {
        let text = "run --mount=from=git-mtime,type=bind,DST=/opt/gm /opt/gm/guard run -- make\n"
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
        #expect(try rewrite(text) == """
            FROM rust
            COPY --from=img:1 / /git-mtime/
            RUN \\
            # a comment inside the instruction
                /git-mtime/guard run -- \\
                cargo build --release && rm -rf /git-mtime
            CMD ["app"]

            """)
    }

    @Test func mountFlagOnItsOwnContinuationLine() throws {
        let text = "FROM rust\nRUN \\\n  --network=none \\\n  --mount=type=bind,from=git-mtime,target=/gm \\\n  /gm/guard run -- make\n"
        #expect(try rewrite(text) == "FROM rust\nCOPY --from=img:1 / /gm/\nRUN \\\n  --network=none \\\n  \\\n  /gm/guard run -- make && rm -rf /gm\n")
    }

    @Test func backtickEscapeDirective() {
        let text = "# escape=`\nFROM rust\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime `\n  /git-mtime/guard run -- make\n"
        #expect(DockerfileGuardLines(parsing: Array(text.utf8)).guardRuns.map(\.line) == [3])
        #expect(DockerfileGuardLines.escapeCharacter(Array(text.utf8)) == UInt8(ascii: "`"))
    }

    @Test func execFormGetsNoShellCleanup() throws {
        let text = "FROM rust\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime [\"/git-mtime/guard\", \"run\", \"--\", \"make\"]\n"
        #expect(try rewrite(text) == "FROM rust\nCOPY --from=img:1 / /git-mtime/\nRUN [\"/git-mtime/guard\", \"run\", \"--\", \"make\"]\n")
    }

    @Test func aFileWithoutFinalNewline() throws {
        #expect(try rewrite("FROM rust\n\(guardLine)") == "FROM rust\nCOPY --from=img:1 / /git-mtime/\nRUN /git-mtime/guard run -- cargo build --release && rm -rf /git-mtime")
    }

    @Test func cacheMountsCannotBeRewritten() {
        let text = "FROM rust\nRUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build\n"
        let lines = DockerfileGuardLines(parsing: Array(text.utf8))
        #expect(lines.guardRuns.first?.otherMounts == ["--mount=type=cache,target=/app/target"])
        #expect(throws: DockerfileRewriteError.self) { try lines.rewrittenForClassicBuilder(image: "img:1") }
        do {
            _ = try lines.rewrittenForClassicBuilder(image: "img:1")
        } catch {
            #expect(error.description.hasPrefix("line 2: the classic builder has no RUN --mount"))
        }
    }

    @Test func twoGuardedStages() throws {
        let text = "FROM a AS one\n\(guardLine)\nFROM b\n\(guardLine)\n"
        #expect(try rewrite(text).components(separatedBy: "COPY --from=img:1 / /git-mtime/\n").count == 3)
    }
}
