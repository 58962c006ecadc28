import MtimeCore
import MtimeDockerfile

/// The build commands in the repository's scripts and CI files: `docker build --no-cache` (the
/// workaround that rebuilds every layer to be sure nothing is stale) and a plain `docker build` of
/// a Dockerfile that mounts the guard (only `git mtime docker build` provides `from=git-mtime`).
struct ScriptRules {
    /// Repository-relative paths of the Dockerfiles that mount the guard.
    let guardedDockerfiles: [String]

    /// Scripts, makefiles and CI definitions, by name.
    static func isScript(_ path: BytePath) -> Bool {
        let name = String(decoding: path.lastComponent.bytes, as: UTF8.self)
        let text = String(decoding: path.bytes, as: UTF8.self)
        return [".sh", ".bash", ".mk", ".just"].contains { name.hasSuffix($0) }
            || ["Makefile", "makefile", "GNUmakefile", "Justfile", "justfile", "Taskfile.yml", ".gitlab-ci.yml", "Jenkinsfile"].contains(
                name)
            || ((name.hasSuffix(".yml") || name.hasSuffix(".yaml"))
                && (text.hasPrefix(".github/") || text.hasPrefix(".circleci/") || text.hasPrefix("ci/")))
    }

    func findings(in contents: [UInt8], file: String) -> [Finding] {
        var findings: [Finding] = []
        for (index, line) in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            for command in ShellScript(Array(line)).commands {
                let words = command.words.map(\.text)
                // `docker [buildx] build`, `podman build`, `buildah bud` (not `docker run … apk add --no-cache`).
                guard let tool = words.firstIndex(where: { ["docker", "podman", "buildah"].contains(BuildTool.commandName([$0])) }),
                    let build = ScriptRules.buildWord(words, after: tool)
                else { continue }
                let arguments = Array(words[(build + 1)...])
                let wrapped =
                    (tool >= 2 && words[tool - 2] == "git" && words[tool - 1] == "mtime")
                    || (tool >= 1 && BuildTool.commandName([words[tool - 1]]) == "git-mtime")
                if arguments.contains(where: { $0 == "--no-cache" || $0 == "--no-cache=true" }) {
                    findings.append(
                        Finding(
                            file: file, line: index + 1, severity: .info, rule: .workaroundNoCache,
                            cause:
                                "`--no-cache` rebuilds every layer from scratch (and BuildKit empties cache mounts), throwing away all incremental work to avoid stale builds.",
                            fix: Fix(
                                "Drop `--no-cache` and build with `git mtime docker build …` and the guard line, which rebuilds exactly what changed; to make one RUN execute again, change a build argument (`--build-arg REBUILD=$(date +%s)`)."
                            )))
                }
                if !wrapped, let dockerfile = builtDockerfile(arguments) {
                    var fixed = Array(line)
                    fixed.insert(contentsOf: Array("git mtime ".utf8), at: command.words[tool].range.lowerBound)
                    findings.append(
                        Finding(
                            file: file, line: index + 1, severity: .warning, rule: .unwrappedBuild,
                            cause:
                                "This builds \(dockerfile), which mounts the guard, without `git mtime docker`: nothing provides `from=git-mtime` (the build fails) and the sources keep their checkout times.",
                            fix: Fix(
                                "Build through the wrapper:",
                                lines: [FixLine(.replace, file: file, line: index + 1, text: String(decoding: fixed, as: UTF8.self))])))
                }
            }
        }
        return findings
    }

    /// `build`, `bud`, `buildx build|b`, `image build` right after the tool: the word ending the subcommand.
    static func buildWord(_ words: [String], after tool: Int) -> Int? {
        guard tool + 1 < words.count else { return nil }
        switch words[tool + 1] {
        case "build", "bud": return tool + 1
        case "buildx" where tool + 2 < words.count && ["build", "b"].contains(words[tool + 2]): return tool + 2
        case "image" where tool + 2 < words.count && words[tool + 2] == "build": return tool + 2
        default: return nil
        }
    }

    /// The guarded Dockerfile a build command line builds: `-f`/`--file` (matched by its end), else
    /// a guarded `Dockerfile` at the top.
    private func builtDockerfile(_ arguments: [String]) -> String? {
        var given: String?
        for (index, word) in arguments.enumerated() {
            if (word == "-f" || word == "--file"), index + 1 < arguments.count {
                given = arguments[index + 1]
            } else if word.hasPrefix("--file=") {
                given = String(word.dropFirst("--file=".count))
            } else if word.hasPrefix("-f"), word.count > 2, !word.hasPrefix("--") {
                given = String(word.dropFirst(2))
            }
        }
        guard let given else { return guardedDockerfiles.first { $0 == "Dockerfile" } }
        let wanted = given.hasPrefix("./") ? String(given.dropFirst(2)) : given
        return guardedDockerfiles.first { $0 == wanted || $0.hasSuffix("/" + wanted) }
    }
}
