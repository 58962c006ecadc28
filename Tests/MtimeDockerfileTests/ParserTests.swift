import MtimeDockerfile
import Testing
import TestSupport

func parse(_ text: String, name: String = "Dockerfile") throws(DockerfileError) -> Dockerfile {
    try Dockerfile(parsing: Array(text.utf8), name: name)
}

func parseError(_ text: String) -> DockerfileError? {
    do { _ = try parse(text); return nil } catch { return error }
}

@Suite struct LineStructureTests {
    @Test func continuationsJoinLinesAndSkipCommentAndBlankLinesInside() throws {
        let file = try parse(
            """
            FROM debian
            RUN apt-get update \\
              # a comment inside the continuation
              && apt-get install -y make \\

              && echo done
            CMD ["sh"]
            """)
        #expect(file.instructions.map(\.keyword) == ["FROM", "RUN", "CMD"])
        let run = file.instructions[1]
        #expect(run.line == 2 && run.endLine == 6)
        #expect(run.text == "apt-get update   && apt-get install -y make   && echo done")
        #expect(file.instructions[2].line == 7)
    }

    @Test func anEscapedEscapeTokenAtTheEndIsNotAContinuation() throws {
        let file = try parse("FROM a\nRUN echo foo \\\\\nRUN echo bar\n")
        #expect(file.instructions.count == 3)
        #expect(file.instructions[1].text == "echo foo \\\\")
    }

    @Test func backtickEscapeDirectiveChangesTheContinuationCharacter() throws {
        let file = try parse(
            """
            # escape=`
            FROM mcr.microsoft.com/windows/servercore
            RUN dir C:\\ `
                && echo done
            COPY C:\\src\\ C:\\app\\
            """)
        #expect(file.escape == UInt8(ascii: "`"))
        #expect(file.instructions.count == 3)
        #expect(file.instructions[1].text == "dir C:\\     && echo done")
        #expect(file.instructions[2].words == ["C:\\src\\", "C:\\app\\"])
    }

    @Test func directivesOnlyAtTheTopAndOnlyOnce() throws {
        let file = try parse("# syntax=docker/dockerfile:1.7\n# escape=\\\nFROM a\n")
        #expect(file.syntax == "docker/dockerfile:1.7")
        // After a plain comment a directive is an ordinary comment.
        let late = try parse("# hello\n# escape=`\nFROM a\nRUN x \\\n  y\n")
        #expect(late.escape == UInt8(ascii: "\\"))
        #expect(late.instructions[1].text == "x   y")
        #expect(
            parseError("# escape=`\n# escape=\\\nFROM a\n")
                == DockerfileError(file: "Dockerfile", line: 2, message: "only one escape parser directive can be used"))
        #expect(parseError("# escape=x\nFROM a\n")?.line == 1)
    }

    @Test func errorsNameFileAndLine() throws {
        #expect(
            parseError("FROM a\n\nFROBNICATE x\n")
                == DockerfileError(file: "Dockerfile", line: 3, message: "unknown instruction: FROBNICATE"))
        #expect(parseError("# only a comment\n\n")?.message == "file with no instructions")
        #expect(parseError("FROM a\nRUN [\"ok\", 1]\n")?.line == 2)
        let error = try #require(parseError("FROM a\nRUN <<EOF\necho hi\n"))
        #expect(error.line == 2 && error.message == "unterminated heredoc EOF")
        #expect(error.description == "Dockerfile:2: unterminated heredoc EOF")
    }

    @Test func carriageReturnsAndByteOrderMarkAreDropped() throws {
        let file = try Dockerfile(parsing: [0xEF, 0xBB, 0xBF] + Array("FROM a\r\nRUN make \\\r\n  all\r\n".utf8), name: "x")
        #expect(file.instructions.map(\.keyword) == ["FROM", "RUN"])
        #expect(file.instructions[1].text == "make   all")
    }
}

@Suite struct FormTests {
    @Test func jsonAndShellForms() throws {
        let file = try parse(
            """
            FROM a
            RUN ["cargo", "build", "--release"]
            RUN [not json
            CMD ["/app"] trailing words are ignored, as Go's decoder ignores them
            COPY ["a b", "/dst/"]
            COPY src ./src
            RUN [ "esc\\"aped", "\\u00e9" ]
            """)
        let instructions = file.instructions
        #expect(instructions[1].arguments == .exec(["cargo", "build", "--release"], range: 4..<35))
        #expect(instructions[2].text == "[not json" && !instructions[2].isExecForm)
        #expect(instructions[3].words == ["/app"])
        #expect(instructions[4].words == ["a b", "/dst/"])
        #expect(instructions[5].words == ["src", "./src"])
        #expect(instructions[6].words == ["esc\"aped", "é"])
    }

