import Foundation
import Glibc
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// `RestoreOptions.checksIndexedFilesWhileSetting` (what `restore` uses on a fresh clone): files the
/// index vouches for are planned without an `lstat` and checked on the `fstat` taken under the read
/// lease. Every way a file can differ from its index entry, made before planning or between plan and
/// apply, must end exactly as planning with an `lstat` would have left it: a changed file keeps the
/// time its change gave it and is never recorded clean; a file whose bytes are still HEAD's gets its
/// commit time. Only a process that may read and set any file takes that route (`makePlan`).
@Suite(
    .enabled(
        if: TimePermission.overridesOwnership && TimePermission.overridesFileModes,
        "the check under the lease is taken only with CAP_FOWNER and CAP_DAC_OVERRIDE (root)"))
struct IndexCheckedApplyTests {
    static func origin() throws -> GitRepository {
        let repo = try GitRepository(label: "index-checked")
        for directory in 0..<3 {
            for file in 0..<10 { try repo.write("d\(directory)/f\(file)", "d\(directory) f\(file) first\n") }
        }
        try repo.write("empty", "")
        try repo.write("solo/f", "alone\n")
        try repo.write("exe", "#!/bin/sh\n")
        try runChecked(["chmod", "+x", repo.directory.url("exe")])
        try repo.commit("first")
        for file in stride(from: 0, to: 10, by: 3) { try repo.write("d1/f\(file)", "d1 f\(file) second\n") }
        try FileManager.default.createSymbolicLink(atPath: repo.directory.url("link"), withDestinationPath: "exe")
        try repo.commit("second")
        return repo
    }

    /// A fresh clone whose index vouches for every file: times moved to the past, then the index
    /// refreshed (so no entry is racily clean), no stat cache.
    static func clone(of origin: GitRepository) throws -> GitRepository {
        let clone = try GitRepository(cloning: origin.path, label: "index-checked-clone")
        try runChecked(["sh", "-c", "git ls-files -z | xargs -0 touch -h -d @1500000000 && git update-index -q --refresh"], in: clone.path)
        return clone
    }

    /// One way of making a file other than its index entry says, and what planning must find.
    struct Change: Sendable, CustomStringConvertible {
        var path: String
        var description: String
        /// The state apply must leave in the plan; `.clean`: the bytes are still HEAD's.
        var state: FileState
        var make: @Sendable (_ clone: GitRepository) throws -> Void
    }

    static let changes: [Change] = [
        Change(path: "d0/f1", description: "appended", state: .modified) { clone in
            try runChecked(["sh", "-c", "echo more >> d0/f1"], in: clone.path)
        },
        Change(path: "d0/f2", description: "rewritten, same size", state: .modified) { clone in
            try runChecked(["sh", "-c", "printf 'D0 F2 FIRST\\n' > d0/f2"], in: clone.path)
        },
        Change(path: "d0/f3", description: "rewritten, same size, old mtime put back", state: .modified) { clone in
            let before = try modificationTime(clone.directory.url("d0/f3"))
            try runChecked(["sh", "-c", "printf 'D0 F3 FIRST\\n' > d0/f3"], in: clone.path)
            try setTime(clone.directory.url("d0/f3"), before)
        },
        Change(path: "d0/f4", description: "replaced by rename, same bytes and mtime", state: .clean) { clone in
            try runChecked(["sh", "-c", "cp -p d0/f4 d0/f4.new && mv d0/f4.new d0/f4"], in: clone.path)
        },
        Change(path: "d0/f5", description: "replaced by rename, other bytes of the same size, same mtime", state: .modified) { clone in
            try runChecked(
                ["sh", "-c", "printf 'D0 F5 FIRST\\n' > d0/f5.new && touch -r d0/f5 d0/f5.new && mv d0/f5.new d0/f5"], in: clone.path)
        },
        Change(path: "d0/f6", description: "hard-linked", state: .clean) { clone in
            try runChecked(["ln", "d0/f6", "d0/f6.other"], in: clone.path)
        },
        Change(path: "d0/f7", description: "made executable", state: .modified) { clone in
            try runChecked(["chmod", "+x", "d0/f7"], in: clone.path)
        },
        Change(path: "d0/f8", description: "removed", state: .deleted) { clone in
            try runChecked(["rm", "d0/f8"], in: clone.path)
        },
        Change(path: "d0/f9", description: "replaced by a symlink", state: .modified) { clone in
            try runChecked(["sh", "-c", "rm d0/f9 && ln -s f0 d0/f9"], in: clone.path)
        },
        Change(path: "d2/f0", description: "replaced by a directory", state: .deleted) { clone in
            try runChecked(["sh", "-c", "rm d2/f0 && mkdir d2/f0"], in: clone.path)
        },
        Change(path: "solo/f", description: "its directory replaced by a symlink to a copy", state: .deleted) { clone in
            try runChecked(["sh", "-c", "mv solo solo.real && ln -s solo.real solo"], in: clone.path)
        },
        Change(path: "exe", description: "executable bit dropped", state: .modified) { clone in
            try runChecked(["chmod", "-x", "exe"], in: clone.path)
        },
        Change(path: "empty", description: "given bytes", state: .modified) { clone in
            try runChecked(["sh", "-c", "echo x > empty"], in: clone.path)
        },
    ]

