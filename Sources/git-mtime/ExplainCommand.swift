import ArgumentParser
import MtimeCore
import MtimeExplain
import MtimeHistory

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say why a file has its mtime, which commit decides it, and whether the next guarded build rebuilds it.",
        discussion: """
            For each PATH: the mtime it has now; the time `git mtime restore` gives it and the commit \
            that decides it (id, date, subject) under --history; whether it is clean, modified, staged, \
            deleted, untracked, ignored, a submodule or inside one; whether the build context's manifest \
            lists it (`git mtime manifest`, with the context's .dockerignore); and whether the next \
            guarded build (`git mtime run`, or the guard with this stamp) bumps it and why: no build stamp, \
            stamp untrusted because of FILE, not in the stamp, content differs from what the last sealed \
            build consumed; or keeps its time because its content is what that build consumed. A file with \
            other names (hard links) gets the newest time any of them needs, and says so. Changes nothing.

            -z prints nine NUL-terminated fields per path: path, state, mtime, restore time, commit id, \
            commit time, subject, manifest, guard (empty when not applicable).

            \(gitEnvironmentHelp)

            Exit codes: 0 every path explained; 1 error (not a repository, a path outside the working tree); \
            64 invalid arguments.
            """)

    @OptionGroup var start: StartDirectoryOptions
    @OptionGroup var historyOptions: HistoryOptions

    @Option(help: ArgumentHelp("The build context whose manifest is asked about (default: the top of the working tree).", valueName: "dir"))
    var context: String?

    @Option(
        help: ArgumentHelp(
            "The build stamp (default: git config mtime.stamp, relative to the working-tree root, else target/.git-mtime-stamp).",
            valueName: "path"))
    var stamp: String?

    @Flag(name: .customShort("z"), help: "Nine NUL-terminated fields per path, for scripts.")
    var nulTerminated = false

    @Option(help: ArgumentHelp("'text' (default) or 'json' (an array with one object per path).", valueName: "format"))
    var format: OutputFormat = .text

    @Argument(
        help: ArgumentHelp(
            "The files to explain (relative to the current directory; to the top of the working tree when run outside it, as git takes pathspecs).",
            valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one path, e.g. `git mtime explain src/main.rs`") }
        if nulTerminated && format == .json { throw ValidationError("-z and --format json exclude each other") }
    }

    func run() throws {
        try reportingErrors(as: "git-mtime explain") {
            // Entered first, as restore does: git's environment (GIT_DIR, GIT_WORK_TREE) is read from there.
            try start.enter()
            let explanations = try Explainer(
                options: .init(
                    historyMode: historyOptions.history, useAuthorDate: historyOptions.authorDate,
                    context: context, stamp: stamp)
            ).explain(try paths.map(RawCommandLine.path))
            var out: [UInt8] = []
            if nulTerminated {
                for explanation in explanations { out += explanation.nulFields }
            } else if format == .json {
                out = Array((JSONValue.array(explanations.map(\.json)).serialized() + "\n").utf8)
            } else {
                out = Array(explanations.map(\.text).joined(separator: "\n").utf8)
            }
            try writeStandardOutput(out)
            if let outside = explanations.first(where: { $0.path == nil }) {
                throw CommandFailure("\(outside.given) is outside the working tree")
            }
        }
    }
}