    @Test func flagsWithQuotesAndContinuations() throws {
        let file = try parse(
            """
            FROM a
            RUN --mount=type=cache,target=/app/target \\
                --mount="type=bind,from=git-mtime,target=/git-mtime" --network=none \\
                cargo build
            COPY --from=builder --chown=1:1 --link /a /b
            """)
        let run = file.instructions[1]
        #expect(run.flags.map(\.name) == ["mount", "mount", "network"])
        #expect(run.flagValues("mount") == ["type=cache,target=/app/target", "type=bind,from=git-mtime,target=/git-mtime"])
        #expect(run.text == "cargo build")
        // The second flag sits on line 3, four columns in.
        #expect(run.logical.position(of: run.flags[1].range.lowerBound) == (3, 4))
        #expect(run.logical.position(of: try #require(run.arguments.start)) == (4, 4))
        let copy = file.instructions[2]
        #expect(copy.flags.map(\.name) == ["from", "chown", "link"])
        #expect(copy.flags[2].value == nil)
        #expect(copy.words == ["/a", "/b"])
    }
}

@Suite struct HeredocTests {
    @Test func runAndCopyHeredocs() throws {
        let file = try parse(
            """
            FROM a
            RUN <<EOF
            set -e
            cargo build --release
            EOF
            COPY <<-"CONF" /etc/app.conf
            \t\tkey = $VALUE
            \tCONF
            RUN <<A cat /dev/stdin - <<'B' > /out
            first
            A
            second
            B
            RUN echo "<<NOT" && echo done
            RUN ["sh", "-c", "cat <<X"]
            CMD ["x"]
            """)
        let run = file.instructions[1]
        #expect(run.heredocs.count == 1)
        #expect(run.heredocs[0].name == "EOF" && run.heredocs[0].expands && !run.heredocs[0].stripsLeadingTabs)
        #expect(run.heredocs[0].text == "set -e\ncargo build --release\n")
        #expect(run.heredocs[0].firstContentLine == 3 && run.endLine == 5)

        let copy = file.instructions[2]
        #expect(copy.heredocs[0].name == "CONF" && !copy.heredocs[0].expands && copy.heredocs[0].stripsLeadingTabs)
        #expect(copy.heredocs[0].text == "key = $VALUE\n")
        #expect(copy.words == ["<<-\"CONF\"", "/etc/app.conf"])

        let two = file.instructions[3]
        #expect(two.heredocs.map(\.name) == ["A", "B"])
        #expect(two.heredocs.map(\.text) == ["first\n", "second\n"])
        #expect(two.heredocs.map(\.expands) == [true, false])
        #expect(two.line == 9 && two.endLine == 13)

        #expect(file.instructions[4].heredocs.isEmpty)
        #expect(file.instructions[5].heredocs.isEmpty)
        #expect(file.instructions.map(\.keyword) == ["FROM", "RUN", "COPY", "RUN", "RUN", "RUN", "CMD"])
    }

    @Test func heredocWithFileDescriptorAndFlags() throws {
        let file = try parse("FROM a\nRUN --mount=type=cache,target=/t 3<<EOF cat <&3\nx\nEOF\n")
        let run = file.instructions[1]
        #expect(run.heredocs.first?.fileDescriptor == 3)
        #expect(run.flags.count == 1)
    }
}

@Suite struct VariableTests {
    @Test func expansionForms() throws {
        let lexer = WordLexer()
        let values = ["A": "alpha", "EMPTY": "", "PATHLIKE": "/usr/local/cargo/bin"]
        func expand(_ text: String) throws -> String { try lexer.expand(text, { values[$0] }) }
        #expect(try expand("$A/${A}/x$A") == "alpha/alpha/xalpha")
        #expect(try expand("${MISSING:-fallback} ${EMPTY:-fallback} [${EMPTY-unused}] ${MISSING-unset}") == "fallback fallback [] unset")
        #expect(try expand("${A:+set} ${MISSING:+set}.") == "set .")
        #expect(try expand("'$A' \"$A\" \\$A") == "$A alpha $A")
        #expect(try expand("${PATHLIKE#*/} ${PATHLIKE##*/} ${PATHLIKE%/*}") == "usr/local/cargo/bin bin /usr/local/cargo")
        #expect(try expand("cost: $5 and $ alone") == "cost:  and $ alone")
        #expect(throws: WordError.self) { try expand("${A") }
        #expect(throws: WordError.self) { try expand("${}") }
        #expect(throws: WordError.self) { try expand("${MISSING:?must be set}") }
        #expect(try lexer.words("a \"b c\" $A 'd'", { values[$0] }) == ["a", "b c", "alpha", "d"])
    }

