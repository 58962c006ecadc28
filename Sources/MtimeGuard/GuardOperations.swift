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
    /// The time given to changed tracked files: later than the seal time and than every file beside
    /// the stamp, as the file system there stores times.
    public let bumpTime: Timestamp
    /// Changed untracked files get one step of the file system's granularity less (docs/stamp.md,
    /// "Untracked files").
    public let untrackedBumpTime: Timestamp
    /// The timestamp granularity probed where the stamp lives and at the root (the coarser), in nanoseconds.
    public let granularity: Int64
    /// When the build may start (nil: at once): the bump time when it is within two steps of the
    /// granularity, else one step past the outputs dated within that reach. On a whole-second file
    /// system what the build writes earlier lands in the previous build's step: a recompiled object
    /// as old as the program, and make does not relink (docs/stamp.md, "Clocks").
    public let startTime: Timestamp?
    public let timesSet: Int
    /// Each entry as `prepare` left it (nil: absent), in manifest order: `run` compares the files
    /// with it after the build to tell which ones the build consumed unchanged.
    public let prepared: [FileStatus?]
    /// Each file that got a fresh mtime, and why, in manifest order.
    public let bumped: [(entry: ManifestEntry, reason: BumpReason)]
}

/// What `seal` wrote.
public struct SealOutcome: Sendable {
    public let stamp: BuildStamp
    /// Tracked files whose content changed while the build ran: left out of the stamp (not consumed).
    public let changedDuringBuild: [BytePath]
}

/// check / prepare / seal (docs/stamp.md). Each validates everything before it sets any time.
public enum Guard {
    /// Verifies every tracked entry against the manifest, then gives each entry whose content is the
    /// manifest's the manifest's mtime.
    public static func check(_ context: GuardContext) throws(GuardError) -> CheckOutcome {
        let findings = try verify(context)
        let wanted = zip(context.manifest.entries, findings).map { entry, finding in presentFile(entry, finding).map { ownTime(entry, $0) }
        }
        let (timesSet, _) = try applyTimes(
            context, findings: findings, times: shared(wanted, findings: findings, root: context.root).map(\.time))
        return CheckOutcome(entryCount: findings.count, missingCount: findings.count { $0 == .missing }, timesSet: timesSet)
    }

    /// `check`, except that files whose content differs from what the trusted stamp recorded get a
    /// fresh time instead: tracked files always, untracked files when not already later than the last build.
    public static func prepare(_ context: GuardContext, stamp location: RootedLocation) throws(GuardError) -> PrepareOutcome {
        let findings = try verify(context)
        let granularity = StampDirectoryProbe.granularity(
            bumping: context.tree, beside: location,
            files: zip(context.manifest.entries, findings).lazy.compactMap { entry, finding in finding.status.map { (entry.path, $0) } })
        // An output dated further ahead (an unpacked archive) can't be waited for; the others can.
        let horizon = FileSystem.now().advanced(byNanoseconds: 2 * max(granularity, 1_000_000_000))
        let rule = BumpRule(location, root: context.root, alsoExcluding: context.trackedPaths, horizon: horizon)
        let lastBuild = rule.lastBuild
        // Both bump times are multiples of the granularity, so the file system stores them exactly,
        // and both are strictly later than every output as stored (docs/stamp.md, "Clocks").
        let untrackedBumpTime = max(FileSystem.now(), lastBuild?.nextNanosecond ?? .distantPast).roundedUp(toMultipleOf: granularity)
        let bumpTime = untrackedBumpTime.advanced(byNanoseconds: granularity)
        let startTime =
            bumpTime <= horizon ? bumpTime : rule.lastBuildByHorizon.map { $0.nextNanosecond.roundedUp(toMultipleOf: granularity) }
        let entries = context.manifest.entries
        let decisions = rule.decisions(
            for: context.manifest,
            files: zip(entries, findings).map { entry, finding in
                presentFile(entry, finding).map { file in (file.id, ownTime(entry, file) ?? file.status.modificationTime) }
            }, root: context.root)
        // An untracked output bumped with its changed source would hide the change: BumpRule keeps
        // it, or gives it a time below the tracked files' (docs/stamp.md, "Untracked files").
        let wanted = zip(zip(entries, findings), decisions).map { pair, decision -> Timestamp?? in
            guard let file = presentFile(pair.0, pair.1), let decision else { return nil }
            switch decision {
            case .keep: return .some(ownTime(pair.0, file))
            case .bump: return .some(pair.0.isUntracked ? untrackedBumpTime : bumpTime)
            }
        }
        // Names of one file share its time: a name bumped bumps the others (docs/stamp.md, "Hard links").
        let times = shared(wanted, findings: findings, root: context.root)
        var bumped: [(entry: ManifestEntry, reason: BumpReason)] = []
        for (index, decision) in decisions.enumerated() {
            if case .bump(let reason)? = decision {
                bumped.append((entries[index], reason))
            } else if let other = times[index].raisedFor, case .bump? = decisions[other] {
                bumped.append((entries[index], .hardLinkOf(entries[other].path)))
            }
        }
        let (timesSet, prepared) = try applyTimes(context, findings: findings, times: times.map(\.time))
        // A file system clamps a later time to the latest it stores (2038-01-19 on ext4 with 128-byte
        // inodes), and git-mtime's range ends in 9999: a bump stored no later than an output outdates nothing.
        if let newest = rule.newestOutput {
            let bumpedPaths = Set(bumped.map(\.entry.path))
            for (index, (entry, status)) in zip(context.manifest.entries, prepared).enumerated() where bumpedPaths.contains(entry.path) {
                guard let status, status.modificationTime <= newest.time else { continue }
                let wanted = times[index].time ?? status.modificationTime
                throw .outputNotOutdated(
                    file: entry.path, output: newest.path, outputTime: newest.time,
                    shortfall: BumpShortfall(wanted: wanted, stored: status.modificationTime))
            }
        }
        return PrepareOutcome(
            stamp: rule.stamp, entryCount: findings.count, bumpedCount: bumped.count, bumpTime: bumpTime,
            untrackedBumpTime: untrackedBumpTime, granularity: granularity, startTime: startTime, timesSet: timesSet, prepared: prepared,
            bumped: bumped)
    }

