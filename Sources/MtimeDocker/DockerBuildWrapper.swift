import Glibc
import MtimeCore
import MtimeDockerContext
import MtimeManifest

/// What the host side is asked to prepare, and what decides which files the build's context holds.
public struct ContextRequest: Equatable, Sendable {
    /// The local context directory, as typed.
    public var directory: String
    /// The Dockerfile the build reads, as the client resolved it (nil when it comes from stdin or a
    /// URL): BuildKit prefers its `<Dockerfile>.dockerignore` to the context's `.dockerignore`. In the
    /// rewriting modes the client gets a temporary copy under the same name, that ignore file beside it.
    public var dockerfile: String?
    /// How the build is run: with `.rewrittenForClassicBuilder` the classic client sends that copy from
    /// outside the context, adding it to the context and to the context's `.dockerignore`.
    public var mode: InjectionMode
    public var client: Client
    /// Whether the client is given a temporary copy of the Dockerfile (a rewriting mode, and a Dockerfile
    /// with the guard line or from stdin) rather than the Dockerfile itself.
    public var dockerfileIsCopied: Bool

    /// The Dockerfile and builder as `MtimeDockerContext` takes them: they decide which files the
    /// context holds (docs/docker.md, "Which files the context holds").
    public var contextBuild: (dockerfile: DockerfileLocation, builder: DockerBuilder) {
        let dockerfile = self.dockerfile.map { DockerfileLocation.path(BytePath($0)) } ?? .standardInput
        switch (mode, client) {
        // buildx walks with today's fsutil; buildah and podman are given the same rules (unverified).
        case (.buildContext, _):
            return (dockerfile, DockerBuilder(kind: .buildKit, client: .patternmatcher))
        // docker < 23 sends a BuildKit context itself, with docker/docker's pkg/fileutils; the copy sits
        // beside a copy of its ignore file, so the original's path gives the same rules.
        case (.rewrittenMountSource, _):
            return (dockerfile, DockerBuilder(kind: .buildKit, client: .fileutils))
        case (.rewrittenForClassicBuilder, .docker(let major)):
            let engine = major.map(DockerPatternEngine.init(dockerMajorVersion:)) ?? .patternmatcher
            // A copy from outside the context is one the classic client adds itself, as for stdin. The
            // daemon's own pattern code then decides only about `.dockerignore`, which the guard skips
            // in this mode, so its version is not asked.
            return (dockerfileIsCopied ? .standardInput : dockerfile, DockerBuilder(kind: .classic, client: engine))
        case (.rewrittenForClassicBuilder, _):
            return (dockerfileIsCopied ? .standardInput : dockerfile, DockerBuilder(kind: .classic, client: .patternmatcher))
        }
    }
}

/// What the wrapper needs from the host side: the context's mtimes restored and its manifest.
public struct PreparedContext: Sendable {
    public var manifest: Manifest
    /// One line for the user: how many files were restored, how many dirty; or why no time was restored.
    public var summary: String

    public init(manifest: Manifest, summary: String) {
        self.manifest = manifest
        self.summary = summary
    }
}

/// `git mtime docker build …`: restore the context's mtimes, put guard and manifest where the build's
/// `from=git-mtime` finds them (a private temporary directory, and a per-build image where the client
/// can't take a build context), run the real client with the user's arguments, and remove everything it
/// made afterwards, whatever happened.
public struct DockerBuildWrapper {
    public let client: ClientCommand
    public let arguments: BuildArguments
    let environment: [String: String]
    let message: (String) -> Void

    /// Inject the file that switches the guard's `--explain` on (each bumped file and its reason in the build log).
    public var explain = false

    /// - Parameters:
    ///   - docker: the client to run; nil means `$DOCKER`, else `docker` on PATH.
    ///   - arguments: the words after `git mtime docker [--docker PATH]`.
    public init(docker: String?, arguments: [String], message: @escaping (String) -> Void) throws(BuildArgumentsError) {
        environment = Environment.all()
        self.arguments = try BuildArguments(parsing: arguments)
        client = ClientCommand(
            executable: docker ?? environment["DOCKER"].flatMap { $0.isEmpty ? nil : $0 } ?? "docker",
            globalOptions: self.arguments.globalOptions)
        if !self.arguments.wantsHelp,
            let name = self.arguments.buildContextNames.first(where: { $0.lowercased() == DockerfileGuardLines.sourceName })
        {
            throw BuildArgumentsError(
                "--build-context \(name)=… is taken: git mtime docker passes the guard and manifest to the build under that name; remove your own, or run docker directly"
            )
        }
        self.message = message
    }

