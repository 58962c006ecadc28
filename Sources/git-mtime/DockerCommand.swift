import ArgumentParser
import Glibc
import MtimeCore
import MtimeDocker
import MtimeRestore

struct DockerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker",
        abstract: "Run `docker build` with the context's mtimes restored and the guard injected.",
        usage: """
        git mtime docker [--docker <path>] [--explain] build [docker build options] <context>
        git mtime docker [--docker <path>] [--explain] buildx build [docker buildx build options] <context>
        """,
        discussion: """
        The Dockerfile runs the guard with one line (any build command after `--`):

          RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release

        Every docker option is passed through unchanged. Guard and manifest go to a private temporary \
        directory and reach the build as `--build-context git-mtime=DIR` (buildx), a local image tagged \
        git-mtime (DOCKER_BUILDKIT=1 without buildx), or a temporary Dockerfile that copies them in (the \
        classic builder). Everything made for the build is removed afterwards; INT, TERM and HUP are passed \
        on to docker. The guard binary: $GIT_MTIME_GUARD, else git-mtime-guard next to git-mtime, else on PATH.

        Exit status: docker's; 125 when the wrapper fails before docker runs (one line on stderr says why); \
        64 for arguments it cannot read. Documented in docs/docker.md.
        """)

    @Option(help: ArgumentHelp("The docker client to run (default: $DOCKER, else docker on PATH).", valueName: "path"))
    var docker: String?

    @Flag(help: "Have the injected guard print each file it gives a fresh mtime and why (its one summary line is always there).")
    var explain = false

    @Argument(parsing: .captureForPassthrough,
              help: ArgumentHelp("`build` or `buildx build`, then docker's own options and the context.", valueName: "docker-arguments"))
    var dockerArguments: [String] = []

    func run() throws {
        // Passthrough capture takes `--help` too; before `build` it is the wrapper's.
        if let first = dockerArguments.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        var wrapper: DockerBuildWrapper
        do {
            wrapper = try DockerBuildWrapper(docker: docker, arguments: dockerArguments, message: Self.printMessage)
            wrapper.explain = explain
        } catch {
            throw ValidationError(error.description)
        }
        let termination: Termination
        do {
            termination = try wrapper.run { context in
                let (manifest, summary) = try ContextManifestBuilder(contextDirectory: context).restoreAndBuild()
                return PreparedContext(manifest: manifest, summary: summary)
            }
        } catch {
            Self.printMessage("error: \(error)")
            throw ExitCode(125)
        }
        switch termination {
        case .exited(let status):
            if status != 0 { throw ExitCode(status) }
        case .signaled(let signal):
            // Die of the same signal, so a calling shell sees what docker saw.
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
            throw ExitCode(128 + signal)
        }
    }

    static func printMessage(_ text: String) {
        printError("git-mtime: \(text)")
    }
}