    /// Root only: a file given to another user (its owner no longer the index's).
    static let chowned = Change(path: "d1/f5", description: "given to another user", state: .clean) { clone in
        try runChecked(["chown", "12345:12345", "d1/f5"], in: clone.path)
    }

    static var allChanges: [Change] { changes + (geteuid() == 0 ? [chowned] : []) }

    struct Applied {
        var plan: RestorePlan
        var summary: RestoreSummary
        /// Every tracked path's mtime after the changes (before apply) and after apply.
        var timesBefore: [String: Timestamp]
        var times: [String: Timestamp]
        var statCache: StatCache
        var unverifiedWhenPlanned: Set<String>
        /// The working tree, with a trailing `/`.
        var root: String
    }

    /// Plans (with or without the check under the lease), makes every change before planning or
    /// between plan and apply, applies.
    static func restore(_ clone: GitRepository, checkingWhileSetting: Bool, changing: Bool, afterPlanning: Bool) throws -> Applied {
        if changing && !afterPlanning { for change in allChanges { try change.make(clone) } }
        let session = try RestoreSession(discoveringFrom: clone.path)
        let lock = try session.lock()
        defer { withExtendedLifetime(lock) {} }
        var options = RestoreOptions()
        options.checksIndexedFilesWhileSetting = checkingWhileSetting
        var plan = try session.plan(options)
        let unverified = Set(plan.files.filter { $0.unverified != nil }.map(\.path.description))
        if changing && afterPlanning { for change in allChanges { try change.make(clone) } }
        let timesBefore = try ParallelApplyTests.trackedTimes(clone)
        // Held open for writing: no lease, so the bytes are read back (still HEAD's: set, not recorded).
        let writer = try #require(FileHandle(forWritingAtPath: clone.directory.url("d1/f1")))
        defer { try? writer.close() }
        let summary = try session.apply(&plan)
        return Applied(
            plan: plan, summary: summary, timesBefore: timesBefore, times: try ParallelApplyTests.trackedTimes(clone),
            statCache: StatCache.load(from: StatCache.location(in: BytePath(clone.directory.url(".git")))),
            unverifiedWhenPlanned: unverified, root: clone.path + "/")
    }

    /// What every file must be after apply, whatever the route and whenever the change was made.
    static func expectOutcome(_ applied: Applied, changes: [Change], _ label: String) {
        let changed = Dictionary(uniqueKeysWithValues: changes.map { ($0.path, $0) })
        #expect(applied.plan.files.allSatisfy { $0.unverified == nil }, "\(label): apply resolved every unverified file")
        #expect(applied.summary.changedWhileSetting.isEmpty, "\(label)")
        for file in applied.plan.files where file.mode != 0o120000 {
            let path = file.path.description
            let change = changed[path]
            let expected = change?.state ?? .clean
            #expect(file.state == expected, "\(label): \(path) (\(change?.description ?? "unchanged")) is \(file.state)")
            let record = applied.statCache[file.path]
            if expected == .clean {
                #expect(applied.times[path] == file.commitTime, "\(label): \(path) has its commit time")
                #expect(file.current != nil, "\(label): \(path)")
                // Recorded as it is now (`d1/f1`, held open for writing, after its bytes were read back).
                if let record, let status = try? FileSystem.status(BytePath(applied.root + path)) {
                    #expect(record.matches(status), "\(label): \(path)'s record")
                }
            } else {
                // Left exactly as the change left it, and nothing vouches for it.
                #expect(applied.times[path] == applied.timesBefore[path], "\(label): \(path) (\(change!.description)) was touched")
                #expect(record == nil, "\(label): \(path) (\(change!.description)) is recorded clean")
            }
        }
    }