    @Test func stagesScopeArgsEnvAndWorkdir() throws {
        let file = try parse(
            """
            ARG RUST_VERSION=1.79
            ARG APP=server
            FROM rust:${RUST_VERSION}-bookworm AS Build
            ARG APP
            ARG PROFILE=release
            ENV CARGO_TARGET_DIR=/cache/$APP OLD_FORM_IS=separate
            ENV LEGACY value with spaces
            WORKDIR /src
            WORKDIR app
            RUN cargo build --profile $PROFILE

            FROM build AS test
            WORKDIR ../tests
            RUN cargo test

            FROM debian:${MISSING:-bookworm}-slim
            COPY --from=build /cache/server/release/server /usr/local/bin/
            """)
        let stages = try BuildStages(file)
        #expect(stages.stages.map(\.base) == ["rust:1.79-bookworm", "build", "debian:bookworm-slim"])
        #expect(stages.stages.map(\.name) == ["build", "test", nil])
        #expect(stages.stages.map(\.parent) == [nil, 0, nil])
        let build = stages.stages[0]
        let run = try #require(build.steps.last)
        #expect(run.instruction.keyword == "RUN" && run.workdir == "/src/app")
        #expect(run.variables["APP"] == "server" && run.variables["PROFILE"] == "release")
        #expect(run.variables["CARGO_TARGET_DIR"] == "/cache/server" && run.variables["LEGACY"] == "value with spaces")
        let test = stages.stages[1]
        #expect(test.steps.last?.workdir == "/src/tests")
        #expect(test.steps.last?.variables["CARGO_TARGET_DIR"] == "/cache/server")
        // The last stage does not inherit: a global ARG is only visible after `ARG NAME` inside a stage.
        #expect(stages.stages[2].steps.last?.variables["APP"] == nil)
        #expect(try stages.stages[2].steps.last!.expand("${APP:-none}", escape: file.escape) == "none")
    }

    @Test func buildArgumentsOverrideDefaults() throws {
        let file = try parse("ARG BASE=debian\nFROM $BASE\nARG MODE=debug\nRUN make $MODE\n")
        let stages = try BuildStages(file, buildArguments: ["BASE": "alpine", "MODE": "release"])
        #expect(stages.stages[0].base == "alpine")
        #expect(stages.stages[0].steps.last?.variables["MODE"] == "release")
    }

    @Test func stageErrorsHaveLines() throws {
        #expect(throws: DockerfileError(file: "Dockerfile", line: 2, message: "no build stage in current context: RUN before FROM")) {
            try BuildStages(try parse("ARG X=1\nRUN echo\nFROM a\n"))
        }
        #expect(throws: DockerfileError.self) { try BuildStages(try parse("FROM a\nWORKDIR ${X\n")) }
        #expect(
            throws: DockerfileError(
                file: "Dockerfile", line: 1, message: "FROM requires either one or three arguments (FROM image [AS name])")
        ) {
            try BuildStages(try parse("FROM a AS\n"))
        }
    }
}

@Suite struct MountTests {
    @Test func mountFieldsDefaultsAndExpansion() throws {
        let lexer = WordLexer()
        func mount(_ value: String, workdir: String = "/app", variables: [String: String] = [:]) throws -> RunMount {
            try RunMount(
                Flag(name: "mount", value: value, range: 0..<1), workdir: workdir,
                expand: { text throws(WordError) in try lexer.expand(text, { variables[$0] }) })
        }
        let cache = try mount("type=cache,target=$T,id=cargo-${ID:-x},sharing=locked", variables: ["T": "target"])
        #expect(cache.kind == .cache && cache.target == "/app/target" && cache.id == "cargo-x" && !cache.isReadOnly)
        let bind = try mount("type=bind,source=src,target=src")
        #expect(bind.kind == .bind && bind.bindsContext && bind.isReadOnly && bind.source == "src" && bind.target == "/app/src")
        let writable = try mount("target=/x,rw")
        #expect(writable.kind == .bind && !writable.isReadOnly)
        let guardMount = try mount("type=bind,from=git-mtime,target=/git-mtime")
        #expect(!guardMount.bindsContext && guardMount.from == "git-mtime")
        let quoted = try mount("\"target=/a,b\",type=tmpfs")
        #expect(quoted.target == "/a,b" && quoted.kind == .tmpfs)
        #expect(throws: WordError.self) { try mount("type=volume,target=/x") }
    }
}

