import Glibc
import MtimeCore
import MtimeManifest

/// What `check` did.
public struct CheckOutcome: Sendable {
    public let entryCount: Int
    public let missingCount: Int
    public let timesSet: Int
}

/// What `prepare` did.
public struct PrepareOutcome: Sendable {
    public let stamp: StampLoadResult
    public let entryCount: Int
    /// Files whose content differs from what the last sealed build consumed (all tracked files, without
    /// a trusted stamp), untracked ones included.
    public let bumpedCount: Int
    /// The time given to changed tracked files: later than the seal time and than every file beside the stamp.
    public let bumpTime: Timestamp
    /// Changed untracked files get one nanosecond less (docs/stamp.md, "Untracked files").
    public var untrackedBumpTime: Timestamp { bumpTime.previousNanosecond }
    public let timesSet: Int
    /// Each file that got a fresh mtime, and why, in manifest order.
    public let bumped: [(entry: ManifestEntry, reason: BumpReason)]
}

/// check / prepare / seal (docs/stamp.md). Each validates everything before it sets any time.
public enum Guard {
    /// Verifies every tracked entry against the manifest, then gives each entry whose content is the
    /// manifest's the manifest's mtime.
    public static func check(_ context: GuardContext) throws(GuardError) -> CheckOutcome {
        let findings = try verify(context)
        let timesSet = try applyTimes(context, findings: findings) { entry, file in ownTime(entry, file) }
        return CheckOutcome(entryCount: findings.count, missingCount: findings.count { $0 == .missing }, timesSet: timesSet)
    }

    /// `check`, except that files whose content differs from what the trusted stamp recorded get a
    /// fresh time instead: tracked files always, untracked files when not already later than the last build.
    public static func prepare(_ context: GuardContext, stamp stampPath: BytePath) throws(GuardError) -> PrepareOutcome {
        let findings = try verify(context)
        let rule: BumpRule
        do { rule = try BumpRule(stampPath: stampPath, root: context.root) } catch { throw .io(error) }
        let lastBuild = rule.lastBuild
        let untrackedBumpTime = max(FileSystem.now(), lastBuild?.nextNanosecond ?? .distantPast)
        let bumpTime = untrackedBumpTime.nextNanosecond
        var bumped: [(entry: ManifestEntry, reason: BumpReason)] = []
        let timesSet = try applyTimes(context, findings: findings) { entry, file in
            let own = ownTime(entry, file)
            // An untracked output bumped with its changed source would hide the change: BumpRule keeps
            // it, or gives it a time below the tracked files' (docs/stamp.md, "Untracked files").
            switch rule.decide(entry, content: file.id, ownTime: own ?? file.status.modificationTime) {
            case .keep: return own
            case .bump(let reason):
                bumped.append((entry, reason))
                return entry.isUntracked ? untrackedBumpTime : bumpTime
            }
        }
        return PrepareOutcome(stamp: rule.stamp, entryCount: findings.count, bumpedCount: bumped.count, bumpTime: bumpTime, timesSet: timesSet,
                              bumped: bumped)
    }

    /// Writes the stamp atomically: each present entry's id and current mtime, and the seal time.
    /// Untracked entries are hashed now, after the build: what it left there is what the next build
    /// compares with (so an in-tree output it rewrote does not count as changed).
    /// With `verify`, every tracked entry is first checked against the manifest (nothing is written on
    /// a mismatch); `run` skips that because its `prepare` verified the same files just before.
    @discardableResult
    public static func seal(_ context: GuardContext, stamp stampPath: BytePath, verify shouldVerify: Bool) throws(GuardError) -> BuildStamp {
        var entries: [BuildStamp.Entry] = []
        entries.reserveCapacity(context.manifest.entries.count)
        let checked = shouldVerify ? context : context.restricted { $0.isUntracked }
        let findings = shouldVerify ? try verify(context) : try ContentCheck.findings(for: checked)
        for (entry, finding) in zip(checked.manifest.entries, findings) {
            guard let file = presentFile(entry, finding) else { continue }
            entries.append(.init(path: entry.path, objectID: file.id, modificationTime: file.status.modificationTime))
        }
        do throws(SystemError) {
            if !shouldVerify {
                for entry in context.manifest.entries where !entry.isUntracked {
                    guard let status = try FileSystem.statusIfPresent(context.path(of: entry.path)) else { continue }
                    entries.append(.init(path: entry.path, objectID: entry.objectID, modificationTime: status.modificationTime))
                }
                entries.sort { $0.path < $1.path }
            }
            let directory = stampPath.parent.isEmpty ? BytePath(".") : stampPath.parent
            try createDirectories(directory)
            // Seal time from the file system's own clock, the one that stamped the build outputs
            // (it lags CLOCK_REALTIME by up to a tick), and never older than any of those outputs.
            var sealTime = try fileSystemNow(in: directory, stampName: stampPath.lastComponent)
            if let newest = try BuildStamp.newestModificationTime(besideStamp: stampPath) { sealTime = max(sealTime, newest) }
            let stamp = BuildStamp(root: context.root, sealTime: sealTime, entries: entries)
            try FileSystem.writeAtomically(stampPath, contents: stamp.serialized())
            return stamp
        } catch { throw .io(error) }
    }

