import ArgumentParser
import Glibc
import MtimeCore
import MtimeHistory
import MtimeRestore

extension HistoryMode: ExpressibleByArgument {}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Set each clean tracked file's mtime to the time of the last commit that changed it.",
        discussion: """
        Only files whose working-tree content and mode equal HEAD's are touched; modified, staged, \
        deleted, untracked and ignored files and submodules are left alone (counted by -v). Contents \
        are never written: only modification times, of symlinks themselves rather than their targets. \
        The time's seconds come from the commit, its nanoseconds from the file's blob id, so equal \
        content gets equal times everywhere. A file that already has its time is not written again.

        PATHSPEC uses git's pathspec rules, relative to the current directory (or -C's); \
        `:/PATTERN` is relative to the top of the working tree. Without a PATHSPEC the whole working \
        tree is restored, wherever you are in it.

        Exit codes: 0 done (also when some files were skipped); 1 error: found while planning (not a \
        repository, bare, no commits yet, SHA-256 repository, a file that cannot be read, ...), nothing \
        was changed; found while setting times (permission denied on a file), the files before it \
        keep their new times and the rest are untouched: fix it and run again; \
        2 --strict and some files would get a shallow clone's boundary time (nothing was changed); \
        64 invalid arguments; 75 another restore held the repository's lock for too long.
        """)

    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if started in <directory>.", valueName: "directory"))
    var directory: String?

    @Flag(name: [.customShort("n"), .long], help: "Change nothing; print each file that would change: path, old and new mtime (tab-separated).")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "List the skipped modified, staged, deleted, untracked and ignored paths (relative to the top of the working tree), then print a summary.")
    var verbose = false

    @Flag(help: "Use the author time instead of the committer time.")
    var authorDate = false

    @Option(help: ArgumentHelp("Which commits count: 'first-parent' (the last change along HEAD's first-parent line, like `git log -1 --first-parent -- PATH`) or 'all'.", valueName: "mode"))
    var history: HistoryMode = .firstParent

    @Flag(help: "Also set directories, the working-tree root included: each gets the newest mtime among the tracked files below it.")
    var dirs = false

    @Flag(help: "Fail (exit 2, nothing changed) when a shallow clone leaves some files with the boundary commit's time instead of their real last change.")
    var strict = false

    @Argument(help: ArgumentHelp("Limit the restore to matching paths (git pathspec).", valueName: "pathspec"))
    var pathspec: [String] = []

    func run() throws {
        let started = ContinuousClock.now
        let progress = isTerminal(2) ? ProgressLine() : nil
        defer { progress?.erase() }
        let plan: RestorePlan
        let summary: RestoreSummary?
        do {
            let session = try RestoreSession(discoveringFrom: directory ?? ".")
            let lock = try session.lock(timeout: 5)
            defer { withExtendedLifetime(lock) {} }
            let report: (@Sendable (RestoreProgress) -> Void)? = progress.map { line in { @Sendable in line.show($0) } }
            let rootRelative = try session.pathspecFromDiscoveryDirectory(pathspec)
            let options = RestoreOptions(historyMode: history, useAuthorDate: authorDate, pathspec: rootRelative,
                                         includeDirectories: dirs, scanUntracked: verbose, progress: report)
            plan = try session.plan(options)
            progress?.erase()
            if let unmatched = plan.unmatchedPatterns.first, let typed = rootRelative.firstIndex(of: unmatched) {
                fail("pathspec '\(pathspec[typed])' did not match any tracked file; nothing was changed", code: 1)
            }
            if strict && plan.shallowBoundaryFiles > 0 {
                fail("\(plan.shallowBoundaryFiles) file(s) would get the shallow clone's boundary commit time, "
                     + "not their real last change; fetch more history (git fetch --unshallow) or drop --strict; nothing was changed",
                     code: 2)
            }
            summary = dryRun ? nil : try session.apply(plan)
        } catch let error as RestoreError {
            progress?.erase()
            fail(error.description, code: { if case .lockTimeout = error { return 75 } else { return 1 } }())
        } catch {
            progress?.erase()
            fail("\(error)", code: 1)
        }

        if dryRun {
            for file in plan.pendingFiles {
                print("\(file.path)\t\(file.current!.modificationTime)\t\(file.target!)")
            }
            for directory in plan.pendingDirectories {
                let name = directory.path.isEmpty ? "./" : "\(directory.path)/"
                print("\(name)\t\(directory.current.modificationTime)\t\(directory.target)")
            }
        }
        if let error = summary?.statCacheError {
            printError("git-mtime restore: warning: the times are set, but the stat cache could not be written "
                       + "(the next run checks files by content instead): \(error)")
        }
        if let changed = summary?.changedSincePlanned, !changed.isEmpty {
            printError("git-mtime restore: \(changed.count) file(s) changed while restoring and were left alone (first: \(changed[0]))")
        }
        if plan.shallowBoundaryFiles > 0 {
            printError("git-mtime restore: \(plan.shallowBoundaryFiles) file(s) got the shallow clone's boundary commit time "
                       + "(their real last change is not in this clone; use --strict to make this an error)")
        }
        if verbose { report(plan, summary, seconds: started.duration(to: .now)) }
    }

    private func report(_ plan: RestorePlan, _ summary: RestoreSummary?, seconds: Duration) {
        for file in plan.files where [.modified, .staged, .deleted].contains(file.state) {
            print("\(file.state.rawValue): \(file.path)")
        }
        for path in plan.untracked { print("untracked: \(path)") }
        for path in plan.ignored { print("ignored: \(path)") }
        if let summary {
            for path in summary.changedSincePlanned { print("changed while restoring (left alone): \(path)") }
        }
        let pending = plan.pendingFiles.count
        let dirty = plan.count(.modified) + plan.count(.staged) + plan.count(.deleted)
        print("\(dryRun ? "files to set" : "files set"): \(summary?.filesSet ?? pending)")
        print("already right: \(summary?.alreadyRight ?? plan.files.filter { $0.target != nil && $0.current != nil }.count - pending)")
        print("dirty skipped: \(dirty) (modified \(plan.count(.modified)), staged \(plan.count(.staged)), deleted \(plan.count(.deleted)))")
        print("untracked/ignored: \(plan.untracked.count)/\(plan.ignored.count)")
        print("submodules skipped: \(plan.count(.submodule))")
        print("sparse skipped: \(plan.count(.sparse))")
        if dirs { print("\(dryRun ? "directories to set" : "directories set"): \(summary?.directoriesSet ?? plan.pendingDirectories.count)") }
        print("commits walked: \(plan.commitsWalked)\(plan.usedHistoryCache ? " (history cache used)" : "")")
        let milliseconds = seconds.components.seconds * 1000 + seconds.components.attoseconds / 1_000_000_000_000_000
        print("seconds: \(Double(milliseconds) / 1000)")
    }
}

/// Prints `message` as one line on stderr and exits with `code`.
private func fail(_ message: String, code: Int32) -> Never {
    printError("git-mtime restore: error: \(message)")
    RestoreCommand.exit(withError: ExitCode(code))
}
