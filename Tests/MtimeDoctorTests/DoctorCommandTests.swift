import Foundation
import MtimeCore
import MtimeDoctor
import Testing
import TestSupport

/// A repository set up the way the README recommends: hooks installed, .dockerignore excluding
/// `.git` and the build outputs.
func wellKeptRepository(label: String = "doctor") throws -> GitRepository {
    let repo = try GitRepository(label: label)
    try repo.write("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n")
    try repo.write("src/main.rs", "fn main() {}\n")
    try repo.write(".dockerignore", ".git\ntarget\nbuild\n")
    try repo.write(".gitignore", "target/\n")
    try repo.commit("app")
    try runChecked([builtProduct("git-mtime"), "hooks", "install"], in: repo.path)
    return repo
}

@Suite struct DoctorCommandTests {
    @Test func everyReadmeRecipeComesOutCleanThroughTheCommand() throws {
        let repo = try wellKeptRepository()
        let readme = try projectFile("README.md")
        let recipes = dockerfileBlocks(in: String(readme[readme.range(of: "\n## ")!.lowerBound...])).filter { $0.text.hasPrefix("FROM") }
        #expect(recipes.count >= 3)
        for recipe in recipes {
            try repo.write("Dockerfile", recipe.text)
            try repo.git("add", "Dockerfile")
            let result = try doctor([], in: repo.path)
            #expect(result.status == 0, "\(recipe.heading): \(result.stdout)")
            #expect(
                result.stdout.hasPrefix("doctor: 0 hazards, 0 warnings, 0 notes (Dockerfile; context .; repository "), "\(result.stdout)")
        }
    }

    @Test func findsTrackedDockerfilesNamesTheSeedsHazardAndExitsByIt() throws {
        let repo = try wellKeptRepository()
        let readme = try projectFile("README.md")
        let seed = dockerfileBlocks(in: String(readme[..<readme.range(of: "\n## ")!.lowerBound]))[0].text
        try repo.write("Dockerfile", seed)
        try repo.write("docker/app.Dockerfile", "FROM debian\nRUN echo hi\n")
        try repo.write("Dockerfile.dev", "FROM debian\n")
        try repo.write("Containerfile", "FROM debian\n")
        try repo.write("notes/dockerfile-tips.md", "not a Dockerfile\n")
        try repo.commit("dockerfiles")
        // BuildKit's per-Dockerfile ignore file is not a Dockerfile.
        try repo.write("Dockerfile.dockerignore", ".git\ntarget\n")
        try repo.git("add", "Dockerfile.dockerignore")

        let text = try doctor([], in: repo.path)
        #expect(text.status == 1)
        #expect(
            text.stdout.hasPrefix(
                """
                Dockerfile:6: hazard: `cargo build --release` runs after `COPY . .` (line 5)
                """))
        #expect(text.stdout.contains("\n    Dockerfile:6: \(readmeGuardLine)\n"))
        #expect(
            text.stdout.hasSuffix(
                "doctor: 1 hazard, 0 warnings, 0 notes (Containerfile, Dockerfile, Dockerfile.dev, docker/app.Dockerfile; context .; repository \(try FileSystem.resolve(BytePath(repo.path))))\n"
            ))

        // Fixed as told, and from a subdirectory: clean.
        try repo.write("Dockerfile", seed.replacingOccurrences(of: "RUN cargo build --release\n", with: readmeGuardLine + "\n"))
        let fixed = try doctor(["-C", "docker"], in: repo.path)
        #expect(fixed.status == 0, "\(fixed.stdout)")
    }

    @Test func argumentsAndSyntaxErrors() throws {
        let repo = try wellKeptRepository()
        try repo.write("Dockerfile", "FROM rust\nRUN <<EOF\ncargo build\n")
        try repo.git("add", "Dockerfile")
        let broken = try doctorJSON(in: repo.path)
        #expect(broken.status == 1)
        #expect(rules(broken.findings) == ["dockerfile-syntax"])
        #expect(broken.findings[0]["line"] as? Int == 2)

        #expect(try doctor(["--dockerfile", "missing/Dockerfile"], in: repo.path).status == 64)
        #expect(try doctor(["--context", "nowhere"], in: repo.path).status == 64)
        #expect(try doctor(["--format", "yaml"], in: repo.path).status == 64)

        // Outside a repository only an explicit Dockerfile can be checked.
        let loose = TemporaryDirectory("doctor-loose")
        try Data("FROM rust\nCOPY . .\nRUN cargo build\nCOPY . .\nRUN cargo build\n".utf8).write(
            to: URL(fileURLWithPath: loose.url("Dockerfile")))
        #expect(try doctor([], in: loose.path).status == 64)
        let alone = try doctorJSON(["--dockerfile", "Dockerfile"], in: loose.path)
        #expect(alone.status == 1 && rules(alone.findings).contains("stale-after-copy"))
    }

    @Test func classicBuilderFromTheEnvironment() throws {
        let repo = try wellKeptRepository()
        try repo.write(
            "Dockerfile",
            """
            FROM rust
            WORKDIR /app
            COPY . .
            RUN --mount=type=cache,target=/app/target --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build
            """)
        try repo.git("add", "Dockerfile")
        #expect(try doctor([], in: repo.path, environment: ["DOCKER_BUILDKIT": "1"]).status == 0)
        let classic = try doctorJSON(in: repo.path, environment: ["DOCKER_BUILDKIT": "0"])
        #expect(classic.status == 1 && rules(classic.findings) == ["classic-builder-mounts"])
    }

    @Test func dockerignoreOutputsGitAndSyntax() throws {
        let repo = try wellKeptRepository()
        try repo.write("Dockerfile", "FROM rust\nWORKDIR /app\nCOPY . .\n\(readmeGuardLine)\n")
        try repo.git("add", "Dockerfile")
        try repo.write("target/release/app", "built on the host\n")
        try FileManager.default.removeItem(atPath: repo.directory.url(".dockerignore"))
        let missing = try doctorJSON(in: repo.path)
        #expect(missing.status == 0)
        #expect(rules(missing.findings) == ["dockerignore-outputs", "dockerignore-git"])
        let lines = missing.findings.compactMap { (($0["fix"] as? [String: Any])?["lines"] as? [[String: Any]])?.first?["text"] as? String }
        #expect(lines == ["target", ".git"])

        // The lines the fixes name, added: nothing left.
        try repo.write(".dockerignore", lines.joined(separator: "\n") + "\n")
        #expect(rules(try doctorJSON(in: repo.path).findings).isEmpty)

        try repo.write(".dockerignore", ".git\ntarget\n!\n")
        let bad = try doctorJSON(in: repo.path)
        #expect(bad.status == 1 && rules(bad.findings) == ["dockerignore-syntax"] && bad.findings[0]["line"] as? Int == 3)

        // A FIFO where .dockerignore or a tracked script should be is reported, never opened (it would block).
        try repo.write("scripts/ci.sh", "docker build .\n")
        try repo.commit("script")
        for fifo in [".dockerignore", "scripts/ci.sh"] {
            try FileManager.default.removeItem(atPath: repo.directory.url(fifo))
            try runChecked(["mkfifo", repo.directory.url(fifo)])
        }
        let blocked = try doctorJSON(in: repo.path)
        #expect(blocked.status == 1 && rules(blocked.findings) == ["dockerignore-syntax"])
        for fifo in [".dockerignore", "scripts/ci.sh"] { try FileManager.default.removeItem(atPath: repo.directory.url(fifo)) }

        // BuildKit reads Dockerfile.dockerignore instead of the context's .dockerignore.
        try repo.write(".dockerignore", ".git\ntarget\n")
        try repo.write("Dockerfile.dockerignore", "target\n")
        let own = try doctorJSON(in: repo.path)
        #expect(rules(own.findings) == ["dockerignore-git"] && own.findings[0]["file"] as? String == "Dockerfile.dockerignore")
    }

    @Test func buildCommandsInScripts() throws {
        let repo = try wellKeptRepository()
        try repo.write(
            "scripts/release.sh",
            "#!/bin/sh\nset -e\ndocker build --no-cache -t app .\napk add --no-cache git\ndocker compose build --no-cache\n")
        try repo.write(".github/workflows/ci.yml", "steps:\n  - run: docker buildx build --no-cache --load .\n")
        try repo.commit("scripts")
        let found = try doctorJSON(in: repo.path)
        #expect(found.status == 0)
        #expect(
            found.findings.map { "\($0["file"]!):\($0["line"]!) \($0["rule"]!)" } == [
                ".github/workflows/ci.yml:2 workaround-no-cache", "scripts/release.sh:3 workaround-no-cache",
            ])

        // Once a Dockerfile mounts the guard, a plain `docker build` of it cannot work.
        try repo.write("Dockerfile", "FROM rust\nWORKDIR /app\nCOPY . .\n\(readmeGuardLine)\n")
        try repo.write("docker/dev.Dockerfile", "FROM rust\n")
        try repo.write(
            "Makefile",
            "image:\n\tDOCKER_BUILDKIT=1 docker build -t app .\ndev:\n\tdocker build -f docker/dev.Dockerfile .\nok:\n\tgit mtime docker build -t app .\n"
        )
        try repo.commit("guarded")
        let unwrapped = try doctorJSON(in: repo.path).findings.filter { $0["rule"] as? String == "unwrapped-build" }
        #expect(unwrapped.map { "\($0["file"]!):\($0["line"]!)" } == [".github/workflows/ci.yml:2", "Makefile:2", "scripts/release.sh:3"])
        let makefileFix = try #require(unwrapped.first { $0["file"] as? String == "Makefile" })
        #expect(
            ((makefileFix["fix"] as? [String: Any])?["lines"] as? [[String: Any]])?.first?["text"] as? String
                == "\tDOCKER_BUILDKIT=1 git mtime docker build -t app .")
    }
}

