import ArgumentParser
import Glibc
import MtimeCore
import MtimeHistory
import MtimeManifest
import MtimeRestore

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Describe a build context: each file's blob id, assigned mtime, mode and path.",
        discussion: """
        Lists every tracked file under the context directory that is present in the working tree \
        and not excluded by the context's .dockerignore (Docker's rules: *, ?, **, ! re-includes, \
        a leading /, comments; the last matching line wins). A clean file gets the mtime \
        `git mtime restore` assigns; a modified or staged file is described by its working-tree \
        bytes and keeps its current mtime. Untracked files there that git does not ignore are listed \
        too, flagged `untracked`, with their current mtime: the guard watches them (a new source not \
        yet added) without mistaking an in-tree output for a source. The files of initialized \
        submodules there are listed as `submodule` entries with the times of their own history; every \
        file below a submodule that is dirty, at another commit or not initialized is listed as \
        untracked (reported on stderr). The format is specified in \
        docs/manifest.md; the same \
        tree always gives a byte-identical manifest. `git-mtime-guard` checks a build against it.

        Exit codes: 0 written; 1 error (not a repository, unreadable file, bad .dockerignore, ...).
        """)

    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if started in <directory>.", valueName: "directory"))
    var directory: String?

    @Option(help: ArgumentHelp("The build context directory (default: the top of the working tree).", valueName: "dir"))
    var context: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the manifest to <file> (atomically) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Also set the context's clean files to those mtimes (as `git mtime restore` would) before describing them.")
    var restore = false

    @Flag(help: "Use the author time instead of the committer time.")
    var authorDate = false

    @Option(help: ArgumentHelp("Which commits count: 'first-parent' or 'all' (see `git mtime restore --help`).", valueName: "mode"))
    var history: HistoryMode = .firstParent

    func run() throws {
        do {
            let base = directory ?? "."
            let contextDirectory: String
            if let context {
                contextDirectory = context.hasPrefix("/") || directory == nil ? context : "\(base)/\(context)"
            } else {
                // The top of the working tree; outside a repository, the directory itself.
                do {
                    contextDirectory = String(decoding: try RestoreSession(discoveringFrom: base, allowingUnbornHead: true).workdir.bytes, as: UTF8.self)
                } catch RestoreError.notARepository {
                    contextDirectory = base
                }
            }
            let builder = try ContextManifestBuilder(
                contextDirectory: contextDirectory,
                options: RestoreOptions(historyMode: history, useAuthorDate: authorDate))
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
                try FileSystem.writeAtomically(BytePath(output), contents: bytes)
            } else {
                try writeStandardOutput(bytes)
            }
        } catch {
            printError("git-mtime manifest: error: \(error)")
            throw ExitCode(1)
        }
    }
}
