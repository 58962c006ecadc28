import MtimeDockerfile
import MtimeDoctor
import Testing
import TestSupport

/// The guard line of the README, the one every fix of a plain `cargo build --release` must produce.
let readmeGuardLine = "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release"

@Suite struct ReadmeDockerfileTests {
    @Test func theSeedsDockerfileNamesTheHazardAndTheReadmeGuardLine() throws {
        let readme = try projectFile("README.md")
        let firstSection = try #require(readme.range(of: "\n## "))
        let story = dockerfileBlocks(in: String(readme[..<firstSection.lowerBound])).filter { $0.text.hasPrefix("FROM") }
        let seed = try #require(story.first, "README's story shows the seed's Dockerfile").text
        let finding = try expectFixed(seed, rule: .staleAfterCopy, line: 6)
        #expect(finding.cause.contains("`COPY . .` (line 5)") && finding.cause.contains("line 4"))
        #expect(finding.fix.lines == [FixLine(.replace, file: "Dockerfile", line: 6, text: readmeGuardLine)])
        // The guard line is also the one the README shows as "One Dockerfile line".
        #expect(readme.contains(readmeGuardLine))
    }

    @Test func everyRecipeInTheReadmeAndDocsIsClean() throws {
        var checked = 0
        for document in ["README.md", "docs/docker.md"] {
            let markdown = try projectFile(document)
            // README's story (before the first section) shows the seed's Dockerfile, which is not a recipe.
            let firstSection = try #require(markdown.range(of: "\n## "))
            let body = document == "README.md" ? String(markdown[firstSection.lowerBound...]) : markdown
            for block in dockerfileBlocks(in: body) where block.text.hasPrefix("FROM") {
                let found = try dockerfileFindings(block.text)
                #expect(found.isEmpty, "\(document) \(block.heading): \(found.map(\.text))")
                checked += 1
            }
        }
        #expect(checked >= 6)
    }
}

@Suite struct StaleAfterCopyTests {
    @Test func shellExecNestedAndHeredocFormsEachGetTheirFix() throws {
        let exec = try expectFixed(
            "FROM rust\nWORKDIR /app\nCOPY Cargo.toml ./\nRUN cargo build\nCOPY . .\nRUN [\"cargo\", \"build\", \"--release\"]\n",
            rule: .staleAfterCopy, line: 6)
        #expect(
            exec.fix.lines.map(\.text) == [
                "RUN --mount=type=bind,from=git-mtime,target=/git-mtime [\"/git-mtime/guard\", \"run\", \"--\", \"cargo\", \"build\", \"--release\"]"
            ])

