import ArgumentParser
import Glibc
import MtimeCore
import MtimeDockerContext
import MtimeHistory
import MtimeManifest
import MtimeRestore

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Describe a build context: each file's blob id, assigned mtime, mode and path.",
        discussion: """
            Lists every tracked file under the context directory that is present in the working tree \
            and in the context Docker sends: the ignore file the builder reads (BuildKit: \
            <Dockerfile>.dockerignore, else .dockerignore) applied as that docker version applies it \
            (docs/docker.md, "Which files the context holds"). A clean file gets the mtime \
            `git mtime restore` assigns; a modified or staged file is described by its working-tree \
            bytes and keeps its current mtime. Untracked files there that git does not ignore are listed \
            too, flagged `untracked`, with their current mtime: the guard watches them (a new source not \
            yet added) without mistaking an in-tree output for a source. The files of initialized \
            submodules there are listed as `submodule` entries with the times of their own history; every \
            file below a submodule that is dirty, at another commit or not initialized is listed as \
            untracked (reported on stderr). The format is specified in \
            docs/manifest.md; the same \
            tree always gives a byte-identical manifest. `git-mtime-guard` checks a build against it. \
            \(gitEnvironmentHelp) The context must lie inside that working tree.

            Exit codes: 0 written; 1 error (not a repository, unreadable file, bad .dockerignore, ...).
            """)

    @OptionGroup var start: StartDirectoryOptions
    @OptionGroup var historyOptions: HistoryOptions

    @Option(help: ArgumentHelp("The build context directory (default: the top of the working tree).", valueName: "dir"))
    var context: String?

    @Option(
        help: ArgumentHelp(
            "The build's Dockerfile, as given to docker -f (relative to the current directory or -C; '-' for stdin).",
            valueName: "path"))
    var dockerfile: String?

    @Option(help: ArgumentHelp("The builder that gets the context; classic is DOCKER_BUILDKIT=0.", valueName: "kind"))
    var builder: DockerBuilder.Kind = .buildKit

    @Option(
        help: ArgumentHelp(
            "The docker client's version (default: 23 or later; 20.10 and older match patterns differently).",
            valueName: "version"))
    var dockerVersion: String?

    @Option(help: ArgumentHelp("Classic builder: the daemon's version, if it differs from the client's.", valueName: "version"))
    var daemonVersion: String?

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write the manifest to <file> instead of standard output.",
            discussion: "A regular file is replaced atomically; a symlink, device or FIFO is written through, as by >.",
            valueName: "file"))
    var output: String?

    @Flag(help: "Also set the context's clean files to those mtimes (as `git mtime restore` would) before describing them.")
    var restore = false

    @OptionGroup var cache: HistoryCacheOption

    func validate() throws {
        for (name, version) in [("--docker-version", dockerVersion), ("--daemon-version", daemonVersion)] {
            if let version, DockerPatternEngine(dockerVersion: version) == nil {
                throw ValidationError("\(name) expects a docker version such as 20.10 or 28.2.2, got '\(version)'")
            }
        }
    }

    /// Which files the build context holds depends on the Dockerfile and the builder. -C is
    /// already entered: a relative --dockerfile is taken from there.
    private func dockerBuild() -> (dockerfile: DockerfileLocation, builder: DockerBuilder) {
        let location: DockerfileLocation
        switch dockerfile {
        case nil: location = .standard
        case "-"?: location = .standardInput
        case let path?: location = .path(BytePath(path))
        }
        let client = dockerVersion.flatMap(DockerPatternEngine.init(dockerVersion:)) ?? .patternmatcher
        return (
            location, DockerBuilder(kind: builder, client: client, daemon: daemonVersion.flatMap(DockerPatternEngine.init(dockerVersion:)))
        )
    }

    func run() throws {
        try reportingErrors(as: "git-mtime manifest") {
            try start.enter()
            let contextDirectory: BytePath
            if let context {
                contextDirectory = try RawCommandLine.path(context)
            } else {
                // The top of the working tree; outside a repository, the directory itself.
                do {
                    contextDirectory = try RestoreSession(discoveringFrom: ".", allowingUnbornHead: true).workdir
                } catch RestoreError.notARepository {
                    contextDirectory = BytePath(".")
                }
            }
            let builder = try ContextManifestBuilder(
                contextDirectory: contextDirectory,
                options: RestoreOptions(
                    historyMode: historyOptions.history, useAuthorDate: historyOptions.authorDate,
                    historyCacheDirectory: cache.directory()),
                docker: dockerBuild())
            let manifest: Manifest
            if restore {
                let result = try builder.restoreAndBuild()
                manifest = result.manifest
                printError("git-mtime manifest: \(result.summary)")
            } else {
                let result = try builder.build()
                manifest = result.manifest
                for submodule in result.leftAlone {
                    printError("git-mtime manifest: left submodule \(submodule) (its files listed as untracked)")
                }
                if let reason = builder.withoutHistory {
                    printError("git-mtime manifest: note: no commit times (\(reason)): every file is listed as untracked")
                }
            }
            let bytes = manifest.serialized()
            if let output {
                try FileSystem.writeOutput(try RawCommandLine.path(output), contents: bytes)
            } else {
                try writeStandardOutput(bytes)
            }
        }
    }
}

extension DockerBuilder.Kind: ExpressibleByArgument {}
