import GitKit
import MtimeCore
import MtimeHistory
import MtimeRestore
import MtimeManifest

/// What git told a hook, parsed from the hook's arguments (and standard input for post-rewrite).
public enum HookEvent: Sendable, Equatable {
    /// `post-checkout PREVIOUS NEW FLAG`; FLAG 0 is a file checkout (`git checkout -- PATH`).
    case checkout(previous: ObjectID, current: ObjectID, isBranchCheckout: Bool)
    /// `post-merge SQUASH`: the old HEAD is ORIG_HEAD, which merge (and pull) set.
    case merge(isSquash: Bool)
    /// `post-rewrite amend` with `OLD NEW` on stdin: the working tree was not rewritten.
    case amend(previous: ObjectID)
    /// `post-rewrite rebase`: the branch moved from ORIG_HEAD, rewriting the files that differ.
    case rebase

    public init(hook: HookName, arguments: [String], input: String) throws(HookError) {
        func objectID(_ text: String) throws(HookError) -> ObjectID {
            guard let id = ObjectID(hex: text) else { throw HookError("\(hook.rawValue): '\(text)' is not a commit id") }
            return id
        }
        switch hook {
        case .postCheckout:
            guard arguments.count == 3 else { throw HookError("post-checkout expects 3 arguments, got \(arguments.count)") }
            self = .checkout(
                previous: try objectID(arguments[0]), current: try objectID(arguments[1]),
                isBranchCheckout: arguments[2] == "1")
        case .postMerge:
            guard arguments.count == 1 else { throw HookError("post-merge expects 1 argument, got \(arguments.count)") }
            self = .merge(isSquash: arguments[0] == "1")
        case .postRewrite:
            guard let command = arguments.first else { throw HookError("post-rewrite expects 1 argument") }
            if command == "rebase" { self = .rebase; return }
            guard let first = input.split(separator: "\n").first?.split(separator: " ").first else {
                throw HookError("post-rewrite \(command): no rewritten commits on standard input")
            }
            self = .amend(previous: try objectID(String(first)))
        }
    }
}

/// What a hook run did, for `--verbose` and the tests' messages.
public struct HookOutcome: Sendable {
    public enum Scope: Sendable, Equatable {
        case nothing
        /// A clone's (or a new linked worktree's) first checkout: every clean tracked file got its commit time.
        case fullRestore
        /// Only the files that differ between the old and the new HEAD were considered.
        case changedPaths(Int)
    }
    public var scope: Scope = .nothing
    public var mode: HookMode = .safe
    public var stamp: StampLoadResult = .absent
    public var filesSet = 0
    /// Files that got the trusted stamp's mtime (the last build consumed exactly this content).
    public var fromStamp = 0
    /// Files that got the hook's start time.
    public var keptNew = 0
    /// Changed files left alone because they are not clean.
    public var dirty = 0

    public var summary: String {
        switch scope {
        case .nothing: return "git-mtime: nothing to do"
        case .fullRestore: return "git-mtime: restored \(filesSet) file(s) to their commit times"
        case .changedPaths(let count):
            return "git-mtime (\(mode.rawValue) mode): \(count) changed path(s): \(filesSet) set, "
                + "\(fromStamp) from the build stamp, \(keptNew) kept newer than the last build, \(dirty) dirty left alone"
        }
    }
}

/// The hooks' logic. A clone gets a full restore; afterwards only the paths that differ between the
/// old and the new HEAD are looked at, so the cost follows the change.
public struct HookRunner {
    /// When the hook started: in safe mode no rewritten file ends up older than this.
    public let startedAt: Timestamp
    public let directory: String

    public init(directory: String = ".", startedAt: Timestamp) {
        self.directory = directory
        self.startedAt = startedAt
    }

