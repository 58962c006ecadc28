import Foundation
import Glibc
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// `apply` sets file times on several threads (`RestoreSession.apply(_:threads:)`): whatever the
/// thread count, the summary (counts and path lists in plan order), the stat cache, the times and
/// the error of a failed run are the ones a single thread gives.
@Suite struct ParallelApplyTests {
    /// About 3,000 files over three commits (so their times differ), symlinks, and two names of one
    /// file committed at different times (`a-link`, `z-link`: hard-linked in each clone).
    static func origin() throws -> GitRepository {
        let repo = try GitRepository(label: "parallel-apply")
        for directory in 0..<60 {
            for file in 0..<50 { try repo.write("d\(directory)/f\(file)", "d\(directory) f\(file)\n") }
        }
        try repo.write("a-link", "one file, two names\n")
        try repo.commit("first")
        for directory in stride(from: 0, to: 60, by: 3) {
            for file in stride(from: 0, to: 50, by: 7) { try repo.write("d\(directory)/f\(file)", "second \(directory) \(file)\n") }
        }
        try repo.commit("second")
        for directory in 0..<12 {
            try FileManager.default.createSymbolicLink(atPath: repo.directory.url("d\(directory * 5)/link"), withDestinationPath: "f1")
        }
        try repo.write("z-link", "one file, two names\n")
        try repo.commit("third")
        return repo
    }

    /// What one apply did, and the tree's state after it.
    struct Outcome {
        var summary: RestoreSummary
        /// Every tracked path's mtime after apply, and before it for the ones apply left alone.
        var times: [String: Timestamp]
        var timesBefore: [String: Timestamp]
        var statCache: StatCache
        var startedAt: Timestamp
        /// Each file's planned target.
        var targets: [String: Timestamp]
    }