    /// Writes the stamp atomically: what the build consumed (each present entry's id and current
    /// mtime), the seal time and the state of the outputs beside the stamp.
    ///
    /// Standalone (`prepared` nil), every tracked entry is first verified against the manifest and
    /// nothing is written on a mismatch. After `run`'s build (`prepared` from its `prepare`), a tracked
    /// file is recorded only if it is still exactly as `prepare` left it (inode, size, mtime, ctime;
    /// a new hard link alone is allowed once its bytes are checked): one written during the build (a generator, `cargo fmt`, a version stamped in and put back) was
    /// not consumed as recorded, so it is left out and counts as changed next time, and made newer than
    /// the outputs if it is not (`bumpPastOutputs`). Untracked entries are hashed
    /// now, after the build: what it left there is what the next build compares with.
    public static func seal(_ context: GuardContext, stamp location: RootedLocation, prepared: [FileStatus?]?) throws(GuardError)
        -> SealOutcome
    {
        guard let directory = location.directory else {
            throw .io(SystemError(operation: "seal (the stamp's directory does not exist)", path: location.displayPath, errno: .notFound))
        }
        var entries: [BuildStamp.Entry] = []
        entries.reserveCapacity(context.manifest.entries.count)
        var changedDuringBuild: [BytePath] = []
        if let prepared {
            let untracked = context.restricted { $0.isUntracked }
            for (entry, finding) in zip(untracked.manifest.entries, try ContentCheck.findings(for: untracked)) {
                guard let file = presentFile(entry, finding) else { continue }
                entries.append(
                    .init(path: entry.path, objectID: file.id, modificationTime: file.status.modificationTime, isUntracked: true))
            }
            let hasher = BufferedBlobHasher()
            for (entry, before) in zip(context.manifest.entries, prepared) where !entry.isUntracked {
                do throws(SystemError) {
                    guard let now = try context.tree.statusIfPresent(entry.path) else { continue }
                    // Anything written, replaced or renamed since `prepare` may have been read in another
                    // version, even if the manifest's bytes are back now (a version stamped in and
                    // reverted, `cargo hack` restoring Cargo.toml): only ctime tells when the old mtime
                    // was put back too, so any change means "not consumed as recorded".
                    if let before, now.isUnchanged(since: before) {
                        entries.append(.init(path: entry.path, objectID: entry.objectID, modificationTime: now.modificationTime))
                    } else if let before, now.isSameFile(as: before), now.linkCount != before.linkCount, now.size == before.size,
                        now.modificationTime == before.modificationTime, now.mode == before.mode,
                        case .matches(let status) = try ContentCheck.finding(for: entry, in: context.tree, hasher: hasher)
                    {
                        // Only a hard link made or removed (`cp -al`, a sandbox linking its inputs): ctime moved, the bytes didn't.
                        entries.append(.init(path: entry.path, objectID: entry.objectID, modificationTime: status.modificationTime))
                    } else {
                        changedDuringBuild.append(entry.path)
                    }
                } catch { throw .io(error) }
            }
        } else {
            let findings = try verify(context)
            for (entry, finding) in zip(context.manifest.entries, findings) {
                guard let file = presentFile(entry, finding) else { continue }
                entries.append(
                    .init(
                        path: entry.path, objectID: file.id, modificationTime: file.status.modificationTime, isUntracked: entry.isUntracked)
                )
            }
        }
        // Seal time from the file system's own clock, the one that stamped the build outputs
        // (it lags CLOCK_REALTIME by up to a tick).
        let sealTime: Timestamp
        do { sealTime = try StampDirectoryProbe.now(in: directory, stampName: location.name) } catch { throw .io(error) }
        // Outputs dated further ahead than the clock can be waited for (an unpacked archive) are left out.
        let horizon = FileSystem.now().advanced(byNanoseconds: 2 * 2_000_000_000)
        let scan = OutputState.scan(location, excluding: context.trackedPaths, horizon: horizon)
        if let failure = scan.failure { throw .notSealed(failure) }
        if let newest = scan.newestByHorizon {
            try bumpPastOutputs(changedDuringBuild, newest: newest, in: context, beside: location)
        }
        let stamp = BuildStamp(root: context.root, sealTime: sealTime, outputs: scan.state, entries: entries)
        do { try directory.writeAtomically(location.name, contents: stamp.serialized()) } catch { throw .io(error) }
        return SealOutcome(stamp: stamp, changedDuringBuild: changedDuringBuild)
    }

