import ArgumentParser
import Glibc
import MtimeCore
import MtimeGuard
import MtimeManifest
import MtimeRestore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Restore, write a manifest and run the build under git-mtime-guard, on the host.",
        discussion: """
            The host twin of the Dockerfile line: restores the working tree's clean files to their commit \
            times (its initialized submodules' files too, each from its own history), describes the working \
            tree in a manifest (a temporary file), then runs \
            `git-mtime-guard run --manifest M --stamp S --root ROOT -- COMMAND...`: files whose content \
            differs from what the last sealed build consumed get a fresh mtime, the command runs, and if \
            it exits 0 and no INT, TERM, HUP or QUIT reached it the stamp is sealed (signals inherited as \
            ignored, as under nohup, stay ignored). Example: git mtime run -- cargo build. \
            \(gitEnvironmentHelp)

            The guard is GIT_MTIME_GUARD, else git-mtime-guard next to this executable, else on PATH. \
            Exits with the command's status (128+N if signal N killed it); 1 if git-mtime itself failed \
            before the command ran.
            """)

    @Option(
        help: ArgumentHelp(
            "The build stamp (default: git config mtime.stamp, relative to the working-tree root, else target/.git-mtime-stamp).",
            valueName: "path"))
    var stamp: String?

    @Flag(help: "Have the guard print each file it gives a fresh mtime and why (its one summary line is always there).")
    var explain = false
    @OptionGroup var cache: HistoryCacheOption

    @Argument(parsing: .postTerminator, help: "The build command and its arguments, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the build command after `--`, e.g. `git mtime run -- cargo build`") }
    }

    func run() throws {
        let status = try reportingErrors(as: "git-mtime run") {
            let guardPath = try GuardExecutable.locate()
            let rootPath: BytePath, defaultStamp: BytePath
            do {
                let session = try RestoreSession(discoveringFrom: ".", allowingUnbornHead: true)
                let settings = try RepositorySettings(repository: session.repository, workdir: session.workdir)
                (rootPath, defaultStamp) = (settings.root, settings.stampPath)
            } catch RestoreError.notARepository {
                // No repository, so no settings: the current directory is the root, the stamp its default.
                rootPath = try FileSystem.resolve(BytePath("."))
                defaultStamp = rootPath.appending(RepositorySettings.defaultStamp)
            }
            // The guard bumps what the stamp did not record right after: no need to consult it here too.
            let (manifest, summary) = try ContextManifestBuilder(
                contextDirectory: rootPath, options: RestoreOptions(historyCacheDirectory: cache.directory()), docker: nil
            )
            .restoreAndBuild(consultingStamp: false)
            printError("git-mtime run: \(summary)")
            // The manifest in a private temporary file for the guard to read; removed when the run ends.
            let temporary = try PrivateDirectory(prefix: "git-mtime-run")
            defer { temporary.remove() }
            let manifestPath = try temporary.write("manifest", manifest.serialized(), permissions: 0o600)
            return try CommandRunner.run(
                [ProcessArgument(guardPath)] + ProcessArgument.words(["run"] + (explain ? ["--explain"] : []))
                    + ["--manifest", ProcessArgument(manifestPath)]
                    + ["--stamp", "\(try stamp.map(RawCommandLine.path) ?? defaultStamp)", "--root", "\(rootPath)", "--"]
                    + RawCommandLine.trailing(command))
        }
        throw ExitCode(status)
    }
}
