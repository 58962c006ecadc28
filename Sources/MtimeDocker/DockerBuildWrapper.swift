import Glibc
import MtimeCore
import MtimeManifest

/// What the wrapper needs from the host side: the context's mtimes restored and its manifest.
public struct PreparedContext: Sendable {
    public var manifest: Manifest
    /// One line for the user (how many files were restored, how many dirty).
    public var summary: String

    public init(manifest: Manifest, summary: String) {
        self.manifest = manifest
        self.summary = summary
    }
}

/// `git mtime docker build …`: restore the context's mtimes, put guard and manifest in a private
/// temporary directory, make them reachable as `from=git-mtime`, run the real docker with the
/// user's arguments, and remove everything it made afterwards, whatever happened.
public struct DockerBuildWrapper {
    public let docker: String
    public let arguments: BuildArguments
    let environment: [String: String]
    let message: (String) -> Void

    /// Inject the file that switches the guard's `--explain` on (each bumped file and its reason in the build log).
    public var explain = false

    /// - Parameters:
    ///   - docker: the client to run; nil means `$DOCKER`, else `docker` on PATH.
    ///   - arguments: `build …` or `buildx build …`.
    public init(docker: String?, arguments: [String], message: @escaping (String) -> Void) throws(BuildArgumentsError) {
        environment = Environment.all()
        self.docker = docker ?? environment["DOCKER"].flatMap { $0.isEmpty ? nil : $0 } ?? "docker"
        self.arguments = try BuildArguments(parsing: arguments)
        self.message = message
    }

    /// Runs the build; the result is docker's own termination (or the signal that stopped the wrapper first).
    public func run(prepareContext: (String) throws -> PreparedContext) throws -> Termination {
        SignalForwarding.install()
        guard case .directory(let context) = arguments.context else {
            message("the build context is \(arguments.context == .standardInput ? "stdin" : "a URL"): nothing to restore, running docker unchanged")
            return try runDocker(arguments.command + arguments.options)
        }
        let guardPath = try GuardExecutable.locate(environment: environment, runningExecutable: GuardExecutable.runningExecutable())
        let mode = selectMode()

        let cleanup = Cleanup()
        defer { cleanup.run() }

        // The Dockerfile is read up front: a `-f -` stdin is consumed once and kept for the rewrite.
        var dockerfileText: [UInt8]?
        let dockerfileName = arguments.dockerfilePath ?? "the Dockerfile on stdin"
        switch arguments.dockerfile {
        case .standardInput where mode == .rewrittenDockerfile:
            dockerfileText = try FileSystem.readToEnd(descriptor: 0, name: "<stdin>")
        case .standardInput:
            break
        default:
            if let path = arguments.dockerfilePath {
                dockerfileText = try FileSystem.readFile(BytePath(path), limit: 16 << 20)
            }
        }
        let guardLines = dockerfileText.map { DockerfileGuardLines(parsing: $0) }
        let usesGuard = guardLines.map { !$0.guardRuns.isEmpty } ?? true
        if !usesGuard {
            message("note: \(dockerfileName) has no `RUN --mount=type=bind,from=\(DockerfileGuardLines.sourceName),target=/git-mtime …` line, so the guard will not run")
        }

        let prepared = try prepareContext(context)
        message(prepared.summary)
        // A Ctrl-C during the restore: its work is complete and consistent; start nothing more.
        if let signal = SignalForwarding.pending { return .signaled(signal) }
        var manifest = prepared.manifest
        if mode == .rewrittenDockerfile {
            // The classic client sends a Dockerfile from outside the context (ours always is) by adding it
            // under a random name and appending that name to the context's .dockerignore, in the copy it
            // sends: that one file arrives changed, so the guard must not check it.
            manifest.entries.removeAll { $0.path == BytePath(".dockerignore") }
        }

        let directory = try PrivateDirectory()
        cleanup.add { directory.remove() }
        _ = try directory.makeDirectory("inject")
        _ = try directory.write("inject/guard", FileSystem.readFile(BytePath(guardPath)), permissions: 0o755)
        _ = try directory.write("inject/manifest", manifest.serialized(), permissions: 0o644)
        if explain { _ = try directory.write("inject/\(GuardExecutable.explainFileName)", [], permissions: 0o644) }
        let injectDirectory = "\(directory.path)/inject"
        if usesGuard { message("guard and manifest reach the build through: \(mode)") }

        var options = arguments.options
        switch mode {
        case .buildContext:
            options = arguments.options(inserting: ["--build-context", "\(DockerfileGuardLines.sourceName)=\(injectDirectory)"])
        case .taggedImage where usesGuard:
            try lockTheSharedTag(cleanup: cleanup)
            try buildInjectionImage(named: DockerfileGuardLines.sourceName, in: directory, cleanup: cleanup)
        case .taggedImage:
            break
        case .rewrittenDockerfile:
            if let guardLines, usesGuard {
                let image = "\(DockerfileGuardLines.sourceName)-inject:\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                let rewritten: [UInt8]
                do { rewritten = try guardLines.rewrittenForClassicBuilder(image: image) } catch {
                    throw DockerWrapperError("\(dockerfileName): \(error)")
                }
                try buildInjectionImage(named: image, in: directory, cleanup: cleanup)
                options = arguments.options(dockerfile: try directory.write("Dockerfile", rewritten, permissions: 0o644))
            } else if let dockerfileText, arguments.dockerfile == .standardInput {
                options = arguments.options(dockerfile: try directory.write("Dockerfile", dockerfileText, permissions: 0o644))
            }
        }
        if let signal = SignalForwarding.pending { return .signaled(signal) }
        return try runDocker(arguments.command + options)
    }

