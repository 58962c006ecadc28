import Foundation
import MtimeCore
import Synchronization
import Testing
import TestSupport

/// The held-directory lock (`FileLock(exclusive:in:waiting:)`), which guarded builds sharing an output
/// directory take. flock locks belong to an open file description, so two locks taken in one process
/// exclude each other exactly as two processes' do.
@Suite struct FileLockTests {
    let directory = TemporaryDirectory("core-file-lock")
    let name = BytePath("..stamp.lock")

    func held() throws -> HeldDirectory { try HeldDirectory(opening: BytePath(directory.path)) }

    @Test func theLockFileExistsOnlyWhileHeld() throws {
        var lock: FileLock? = try FileLock(exclusive: name, in: try held()) { Issue.record("nobody held it") }
        #expect(FileManager.default.fileExists(atPath: directory.url("..stamp.lock")))
        #expect(lock?.path == BytePath(directory.url("..stamp.lock")))
        lock = nil
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
    }

    /// A holder that was killed left its file behind: the next one takes it, then removes it.
    @Test func aFileLeftByAKilledHolderIsTakenOver() throws {
        #expect(FileManager.default.createFile(atPath: directory.url("..stamp.lock"), contents: Data("x".utf8)))
        do { _ = try FileLock(exclusive: name, in: try held()) { Issue.record("nobody held it") } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
    }

    /// What the context (or a build) put at the name instead of a regular file is never opened or
    /// followed: a symlink, FIFO or socket is removed (its target untouched) and the lock taken, so a
    /// planted one can't stop every later build; a directory is refused and left as it was.
    @Test func anythingButARegularFileAtTheNameIsRemovedOrRefused() throws {
        let path = directory.url("..stamp.lock")
        let target = directory.url("target-file")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("kept\n".utf8)))
        let planters: [(String, () throws -> Void)] = [
            ("symlink", { try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target) }),
            ("dangling symlink", { try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "missing") }),
            ("FIFO", { #expect(mkfifo(path, 0o600) == 0) }),
        ]
        for (kind, plant) in planters {
            try plant()
            do { _ = try FileLock(exclusive: name, in: try held()) { Issue.record("nobody held it (\(kind))") } }
            #expect(
                !FileManager.default.fileExists(atPath: path) && (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil,
                "a \(kind) left behind")
            #expect(FileManager.default.contents(atPath: target) == Data("kept\n".utf8), "a \(kind)'s target changed")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let before = try FileSystem.status(BytePath(path), followingSymlinks: false)
        let error = #expect(throws: SystemError.self) { _ = try FileLock(exclusive: name, in: try held()) {} }
        #expect(error?.kind == .notRegularFile)
        let after = try FileSystem.status(BytePath(path), followingSymlinks: false)
        #expect(after.isSameFile(as: before) && after.kind == .directory)
    }

    /// A second taker waits, is told once, and gets the lock when the first lets go.
    @Test func aSecondTakerWaitsForTheFirst() throws {
        final class Taker: Sendable {
            let waited = Atomic<Int>(0)
            let acquired = Atomic<Bool>(false)
        }
        var first: FileLock? = try FileLock(exclusive: name, in: try held()) {}
        let taker = Taker()
        let directory = try held()
        let name = name
        let thread = Thread {
            let lock = try? FileLock(exclusive: name, in: directory) { taker.waited.add(1, ordering: .relaxed) }
            taker.acquired.store(lock != nil, ordering: .relaxed)
        }
        thread.start()
        while taker.waited.load(ordering: .relaxed) == 0 { usleep(1000) }
        usleep(50_000)
        let takenEarly = taker.acquired.load(ordering: .relaxed)
        #expect(!takenEarly, "taken while the first still held it")
        withExtendedLifetime(first) {}
        first = nil
        while !taker.acquired.load(ordering: .relaxed) { usleep(1000) }
        let waits = taker.waited.load(ordering: .relaxed)
        #expect(waits == 1)
    }

    /// The class: many takers, each removing the file as it lets go, never hold the lock at once
    /// (a taker left holding a removed file while a newcomer locks a new one would).
    @Test func takersThatRemoveTheFileNeverOverlap() throws {
        let directory = try held()
        let name = name
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let rounds = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            for _ in 0..<200 {
                guard let lock = try? FileLock(exclusive: name, in: directory, waiting: {}) else {
                    overlaps.add(1000, ordering: .relaxed)
                    return
                }
                if inside.add(1, ordering: .relaxed).newValue != 1 { overlaps.add(1, ordering: .relaxed) }
                sched_yield()
                inside.subtract(1, ordering: .relaxed)
                rounds.add(1, ordering: .relaxed)
                withExtendedLifetime(lock) {}
            }
        }
        let (overlapping, done) = (overlaps.load(ordering: .relaxed), rounds.load(ordering: .relaxed))
        #expect(overlapping == 0)
        #expect(done == 1200)
        #expect(try FileManager.default.contentsOfDirectory(atPath: self.directory.path) == [])
    }
}