    /// A tracked file the build wrote is newer than the outputs made from what it held before, unless
    /// the build put an old mtime back, or wrote it before its last outputs within one step of a
    /// coarse clock (a version stamped in, compiled, and the old bytes written back in the same
    /// second): then a plain build next would take those outputs as current. Each such regular file
    /// gets one step past the newest output, waited for on the clock so that no source is dated ahead
    /// of it. Only its time is set, through its held parent, and only while it is the file checked.
    private static func bumpPastOutputs(
        _ paths: [BytePath], newest: Timestamp, in context: GuardContext, beside location: RootedLocation
    ) throws(GuardError) {
        do throws(SystemError) {
            var behind: [(path: BytePath, status: FileStatus)] = []
            for path in paths {
                guard let status = try context.tree.statusIfPresent(path), status.kind == .regular, status.modificationTime <= newest
                else { continue }
                behind.append((path, status))
            }
            guard !behind.isEmpty else { return }
            let granularity = StampDirectoryProbe.granularity(bumping: context.tree, beside: location, files: behind)
            let bumpTime = max(FileSystem.now(), newest.nextNanosecond).roundedUp(toMultipleOf: granularity)
            FileClock.wait(until: bumpTime, granularity: granularity)
            for (path, status) in behind {
                let (parent, name) = try context.tree.parent(of: path)
                guard let now = try parent.statusIfPresent(name), now.isSameFile(as: status), now.modificationTime <= newest
                else { continue }
                try parent.setModificationTime(of: name, to: bumpTime)
            }
        } catch { throw .io(error) }
    }

    /// Hashes everything; a tracked entry that doesn't match is a mismatch error and nothing has been touched.
    static func verify(_ context: GuardContext) throws(GuardError) -> [EntryFinding] {
        let findings = try ContentCheck.findings(for: context)
        let problems = ContentCheck.problems(findings, context: context)
        if !problems.isEmpty {
            let missing = context.allowMissing ? 0 : zip(context.manifest.entries, findings).count { !$0.isUntracked && $1 == .missing }
            throw .mismatch(problems: problems, total: findings.count, missing: missing)
        }
        return findings
    }

    /// An entry's file as found on disk (its id and status); nil when missing or of another type.
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

