import Glibc
import ArgumentParser
import MtimeCore
import MtimeGuard
import MtimeManifest

@main
struct GuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-mtime-guard",
        abstract: "Check a build context against its git-mtime manifest and keep build tools' mtime logic honest.",
        discussion: """
            Runs inside the build (any container: it is a static executable). Its defaults make this Dockerfile line work as written:

              RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release

            Defaults: --manifest is the file `manifest` next to this executable (found through /proc/self/exe); --root is the working directory; --stamp is $GIT_MTIME_STAMP if set, else target/.git-mtime-stamp under the root (its directory is created when sealing). No symlink below the root is followed, except one on the stamp's path that stays inside the root.

            Exit codes: 0 all good; 1 files differ from the manifest (changed, missing or wrong type; nothing was touched); 64 usage or format error (bad arguments, malformed manifest, an entry below a symlinked directory, a stamp path that can't name a file, names something other than a regular file, or leaves the root through a symlink; nothing was touched); 74 I/O error (also: a changed file could not be made newer than an output: dated at the latest time its file system stores, or the bump was truncated to a coarser file system's granularity, as the message says; nothing was run). `run` exits with the command's status (128+N if signal N killed it), 127 if the command was not found, 126 if it could not be executed. Specified in docs/stamp.md.
            """,
        version: Version.current,
        subcommands: [CheckCommand.self, PrepareCommand.self, SealCommand.self, RunCommand.self])

    static func main() {
        FileSystem.openClosedStandardDescriptors()
        main(nil)
    }
}

/// The options every subcommand shares.
struct ContextOptions: ParsableArguments {
    @Option(help: "The manifest (default: `manifest` next to this executable).")
    var manifest: String?

    @Option(help: "The build context root the manifest's paths are relative to (default: the working directory).")
    var root: String?

    @Flag(help: "Skip manifest entries that are absent instead of failing (a context copied in parts).")
    var allowMissing = false

    func load() throws -> GuardContext {
        let (manifestPath, rootPath) = (try manifest.map(rawPath), try root.map(rawPath))
        return try reporting { () throws(GuardError) in
            try GuardContext(manifestPath: manifestPath, root: rootPath, allowMissing: allowMissing)
        }
    }
}

struct StampOption: ParsableArguments {
    @Option(
        help:
            "The build stamp (default: $GIT_MTIME_STAMP, else target/.git-mtime-stamp under the root). Keep it in the build output directory."
    )
    var stamp: String?

    /// The stamp's path and where it lives, checked before anything runs; the context without the
    /// stamp itself (when the manifest lists it).
    func locate(in context: GuardContext, create: Bool = false) throws -> (GuardContext, BytePath, RootedLocation) {
        let path = context.stampPath(explicit: try stamp.map(rawPath))
        let location = try reporting { () throws(GuardError) in try context.stampLocation(path, create: create) }
        let excluding = try reporting { () throws(GuardError) in try context.excludingStamp(location) }
        return (excluding, path, location)
    }
}

/// A path option as the bytes it was given as (the parsed text repairs bytes that aren't UTF-8).
func rawPath(_ parsed: String) throws -> BytePath {
    do { return try RawCommandLine.path(parsed) } catch { throw ValidationError(error.description) }
}