    @Test func aFreshCloneIsPlannedOnTheIndexAndCheckedUnderTheLease() throws {
        let origin = try IndexCheckedApplyTests.origin()
        let clone = try IndexCheckedApplyTests.clone(of: origin)
        let applied = try IndexCheckedApplyTests.restore(clone, checkingWhileSetting: true, changing: false, afterPlanning: false)
        // Every regular file was left for the lease's check: no `lstat` while planning.
        let regular = Set(applied.plan.files.filter { $0.mode != 0o120000 }.map(\.path.description))
        #expect(applied.unverifiedWhenPlanned == regular, "\(regular.subtracting(applied.unverifiedWhenPlanned))")
        IndexCheckedApplyTests.expectOutcome(applied, changes: [], "untouched clone")
        #expect(applied.summary.filesSet == applied.plan.files.count)
        #expect(applied.statCache.count == applied.plan.files.count, "every file recorded")

        // A warm run has a stat cache: planned with `lstat`s as before, nothing to set.
        let session = try RestoreSession(discoveringFrom: clone.path)
        var options = RestoreOptions()
        options.checksIndexedFilesWhileSetting = true
        var plan = try session.plan(options)
        #expect(plan.files.allSatisfy { $0.unverified == nil && $0.state == .clean })
        #expect(try session.apply(&plan).filesSet == 0)
    }

    /// Each change made before planning: the same states, times and records as planning with an `lstat`.
    @Test func changesBeforePlanningEndAsPlanningWithAnLstatLeavesThem() throws {
        let origin = try IndexCheckedApplyTests.origin()
        let checked = try IndexCheckedApplyTests.restore(
            try IndexCheckedApplyTests.clone(of: origin), checkingWhileSetting: true, changing: true, afterPlanning: false)
        let usual = try IndexCheckedApplyTests.restore(
            try IndexCheckedApplyTests.clone(of: origin), checkingWhileSetting: false, changing: true, afterPlanning: false)
        IndexCheckedApplyTests.expectOutcome(checked, changes: IndexCheckedApplyTests.allChanges, "checked under the lease")
        IndexCheckedApplyTests.expectOutcome(usual, changes: IndexCheckedApplyTests.allChanges, "planned with lstat")
        #expect(checked.summary.filesSet == usual.summary.filesSet && checked.summary.alreadyRight == usual.summary.alreadyRight)
        #expect(checked.summary.changedSincePlanned == usual.summary.changedSincePlanned)
        #expect(checked.plan.files.map(\.state) == usual.plan.files.map(\.state))
        #expect(checked.plan.files.map(\.target) == usual.plan.files.map(\.target))
        #expect(checked.statCache.count == usual.statCache.count)
    }

