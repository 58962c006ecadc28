import Foundation
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// What only shows with thousands of files: the `lstat`s taken on several threads, and a stat cache
/// left as it is when a commit adds only a few records.
@Suite struct RestoreAtScaleTests {
    /// Enough files for `WorkingTreeFiles.statuses` to use several threads.
    static let fileCount = 3 * PreloadedStatuses.minimumPathsPerThread + 500

    /// Every path's answer (a status, absent, or an error) is the serial `lstat`'s, whatever the
    /// number of threads and wherever an error falls in a thread's run.
    @Test func preloadedStatusesAreTheSerialOnesOnAnyNumberOfThreads() throws {
        let root = TemporaryDirectory("preload")
        var paths: [BytePath?] = []
        for index in 0..<RestoreAtScaleTests.fileCount {
            let path = String(format: "d%02d/e%02d/f%05d", index % 37, index % 11, index)
            try FileManager.default.createDirectory(
                atPath: root.url((path as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
            if index % 97 != 0 { try Data("\(index)\n".utf8).write(to: URL(fileURLWithPath: root.url(path))) }  // else absent
            paths.append(BytePath(path))
        }
        // Below a symlinked directory (unreachable), below a file, a directory where a file is
        // tracked, a name too long for the file system (an error, in the middle of a run), skipped.
        try FileManager.default.createSymbolicLink(atPath: root.url("link"), withDestinationPath: root.url("d01"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: root.url("plain")))
        paths.insert(BytePath("link/e01/f00001"), at: 10)
        paths.insert(BytePath("plain/below"), at: 2500)
        paths.insert(BytePath("d03"), at: 4000)
        paths.insert(BytePath("d05/" + String(repeating: "n", count: 300)), at: 3000)
        paths.insert(BytePath("d05/" + String(repeating: "m", count: 300)), at: 6500)
        paths.insert(nil, at: 5000)
        // Names no single directory entry can have: refused (EINVAL) as the serial walk refuses them.
        paths.insert(BytePath("d07/.."), at: 700)
        paths.insert(BytePath("d07/."), at: 1100)
        paths.insert(BytePath("d08/"), at: 1500)
        paths.insert(BytePath(""), at: 5500)

        let serialFiles = try WorkingTreeFiles(root: BytePath(root.path))
        let serial = paths.map { path in path.map { path in Result { () throws(SystemError) in try serialFiles.status(path) } } }
        #expect(serial.contains { if case .some(.failure) = $0 { true } else { false } })
        #expect(serial.contains { if case .some(.success(.none)) = $0 { true } else { false } })
        for threads in [1, 2, 3, 4] {
            let files = try WorkingTreeFiles(root: BytePath(root.path))
            let preloaded = WorkingTreeFiles.statuses(of: paths, in: files.tree, threads: threads)
            expectSerialAnswers(preloaded, serial, paths, "\(threads) threads")
        }
    }

    /// A whole-tree restore of thousands of files (statuses taken on several threads while the
    /// history is walked) gives every clean file git's time and leaves exactly what `git status`
    /// reports alone; then a commit of one file leaves the stat cache file as it is (the next run
    /// hashes that file instead), and a commit of many rewrites it.
    @Test func aLargeTreeIsRestoredAsGitSeesItAndAFewNewRecordsWaitForALaterRewrite() throws {
        let repository = try GitRepository(label: "at-scale")
        for index in 0..<RestoreAtScaleTests.fileCount {
            try repository.write(String(format: "src/m%02d/f%05d.c", index % 43, index), "int f\(index);\n")
        }
        try repository.commit("all")
        for index in stride(from: 0, to: RestoreAtScaleTests.fileCount, by: 7) {
            try repository.write(String(format: "src/m%02d/f%05d.c", index % 43, index), "int g\(index);\n")
        }
        try repository.commit("some")
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)  // settles racily clean records
        try expectAllAtLastChange(repository)

        // Changed on disk in the middle and at the ends of the path order; a directory swapped for a symlink.
        let modified = ["src/m00/f00000.c", "src/m21/f04321.c", "src/m42/f06492.c"]
        for path in modified { try repository.write(path, "changed\n") }
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m17"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("src/m17"), withDestinationPath: "m18")
        let status = try repository.git("status", "--porcelain").split(separator: "\n").map { String($0.dropFirst(3)) }
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        let reported = result.stdout.split(separator: "\n").compactMap { line -> String? in
            for prefix in ["modified: ", "deleted: "] where line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            return nil
        }
        // git lists the symlink as untracked and its old files as deleted; restore reports the files.
        #expect(Set(reported) == Set(status.filter { $0 != "src/m17" }))
        #expect(Set(modified).isSubset(of: Set(reported)))
        #expect(reported.count == modified.count + (0..<RestoreAtScaleTests.fileCount).filter { $0 % 43 == 17 }.count)
        try FileManager.default.removeItem(atPath: repository.directory.url("src/m17"))
        try repository.git("checkout", "-q", "--", ".")
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        try expectAllAtLastChange(repository)

        // One file committed: restore sets its time and records it, but does not rewrite every record.
        let location = BytePath(repository.directory.url(".git/git-mtime/stat-cache"))
        let settled = try FileSystem.status(location)
        try repository.write("src/m01/f00001.c", "one commit\n")
        try repository.commit("one")
        let one = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(summaryValue(one.stdout, "files set") == "1")
        #expect(try FileSystem.status(location) == settled)
        let path = repository.directory.url("src/m01/f00001.c")
        let restored = try modificationTime(path)
        #expect(StatCache.load(from: location)[BytePath("src/m01/f00001.c")]?.modificationTime != restored)
        try expectAllAtLastChange(repository)
        // Unrecorded, the file is hashed: a rewrite with its mtime forced back is still found.
        try repository.write("src/m01/f00001.c", "one commiT\n")
        try setTime(path, restored)
        let forced = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(forced.stdout.contains("modified: src/m01/f00001.c"))
        try repository.write("src/m01/f00001.c", "one commit\n")

        // Many files committed: worth a rewrite, which records them all.
        for index in stride(from: 2, to: RestoreAtScaleTests.fileCount, by: 50) {
            try repository.write(String(format: "src/m%02d/f%05d.c", index % 43, index), "int h\(index);\n")
        }
        try repository.commit("many")
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try FileSystem.status(location) != settled)
        let recorded = StatCache.load(from: location)[BytePath("src/m02/f00002.c")]
        #expect(recorded?.modificationTime == (try modificationTime(repository.directory.url("src/m02/f00002.c"))))
        try expectAllAtLastChange(repository)
    }

    /// Files verified on several threads without reading them, then the rest in path order on one
    /// (`RestoreSession.verify`), are planned exactly as on one thread: every state, hashed files
    /// (a rewrite of the same size, a touched file), the identifying mode, parts of any size.
    @Test func filesVerifiedOnSeveralThreadsArePlannedAsOnOne() throws {
        let repository = try GitRepository(label: "verify-threads")
        for index in 0..<RestoreAtScaleTests.fileCount {
            try repository.write(String(format: "src/m%02d/f%05d.c", index % 43, index), "int f\(index);\n")
        }
        try repository.write("link", "target\n")
        try repository.commit("all")
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)  // settles racily clean records
        func path(_ index: Int) -> String { String(format: "src/m%02d/f%05d.c", index % 43, index) }
        for index in stride(from: 3, to: RestoreAtScaleTests.fileCount, by: 101) { try repository.write(path(index), "int F\(index);\n") }
        for index in stride(from: 5, to: RestoreAtScaleTests.fileCount, by: 103) { try repository.write(path(index), "longer \(index)\n") }
        for index in stride(from: 7, to: RestoreAtScaleTests.fileCount, by: 107) {
            try FileManager.default.removeItem(atPath: repository.directory.url(path(index)))
        }
        for index in stride(from: 11, to: RestoreAtScaleTests.fileCount, by: 109) {
            try setTime(repository.directory.url(path(index)), Timestamp(seconds: 1_000_000_000, nanoseconds: 0))
        }
        for index in stride(from: 13, to: RestoreAtScaleTests.fileCount, by: 211) {
            try repository.write(path(index), "staged \(index)\n")
            try repository.git("add", path(index))
        }
        try runChecked(["chmod", "+x", repository.directory.url(path(17))])
        try FileManager.default.removeItem(atPath: repository.directory.url("link"))
        try FileManager.default.createSymbolicLink(atPath: repository.directory.url("link"), withDestinationPath: "target")
        try repository.write("added.c", "new\n")
        try repository.git("add", "added.c")

        for identifying in [false, true] {
            func plan(threads: Int) throws -> (files: [PlannedFile], shallowBoundaryFiles: Int) {
                let session = try RestoreSession(discoveringFrom: repository.path)
                session.planningThreads = threads
                let plan = try session.plan(RestoreOptions(identifyWorkingTreeBytes: identifying))
                return (plan.files, plan.shallowBoundaryFiles)
            }
            let serial = try plan(threads: 1)
            #expect(Set(serial.files.map(\.state)) == [.clean, .modified, .deleted, .staged], "identifying: \(identifying)")
            #expect(serial.files.count == RestoreAtScaleTests.fileCount + 2)
            #expect(serial.files.filter { $0.state == .clean }.allSatisfy { $0.target != nil })
            for threads in [2, 3, 7] {
                let parallel = try plan(threads: threads)
                #expect(parallel.files == serial.files, "\(threads) threads, identifying: \(identifying)")
                #expect(parallel.shallowBoundaryFiles == serial.shallowBoundaryFiles)
            }
        }
    }