struct ExplainOption: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Print each file that gets a fresh mtime and why.",
            discussion: "Also on when a file `explain` lies next to this executable (`git mtime docker --explain`)."))
    var explain = false

    var isOn: Bool { explain || GuardContext.explainRequestedBesideExecutable() }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every tracked entry's type and content; set each mtime to the manifest's where it differs.",
        discussion: "Untracked entries (flagged in the manifest) are watched, not verified: they may change or vanish.")

    @OptionGroup var context: ContextOptions

    func run() throws {
        let context = try context.load()
        let outcome = try reporting { () throws(GuardError) in try Guard.check(context) }
        let missing = outcome.missingCount > 0 ? " (\(outcome.missingCount) missing, allowed)" : ""
        note("\(outcome.entryCount - outcome.missingCount) files match the manifest\(missing); \(outcome.timesSet) mtimes set")
    }
}

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Check, then give a fresh mtime to every file whose content differs from the last sealed build's.",
        discussion: """
            Without a trusted stamp (absent, unreadable, foreign, or the files beside it changed since it was \
            sealed) every tracked file counts as changed. An untracked entry (a new source, or an in-tree output git \
            doesn't ignore) whose content the stamp doesn't record gets a time one step below the tracked files', \
            and only if it is not already newer than the last build, so an output never hides its changed source \
            (docs/stamp.md). What a changed symlink leads to (a file, or every entry below a directory) gets the \
            fresh mtime too: build tools stat through links. If no time the file system stores is later than the \
            newest output (one dated at its limit, 2038 on ext4 with 128-byte inodes, or past 9999), it exits 74 \
            naming that output.

            One line always says what it decided (`N of M files changed since the last sealed build; stamp \
            trusted`); --explain adds one line per file that got a fresh mtime, with the reason.
            """)

    @OptionGroup var context: ContextOptions
    @OptionGroup var stamp: StampOption
    @OptionGroup var explain: ExplainOption

    func run() throws {
        let (context, path, location) = try stamp.locate(in: context.load())
        let lock = try lockOutputs(location)
        defer { withExtendedLifetime(lock) {} }
        _ = try prepare(context, stamp: path, location: location, explain: explain.isOn)
    }
}

struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Verify the tracked files, hash the untracked ones as the build left them, and record it all in the stamp (atomically).")

    @OptionGroup var context: ContextOptions
    @OptionGroup var stamp: StampOption

    func run() throws {
        let (context, path, location) = try stamp.locate(in: context.load(), create: true)
        let lock = try lockOutputs(location)
        defer { withExtendedLifetime(lock) {} }
        let sealed = try reporting { () throws(GuardError) in try Guard.seal(context, stamp: location, prepared: nil) }
        note("sealed \(path) at \(sealed.stamp.sealTime) (\(sealed.stamp.entries.count) files)")
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "prepare, run the command, and seal the stamp if it exits 0; exit with the command's status.",
        discussion: """
            INT, TERM, HUP and QUIT sent to the guard are passed on to the command, and a run that received one \
            is never sealed, whatever the command's status. Signals the guard inherited as ignored (nohup) stay \
            ignored for the command. A tracked file the command wrote, replaced or renamed is not recorded as \
            consumed, even if its old bytes are back by the time it exits, and is made newer than the outputs if \
            it is not. Like \
            prepare, it prints one line saying what it decided, and with --explain each file that got a fresh \
            mtime and why.

            Builds sharing the stamp's directory (a cache mount) take turns: from before prepare until after \
            seal, run holds a lock there (`.<stamp name>.lock`, removed when released); another build waits, \
            saying so once. prepare and seal on their own hold it while they work.
            """)

    @OptionGroup var context: ContextOptions
    @OptionGroup var stamp: StampOption
    @OptionGroup var explain: ExplainOption

    @Argument(parsing: .postTerminator, help: "The build command and its arguments, after `--` (looked up on PATH).")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the build command after `--`, e.g. `run -- cargo build`") }
    }

    func run() throws {
        let (context, path, location) = try stamp.locate(in: context.load())
        // Held until the stamp is sealed: another build sharing the outputs waits for all of it.
        var lock = try lockOutputs(location)
        defer { withExtendedLifetime(lock) {} }
        let prepared = try prepare(context, stamp: path, location: location, explain: explain.isOn)
        let status = try reporting { () throws(GuardError) in try CommandRunner.run(RawCommandLine.trailing(command)) }
        if let signal = SignalForwarding.pending {
            note(
                "\(command[0]) was sent signal \(signal) (\(signalName(signal))) and exited with status \(status); the stamp was not sealed"
            )
            throw ExitCode(status)
        }
        guard status == 0 else {
            note("\(command[0]) exited with status \(status); the stamp was not sealed")
            throw ExitCode(status)
        }
        try reporting { () throws(GuardError) in
            do throws(GuardError) {
                // Located again, creating missing directories: the build may have made or replaced them.
                let sealing = try context.stampLocation(path, create: true)
                if lock == nil { lock = try acquireLock(sealing) }
                let sealed = try Guard.seal(context, stamp: sealing, prepared: prepared.prepared)
                if let first = sealed.changedDuringBuild.first {
                    note(
                        "warning: \(sealed.changedDuringBuild.count) tracked files changed while \(command[0]) ran (\(first)\(sealed.changedDuringBuild.count > 1 ? ", ..." : "")); "
                            + "not recorded as consumed: the next build treats them as changed")
                }
            } catch let error where error.isNotSealed {
                // The build succeeded; an unreadable output directory only costs the next build its shortcut.
                for line in error.lines { note("warning: \(line)") }
            }
        }
        throw ExitCode(status)
    }
}