@Suite struct RepositoryDoctorTests {
    /// A repository with history in three directories, served over file:// with filters allowed.
    func upstream() throws -> GitRepository {
        let repo = try GitRepository(label: "doctor-upstream")
        for index in 1...3 {
            try repo.write("d\(index)/f.txt", "\(index)\n")
            try repo.commit("commit \(index)")
        }
        try repo.git("config", "uploadpack.allowFilter", "true")
        return repo
    }

    func clone(_ upstream: GitRepository, _ options: [String]) throws -> TemporaryDirectory {
        let target = TemporaryDirectory("doctor-clone")
        try runChecked(["git", "clone", "-q"] + options + ["file://\(upstream.path)", "work"], in: target.path)
        return target
    }

    @Test func shallowCloneAndItsFix() throws {
        let source = try upstream()
        let cloned = try clone(source, ["--depth", "1"])
        let work = cloned.url("work")
        let shallow = try doctorJSON(in: work)
        #expect(shallow.status == 0)
        let finding = try #require(shallow.findings.first { $0["rule"] as? String == "shallow-clone" })
        #expect(finding["severity"] as? String == "warning" && finding["file"] as? String == ".git/shallow")
        #expect((finding["cause"] as? String)?.contains("(3 files here)") == true)
        try runChecked(["git", "fetch", "-q", "--unshallow"], in: work)
        #expect(!rules(try doctorJSON(in: work).findings).contains("shallow-clone"))
    }