    /// Hashes everything; a tracked entry that doesn't match is a mismatch error and nothing has been touched.
    static func verify(_ context: GuardContext) throws(GuardError) -> [EntryFinding] {
        let findings = try ContentCheck.findings(for: context)
        let problems = ContentCheck.problems(findings, context: context)
        if !problems.isEmpty { throw .mismatch(problems: problems, total: findings.count) }
        return findings
    }

    /// An entry's file as found on disk (its id and lstat); nil when missing or of another type.
    private static func presentFile(_ entry: ManifestEntry, _ finding: EntryFinding) -> (id: ObjectID, status: FileStatus)? {
        switch finding {
        case .matches(let status): return (entry.objectID, status)
        case .changed(let id, let status): return (id, status)
        case .missing, .wrongType: return nil
        }
    }

    /// The manifest's time when the file holds the manifest's content, else (an untracked file changed
    /// since) nil: its current time stays.
    private static func ownTime(_ entry: ManifestEntry, _ file: (id: ObjectID, status: FileStatus)) -> Timestamp? {
        file.id == entry.objectID ? entry.modificationTime : nil
    }

    /// Gives each present entry the time `time` returns (nil: its current one) where it differs;
    /// returns how many were set.
    private static func applyTimes(_ context: GuardContext, findings: [EntryFinding],
                                   time: (ManifestEntry, (id: ObjectID, status: FileStatus)) -> Timestamp?) throws(GuardError) -> Int {
        var count = 0
        for (entry, finding) in zip(context.manifest.entries, findings) {
            guard let file = presentFile(entry, finding), let wanted = time(entry, file),
                  file.status.modificationTime != wanted else { continue }
            do { try FileSystem.setModificationTime(context.path(of: entry.path), to: wanted) } catch { throw .io(error) }
            count += 1
        }
        return count
    }

    /// The mtime the kernel gives a file created now in `directory`.
    private static func fileSystemNow(in directory: BytePath, stampName: BytePath) throws(SystemError) -> Timestamp {
        let probe = directory.appending(BytePath([UInt8(ascii: ".")] + stampName.bytes + Array(".clock-\(getpid())".utf8)))
        try FileSystem.remove(probe)
        let fd = try probe.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600) }
        guard fd >= 0 else { throw SystemError.last("create clock probe", probe) }
        close(fd)
        defer { try? FileSystem.remove(probe) }
        return try FileSystem.status(probe).modificationTime
    }

    private static func createDirectories(_ path: BytePath) throws(SystemError) {
        var prefix = BytePath(path.isAbsolute ? "/" : "")
        for component in path.components {
            prefix = prefix.appending(BytePath(Array(component)))
            try FileSystem.createDirectory(prefix)
        }
    }
}

extension Timestamp {
    /// One nanosecond later: the smallest time strictly greater than this one.
    var nextNanosecond: Timestamp {
        nanoseconds == 999_999_999 ? Timestamp(seconds: seconds + 1, nanoseconds: 0) : Timestamp(seconds: seconds, nanoseconds: nanoseconds + 1)
    }

    /// One nanosecond earlier: the largest time strictly less than this one.
    var previousNanosecond: Timestamp {
        nanoseconds == 0 ? Timestamp(seconds: seconds - 1, nanoseconds: 999_999_999) : Timestamp(seconds: seconds, nanoseconds: nanoseconds - 1)
    }

    static let distantPast = Timestamp(seconds: Int64.min / 2, nanoseconds: 0)
}