        let nested = try expectFixed(
            "FROM rust\nWORKDIR /app\nRUN cargo build\nCOPY . .\nRUN sh -c 'cargo build --release && strip target/release/app'\n",
            rule: .staleAfterCopy, line: 5)
        #expect(
            nested.fix.lines.map(\.text) == [
                "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- sh -c 'cargo build --release && strip target/release/app'"
            ])

        let heredoc = try expectFixed(
            """
            FROM rust
            WORKDIR /app
            COPY Cargo.toml ./
            RUN <<EOF
            mkdir src && echo 'fn main() {}' > src/main.rs
            cargo build --release
            EOF
            COPY . .
            RUN <<EOF
            set -e
            	cargo build --release
            cp target/release/app /usr/local/bin/
            EOF
            """, rule: .staleAfterCopy, line: 9)
        #expect(
            heredoc.fix.lines == [
                FixLine(.replace, file: "Dockerfile", line: 9, text: "RUN --mount=type=bind,from=git-mtime,target=/git-mtime <<EOF"),
                FixLine(.replace, file: "Dockerfile", line: 11, text: "\t/git-mtime/guard run -- cargo build --release"),
            ])
    }

    @Test func makeAfterCdNeedsTheRootAndEscapedLinesAreEditedWhereTheyAre() throws {
        let make = try expectFixed(
            """
            FROM debian
            WORKDIR /src
            COPY Makefile ./
            RUN make deps
            COPY . .
            RUN cd build \\
                && make -j4 all
            """, rule: .staleAfterCopy, line: 6)
        #expect(
            make.fix.lines == [
                FixLine(.replace, file: "Dockerfile", line: 6, text: "RUN --mount=type=bind,from=git-mtime,target=/git-mtime cd build \\"),
                FixLine(.replace, file: "Dockerfile", line: 7, text: "    && /git-mtime/guard run --root /src -- make -j4 all"),
            ])

        // `# escape=`` `: the continuation character is a backtick, and the edit stays on its line.
        let backtick = try expectFixed(
            """
            # escape=`
            FROM rust
            WORKDIR /app
            RUN cargo build
            COPY . .
            RUN cargo build `
                --release
            """, rule: .staleAfterCopy, line: 6)
        #expect(
            backtick.fix.lines.map(\.text) == [
                "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build `"
            ])
    }

    @Test func stagesInheritWhatTheirBaseStageBuilt() throws {
        // cargo-chef's shape: dependencies cooked in one stage, the sources copied and built in it.
        let chef = """
            FROM rust:1 AS chef
            RUN cargo install cargo-chef
            WORKDIR /app

            FROM chef AS planner
            COPY . .
            RUN cargo chef prepare --recipe-path recipe.json

            FROM chef AS builder
            COPY --from=planner /app/recipe.json recipe.json
            RUN cargo chef cook --release --recipe-path recipe.json
            COPY . .
            RUN cargo build --release --bin app

            FROM debian:bookworm-slim AS runtime
            COPY --from=builder /app/target/release/app /usr/local/bin
            """
        let finding = try expectFixed(chef, rule: .staleAfterCopy, line: 13)
        #expect(finding.cause.contains("line 11"))

        // A dependency stage reused by name: the build after COPY in the child stage is the hazard.
        try expectFixed(
            """
            FROM rust AS deps
            WORKDIR /app
            COPY Cargo.toml Cargo.lock ./
            RUN mkdir src && touch src/lib.rs && cargo build --release
            FROM deps AS build
            COPY . .
            RUN cargo build --release
            """, rule: .staleAfterCopy, line: 7)

        // A fresh stage (not built on) has nothing older to trust.
        #expect(
            try dockerfileFindings(
                """
                FROM rust AS deps
                RUN cargo build
                FROM rust AS build
                COPY . .
                RUN cargo build --release
                """
            ).isEmpty)
    }

    @Test func contentHashingToolsAreNotHazards() throws {
        #expect(
            try dockerfileFindings(
                """
                FROM golang:1.22
                WORKDIR /src
                COPY go.mod go.sum ./
                RUN go build ./...
                COPY . .
                RUN --mount=type=cache,target=/root/.cache/go-build go build -o /app ./cmd/app
                FROM gradle:8 AS jvm
                COPY build.gradle ./
                RUN gradle dependencies assemble
                COPY . .
                RUN --mount=type=cache,target=/home/gradle/build gradle build
                """
            ).isEmpty)
    }
}

@Suite struct CacheMountTests {
    @Test func unguardedCacheMountOnTarget() throws {
        let finding = try expectFixed(
            """
            FROM rust
            WORKDIR /app
            COPY . .
            RUN --mount=type=cache,target=/app/target \\
                --mount=type=cache,target=/usr/local/cargo/registry \\
                cargo build --release && cp target/release/app /usr/local/bin/
            """, rule: .unguardedCacheMount, line: 4)
        #expect(
            finding.fix.lines.map(\.text) == [
                "    --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release && cp target/release/app /usr/local/bin/"
            ])
    }

    @Test func dockerInitsBindMountedSourcesNeedWritableMountsAndAllowMissing() throws {
        let text = """
            # syntax=docker/dockerfile:1
            ARG RUST_VERSION=1.79.0
            ARG APP_NAME=server
            FROM rust:${RUST_VERSION}-slim-bookworm AS build
            ARG APP_NAME
            WORKDIR /app
            RUN --mount=type=bind,source=src,target=src \\
                --mount=type=bind,source=Cargo.toml,target=Cargo.toml \\
                --mount=type=cache,target=/app/target/ \\
                --mount=type=cache,target=/usr/local/cargo/git/db \\
                <<EOF
            set -e
            cargo build --locked --release
            cp ./target/release/$APP_NAME /bin/server
            EOF
            """
        let finding = try expectFixed(text, rule: .unguardedCacheMount, line: 7)
        #expect(finding.fix.lines.map(\.line) == [7, 8, 11, 13])
        #expect(finding.fix.lines.last?.text == "/git-mtime/guard run --allow-missing -- cargo build --locked --release")
        #expect(finding.fix.lines[0].text == "RUN --mount=type=bind,source=src,target=src,rw \\")
    }

    @Test func cacheTargetsFromVariablesAndCargoTargetDir() throws {
        let finding = try expectFixed(
            """
            ARG CACHE=/cache
            FROM rust
            ARG CACHE
            ENV CARGO_TARGET_DIR=${CACHE}/target
            WORKDIR /app
            COPY . .
            RUN --mount=type=cache,target=${CACHE}/target,id=app-target cargo build --release
            """, rule: .unguardedCacheMount, line: 7)
        #expect(
            finding.fix.lines.map(\.text) == [
                "RUN --mount=type=cache,target=${CACHE}/target,id=app-target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run --stamp /cache/target/.git-mtime-stamp -- cargo build --release"
            ])
    }

    @Test func noContextNoHazard() throws {
        // Dependencies only, no sources copied or mounted: nothing can arrive older.
        #expect(try dockerfileFindings("FROM rust\nWORKDIR /app\nRUN --mount=type=cache,target=/app/target cargo build\n").isEmpty)
    }
}