    /// The largest Dockerfile read (from a file or `-f -`); BuildKit's own limit is far below.
    static let dockerfileSizeLimit = 16 << 20

    /// Runs the build; the result is the client's own termination (or the signal that stopped the wrapper first).
    public func run(prepareContext: (ContextRequest) throws -> PreparedContext) throws -> Termination {
        SignalForwarding.install()
        // `--help` is the client's: nothing to restore, nothing to build.
        if arguments.wantsHelp { return try client.run(arguments.command + arguments.options) }
        let version = (try? client.capture(["--version"]))?.output ?? ""
        let clientKind = Client(versionOutput: version)
        let mode = InjectionMode.select(
            client: clientKind, builder: arguments.builder, buildkit: environment["DOCKER_BUILDKIT"],
            buildxAvailable: { (try? client.capture(["buildx", "version"]))?.termination == .exited(0) })
        let inputs = try BuildInputs(arguments, rules: mode.dockerfileRules(for: clientKind))
        guard case .directory(let context) = inputs.context else {
            let what = inputs.context == .standardInput ? "stdin" : "a URL"
            message(
                "the build context is \(what): nothing on this machine to restore or describe, so \(client.executable) runs unchanged (a RUN mounting from=\(DockerfileGuardLines.sourceName) finds nothing)"
            )
            return try client.run(arguments.command + arguments.options)
        }
        let guardPath = try GuardExecutable.locate()
        // The client takes the temporary directory's paths as text: a TMPDIR that isn't UTF-8 would
        // name another directory there, so it is refused before anything is restored or made.
        if let temporary = Environment.path("TMPDIR"), String(validating: temporary.bytes, as: UTF8.self) == nil {
            throw DockerWrapperError(
                "TMPDIR=\(temporary) isn't UTF-8: \(client.executable) is given the temporary directory's paths as text; set TMPDIR to a directory whose name is"
            )
        }

        let cleanup = Cleanup()
        defer { cleanup.run() }

        // The Dockerfiles are read up front: a `-f -` stdin is consumed once and kept for the rewrite.
        // A Dockerfile the wrapper can't read here (a URL, or stdin the client reads itself) may hold the line.
        let rewrites = mode != .buildContext
        var dockerfileText: [UInt8]?
        var usesGuard = false
        for dockerfile in inputs.dockerfiles {
            switch dockerfile {
            case .file(let path):
                // As the client reads it: through symlinks; never a FIFO or device (`readFile` refuses them).
                let text = try FileSystem.readFile(BytePath(path), limit: DockerBuildWrapper.dockerfileSizeLimit, followingSymlinks: true)
                if rewrites { dockerfileText = text }
                usesGuard = usesGuard || !DockerfileGuardLines(parsing: text).guardRuns.isEmpty
            case .standardInput where rewrites:
                let text = try FileSystem.readToEnd(descriptor: 0, name: "<stdin>", limit: DockerBuildWrapper.dockerfileSizeLimit)
                dockerfileText = text
                usesGuard = usesGuard || !DockerfileGuardLines(parsing: text).guardRuns.isEmpty
            case .standardInput, .remote:
                usesGuard = true
            }
        }
        let dockerfileName = inputs.dockerfilePath ?? "the Dockerfile"
        if !usesGuard {
            message(
                "note: \(dockerfileName) has no `RUN --mount=type=bind,from=\(DockerfileGuardLines.sourceName),target=/git-mtime …` line, so the guard will not run"
            )
        }

        // The rewrite below hands the client a copy when there is a guard line to rewrite, or stdin to replay.
        let copiesDockerfile =
            rewrites
            && dockerfileText.map {
                !DockerfileGuardLines(parsing: $0).guardRuns.isEmpty || inputs.dockerfiles.first == .standardInput
            } ?? false
        let prepared = try prepareContext(
            ContextRequest(
                directory: context, dockerfile: inputs.dockerfilePath, mode: mode, client: clientKind,
                dockerfileIsCopied: copiesDockerfile))
        message(prepared.summary)
        // A Ctrl-C during the restore: its work is complete and consistent; start nothing more.
        if let signal = SignalForwarding.pending { return .signaled(signal) }
        var manifest = prepared.manifest
        if mode == .rewrittenForClassicBuilder {
            // The classic client sends a Dockerfile from outside the context (ours always is) by adding it
            // under a random name and appending that name to the context's .dockerignore, in the copy it
            // sends: that one file arrives changed, so the guard must not check it.
            manifest.entries.removeAll { $0.path == BytePath(".dockerignore") }
        }

        let directory = try PrivateDirectory(prefix: "git-mtime-docker")
        cleanup.add { directory.remove() }
        // What reaches the build beside each other: guard, manifest, and the file that switches the
        // guard's --explain on.
        let injected: [(name: String, contents: [UInt8], mode: Int)] =
            [
                ("guard", try FileSystem.readFile(guardPath, limit: GuardExecutable.sizeLimit, followingSymlinks: true), 0o755),
                ("manifest", manifest.serialized(), 0o644),
            ] + (explain ? [(GuardExecutable.explainFileName, [], 0o644)] : [])
        if usesGuard { message("guard and manifest reach the build through: \(mode)") }

        var commandLine = arguments.command + arguments.options
        switch mode {
        case .buildContext:
            _ = try directory.makeDirectory("inject")
            for file in injected { _ = try directory.write("inject/\(file.name)", file.contents, permissions: mode_t(file.mode)) }
            commandLine = arguments.inserting(["--build-context", "\(DockerfileGuardLines.sourceName)=\(Self.text(directory.path))/inject"])
        case .rewrittenMountSource, .rewrittenForClassicBuilder:
            guard let dockerfileText else { break }
            var rewritten = dockerfileText
            let guardLines = DockerfileGuardLines(parsing: dockerfileText)
            if !guardLines.guardRuns.isEmpty {
                let image = try InjectionImage(files: injected, client: client, directory: directory)
                cleanup.add { [client, message] in
                    if !image.remove(client: client) {
                        message(
                            "warning: could not remove the image \(image.reference); remove it with: \(client.executable) image rm \(image.reference)"
                        )
                    }
                }
                do {
                    rewritten =
                        mode == .rewrittenMountSource
                        ? try guardLines.rewritingMountSource(to: image.reference)
                        : try guardLines.rewrittenForClassicBuilder(image: image.reference)
                } catch {
                    throw DockerWrapperError("\(dockerfileName): \(error)")
                }
            } else if inputs.dockerfiles.first != .standardInput {
                break
            }
            commandLine = arguments.replacingDockerfile(
                with: try writeDockerfile(rewritten, in: directory, replacing: inputs.dockerfilePath))
        }
        if let signal = SignalForwarding.pending { return .signaled(signal) }
        return try client.run(commandLine)
    }