    /// Every tracked file's mtime is the oracle's (`git log -1 --first-parent --format=%ct -- PATH`,
    /// here from one `git log --name-only` for thousands of paths), nanoseconds from the blob id.
    private func expectAllAtLastChange(_ repository: GitRepository, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var lastChange: [String: Int64] = [:]
        var seconds: Int64 = 0
        for line in try repository.git("log", "--first-parent", "--no-renames", "--format=@%ct", "--name-only").split(separator: "\n") {
            if line.hasPrefix("@") {
                seconds = Int64(line.dropFirst())!
            } else if lastChange[String(line)] == nil {
                lastChange[String(line)] = seconds
            }
        }
        let tracked = try trackedPaths(repository.path)
        #expect(tracked.count == lastChange.count, sourceLocation: sourceLocation)
        for file in tracked {
            let expected = Timestamp(commitSeconds: try #require(lastChange[file.path]), objectID: file.objectID)
            #expect(try modificationTime(repository.directory.url(file.path)) == expected, "\(file.path)", sourceLocation: sourceLocation)
        }
    }
}

/// Each position's answer in `preloaded` is the serial `lstat`'s in `serial` (a status, absent or
/// the same error), and a position left out (nil path) falls back to the caller's own `lstat`.
func expectSerialAnswers(
    _ preloaded: PreloadedStatuses, _ serial: [Result<FileStatus?, SystemError>?], _ paths: [BytePath?], _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for (position, expected) in serial.enumerated() {
        var fellBack = false
        let found = Result { () throws(SystemError) in
            try preloaded.status(at: position) { () throws(SystemError) in
                fellBack = true
                return nil
            }
        }
        #expect(fellBack == (expected == nil), "\(label), position \(position)", sourceLocation: sourceLocation)
        switch (expected, found) {
        case (nil, _): break
        case (.success(let status)?, .success(let preloadedStatus)):
            #expect(status == preloadedStatus, "\(label), \(paths[position]!)", sourceLocation: sourceLocation)
        case (.failure(let error)?, .failure(let preloadedError)):
            #expect(error.code == preloadedError.code, "\(label), \(paths[position]!)", sourceLocation: sourceLocation)
        default:
            Issue.record("\(label), \(paths[position]!): \(String(describing: expected)) vs \(found)", sourceLocation: sourceLocation)
        }
    }
}