@Suite struct GuardLineTests {
    @Test func stampOutsideTheCacheMount() throws {
        let layer = """
            FROM debian
            WORKDIR /src
            COPY . .
            RUN --mount=type=cache,target=/src/build \\
                --mount=type=bind,from=git-mtime,target=/git-mtime \\
                /git-mtime/guard run -- make BUILDDIR=build
            """
        let warning = try expectFixed(layer, rule: .stampOutsideCache, line: 4, severity: .warning)
        #expect(warning.fix.lines.map(\.text) == ["    /git-mtime/guard run --stamp /src/build/.git-mtime-stamp -- make BUILDDIR=build"])

        // In another cache mount than the outputs: the stamp can stay trusted while they change.
        let other = """
            FROM debian
            WORKDIR /src
            COPY . .
            RUN --mount=type=cache,target=/src/build --mount=type=cache,target=/stamps --mount=type=bind,from=git-mtime,target=/git-mtime GIT_MTIME_STAMP=/stamps/s /git-mtime/guard run -- make BUILDDIR=build
            """
        let hazard = try expectFixed(other, rule: .stampOutsideCache, line: 4)
        #expect(hazard.fix.lines.first?.text.contains("GIT_MTIME_STAMP=/src/build/.git-mtime-stamp /git-mtime/guard run -- make") == true)
    }

    @Test func guardNotMountedAndMountedButNotRun() throws {
        let finding = try expectFixed(
            "FROM rust\nWORKDIR /app\nCOPY . .\nRUN /git-mtime/guard run -- cargo build --release\n",
            rule: .guardNotMounted, line: 4)
        #expect(finding.fix.lines.map(\.text) == [readmeGuardLine])
        let mounted = try dockerfileFindings(
            "FROM rust\nWORKDIR /app\nCOPY . .\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime cargo build\n")
        #expect(mounted.map(\.rule) == [.guardMountedNotRun] && mounted[0].severity == .info)
    }

    @Test func partialCopyNeedsAllowMissingAndAnotherRootNeedsRoot() throws {
        let partial = try expectFixed(
            """
            FROM rust
            WORKDIR /app
            COPY Cargo.toml Cargo.lock ./
            COPY src ./src
            \(readmeGuardLine)
            """, rule: .guardMissingFiles, line: 5)
        #expect(partial.fix.lines.map(\.text) == [readmeGuardLine.replacingOccurrences(of: "run --", with: "run --allow-missing --")])

        let root = try expectFixed(
            """
            FROM rust
            COPY . /src
            WORKDIR /app
            \(readmeGuardLine)
            """, rule: .guardRoot, line: 4)
        #expect(root.fix.lines.map(\.text) == [readmeGuardLine.replacingOccurrences(of: "run --", with: "run --root /src --")])

        try expectFixed(
            """
            FROM rust
            WORKDIR /app
            COPY . .
            RUN --mount=type=bind,from=git-mtime,target=/git-mtime cd crates/app && /git-mtime/guard run -- cargo build
            """, rule: .guardRoot, line: 4)
    }

    @Test func readOnlyContextBindMounts() throws {
        let finding = try expectFixed(
            """
            FROM rust
            WORKDIR /app
            RUN --mount=type=bind,target=. --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build
            """, rule: .guardReadOnlyMount, line: 3)
        #expect(finding.fix.lines.first?.text.hasPrefix("RUN --mount=type=bind,target=.,rw --mount=type=cache") == true)
    }

