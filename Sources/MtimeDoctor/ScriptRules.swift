import MtimeCore

/// `docker build --no-cache` in the repository's scripts and CI files: the workaround that rebuilds
/// every layer (and empties BuildKit's cache mounts) to be sure nothing is stale.
enum ScriptRules {
    /// Scripts, makefiles and CI definitions, by name.
    static func isScript(_ path: BytePath) -> Bool {
        let name = String(decoding: path.lastComponent.bytes, as: UTF8.self)
        let text = String(decoding: path.bytes, as: UTF8.self)
        return [".sh", ".bash", ".mk", ".just", ".ps1"].contains { name.hasSuffix($0) }
            || ["Makefile", "makefile", "GNUmakefile", "Justfile", "justfile", "Taskfile.yml", ".gitlab-ci.yml", "Jenkinsfile",
                "docker-compose.yml", "compose.yml", "docker-bake.hcl"].contains(name)
            || ((name.hasSuffix(".yml") || name.hasSuffix(".yaml")) && (text.hasPrefix(".github/") || text.hasPrefix(".circleci/") || text.hasPrefix("ci/")))
    }

    static func findings(in contents: [UInt8], file: String) -> [Finding] {
        var findings: [Finding] = []
        for (index, line) in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let words = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // `docker [buildx] build … --no-cache`, `podman build`, `buildah bud` (not `apk add --no-cache`).
            guard let tool = words.firstIndex(where: { ["docker", "podman", "buildah"].contains(BuildTool.commandName([$0])) }),
                  let build = words[tool...].firstIndex(where: { ["build", "bud", "b"].contains($0) }),
                  words[build...].contains(where: { $0 == "--no-cache" || $0 == "--no-cache=true" }) else { continue }
            findings.append(Finding(
                file: file, line: index + 1, severity: .info, rule: .workaroundNoCache,
                cause: "`--no-cache` rebuilds every layer from scratch (and BuildKit empties cache mounts), throwing away all incremental work to avoid stale builds.",
                fix: Fix("Drop `--no-cache` and build with `git mtime docker build …` and the guard line, which rebuilds exactly what changed; to make one RUN execute again, change a build argument (`--build-arg REBUILD=$(date +%s)`).")))
        }
        return findings
    }
}
