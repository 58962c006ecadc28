import GitKit
import MtimeCore
import MtimeDocker
import MtimeDockerfile
import MtimeRestore

/// `git mtime doctor`: every check on the Dockerfiles, the build context and the repository.
public struct Doctor {
    /// Dockerfiles as given (relative to `directory`); empty: every Dockerfile tracked in the repository.
    public var dockerfiles: [String]
    /// The build context (relative to `directory`); nil: the top of the working tree.
    public var context: String?
    /// Where the command runs (paths are relative to it).
    public var directory: String
    public var environment: [String: String]

    public init(dockerfiles: [String] = [], context: String? = nil, directory: String = ".", environment: [String: String] = Environment.all()) {
        self.dockerfiles = dockerfiles
        self.context = context
        self.directory = directory
        self.environment = environment
    }

    public struct Report: Sendable {
        public var findings: [Finding]
        /// The Dockerfiles read, as shown in findings.
        public var dockerfiles: [String]
        public var context: String
        public var repository: String?

        public var hasHazard: Bool { findings.contains { $0.severity == .hazard } }

        public func count(_ severity: Severity) -> Int { findings.count { $0.severity == severity } }

        /// `doctor: 1 hazard, 0 warnings, 2 notes (Dockerfile; context .; repository /src/app)`
        public var summary: String {
            let hazards = count(.hazard), warnings = count(.warning), notes = count(.info)
            let files = dockerfiles.isEmpty ? "no Dockerfile" : dockerfiles.joined(separator: ", ")
            return "doctor: \(hazards) hazard\(hazards == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"), "
                + "\(notes) note\(notes == 1 ? "" : "s") (\(files); context \(context)\(repository.map { "; repository \($0)" } ?? ""))"
        }