    /// Each change made after planning, before apply (the window the lease's check closes): apply
    /// plans the file again, as a plan made then would have.
    @Test func changesBetweenPlanAndApplyArePlannedAgain() throws {
        let origin = try IndexCheckedApplyTests.origin()
        let clone = try IndexCheckedApplyTests.clone(of: origin)
        let applied = try IndexCheckedApplyTests.restore(clone, checkingWhileSetting: true, changing: true, afterPlanning: true)
        for change in IndexCheckedApplyTests.allChanges {
            #expect(applied.unverifiedWhenPlanned.contains(change.path), "\(change.path) was planned on its index entry")
        }
        IndexCheckedApplyTests.expectOutcome(applied, changes: IndexCheckedApplyTests.allChanges, "changed after planning")
        #expect(applied.summary.changedSincePlanned.isEmpty)
        // git agrees on which files differ, but for the rewrite whose mtime was put back: git compares
        // ctimes in whole seconds, and it was made in the second the index was refreshed.
        let dirty = Set(
            try clone.git("status", "--porcelain", "--untracked-files=no").split(separator: "\n").map { String($0.dropFirst(3)) })
        let found = Set(applied.plan.files.filter { $0.state != .clean }.map(\.path.description))
        #expect(
            dirty.isSubset(of: found) && found.subtracting(dirty).isSubset(of: ["d0/f3"]),
            "restore: \(found.sorted()), git: \(dirty.sorted())")
    }

    /// Held open for writing elsewhere (no lease), a file that `core.autocrlf` checked out with CRLF
    /// reads back as other bytes than HEAD's blob: through the filters they are HEAD's, so it keeps
    /// its commit time and is not reported as written while set.
    @Test func aFilteredFileReadBackWithoutALeaseIsStillClean() throws {
        let origin = try GitRepository(label: "index-checked-crlf")
        try origin.write("text", "one\ntwo\n")
        try origin.write("plain", "plain\n")
        try origin.commit("first")
        let clone = try GitRepository(cloning: origin.path, label: "index-checked-crlf-clone", arguments: ["-c", "core.autocrlf=true"])
        try runChecked(["sh", "-c", "touch -d @1500000000 text plain && git update-index -q --refresh"], in: clone.path)
        #expect(try FileSystem.readFile(BytePath(clone.directory.url("text"))) == Array("one\r\ntwo\r\n".utf8))
        let writer = try #require(FileHandle(forWritingAtPath: clone.directory.url("text")))
        defer { try? writer.close() }
        let session = try RestoreSession(discoveringFrom: clone.path)
        var options = RestoreOptions()
        options.checksIndexedFilesWhileSetting = true
        var plan = try session.plan(options)
        #expect(plan.files.allSatisfy { $0.unverified != nil })
        let summary = try session.apply(&plan)
        #expect(summary.changedWhileSetting.isEmpty && summary.filesSet == 2)
        #expect(try modificationTime(clone.directory.url("text")) == plan.files.first { $0.path == BytePath("text") }?.commitTime)
    }

    /// Without CAP_DAC_OVERRIDE a file may turn out unreadable: planned with `lstat`s as before, so an
    /// unreadable changed file fails the run before anything is set (`restore --help`).
    @Test func withoutTheCapabilitiesTheRouteIsNotTaken() throws {
        let origin = try IndexCheckedApplyTests.origin()
        let clone = try IndexCheckedApplyTests.clone(of: origin)
        try runChecked(["sh", "-c", "printf 'D1 F4 FIRST\\n' > d1/f4 && chmod 000 d1/f4"], in: clone.path)
        let before = try ParallelApplyTests.trackedTimes(clone)
        let result = try run(
            ["setpriv", "--bounding-set=-dac_override,-dac_read_search", builtProduct("git-mtime"), "restore"], in: clone.path)
        #expect(result.status == 1 && result.stderr.contains("d1/f4"), "\(result.stderr)")
        #expect(try ParallelApplyTests.trackedTimes(clone) == before, "nothing was set")
    }

    /// An entry not older than the index file (racily clean) can't vouch for its file: planned with
    /// an `lstat` (and hashed) as before.
    @Test func racilyCleanEntriesAreNotLeftToTheLease() throws {
        let origin = try IndexCheckedApplyTests.origin()
        let clone = try IndexCheckedApplyTests.clone(of: origin)
        try runChecked(["touch", "-d", "@1500000000", ".git/index"], in: clone.path)
        try runChecked(["sh", "-c", "printf 'D0 F2 FIRST\\n' > d0/f2 && touch -d @1500000000 d0/f2"], in: clone.path)
        let session = try RestoreSession(discoveringFrom: clone.path)
        var options = RestoreOptions()
        options.checksIndexedFilesWhileSetting = true
        var plan = try session.plan(options)
        #expect(plan.files.allSatisfy { $0.unverified == nil })
        #expect(plan.files.first { $0.path == BytePath("d0/f2") }?.state == .modified)
        _ = try session.apply(&plan)
        #expect(try modificationTime(clone.directory.url("d0/f2")) == Timestamp(seconds: 1_500_000_000))
    }
}