/// On a file system with coarse times (1 s: ext4 with 128-byte inodes, NFS, FAT) the bump time is
/// one step past the newest output, ahead of the clock. What the build writes before the clock gets
/// there lands in the old outputs' step: a recompiled object (or a regenerated source list) as old as
/// the program it links into, and make does not relink. So `prepare` returns (and `run` starts the
/// command) at `startTime`: the bump time, or with an output dated beyond reach (2037), one step past
/// the others (`FileClock.wait`: at most three steps).
private func waitForTheStartTime(_ prepared: PrepareOutcome) {
    guard let start = prepared.startTime else { return }
    FileClock.wait(until: start, granularity: prepared.granularity)
}

/// Prepares, then says what it decided: always one summary line (build logs show it), and with
/// `explain` each bumped file with its reason.
private func prepare(_ context: GuardContext, stamp: BytePath, location: RootedLocation, explain: Bool) throws -> PrepareOutcome {
    let outcome = try reporting { () throws(GuardError) in try Guard.prepare(context, stamp: location) }
    waitForTheStartTime(outcome)
    let stampState: String
    switch outcome.stamp {
    case .trusted:
        stampState = "stamp trusted"
    case .absent:
        note("no build stamp at \(stamp): treating all \(outcome.entryCount) files as changed")
        stampState = "no stamp"
    case .untrusted(let reason):
        note("warning: ignoring the build stamp: \(reason); treating all files as changed")
        stampState = "stamp untrusted"
    }
    note("\(grouped(outcome.bumpedCount)) of \(grouped(outcome.entryCount)) files changed since the last sealed build; \(stampState)")
    guard explain else { return outcome }
    for (entry, reason) in outcome.bumped {
        note("bumped \(entry.path)\(entry.isUntracked ? " (untracked)" : ""): \(reason.description)")
    }
    let untracked = outcome.bumped.contains { $0.entry.isUntracked } ? ", changed untracked files \(outcome.untrackedBumpTime)" : ""
    note("changed files got mtime \(outcome.bumpTime)\(untracked); \(outcome.timesSet) mtimes set")
    return outcome
}

/// The lock that keeps guarded builds sharing the stamp's directory from interleaving (`BuildLock`),
/// saying once on stderr when another build holds it.
private func lockOutputs(_ location: RootedLocation) throws -> FileLock? {
    try reporting { () throws(GuardError) in try acquireLock(location) }
}

private func acquireLock(_ location: RootedLocation) throws(GuardError) -> FileLock? {
    try BuildLock.acquire(location) { lock in
        note("waiting for another build that shares \(location.directory?.path ?? BytePath(".")) to finish (lock \(lock))")
    }
}

/// `4210` → `4,210`.
private func grouped(_ count: Int) -> String {
    let digits = Array(String(count))
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return out
}

private func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    case SIGHUP: return "SIGHUP"
    case SIGQUIT: return "SIGQUIT"
    default: return "signal \(signal)"
    }
}

/// The one path from a guard error to an exit status, for every subcommand: runs `body`, printing
/// a guard error's lines on stderr and exiting with its code.
@discardableResult
private func reporting<T>(_ body: () throws(GuardError) -> T) throws -> T {
    do { return try body() } catch {
        for line in error.lines { note(line) }
        throw ExitCode(error.exitCode)
    }
}

private func note(_ line: String) {
    try? FileDescriptor.standard(STDERR_FILENO).write(Array("git-mtime-guard: \(line)\n".utf8))
}