    private func selectMode() -> InjectionMode {
        let version = (try? ChildProcess.capture([docker, "--version"]))?.output ?? ""
        return InjectionMode.select(builder: arguments.builder, clientVersion: version, buildkit: environment["DOCKER_BUILDKIT"],
                                    buildxAvailable: { (try? ChildProcess.capture([docker, "buildx", "version"]))?.termination == .exited(0) })
    }

    /// The tag `git-mtime` is one name per engine: concurrent wrapped builds take turns.
    private func lockTheSharedTag(cleanup: Cleanup) throws {
        let directory = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = BytePath("\(directory)/git-mtime-docker-\(getuid()).lock")
        var lock = try FileLock(exclusive: path, timeout: 0)
        if lock == nil { message("waiting for another wrapped build to finish (lock \(path))") }
        while lock == nil {
            if let signal = SignalForwarding.pending { throw DockerWrapperError("interrupted (signal \(signal)) while waiting for \(path)") }
            lock = try FileLock(exclusive: path, timeout: 1)
        }
        cleanup.add { withExtendedLifetime(lock) {} }
    }

    /// A `FROM scratch` image holding guard and manifest, removed again when the build is over.
    private func buildInjectionImage(named name: String, in directory: PrivateDirectory, cleanup: Cleanup) throws {
        let imageDockerfile = try directory.write("image.Dockerfile", Array("FROM scratch\nCOPY guard manifest \(explain ? GuardExecutable.explainFileName + " " : "")/\n".utf8), permissions: 0o644)
        let result = try ChildProcess.capture([docker, "build", "--quiet", "--network=none", "--tag", name,
                                               "--file", imageDockerfile, "\(directory.path)/inject"])
        guard result.termination == .exited(0) else {
            throw DockerWrapperError("could not build the image holding the guard (\(docker) build): \(result.output.trimmingWhitespace())")
        }
        cleanup.add { [docker, message] in
            guard let removal = try? ChildProcess.capture([docker, "image", "rm", name]), removal.termination == .exited(0) else {
                message("warning: could not remove the image \(name); remove it with: \(docker) image rm \(name)")
                return
            }
        }
    }

    private func runDocker(_ arguments: [String]) throws -> Termination {
        try ChildProcess.run([docker] + arguments)
    }
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