    @Test func treelessCloneIsAHazardUntilItIsBlobless() throws {
        let source = try upstream()
        let cloned = try clone(source, ["--filter=tree:0"])
        let work = cloned.url("work")
        #expect(try run([builtProduct("git-mtime"), "restore"], in: work).status == 1)
        let treeless = try doctorJSON(in: work)
        #expect(treeless.status == 1)
        let finding = try #require(treeless.findings.first { $0["rule"] as? String == "treeless-clone" })
        let command = try #require(((finding["fix"] as? [String: Any])?["lines"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(command == "git config remote.origin.partialclonefilter blob:none && git fetch --refetch origin")
        try runChecked(["sh", "-c", command], in: work)
        #expect(!rules(try doctorJSON(in: work).findings).contains("treeless-clone"))
        #expect(try run([builtProduct("git-mtime"), "restore"], in: work).status == 0)
    }

    @Test func hooksMissingBrokenAndInTheWrongDirectory() throws {
        let repo = try GitRepository(label: "doctor-hooks")
        try repo.write("a.txt", "a\n")
        try repo.commit()
        let hooks = repo.directory.url(".git/hooks")
        // No Dockerfile: no context is sent anywhere, so .dockerignore is not checked.
        #expect(rules(try doctorJSON(in: repo.path).findings) == ["hooks-missing"])

        try runChecked([builtProduct("git-mtime"), "hooks", "install"], in: repo.path)
        #expect(!rules(try doctorJSON(in: repo.path).findings).contains { $0.hasPrefix("hooks") })

        try runChecked(["chmod", "-x", hooks + "/post-merge"])
        let notExecutable = try doctorJSON(in: repo.path).findings.filter { $0["rule"] as? String == "hooks-incomplete" }
        #expect(notExecutable.map { $0["file"] as? String } == [".git/hooks/post-merge"])
        try runChecked(["chmod", "+x", hooks + "/post-merge"])

        // A hook manager replaced one of ours.
        try Data("#!/bin/sh\nexec other-tool\n".utf8).write(to: URL(fileURLWithPath: hooks + "/post-rewrite"))
        let replaced = try doctorJSON(in: repo.path).findings.filter { $0["rule"] as? String == "hooks-incomplete" }
        #expect(replaced.map { $0["file"] as? String } == [".git/hooks/post-rewrite"])
        try runChecked([builtProduct("git-mtime"), "hooks", "install"], in: repo.path)

        // core.hooksPath elsewhere: ours in .git/hooks never run.
        try repo.git("config", "core.hooksPath", ".githooks")
        let moved = try doctorJSON(in: repo.path).findings
        #expect(rules(moved).filter { $0.hasPrefix("hooks") }.sorted() == ["hooks-incomplete", "hooks-missing"])
        #expect(moved.first { $0["rule"] as? String == "hooks-missing" }?["file"] as? String == ".githooks")
    }