@Suite struct ShellScriptTests {
    @Test func simpleCommandsWordsAndAssignments() {
        let script = ShellScript(
            "cd app && FOO=1 BAR=\"a b\" cargo build --release 2>&1 | tee log; make -C 'sub dir' >/dev/null & echo \"$(date) done\"")
        #expect(
            script.commands.map(\.arguments) == [
                ["cd", "app"], ["cargo", "build", "--release"], ["tee", "log"], ["make", "-C", "sub dir"], ["echo", "$(date) done"],
            ])
        #expect(script.commands[1].assignments.map(\.text) == ["FOO=1", "BAR=a b"])
        #expect(script.commands[1].start == 10)
        #expect(script.commands[1].words[0].range == 26..<31)
    }

    @Test func compoundCommandsCommentsAndHeredocsInsideTheScript() {
        let script = ShellScript(
            """
            set -e  # stop on errors
            if [ -f Makefile ]; then
              make all
            fi
            for crate in a b; do cargo build -p "$crate"; done
            cat > config <<'END'
            cargo build --this-is-not-a-command
            END
            ( cd sub && ninja )
            "QUOTED=1" run
            """)
        #expect(
            script.commands.map(\.arguments) == [
                ["set", "-e"], ["[", "-f", "Makefile", "]"], ["make", "all"], ["cargo", "build", "-p", "$crate"], ["cat"],
                ["cd", "sub"], ["ninja"], ["QUOTED=1", "run"],
            ])
    }
}

@Suite struct HostileInputTests {
    @Test func deepNestingAndBacktrackingStayBounded() throws {
        let deep = String(repeating: "${A:-", count: 5000) + "x" + String(repeating: "}", count: 5000)
        #expect(throws: WordError.self) { try WordLexer().expand(deep, { _ in nil }) }
        let file = try parse("FROM a\nRUN " + String(repeating: "[", count: 100_000) + "\n")
        #expect(!file.instructions[1].isExecForm)
        let stars = "${V#" + String(repeating: "*a", count: 40) + "b}"
        #expect(try WordLexer().expand(stars, { _ in String(repeating: "a", count: 200) }) == String(repeating: "a", count: 200))
        #expect(try WordLexer().expand("${V##*/}${V%.*}", { _ in "dir/name.ext" }) == "name.extdir/name")
    }

    /// Random Dockerfiles built from the characters and words the parser cares about: every one is
    /// either read or refused with a line number inside the file, never a crash.
    @Test func randomDockerfilesAreReadOrRefusedWithALine() throws {
        let pieces = [
            "FROM a AS b\n", "RUN ", "COPY ", "ARG X=${Y:-z}\n", "ENV A=$B\n", "WORKDIR ", "\\\n", "`", "# escape=`\n",
            "<<EOF", "<<-'E'", "\nEOF\n", "\nE\n", "\t", " ", "\"", "'", "$", "{", "}", "[", "]", "\"a\",", "--mount=type=cache,target=",
            "\n", "#", "cargo build", "&&", "sh -c '", "/git-mtime/guard run -- ", ":-", "\r\n", "é", "\u{FEFF}", "ONBUILD ",
        ]
        var generator = SeededGenerator(seed: 0x5EED)
        for _ in 0..<3000 {
            let count = Int.random(in: 1...40, using: &generator)
            let text = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
            do {
                let file = try Dockerfile(parsing: Array(text.utf8), name: "fuzz")
                _ = try? BuildStages(file)
            } catch {
                #expect(
                    error.line >= 1 && error.line <= max(1, text.utf8.split(separator: 10, omittingEmptySubsequences: false).count),
                    "\(error) in \(text.debugDescription)")
            }
        }
    }
}
