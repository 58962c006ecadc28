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
            git mtime docker [--docker <path>] [--explain] [--cache-dir <dir>] [client options] build [docker build options] <context>
            git mtime docker [--docker <path>] [--explain] [--cache-dir <dir>] [client options] buildx build [docker buildx build options] <context>
            git mtime docker --docker podman|buildah [--explain] [client options] build [options] [<context>]
            """,
        discussion: """
            The Dockerfile runs the guard with one line (any build command after `--`):

              RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release

            Every argument is passed through as typed, in order; the wrapper reads only the context, -f/--file, \
            --build-context names and --help (`build --help` is docker's help). Client options before `build` \
            (-H, --context, podman's --root) go to every client call. An option the wrapper doesn't know, \
            written without `=`, may take the next word: when that leaves more than one candidate context, \
            write it as --option=VALUE. A directory context is restored and described, its initialized \
            submodules' files included, in the repository git's environment names (GIT_DIR, \
            GIT_WORK_TREE, ...; the context must lie in its working tree; without history: a \
            repository with no commit yet or no repository, every file is listed untracked and no time is \
            restored); a URL or stdin context runs unchanged.

            Guard and manifest reach the build as `--build-context git-mtime=DIR` (buildx, podman, buildah), \
            or through a temporary copy of the Dockerfile naming a per-build image git-mtime-inject:<random> \
            (BuildKit without buildx: the mount's source; the classic builder: a COPY, and a RUN removing \
            it). Nothing is shared with other builds on the same daemon. Everything made for the build is \
            removed afterwards; INT, TERM and HUP are passed on to docker. The guard binary: \
            $GIT_MTIME_GUARD, else git-mtime-guard next to git-mtime, else on PATH.

            Exit status: docker's; 125 when the wrapper fails before docker runs (one line on stderr says why); \
            64 for arguments it cannot read (one line), such as a path whose bytes aren't UTF-8 (passed to the client as text). Documented in docs/docker.md.
            """)

    @Option(
        help: ArgumentHelp(
            "The client to run: docker, podman or buildah (default: $DOCKER, else docker on PATH). Give it first.", valueName: "path"))
    var docker: String?

    @Flag(help: "Have the injected guard print each file it gives a fresh mtime and why (its one summary line is always there).")
    var explain = false
    @OptionGroup var cache: HistoryCacheOption

    @Argument(
        parsing: .captureForPassthrough,
        help: ArgumentHelp(
            "Client options, `build` (or `buildx build`, `image build`, `bud`), then the build's own options and the context.",
            valueName: "docker-arguments"))
    var dockerArguments: [String] = []

    func run() throws {
        // Passthrough capture takes `--help` too; before `build` it is the wrapper's.
        if let first = dockerArguments.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        // The wrapper reads its arguments and passes them to the client as text: a word that isn't UTF-8
        // (a context, -f or --build-context path) would reach the client as another path.
        if let word = RawCommandLine.trailing(dockerArguments).first(where: { String(validating: $0.bytes, as: UTF8.self) == nil }) {
            Self.printMessage(
                "the argument '\(word)' isn't UTF-8: git mtime docker passes its arguments to the client as text, which would name another path; rename it, or run the client directly"
            )
            throw ExitCode(64)
        }
        var wrapper = try reportingErrors(as: "git-mtime", status: 64) {
            try DockerBuildWrapper(docker: docker, arguments: dockerArguments, message: Self.printMessage)
        }
        wrapper.explain = explain
        let termination = try reportingErrors(as: "git-mtime", status: 125) {
            try wrapper.run { request in
                let options = RestoreOptions(historyCacheDirectory: cache.directory())
                let (manifest, summary) = try ContextManifestBuilder(
                    contextDirectory: BytePath(request.directory), options: options,
                    docker: request.contextBuild
                ).restoreAndBuild()
                return PreparedContext(manifest: manifest, summary: summary)
            }
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