    /// A fresh clone, read-only files and the hard link made, planned; then files changed in each
    /// way apply must notice, two of them held open for writing (no lease), and applied on `threads`.
    static func applyToClone(of origin: GitRepository, threads: Int) throws -> (Outcome, GitRepository) {
        let clone = try GitRepository(cloning: origin.path, label: "parallel-apply-clone")
        for directory in stride(from: 0, to: 60, by: 4) { try runChecked(["chmod", "0444", clone.directory.url("d\(directory)/f9")]) }
        try runChecked(["ln", "-f", "a-link", "z-link"], in: clone.path)
        let session = try RestoreSession(discoveringFrom: clone.path)
        let lock = try session.lock()
        defer { withExtendedLifetime(lock) {} }
        var plan = try session.plan(RestoreOptions(includeDirectories: true))
        #expect(plan.files.allSatisfy { $0.state == .clean }, "\(plan.files.filter { $0.state != .clean }.map(\.path))")

        // Changed since planning: written, removed, its mode changed (only the ctime tells).
        try Data("more\n".utf8).append(toFile: clone.directory.url("d3/f17"))
        try FileManager.default.removeItem(atPath: clone.directory.url("d5/f2"))
        try runChecked(["chmod", "0600", clone.directory.url("d40/f1")])
        // Open for writing elsewhere: no lease, so the bytes are read back. `d9/f3`'s no longer are
        // the verified ones (what a write inside the window leaves), `d50/f4`'s still are.
        let writtenDuringSet = try #require(plan.files.firstIndex { $0.path == BytePath("d9/f3") })
        plan.files[writtenDuringSet].worktreeObjectID = BlobHasher.hash(bytes: Array("other bytes\n".utf8))
        let writers = try ["d9/f3", "d50/f4"].map { try #require(FileHandle(forWritingAtPath: clone.directory.url($0))) }
        defer { for writer in writers { try? writer.close() } }

        let timesBefore = try trackedTimes(clone)
        let startedAt = FileSystem.now()
        let summary = try session.apply(plan, threads: threads)
        let cacheLocation = StatCache.location(in: BytePath(clone.directory.url(".git")))
        let outcome = Outcome(
            summary: summary, times: try trackedTimes(clone), timesBefore: timesBefore,
            statCache: StatCache.load(from: cacheLocation), startedAt: startedAt,
            targets: Dictionary(uniqueKeysWithValues: plan.files.compactMap { file in file.target.map { (file.path.description, $0) } }))
        return (outcome, clone)
    }

    /// The lstat mtime of every tracked path present.
    static func trackedTimes(_ repo: GitRepository) throws -> [String: Timestamp] {
        var times: [String: Timestamp] = [:]
        for path in try repo.git("ls-files", "-z").split(separator: "\0").map(String.init) {
            if let status = try FileSystem.statusIfPresent(BytePath(repo.directory.url(path))) { times[path] = status.modificationTime }
        }
        return times
    }

    @Test func manyThreadsGiveWhatOneThreadGives() throws {
        let origin = try ParallelApplyTests.origin()
        let (serial, serialClone) = try ParallelApplyTests.applyToClone(of: origin, threads: 1)
        let (parallel, parallelClone) = try ParallelApplyTests.applyToClone(of: origin, threads: 4)

        // What a serial loop gives, by construction: `z-link` follows `a-link` in plan order, so
        // setting `a-link` changed its ctime first.
        #expect(
            serial.summary.changedSincePlanned.map(\.description) == ["d3/f17", "d40/f1", "d5/f2", "z-link"],
            "\(serial.summary.changedSincePlanned)")
        #expect(serial.summary.changedWhileSetting == [BytePath("d9/f3")])
        #expect(serial.summary.filesSet == serial.times.count + 1 - 5)  // d5/f2 is gone
        #expect(serial.summary.directoriesSet > 0)
        #expect(serial.summary.statCacheError == nil)
        #expect(parallel.summary == serial.summary)

        let leftAlone: Set<String> = ["d3/f17", "d40/f1"]
        for outcome in [serial, parallel] {
            for path in leftAlone { #expect(outcome.times[path] == outcome.timesBefore[path], "\(path) was left alone") }
            #expect(try #require(outcome.times["d9/f3"]) >= outcome.startedAt, "written while being set: the current time")
            // Left alone too, but it is `a-link`: it has the time `a-link` got.
            #expect(outcome.times["z-link"] == outcome.times["a-link"])
        }
        // Every time apply set is the same; the clones' checkout times (on the files left alone) are not.
        let setHere = serial.times.filter { !leftAlone.contains($0.key) && $0.key != "d9/f3" }
        #expect(setHere.count > 3000)
        #expect(setHere == parallel.times.filter { !leftAlone.contains($0.key) && $0.key != "d9/f3" })
        #expect(parallel.times.keys.sorted() == serial.times.keys.sorted())
        #expect(setHere.allSatisfy { $0.key == "z-link" || $0.value == serial.targets[$0.key] })
        #expect(serial.targets == parallel.targets)

        // The same records, in path order; only what two trees can't share (device, inode, ctime)
        // differs, and each record vouches for its own tree's file as it is now.
        #expect(serial.statCache.count == parallel.statCache.count)
        #expect(serial.statCache.count > 3000)
        #expect(serial.statCache.pathBytes == parallel.statCache.pathBytes)
        #expect(serial.statCache.pathStarts == parallel.statCache.pathStarts)
        for (outcome, clone) in [(serial, serialClone), (parallel, parallelClone)] {
            for index in 0..<outcome.statCache.count {
                let path = outcome.statCache.path(at: index)
                let status = try #require(try FileSystem.statusIfPresent(BytePath(clone.path + "/").appending(path)))
                #expect(outcome.statCache.records[index].matches(status), "\(path)")
            }
        }
        for (one, other) in zip(serial.statCache.records, parallel.statCache.records) {
            #expect(one.objectID == other.objectID && one.modificationTime == other.modificationTime)
            #expect(one.size == other.size && one.mode == other.mode)
        }
        // Recorded: the file held open whose bytes were still the verified ones; not recorded: the
        // other, the changed ones, and the second name of the hard-linked file.
        #expect(serial.statCache[BytePath("d50/f4")] != nil)
        for path in ["d9/f3", "d3/f17", "d40/f1", "d5/f2", "z-link"] { #expect(serial.statCache[BytePath(path)] == nil, "\(path)") }
    }

    /// A file apply can't open (a socket put in a planned file's place) fails the run: the error
    /// names the first such file in plan order, on one thread or many, and every file before it is set.
    @Test func theFirstFailureInPlanOrderIsTheError() throws {
        let origin = try ParallelApplyTests.origin()
        for threads in [1, 2, 4] {
            let clone = try GitRepository(cloning: origin.path, label: "parallel-apply-failure")
            let session = try RestoreSession(discoveringFrom: clone.path)
            let lock = try session.lock()
            defer { withExtendedLifetime(lock) {} }
            let plan = try session.plan(RestoreOptions())
            // One early in the plan, then two soon after where the second (of two) and the fourth (of
            // four) thread start: on several threads, those fail first in time.
            for path in ["d13/f5", "d36/f0", "d51/f0"] {
                try FileManager.default.removeItem(atPath: clone.directory.url(path))
                try bindSocket(at: clone.directory.url(path))
            }
            let thrown = #expect(throws: RestoreError.self) { try session.apply(plan, threads: threads) }
            guard case .system(let error) = thrown else {
                Issue.record("not a system error: \(String(describing: thrown))")
                continue
            }
            #expect(error.path == BytePath(clone.directory.url("d13/f5")), "\(error)")
            #expect(error.kind == Errno(rawValue: ENXIO), "\(error)")
            let before = try #require(plan.files.firstIndex { $0.path == BytePath("d13/f5") })
            for file in plan.files[..<before] {
                #expect(try modificationTime(clone.directory.url(file.path.description)) == file.target, "\(file.path)")
            }
        }
    }

    /// Without CAP_FOWNER, a file someone else owns can't be given a time (EPERM): `restore` fails
    /// naming it, the files before it have their times and the files after it are untouched (as
    /// `restore --help` says), though the files are set on two threads (the CLI's own count here).
    @Test(.enabled(if: geteuid() == 0, "dropping CAP_FOWNER and giving a file to another user needs root"))
    func theFilesAfterOneItMayNotSetAreUntouched() throws {
        let origin = try ParallelApplyTests.origin()
        let clone = try GitRepository(cloning: origin.path, label: "parallel-apply-foreign")
        let paths = try clone.git("ls-files", "-z").split(separator: "\0").map(String.init).sorted()
        try runChecked(["sh", "-c", "git ls-files -z | xargs -0 touch -h -d @1000000000"], in: clone.path)
        let old = Timestamp(seconds: 1_000_000_000)
        // In the first half: the second thread's files all come after it.
        let victim = try #require(paths.indices.first { $0 >= paths.count / 5 && paths[$0].contains("/f") })
        try runChecked(["chown", "12345:12345", clone.directory.url(paths[victim])])

        let result = try run(["setpriv", "--bounding-set=-fowner", builtProduct("git-mtime"), "restore"], in: clone.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains(paths[victim]) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        for (index, path) in paths.enumerated() {
            let time = try modificationTime(clone.directory.url(path))
            if index < victim { #expect(time != old, "\(path), before \(paths[victim]), was not set") }
            if index >= victim { #expect(time == old, "\(path), from \(paths[victim]) on, was set") }
        }
    }

    /// Binds a Unix socket at `path` (opening one fails with ENXIO) and closes it; the node stays.
    func bindSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind \(path): \(String(cString: strerror(errno)))")
    }
}

extension Data {
    /// Appends to an existing file.
    fileprivate func append(toFile path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(self)
    }
}