    public func run(_ event: HookEvent) throws -> HookOutcome {
        switch event {
        case .checkout(_, _, isBranchCheckout: false), .merge(isSquash: true):
            // Git just wrote those files (a squash leaves them staged, hence dirty): nothing to keep or restore.
            return HookOutcome()
        case .checkout(let previous, let current, _) where previous == current && previous != .zero:
            // `git checkout -b`, `git switch` to the commit already checked out: no path differs between
            // the two HEADs, so the repository is not even opened (libgit2 is not initialised).
            return HookOutcome()
        default: break
        }
        let session: RestoreSession
        do { session = try RestoreSession(discoveringFrom: directory) } catch RestoreError.unbornHead {
            return HookOutcome()  // `git checkout --orphan`: no commit to take times from
        }
        let lock = try session.lock()
        defer { withExtendedLifetime(lock) {} }
        switch event {
        case .checkout(let previous, _, _) where previous == .zero:
            // No previous HEAD: a clone's first checkout, where no build output can exist yet, or a
            // checkout from an orphan or unborn branch over a tree that may hold outputs: a rewrite.
            guard try FreshCheckout.isFresh(session.repository) else {
                return try updateChangedPaths(session, from: nil, rewritten: true)
            }
            var outcome = HookOutcome()
            outcome.scope = .fullRestore
            var options = RestoreOptions()
            options.checksIndexedFilesWhileSetting = true
            outcome.filesSet = try session.apply(try session.plan(options)).filesSet
            return outcome
        case .checkout(let previous, _, _): return try updateChangedPaths(session, from: previous, rewritten: true)
        case .merge, .rebase: return try updateChangedPaths(session, from: try originalHead(session), rewritten: true)
        case .amend(let previous): return try updateChangedPaths(session, from: previous, rewritten: false)
        }
    }

    /// ORIG_HEAD, which merge, pull and rebase point at the HEAD they started from.
    private func originalHead(_ session: RestoreSession) throws -> ObjectID {
        let file = session.repository.gitDirectory.appending("ORIG_HEAD")
        let text: [UInt8]
        do { text = try FileSystem.readFile(file, limit: 4096) } catch { throw RestoreError.system(error) }
        guard let id = ObjectID(hex: String(decoding: text.prefix(40), as: UTF8.self)) else {
            throw HookError("\(file) does not hold a commit id")
        }
        return id
    }

    /// `rewritten`: git wrote the changed files just now (checkout, merge, rebase), as opposed to an
    /// amend, which records files the user already had. `old` nil: every file of HEAD changed.
    private func updateChangedPaths(_ session: RestoreSession, from old: ObjectID?, rewritten: Bool) throws -> HookOutcome {
        let repository = session.repository
        let settings = try RepositorySettings(repository: repository, workdir: session.workdir)
        var outcome = HookOutcome()
        outcome.mode = settings.mode
        let head = try repository.headCommitID()
        let changed = try TreeChanges.changedFiles(try ObjectDatabase(repository), from: old, to: head)
        outcome.scope = .changedPaths(changed.count)
        if changed.isEmpty { return outcome }

        let plan: RestorePlan
        switch settings.mode {
        case .commit:
            // Exactly restore's answer for these paths: commit times for the clean ones.
            plan = try session.plan(RestoreOptions(paths: changed.map(\.path)))
        case .safe:
            outcome.stamp = settings.loadStamp()
            let consumed = settings.consumedContent(outcome.stamp)
            // No history needed: only which files are clean, and the stamp.
            var partial = try session.plan(verifying: changed, head: head)
            for index in partial.files.indices where partial.files[index].state == .clean {
                guard let current = partial.files[index].current else { continue }
                if let entry = consumed?.entry(for: partial.files[index]) {
                    partial.files[index].target = entry.modificationTime
                    outcome.fromStamp += 1
                } else if rewritten && current.modificationTime < startedAt {
                    partial.files[index].target = startedAt
                    outcome.keptNew += 1
                }
            }
            plan = partial
        }
        outcome.dirty = plan.files.count { $0.state != .clean }
        outcome.filesSet = try session.apply(plan).filesSet
        return outcome
    }
}