    @Test func classicBuilderRefusesOtherMountsOnAGuardedRun() throws {
        let cacheRecipe = """
            FROM rust
            WORKDIR /app
            COPY . .
            RUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build
            """
        #expect(try dockerfileFindings(cacheRecipe, classicBuilder: false).isEmpty)
        let found = try dockerfileFindings(cacheRecipe, classicBuilder: true)
        #expect(found.map(\.rule) == [.classicBuilderMounts] && found[0].line == 4 && found[0].severity == .hazard)
        #expect(found[0].fix.lines == [FixLine(.run, file: "", text: "DOCKER_BUILDKIT=1 git mtime docker build …")])
    }

    @Test func guardPrepareGuardsTheBuildsAfterIt() throws {
        #expect(
            try dockerfileFindings(
                """
                FROM rust
                WORKDIR /app
                RUN cargo build
                COPY . .
                RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard prepare && cargo build && /git-mtime/guard seal
                """
            ).isEmpty)
    }
}

@Suite struct WorkaroundTests {
    @Test func touchRmAndCargoCleanAreNotes() throws {
        let found = try dockerfileFindings(
            """
            FROM rust
            WORKDIR /app
            COPY Cargo.toml ./
            RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release && rm -f target/release/deps/app*
            COPY . .
            RUN touch src/main.rs && cargo clean -p app && cargo build --release
            """)
        let notes = found.filter { $0.severity == .info }
        #expect(notes.map(\.rule) == [.workaroundRemove, .workaroundTouch, .workaroundCargoClean])
        #expect(notes.map(\.line) == [4, 6, 6])
        #expect(notes[1].cause.hasPrefix("`touch src/main.rs`"))
    }
}

@Suite struct DoctorDocumentationTests {
    @Test func docsListEveryRuleAndEveryBuildTool() throws {
        let docs = try projectFile("docs/doctor.md")
        for rule in Rule.allCases { #expect(docs.contains("| `\(rule.rawValue)` |"), "\(rule.rawValue)") }
        for tool in BuildTool.all {
            let row = "| \(tool.name) | \(tool.recognised.replacingOccurrences(of: "|", with: "\\|")) | "
            #expect(docs.contains(row), "\(row)")
            #expect(docs.contains(row + (tool.basis == .contentHashes ? "content hashes | no |" : "")) || tool.basis == .modificationTimes)
        }
    }
}

@Suite struct GeneratedDockerfileTests {
    /// Dockerfiles assembled from real instructions in random order and forms: the rules never crash,
    /// and every fix given for an unguarded build makes that finding go away.
    @Test func everyGuardFixRemovesItsFinding() throws {
        let instructions = [
            "FROM rust AS base", "FROM base AS next", "FROM debian", "WORKDIR /app", "WORKDIR sub", "ARG T=/app/target",
            "ENV CARGO_TARGET_DIR=/cache",
            "COPY . .", "COPY src ./src", "COPY . /src", "COPY --from=base /app /app", "ADD . .",
            "RUN cargo build --release", "RUN make -C build", "RUN [\"cargo\", \"build\"]", "RUN sh -c 'cd x && ninja'",
            "RUN --mount=type=cache,target=/app/target cargo build", "RUN --mount=type=cache,target=$T \\\n    cargo test",
            "RUN --mount=type=bind,source=src,target=src --mount=type=cache,target=/app/target cargo build",
            "RUN <<EOF\nset -e\n\tcargo build\nEOF", "RUN cd build && cmake --build . && touch x",
            "RUN --mount=type=cache,target=/cache env RUSTFLAGS=-g cargo build --target-dir /cache",
            "RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build",
            "RUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run --stamp /tmp/s -- cargo build",
        ]
        var generator = SeededGenerator(seed: 16)
        var fixed = 0
        for _ in 0..<400 {
            let count = Int.random(in: 2...9, using: &generator)
            let text =
                "FROM rust\n" + (0..<count).map { _ in instructions.randomElement(using: &generator)! }.joined(separator: "\n") + "\n"
            let found = try dockerfileFindings(text)
            for finding in found where [Rule.staleAfterCopy, .unguardedCacheMount].contains(finding.rule) && !finding.fix.lines.isEmpty {
                let after = try dockerfileFindings(applying(finding.fix, to: text))
                #expect(
                    !after.contains { [Rule.staleAfterCopy, .unguardedCacheMount].contains($0.rule) && $0.line == finding.line },
                    "\(text)\n--- fixed:\n\(applying(finding.fix, to: text))\n--- still: \(after.map(\.text))")
                fixed += 1
            }
        }
        #expect(fixed > 50)
    }
}