        public var json: JSONValue {
            .object([
                ("dockerfiles", .array(dockerfiles.map(JSONValue.string))),
                ("context", .string(context)),
                ("repository", repository.map(JSONValue.string) ?? .null),
                ("hazards", .integer(Int64(count(.hazard)))),
                ("warnings", .integer(Int64(count(.warning)))),
                ("notes", .integer(Int64(count(.info)))),
                ("findings", .array(findings.map(\.json))),
            ])
        }
    }

    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs every check. Throws `UsageError` for arguments that name nothing to check.
    public func run() throws -> Report {
        let base = try FileSystem.resolve(BytePath(directory))
        let session = try? RestoreSession(discoveringFrom: directory)
        let root = try session.map { try FileSystem.resolve($0.workdir) }
        if session == nil && dockerfiles.isEmpty {
            throw UsageError(description: "\(directory) is not in a git working tree; give --dockerfile PATH to check a Dockerfile on its own")
        }
        func resolve(_ path: String) -> BytePath {
            path.hasPrefix("/") ? BytePath(path) : base.appending(path)
        }
        func display(_ path: BytePath) -> String {
            if path == base { return "." }
            if path.isWithin(base) { return String(decoding: path.bytes.dropFirst(base.bytes.count + 1), as: UTF8.self) }
            return path.description
        }

        var paths: [BytePath] = []
        if dockerfiles.isEmpty, let session, let root {
            let tracked = try session.repository.indexEntries().map(\.path)
            paths = tracked.filter { Doctor.isDockerfileName($0.lastComponent) }.map { root.appending($0) }
                .filter { (try? FileSystem.statusIfPresent($0))?.kind == .regular }
        } else {
            for given in dockerfiles {
                let path = resolve(given)
                guard (try? FileSystem.statusIfPresent(path))?.kind == .regular else {
                    throw UsageError(description: "no Dockerfile at \(given)")
                }
                paths.append(path)
            }
        }
        let contextPath = context.map { resolve($0) } ?? root ?? paths.first.map(\.parent) ?? base
        guard (try? FileSystem.statusIfPresent(contextPath))?.kind == .directory else {
            throw UsageError(description: "the context \(context ?? contextPath.description) is not a directory")
        }
        let contextDirectory = (try? FileSystem.resolve(contextPath)) ?? contextPath

        var findings: [Finding] = []
        var outputs: [String] = []
        var ownIgnoreFiles: [BytePath] = []
        var guardedDockerfiles: [String] = []
        let classic = ClassicBuilderProbe(environment: environment)
        for path in paths {
            let name = display(path)
            do {
                let text = try FileSystem.readFile(path, limit: 16 << 20)
                let stages = try BuildStages(try Dockerfile(parsing: text, name: name))
                let rules = DockerfileRules(stages: stages, usesClassicBuilder: { classic.usesClassicBuilder })
                findings += rules.findings()
                for output in rules.outputDirectories() where !outputs.contains(output) { outputs.append(output) }
                if let root, path.isWithin(root), rules.mountsTheGuard() {
                    guardedDockerfiles.append(String(decoding: path.bytes.dropFirst(root.bytes.count + 1), as: UTF8.self))
                }
            } catch let error as DockerfileError {
                findings.append(Finding(file: name, line: error.line, severity: .hazard, rule: .dockerfileSyntax,
                                        cause: "Docker cannot read this Dockerfile: \(error.message).",
                                        fix: Fix("Fix line \(error.line).")))
            }
            // BuildKit reads `<Dockerfile>.dockerignore` instead of the context's when it exists.
            let own = BytePath(path.bytes + Array(".dockerignore".utf8))
            if (try? FileSystem.statusIfPresent(own)) != nil { ownIgnoreFiles.append(own) }
        }

        let contextRelativeToRoot: BytePath? = root.flatMap { root in
            contextDirectory.isWithin(root) ? BytePath(Array(contextDirectory.bytes.dropFirst(root.bytes.count).drop { $0 == UInt8(ascii: "/") })) : nil
        }
        let repository = session?.repository
        let contextRules = ContextRules(
            context: contextDirectory, displayPrefix: display(contextDirectory) == "." ? "" : display(contextDirectory), buildOutputs: outputs,
            isIgnoredByGit: repository.flatMap { repository in contextRelativeToRoot.map { prefix in
                { path in (try? repository.isIgnored(prefix.isEmpty ? path : prefix.appending(path))) ?? false }
            } })
        // Without a Dockerfile nothing sends this context anywhere.
        if !paths.isEmpty {
            if ownIgnoreFiles.count < paths.count { findings += contextRules.findings() }
            for file in ownIgnoreFiles { findings += contextRules.findings(ignoreFile: file) }
        }

        if let session, let root {
            let rules = try RepositoryRules(session: session)
            findings += rules.findings()
            let scripts = ScriptRules(guardedDockerfiles: guardedDockerfiles)
            for entry in try session.repository.indexEntries() where entry.stage == 0 && ScriptRules.isScript(entry.path) {
                // Only a regular file: a FIFO put where a tracked script was would block the read.
                let path = root.appending(entry.path)
                guard (try? FileSystem.statusIfPresent(path))?.kind == .regular,
                      let contents = try? FileSystem.readFile(path, limit: 4 << 20) else { continue }
                findings += scripts.findings(in: contents, file: display(path))
            }
        }
        return Report(findings: findings, dockerfiles: paths.map(display), context: display(contextDirectory),
                      repository: root?.description)
    }

    /// `Dockerfile`, `dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*` (not `*.dockerignore`).
    public static func isDockerfileName(_ name: BytePath) -> Bool {
        let text = String(decoding: name.bytes, as: UTF8.self)
        let lower = text.lowercased()
        if lower.hasSuffix(".dockerignore") { return false }
        return lower == "dockerfile" || lower == "containerfile" || lower.hasSuffix(".dockerfile") || lower.hasSuffix(".containerfile")
            || lower.hasPrefix("dockerfile.") || lower.hasPrefix("containerfile.")
    }
}

/// Whether `git mtime docker build` would pick the classic builder (no `RUN --mount`): asks the
/// client once, and only when a Dockerfile makes it matter. With no client to ask, only an explicit
/// `DOCKER_BUILDKIT=0` says so.
final class ClassicBuilderProbe: @unchecked Sendable {
    private let environment: [String: String]
    private var answer: Bool?

    init(environment: [String: String]) { self.environment = environment }

    var usesClassicBuilder: Bool {
        if let answer { return answer }
        let docker = environment["DOCKER"].flatMap { $0.isEmpty ? nil : $0 } ?? "docker"
        let version = (try? ChildProcess.capture([docker, "--version"])).flatMap { $0.termination == .exited(0) ? $0.output : nil }
        let buildkit = environment["DOCKER_BUILDKIT"]
        let mode = InjectionMode.select(client: Client(versionOutput: version ?? ""), builder: .build, buildkit: buildkit, buildxAvailable: {
            (try? ChildProcess.capture([docker, "buildx", "version"]))?.termination == .exited(0)
        })
        let result = mode == .rewrittenForClassicBuilder && (version != nil || buildkit != nil)
        answer = result
        return result
    }
}
