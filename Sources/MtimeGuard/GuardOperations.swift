#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
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
    /// Files whose content differs from what the last sealed build consumed (all, without a trusted stamp).
    public let bumpedCount: Int
    /// The time given to those files: later than the seal time and than every file beside the stamp.
    public let bumpTime: Timestamp
    public let timesSet: Int
}

/// check / prepare / seal (docs/stamp.md). Each validates everything before it sets any time.
public enum Guard {
    /// Verifies every entry against the manifest, then gives each the manifest's mtime.
    public static func check(_ context: GuardContext) throws(GuardError) -> CheckOutcome {
        let findings = try verify(context)
        let timesSet = try applyTimes(context, findings: findings) { $0.modificationTime }
        return CheckOutcome(entryCount: findings.count, missingCount: findings.count { $0 == .missing }, timesSet: timesSet)
    }

    /// `check`, except that files whose id differs from the trusted stamp's get a fresh time instead.
    public static func prepare(_ context: GuardContext, stamp stampPath: BytePath) throws(GuardError) -> PrepareOutcome {
        let findings = try verify(context)
        let stamp = BuildStamp.load(at: stampPath, expectedRoot: context.root)
        var bumpTime = FileSystem.now()
        let consumed: [BytePath: ObjectID]
        if case .trusted(let trusted) = stamp {
            consumed = trusted.objectIDsByPath
            // Trusted means nothing beside the stamp is newer than the seal time.
            bumpTime = max(bumpTime, trusted.sealTime.nextNanosecond)
        } else {
            consumed = [:]
            do {
                if let newest = try BuildStamp.newestModificationTime(besideStamp: stampPath) {
                    bumpTime = max(bumpTime, newest.nextNanosecond)
                }
            } catch { throw .io(error) }
        }
        var bumpedCount = 0
        let timesSet = try applyTimes(context, findings: findings) { entry in
            if consumed[entry.path] == entry.objectID { return entry.modificationTime }
            bumpedCount += 1
            return bumpTime
        }
        return PrepareOutcome(stamp: stamp, entryCount: findings.count, bumpedCount: bumpedCount, bumpTime: bumpTime, timesSet: timesSet)
    }

    /// Writes the stamp atomically: each present entry's id and current mtime, and the seal time.
    /// With `verify`, every entry is first checked against the manifest (nothing is written on a
    /// mismatch); `run` skips that because its `prepare` verified the same files just before.
    @discardableResult
    public static func seal(_ context: GuardContext, stamp stampPath: BytePath, verify shouldVerify: Bool) throws(GuardError) -> BuildStamp {
        var entries: [BuildStamp.Entry] = []
        entries.reserveCapacity(context.manifest.entries.count)
        if shouldVerify {
            for (entry, finding) in zip(context.manifest.entries, try verify(context)) {
                guard case .matches(let status) = finding else { continue }
                entries.append(.init(path: entry.path, objectID: entry.objectID, modificationTime: status.modificationTime))
            }
        }
        do throws(SystemError) {
            if !shouldVerify {
                for entry in context.manifest.entries {
                    guard let status = try FileSystem.statusIfPresent(context.path(of: entry.path)) else { continue }
                    entries.append(.init(path: entry.path, objectID: entry.objectID, modificationTime: status.modificationTime))
                }
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

    /// Hashes everything; any problem is a mismatch error and nothing has been touched.
    static func verify(_ context: GuardContext) throws(GuardError) -> [EntryFinding] {
        let findings = try ContentCheck.findings(for: context)
        let problems = ContentCheck.problems(findings, context: context)
        if !problems.isEmpty { throw .mismatch(problems: problems, total: findings.count) }
        return findings
    }

    /// Sets each matching entry's mtime to `time(entry)` where it differs; returns how many were set.
    private static func applyTimes(_ context: GuardContext, findings: [EntryFinding],
                                   time: (ManifestEntry) -> Timestamp) throws(GuardError) -> Int {
        var count = 0
        for (entry, finding) in zip(context.manifest.entries, findings) {
            guard case .matches(let status) = finding else { continue }
            let wanted = time(entry)
            if status.modificationTime == wanted { continue }
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
}