    /// Each present entry's wanted time (`wanted[i]`: nil when absent; `.some(nil)`: the one it has)
    /// as `HardLinks.sharedTimes` shares it among the names of one file.
    private static func shared(_ wanted: [Timestamp??], findings: [EntryFinding], root: BytePath) -> [HardLinks.Shared] {
        // Most contexts have no hard link and nothing mounted inside: their wishes stand.
        let mounted = MountTable.hasMount(below: root)
        guard mounted || findings.contains(where: { ($0.status?.linkCount ?? 1) > 1 }) else {
            return wanted.map { HardLinks.Shared(time: $0 ?? nil, raisedFor: nil) }
        }
        return HardLinks.sharedTimes(
            zip(wanted, findings).map { wish, finding in
                guard let wish, let status = finding.status else { return nil }
                return (status, wish)
            }, mounted: mounted)
    }

    /// Gives each present entry `times[i]` (nil: its current one) where it differs, through its held
    /// parent and only if it is still the file that was hashed, unchanged; returns how many were set
    /// and each entry's status afterwards.
    private static func applyTimes(
        _ context: GuardContext, findings: [EntryFinding], times: [Timestamp?]
    ) throws(GuardError) -> (Int, [FileStatus?]) {
        var count = 0
        var statuses: [FileStatus?] = []
        statuses.reserveCapacity(findings.count)
        // Hard links: setting one name's time changes the others'; expect what we left.
        var setHere: [FileIdentity: FileStatus] = [:]
        // Once for the whole loop: TimeSetter takes a lease per file.
        let breaks = ReadLease.ignoreBreaks()
        defer { breaks.restore() }
        for (index, (entry, finding)) in zip(context.manifest.entries, findings).enumerated() {
            guard let file = presentFile(entry, finding) else { statuses.append(nil); continue }
            // Nothing set yet (the steady state: every time already right): no identity to hash.
            let expected = setHere.isEmpty ? file.status : setHere[FileIdentity(file.status)] ?? file.status
            guard let wanted = times[index], expected.modificationTime != wanted else { statuses.append(expected); continue }
            do {
                let after = try TimeSetter.set(entry.path, in: context.tree, to: wanted, expecting: expected, content: file.id)
                setHere[FileIdentity(after)] = after
                statuses.append(after)
            } catch { throw .io(error) }
            count += 1
        }
        // A later name of the same file changed its ctime (and maybe mtime): each name ends as the file was left.
        guard !setHere.isEmpty else { return (count, statuses) }
        return (count, statuses.map { status in status.flatMap { setHere[FileIdentity($0)] } ?? status })
    }
}

/// Sets one entry's modification time through the held parent directory, after checking it is the
/// very file that was hashed and that nothing changed it since.
enum TimeSetter {
    /// Sets `relative`'s mtime to `time` if it is still exactly as hashed (`hashed`, holding `content`).
    /// A regular file is changed through its open descriptor under a read lease (`ReadLease`), so no
    /// write lands between the check and the set and leaves new content with an old time. Where no
    /// lease can be had (the file is open for writing elsewhere, or owned by another user without
    /// CAP_LEASE, as after `COPY --chown`), the bytes are hashed again after the set: other content
    /// gets the current time, newer than any build. Call with lease breaks ignored (`ReadLease.ignoreBreaks`).
    static func set(
        _ relative: BytePath, in tree: DirectoryTree, to time: Timestamp, expecting hashed: FileStatus,
        content: ObjectID
    ) throws(SystemError) -> FileStatus {
        let (directory, name) = try tree.parent(of: relative)
        let changed = SystemError(
            operation: "set modification time (changed since it was hashed; run again)", path: tree.pathOf(relative), errno: .tryAgain)
        if hashed.kind == .regular {
            // On the open file itself: no name is resolved between the check and the change.
            let file = try directory.openFile(name)
            return try ReadLease.holding(closing: file) { (leased) throws(SystemError) in
                guard try file.status().isUnchanged(since: hashed) else { throw changed }
                try file.setModificationTime(to: time)
                // A read failing because the file changes under it is other content too.
                if !leased, (try? BlobHasher.hash(regularFile: file)) != content {
                    try file.setModificationTime(to: FileSystem.now())
                }
                return try file.status()
            }
        }
        // A symlink can't be opened; its name is resolved in the held parent, which can't be swapped.
        guard try directory.status(name).isUnchanged(since: hashed) else { throw changed }
        try directory.setModificationTime(of: name, to: time)
        return try directory.status(name)
    }
}
