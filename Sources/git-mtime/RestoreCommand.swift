import ArgumentParser
import Glibc
import MtimeCore
import MtimeHistory
import MtimeManifest
import MtimeRestore

extension HistoryMode: ExpressibleByArgument {}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Set each clean tracked file's mtime to the time of the last commit that changed it.",
        discussion: """
            Only files whose working-tree content and mode equal HEAD's are touched; modified, staged, \
            deleted, untracked and ignored files, and submodules unless --recurse-submodules, are left alone \
            (counted by -v). Contents \
            are never written: only modification times, of symlinks themselves rather than their targets. \
            The time's seconds come from the commit, its nanoseconds from the file's blob id, so equal \
            content gets equal times everywhere. A file that already has its time is not written again. \
            History is read as `git log` reads it: through replace refs (`git replace`, unless \
            GIT_NO_REPLACE_OBJECTS or core.useReplaceRefs=false) and grafts (.git/info/grafts, \
            GIT_GRAFT_FILE); a rewrite that makes the line a loop, leaving a file no commit git shows, \
            is an error (exit 1, nothing changed). \
            Names of one file (hard links) share its mtime: each file gets the newest time any of its names \
            needs (a name left alone needing the time it has), and -v lists the clean names that don't get \
            their own.

            After a sealed build (a trusted build stamp at git config mtime.stamp, default \
            target/.git-mtime-stamp, as `git mtime run` writes it), a clean file whose bytes the stamp did \
            not record (other content at its path, or none: absent when it was sealed) keeps an mtime later \
            than the build instead (its own if it already is, else now), so a plain make or cargo build \
            afterwards sees the change; -v lists those files. Files the root's .dockerignore leaves out of \
            the build's context get their commit time (docs/restore.md). \
            --ignore-stamp gives every clean file its commit time regardless.

            PATHSPEC is matched exactly as git matches it, relative to the current directory (or -C's): \
            `*` crosses directories, a directory names everything below it, and the magic `:(top)` or \
            `:/`, `:(exclude)` or `:!` or `:^`, `:(glob)` (`**`), `:(icase)`, `:(literal)`, and \
            GIT_GLOB_PATHSPECS, GIT_NOGLOB_PATHSPECS, GIT_ICASE_PATHSPECS and GIT_LITERAL_PATHSPECS \
            apply; `:(attr:...)` is refused (docs/restore.md). Without a PATHSPEC, or with exclusions only, \
            the whole working tree is restored, wherever you are in it. \(gitEnvironmentHelp)

            With --recurse-submodules (or `git config submodule.recurse true`), each initialized \
            submodule, nested ones included, is restored from its own history; one that is not \
            initialized, not at the commit the superproject records, or has modified, staged or deleted \
            files is reported and left alone.

            A shallow clone gives files beyond its boundary the boundary commit's time (a warning says \
            how many); a treeless partial clone (--filter=tree:0) lacks the trees restore reads and stops. \
            --fetch-history fixes both once: one `git fetch` of every commit and tree, no file contents \
            (--unshallow, --refetch, --filter=blob:none). A blobless clone (--filter=blob:none) needs \
            nothing: it is the cheapest checkout with exact times.

            Exit codes: 0 done (also when some files were skipped); 1 error: found while planning (not a \
            repository, bare, no commits yet, SHA-256 repository, a pathspec git would refuse or that \
            matches nothing, a file that cannot be read, trees a partial clone lacks, a failed \
            --fetch-history fetch, ...), nothing \
            was changed; found while setting times (permission denied on a file), the files before it \
            keep their new times and the rest are untouched: fix it and run again; \
            2 --strict and some files would get a shallow clone's boundary time (nothing was changed); \
            64 invalid arguments; 75 another restore held the repository's lock for too long.
            """)

    @OptionGroup var start: StartDirectoryOptions
    @OptionGroup var historyOptions: HistoryOptions

    @Flag(
        name: [.customShort("n"), .long],
        help: "Change nothing; print each file that would change: path, old and new mtime (tab-separated).")
    var dryRun = false

    @Flag(
        name: .shortAndLong,
        help:
            "List the skipped modified, staged, deleted, untracked and ignored paths (relative to the top of the working tree), then print a summary."
    )
    var verbose = false

    @Flag(help: "Also set directories, the working-tree root included: each gets the newest mtime among the tracked files below it.")
    var dirs = false

    @OptionGroup var cache: HistoryCacheOption

    @Flag(
        help:
            "Fail (exit 2, nothing changed) when a shallow clone leaves some files with the boundary commit's time instead of their real last change."
    )
    var strict = false

    @Flag(help: "Give every clean file its commit time, even where the last sealed build (the trusted build stamp) consumed other content.")
    var ignoreStamp = false

    @Flag(
        inversion: .prefixedNo,
        help:
            "Also restore initialized submodules, nested ones included, each from its own history (default: git config submodule.recurse).")
    var recurseSubmodules: Bool?

    @Flag(
        help:
            "First fetch the history this clone lacks (a shallow clone's, a treeless clone's trees) in one `git fetch` without file contents."
    )
    var fetchHistory = false

    @Argument(help: ArgumentHelp("Limit the restore to matching paths (git pathspec).", valueName: "pathspec"))
    var pathspec: [String] = []

    func run() throws {
        let started = ContinuousClock.now
        let progress = isTerminal(2) ? ProgressLine() : nil
        defer { progress?.erase() }
        var plan: RestorePlan
        var stamp = StampLoadResult.absent
        var submodules: Submodules?
        var summaries: [(path: BytePath, summary: RestoreSummary)] = []
        do {
            try start.enter()
            let session = try RestoreSession(discoveringFrom: ".")
            // Its held directories and the plan's 64,000 paths go with the process, not one by one.
            defer { KeptUntilExit.keep(session) }
            let lock = try session.lock(timeout: 5)
            defer { withExtendedLifetime(lock) {} }
            let report: (@Sendable (RestoreProgress) -> Void)? = progress.map { line in { @Sendable in line.show($0) } }
            var sealedBuild: ConsumedContent?
            if !ignoreStamp {
                let settings = try RepositorySettings(repository: session.repository, workdir: session.workdir)
                stamp = settings.loadStamp()
                sealedBuild = settings.consumedContent(stamp)
            }
            // -C is already entered: a relative --cache-dir is taken from there.
            let options = RestoreOptions(
                historyMode: historyOptions.history, useAuthorDate: historyOptions.authorDate,
                pathspec: try pathspec.map { ProcessArgument(try RawCommandLine.path($0)) },
                includeDirectories: dirs, scanUntracked: verbose,
                historyCacheDirectory: cache.directory(), progress: report)
            let fetch =
                fetchHistory
                ? HistoryFetch(announce: { [progress] in
                    progress?.erase()
                    printError("git-mtime restore: fetching history: \($0)")
                }) : nil
            var rootOptions = options
            rootOptions.sealedBuild = sealedBuild
            // Applied right away: files the index vouches for are checked as their times are set.
            rootOptions.checksIndexedFilesWhileSetting = !dryRun
            plan = try session.plan(rootOptions, fetchingHistory: fetch)
            if try recurseSubmodules ?? session.repository.configBool("submodule.recurse", default: false) {
                // The stamp records a submodule's files by their superproject paths: the same rule keeps them newer.
                submodules = try Submodules(of: session, plan: plan, options: rootOptions, fetchingHistory: fetch)
            }
            progress?.erase()
            // A pattern counts as matched when the superproject or any submodule matched it.
            let unmatched = plan.unmatchedPatterns.filter { pattern in
                submodules?.planned.allSatisfy { $0.plan.unmatchedPatterns.contains(pattern) } ?? true
            }
            if let pattern = unmatched.first {
                throw CommandFailure("pathspec '\(pattern)' did not match any tracked file; nothing was changed")
            }
            let boundaryFiles = plan.shallowBoundaryFiles + (submodules?.shallowBoundaryFiles ?? 0)
            if strict && boundaryFiles > 0 {
                throw CommandFailure(
                    "\(boundaryFiles) file(s) would get the shallow clone's boundary commit time, "
                        + "not their real last change; fetch the history (--fetch-history) or drop --strict; nothing was changed",
                    status: 2)
            }
            if !dryRun {
                summaries = [(BytePath([]), try session.apply(&plan))] + (try submodules?.apply() ?? [])
            }
            KeptUntilExit.keep(plan)
        } catch {
            progress?.erase()
            throw reportedExit(error, as: "git-mtime restore") { error in
                if let error = error as? RestoreError, case .lockTimeout = error.innermost { return 75 }
                return 1
            }
        }

        let parts: [(path: BytePath, plan: RestorePlan)] = [(BytePath([]), plan)] + (submodules?.planned.map { ($0.path, $0.plan) } ?? [])
        if dryRun {
            for (prefix, plan) in parts {
                for file in plan.pendingFiles {
                    print("\(prefix.appending(file.path))\t\(file.current!.modificationTime)\t\(file.target!)")
                }
                for directory in plan.pendingDirectories {
                    let path = prefix.appending(directory.path)
                    let name = path.isEmpty ? "./" : "\(path)/"
                    print("\(name)\t\(directory.current.modificationTime)\t\(directory.target)")
                }
            }
        }
        for (prefix, summary) in summaries {
            if let error = summary.statCacheError {
                printError(
                    "git-mtime restore: warning: the times are set, but the stat cache\(prefix.isEmpty ? "" : " of submodule \(prefix)") "
                        + "could not be written (the next run checks files by content instead): \(error)")
            }
        }
        let changed = summaries.flatMap { part in part.summary.changedSincePlanned.map { part.path.appending($0) } }
        if !changed.isEmpty {
            printError("git-mtime restore: \(changed.count) file(s) changed while restoring and were left alone (first: \(changed[0]))")
        }
        let written = summaries.flatMap { part in part.summary.changedWhileSetting.map { part.path.appending($0) } }
        if !written.isEmpty {
            printError(
                "git-mtime restore: \(written.count) file(s) were written while their time was being set; they keep "
                    + "the current time, newer than any build (first: \(written[0]))")
        }
        for part in parts where part.plan.shallowBoundaryFiles > 0 {
            printError(
                "git-mtime restore: \(part.plan.shallowBoundaryFiles) file(s)\(part.path.isEmpty ? "" : " of submodule \(part.path)") "
                    + "got the shallow clone's boundary commit time (their real last change is not in this clone; "
                    + "--fetch-history fetches it, without file contents; --strict makes this an error)")
        }
        for submodule in submodules?.leftAlone ?? [] {
            printError("git-mtime restore: left submodule \(submodule)")
        }
        if verbose {
            switch stamp {
            case .trusted:
                for (prefix, plan) in parts {
                    for path in plan.keptNewer { print("not built yet, kept newer than the last build: \(prefix.appending(path))") }
                }
            case .untrusted(let reason):
                printError("git-mtime restore: build stamp not trusted (\(reason)): every clean file gets its commit time")
            case .absent: break
            }
            self.report(parts, submodules, summaries.isEmpty ? nil : summaries.map(\.summary), seconds: started.duration(to: .now))
            if case .trusted = stamp { print("kept newer than the last sealed build: \(parts.reduce(0) { $0 + $1.plan.keptNewer.count })") }
        }
    }

    private func report(
        _ parts: [(path: BytePath, plan: RestorePlan)], _ submodules: Submodules?,
        _ summaries: [RestoreSummary]?, seconds: Duration
    ) {
        for (prefix, plan) in parts {
            for file in plan.files where [.modified, .staged, .deleted].contains(file.state) {
                print("\(file.state.rawValue): \(prefix.appending(file.path))")
            }
            for path in plan.untracked { print("untracked: \(prefix.appending(path))") }
            for path in plan.ignored { print("ignored: \(prefix.appending(path))") }
        }
        for (prefix, plan) in parts {
            for path in plan.sharedWithOtherNames {
                print("shares its time with another name of the same file (a hard link) that needs a later one: \(prefix.appending(path))")
            }
        }
        for (prefix, summary) in zip(parts.map(\.path), summaries ?? []) {
            for path in summary.changedSincePlanned { print("changed while restoring (left alone): \(prefix.appending(path))") }
            for path in summary.changedWhileSetting {
                print("written while its time was set (now has the current time): \(prefix.appending(path))")
            }
        }
        func total(_ count: (RestorePlan) -> Int) -> Int { parts.reduce(0) { $0 + count($1.plan) } }
        let pending = total { $0.pendingFiles.count }
        let withTargets = total { $0.files.filter { $0.target != nil && $0.current != nil }.count }
        let (modified, staged, deleted) = (total { $0.count(.modified) }, total { $0.count(.staged) }, total { $0.count(.deleted) })
        print("\(dryRun ? "files to set" : "files set"): \(summaries?.reduce(0) { $0 + $1.filesSet } ?? pending)")
        print("already right: \(summaries?.reduce(0) { $0 + $1.alreadyRight } ?? withTargets - pending)")
        print("dirty skipped: \(modified + staged + deleted) (modified \(modified), staged \(staged), deleted \(deleted))")
        print("untracked/ignored: \(total { $0.untracked.count })/\(total { $0.ignored.count })")
        if let submodules {
            print("submodules restored: \(submodules.planned.count)")
            print("submodules left alone: \(submodules.leftAlone.count)")
        } else {
            print("submodules skipped: \(total { $0.count(.submodule) })")
        }
        print("sparse skipped: \(total { $0.count(.sparse) })")
        if dirs {
            print(
                "\(dryRun ? "directories to set" : "directories set"): "
                    + "\(summaries?.reduce(0) { $0 + $1.directoriesSet } ?? total { $0.pendingDirectories.count })")
        }
        print("commits walked: \(total(\.commitsWalked))\(parts.contains { $0.plan.usedHistoryCache } ? " (history cache used)" : "")")
        let milliseconds = seconds.components.seconds * 1000 + seconds.components.attoseconds / 1_000_000_000_000_000
        print("seconds: \(Double(milliseconds) / 1000)")
    }
}