    /// The temporary Dockerfile, named like the original so that BuildKit finds the copy of its
    /// `<name>.dockerignore` beside it, as it would beside the original.
    private func writeDockerfile(_ text: [UInt8], in directory: PrivateDirectory, replacing original: String?) throws -> String {
        _ = try directory.makeDirectory("dockerfile")
        let name = original.map { String($0.split(separator: "/").last ?? "Dockerfile") } ?? "Dockerfile"
        if let original, let ignore = try DockerContextRules.buildKitIgnoreFile(besideDockerfile: BytePath(original)) {
            _ = try directory.write("dockerfile/\(name).dockerignore", ignore, permissions: 0o644)
        }
        return Self.text(try directory.write("dockerfile/\(name)", text, permissions: 0o644))
    }

    /// A path below the temporary directory, as the client takes it: run() refused a TMPDIR that
    /// isn't UTF-8, and the names below it are ours (ASCII).
    static func text(_ path: BytePath) -> String { String(decoding: path.bytes, as: UTF8.self) }
}

/// Undo actions, run once in reverse order of registration.
final class Cleanup {
    private var actions: [() -> Void] = []
    func add(_ action: @escaping () -> Void) { actions.append(action) }
    func run() {
        for action in actions.reversed() { action() }
        actions = []
    }
}
