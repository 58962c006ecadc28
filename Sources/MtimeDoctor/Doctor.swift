import GitKit
import MtimeCore
import MtimeDocker
import MtimeDockerfile
import MtimeRestore

/// `git mtime doctor`: every check on the Dockerfiles, the build context and the repository.
public struct Doctor {
    /// Dockerfiles as given (relative to the current directory, where the repository is found as
    /// for every command: `-C` is entered first); empty: every Dockerfile tracked in the repository.
    public var dockerfiles: [String]
    /// The build context (relative to the current directory); nil: the top of the working tree.
    public var context: String?
    public var environment: [String: String]

    public init(dockerfiles: [String] = [], context: String? = nil, environment: [String: String] = Environment.all()) {
        self.dockerfiles = dockerfiles
        self.context = context
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
        let base = try FileSystem.resolve(BytePath("."))
        let session = try? RestoreSession(discoveringFrom: ".")
        let root = try session.map { try FileSystem.resolve($0.workdir) }
        if session == nil && dockerfiles.isEmpty {
            throw UsageError(description: "\(base) is not in a git working tree; give --dockerfile PATH to check a Dockerfile on its own")
        }
        func resolve(_ path: String) -> BytePath {
            path.hasPrefix("/") ? BytePath(path) : base.appending(path)
        }
        func display(_ path: BytePath) -> String {
            guard let below = path.relative(to: base) else { return path.description }
            return below.isEmpty ? "." : String(decoding: below.bytes, as: UTF8.self)
        }

        // Each Dockerfile as the directory holding it and its name. Tracked ones are reached from the
        // root one component at a time, no symlink followed: the working tree is anyone's who can push
        // a commit, and doctor never reads outside it.
        var files: [(path: BytePath, directory: HeldDirectory, name: BytePath)] = []
        var findings: [Finding] = []
        let tree = try root.map { try DirectoryTree(root: $0) }
        if dockerfiles.isEmpty, let session, let root, let tree {
            var seen = Set<BytePath>()
            // Tracked files only: a tracked symlink is left alone (its target is checked when it is a
            // Dockerfile itself), and so is a submodule.
            for entry in try session.indexEntries()
            where entry.mode & 0o170000 == 0o100000 && Doctor.isDockerfileName(entry.path.lastComponent) && seen.insert(entry.path).inserted
            {
                let path = root.appending(entry.path)
                do throws(SystemError) {
                    let (directory, name) = try tree.parent(of: entry.path)
                    guard let status = try directory.statusIfPresent(name) else { continue }
                    guard status.kind == .regular else {
                        findings.append(Doctor.notChecked(display(path), because: "it is not a regular file here"))
                        continue
                    }
                    files.append((path, directory, name))
                } catch {
                    if error.isAbsent { continue }
                    findings.append(
                        Doctor.notChecked(
                            display(path),
                            because: error.isSymlink
                                ? "a directory on its way is a symlink here, and doctor reads nothing outside the working tree through one"
                                : "\(error)"))
                }
            }
        } else {
            for given in dockerfiles {
                // A path given on the command line is the user's choice: its symlinks are followed.
                guard let path = try? FileSystem.resolve(resolve(given)),
                    let directory = try? HeldDirectory(opening: path.parent),
                    (try? directory.statusIfPresent(path.lastComponent))?.kind == .regular
                else {
                    throw UsageError(description: "no Dockerfile at \(given)")
                }
                files.append((path, directory, path.lastComponent))
            }
        }
        let paths = files.map(\.path)
        let contextPath = context.map { resolve($0) } ?? root ?? paths.first.map(\.parent) ?? base
        guard (try? FileSystem.statusIfPresent(contextPath))?.kind == .directory else {
            throw UsageError(description: "the context \(context ?? contextPath.description) is not a directory")
        }
        let contextDirectory = (try? FileSystem.resolve(contextPath)) ?? contextPath

        var outputs: [String] = []
        var ownIgnoreFiles: [(directory: HeldDirectory, name: BytePath)] = []
        var guardedDockerfiles: [String] = []
        let classic = ClassicBuilderProbe(environment: environment)
        for file in files {
            let name = display(file.path)
            do {
                guard let text = try file.directory.readRegularFile(file.name, limit: Dockerfile.maximumSize) else {
                    findings.append(Doctor.notChecked(name, because: "it is not a regular file here"))
                    continue
                }
                let stages = try BuildStages(try Dockerfile(parsing: text, name: name))
                let rules = DockerfileRules(stages: stages, usesClassicBuilder: { classic.usesClassicBuilder })
                findings += rules.findings()
                for output in rules.outputDirectories() where !outputs.contains(output) { outputs.append(output) }
                if let below = root.flatMap(file.path.relative(to:)), rules.mountsTheGuard() {
                    guardedDockerfiles.append(String(decoding: below.bytes, as: UTF8.self))
                }
            } catch let error as DockerfileError {
                findings.append(
                    Finding(
                        file: name, line: error.line, severity: .hazard, rule: .dockerfileSyntax,
                        cause: "Docker cannot read this Dockerfile: \(error.message).",
                        fix: Fix("Fix line \(error.line).")))
            } catch {
                findings.append(Doctor.notChecked(name, because: "\(error)"))
            }
            // BuildKit reads `<Dockerfile>.dockerignore` instead of the context's when it exists.
            let own = BytePath(file.name.bytes + Array(".dockerignore".utf8))
            if (try? file.directory.statusIfPresent(own)) != nil { ownIgnoreFiles.append((file.directory, own)) }
        }

        let contextRelativeToRoot = root.flatMap(contextDirectory.relative(to:))
        let repository = session?.repository
        let contextRules = ContextRules(
            context: contextDirectory, displayPrefix: display(contextDirectory) == "." ? "" : display(contextDirectory),
            buildOutputs: outputs,
            isIgnoredByGit: repository.flatMap { repository in
                contextRelativeToRoot.map { prefix in
                    { path in (try? repository.isIgnored(prefix.isEmpty ? path : prefix.appending(path))) ?? false }
                }
            })
        // Without a Dockerfile nothing sends this context anywhere.
        if !paths.isEmpty {
            if ownIgnoreFiles.count < paths.count { findings += contextRules.findings() }
            for file in ownIgnoreFiles { findings += contextRules.findings(ignoreFile: file) }
        }

        if let session, let root, let tree {
            let rules = try RepositoryRules(session: session)
            findings += rules.findings()
            let scripts = ScriptRules(guardedDockerfiles: guardedDockerfiles)
            for entry in try session.indexEntries() where entry.stage == 0 && ScriptRules.isScript(entry.path) {
                // Only a regular file below the root: a FIFO put where a tracked script was would block.
                guard let (directory, name) = try? tree.parent(of: entry.path),
                    let contents = try? directory.readRegularFile(name, limit: 4 << 20)
                else { continue }
                findings += scripts.findings(in: contents, file: display(root.appending(entry.path)))
            }
        }
        return Report(
            findings: findings, dockerfiles: paths.map(display), context: display(contextDirectory),
            repository: root?.description)
    }

    /// A Dockerfile doctor did not read (larger than `Dockerfile.maximumSize`, not a regular file,
    /// reached through a symlink): a warning, since doctor cannot say whether it is safe.
    static func notChecked(_ file: String, because reason: String) -> Finding {
        Finding(
            file: file, line: 0, severity: .warning, rule: .dockerfileNotChecked,
            cause: "Not checked: \(reason).",
            fix: Fix(
                "Keep Dockerfiles as regular files of at most \(Dockerfile.maximumSize >> 20) MiB, reached inside the working tree without a symlink."
            ))
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
        let version = (try? ChildProcess.capture([ProcessArgument(docker), "--version"])).flatMap {
            $0.termination == .exited(0) ? $0.output : nil
        }
        let buildkit = environment["DOCKER_BUILDKIT"]
        let mode = InjectionMode.select(
            client: Client(versionOutput: version ?? ""), builder: .build, buildkit: buildkit,
            buildxAvailable: {
                (try? ChildProcess.capture([ProcessArgument(docker), "buildx", "version"]))?.termination == .exited(0)
            })
        let result = mode == .rewrittenForClassicBuilder && (version != nil || buildkit != nil)
        answer = result
        return result
    }
}