    @Test func stampOutsideTheTreeAndUntrustedStampNamesTheFile() throws {
        let repo = try GitRepository(label: "doctor-stamp")
        try repo.write("src/a.c", "int a;\n")
        try repo.commit()
        let elsewhere = TemporaryDirectory("doctor-stamp-elsewhere")
        try repo.git("config", "mtime.stamp", elsewhere.url("stamp"))
        #expect(rules(try doctorJSON(in: repo.path).findings).contains("stamp-outside-tree"))
        try repo.git("config", "--unset", "mtime.stamp")
        #expect(!rules(try doctorJSON(in: repo.path).findings).contains("stamp-outside-tree"))

        try runChecked(
            [builtProduct("git-mtime"), "run", "--", "sh", "-c", "mkdir -p target && echo built > target/out"], in: repo.path,
            environment: ["GIT_MTIME_GUARD": builtProduct("git-mtime-guard")])
        #expect(!rules(try doctorJSON(in: repo.path).findings).contains("stamp-untrusted"))
        // A build that did not seal: its output is newer than the seal.
        try repo.write("target/unsealed.o", "object\n")
        try FileSystem.setModificationTime(BytePath(repo.directory.url("target/unsealed.o")), to: Timestamp(seconds: 4_000_000_000))
        let untrusted = try #require(try doctorJSON(in: repo.path).findings.first { $0["rule"] as? String == "stamp-untrusted" })
        #expect(untrusted["file"] as? String == "target/.git-mtime-stamp")
        #expect((untrusted["cause"] as? String)?.contains("target/unsealed.o") == true)
    }
}

/// The working tree is anyone's who can push a commit: whatever stands where doctor reads (a FIFO,
/// a symlink, a directory on the way that is a symlink), doctor never blocks and never reads a file
/// outside the working tree. Each file doctor reads, each such replacement, outside files that
/// would each produce a finding if read.
@Suite struct DoctorHostileTreeTests {
    static let cases = ["docker/Dockerfile", "scripts/ci.sh", ".dockerignore", "docker/Dockerfile.dockerignore"]
        .flatMap { file in ["fifo", "symlink", "symlinked-directory"].map { "\($0) \(file)" } }
        .filter { $0 != "symlinked-directory .dockerignore" }  // no directory on its way below the root

    @Test(arguments: cases) func neverBlocksNorReadsOutsideTheRoot(_ scenario: String) throws {
        let parts = scenario.split(separator: " ").map(String.init)
        let (kind, file) = (parts[0], parts[1])
        let repo = try wellKeptRepository(label: "doctor-hostile")
        try repo.write("docker/Dockerfile", "FROM debian\nCOPY . .\n")
        try repo.write("docker/Dockerfile.dockerignore", ".git\ntarget\n")
        try repo.write("scripts/ci.sh", "echo ci\n")
        try repo.commit("tree")
        // BuildKit reads the Dockerfile's own ignore file instead of the context's when there is one.
        if file == ".dockerignore" { try FileManager.default.removeItem(atPath: repo.directory.url("docker/Dockerfile.dockerignore")) }
        #expect(rules(try doctorJSON(in: repo.path).findings).isEmpty)

        // Outside: the same names, each a finding if doctor read it.
        let outside = TemporaryDirectory("doctor-outside")
        let lure = [
            "Dockerfile": "FROM rust\nCOPY Cargo.toml .\nRUN cargo build\nCOPY . .\nRUN cargo build\n",
            "ci.sh": "docker build --no-cache .\n", ".dockerignore": "target\n!\n", "Dockerfile.dockerignore": "target\n!\n",
        ]
        for (name, text) in lure { try Data(text.utf8).write(to: URL(fileURLWithPath: outside.url(name))) }

        let target = repo.directory.url(file)
        let name = (file as NSString).lastPathComponent
        switch kind {
        case "fifo":
            try FileManager.default.removeItem(atPath: target)
            try runChecked(["mkfifo", target])
        case "symlink":
            try FileManager.default.removeItem(atPath: target)
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: outside.url(name))
        default:
            let directory = (target as NSString).deletingLastPathComponent
            try FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createSymbolicLink(atPath: directory, withDestinationPath: outside.path)
        }

        let result = try run(
            ["timeout", "60", builtProduct("git-mtime"), "doctor", "--format", "json"], in: repo.path,
            environment: ["DOCKER_BUILDKIT": "1"])
        try #require(result.status == 0 || result.status == 1, "status \(result.status) (124: blocked): \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let findings = object["findings"] as? [[String: Any]] ?? []
        // What reading an outside file would have said.
        #expect(!rules(findings).contains("stale-after-copy") && !rules(findings).contains("workaround-no-cache"), "\(findings)")
        #expect(!findings.contains { $0["rule"] as? String == "dockerignore-syntax" && $0["line"] as? Int != 0 }, "\(findings)")
        // What doctor says instead.
        switch (kind, file) {
        case (_, "scripts/ci.sh"):
            #expect(rules(findings).isEmpty, "\(findings)")
        case ("symlinked-directory", _), (_, "docker/Dockerfile"):
            #expect(rules(findings) == ["dockerfile-not-checked"], "\(findings)")
            #expect(findings.first?["file"] as? String == "docker/Dockerfile" && findings.first?["severity"] as? String == "warning")
            #expect(result.status == 0)
        default:
            #expect(rules(findings) == ["dockerignore-syntax"] && findings.first?["file"] as? String == file, "\(findings)")
            #expect(result.status == 1)
        }
    }

    /// A symlink committed as one (git mode 120000) is the repository's own choice: not followed, no
    /// warning; its target is checked when it is a tracked Dockerfile itself.
    @Test func aTrackedSymlinkIsNotFollowed() throws {
        let repo = try wellKeptRepository(label: "doctor-tracked-link")
        let outside = TemporaryDirectory("doctor-link-target")
        try Data("FROM rust\nCOPY Cargo.toml .\nRUN cargo build\nCOPY . .\nRUN cargo build\n".utf8)
            .write(to: URL(fileURLWithPath: outside.url("Dockerfile")))
        try FileManager.default.createSymbolicLink(atPath: repo.directory.url("Dockerfile"), withDestinationPath: outside.url("Dockerfile"))
        try repo.commit("link")
        #expect(try repo.gitArray(["ls-files", "-s", "Dockerfile"]).hasPrefix("120000 "))
        let result = try doctorJSON(in: repo.path)
        #expect(result.status == 0 && rules(result.findings).isEmpty, "\(result.findings)")
    }

    @Test func aDockerfileOverTheLimitIsNotCheckedAndSaysSo() throws {
        let repo = try wellKeptRepository(label: "doctor-huge")
        let header = "FROM rust\nCOPY Cargo.toml .\nRUN cargo build\nCOPY . .\nRUN cargo build\n"
        try repo.write("Dockerfile", header + String(repeating: "#", count: (1 << 20) - header.utf8.count) + "\n")
        try repo.commit("huge")
        let huge = try doctorJSON(in: repo.path)
        #expect(huge.status == 0 && rules(huge.findings) == ["dockerfile-not-checked"], "\(huge.findings)")
        #expect((huge.findings.first?["cause"] as? String)?.contains("larger than 1048576 bytes") == true, "\(huge.findings)")
        // One byte less: read, and the seed's hazard found.
        try repo.write("Dockerfile", header + String(repeating: "#", count: (1 << 20) - header.utf8.count - 1) + "\n")
        let read = try doctorJSON(in: repo.path)
        #expect(read.status == 1 && rules(read.findings) == ["stale-after-copy"], "\(read.findings)")
    }
}
