import Foundation
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// The stat cache that lets a warm run skip hashing, and the lock between concurrent runs.
@Suite struct RestoreStatCacheTests {
    @Test func aRewriteWithTheOldMtimeForcedBackIsStillFoundDirty() throws {
        let repository = try GitRepository.basic()
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        let path = repository.directory.url("src/main.c")
        let restored = try modificationTime(path)
        let cache = StatCache.load(from: BytePath(repository.directory.url(".git/git-mtime/stat-cache")))
        #expect(cache.records.count == 5)
        #expect(cache[BytePath("src/main.c")]?.modificationTime == restored)

        // Same size, different bytes, mtime put back: only ctime betrays the change.
        try repository.write("src/main.c", "int main(void) { return 2; }\n")
        try setTime(path, restored)
        let before = try contentSnapshot(of: repository.path)
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("modified: src/main.c"))
        #expect(summaryValue(result.stdout, "already right") == "4")
        #expect(try modificationTime(path) == restored)
        #expect(try contentSnapshot(of: repository.path) == before)
        let after = StatCache.load(from: BytePath(repository.directory.url(".git/git-mtime/stat-cache")))
        #expect(after[BytePath("src/main.c")] == nil)
    }

    @Test func aCorruptCacheIsIgnored() throws {
        let repository = try GitRepository.basic()
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        let location = repository.directory.url(".git/git-mtime/stat-cache")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: location))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: location))
        #expect(StatCache.load(from: BytePath(location)).records.isEmpty)
        try repository.write("README.md", "HELLO\n")
        let result = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("modified: README.md"))
        try expectRestored(repository.path, except: ["README.md"])
        #expect(StatCache.load(from: BytePath(location)).records.count == 4)
    }

    /// A warm run that verifies nothing new leaves the settled cache file as it is, and its
    /// answers (and a cold run's, caches removed) stay the same.
    @Test func anUnchangedCacheIsNotRewrittenAndWarmEqualsCold() throws {
        let repository = try GitRepository.basic()
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)  // settles racily clean records
        let location = repository.directory.url(".git/git-mtime/stat-cache")
        let settled = try FileSystem.status(BytePath(location))
        let warm = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(warm.status == 0, "\(warm.stderr)")
        #expect(summaryValue(warm.stdout, "files set") == "0")
        #expect(try FileSystem.status(BytePath(location)) == settled)
        try expectRestored(repository.path)
        let warmTimes = try mtimeSnapshot(repository.path)
        try FileManager.default.removeItem(atPath: repository.directory.url(".git/git-mtime"))
        let cold = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(summaryValue(cold.stdout, "files set") == "0")
        #expect(try mtimeSnapshot(repository.path) == warmTimes)
    }

    /// A cache in the previous layout is replaced by the current one on the next warm run, though
    /// its records are all still right (a warm run otherwise never rewrites a settled cache), and
    /// only once.
    @Test func aCacheInThePreviousLayoutIsRewrittenOnce() throws {
        let repository = try GitRepository.basic()
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)  // settles racily clean records
        let location = BytePath(repository.directory.url(".git/git-mtime/stat-cache"))
        let current = StatCache.load(from: location)
        #expect(current.count == 5 && !current.isInPreviousLayout)
        try FileSystem.writeAtomically(location, contents: StatCacheFormatTests.previousLayout(of: current), durable: false)
        #expect(StatCache.load(from: location).isInPreviousLayout)
        let warm = try gitMtime(["restore", "-v"], in: repository.path)
        #expect(warm.status == 0, "\(warm.stderr)")
        #expect(summaryValue(warm.stdout, "files set") == "0")
        let rewritten = StatCache.load(from: location)
        #expect(!rewritten.isInPreviousLayout && rewritten.hasSameEntries(as: current))
        #expect(try Array(FileSystem.readFile(location).prefix(8)) == StatCache.magic)
        let settled = try FileSystem.status(location)
        #expect(try gitMtime(["restore"], in: repository.path).status == 0)
        #expect(try FileSystem.status(location) == settled)
        try expectRestored(repository.path)
    }

    @Test func entriesOutOfOrderAreSortedAndAPartialPlanMerges() throws {
        let status = try FileSystem.status(BytePath("/"))
        let id = { (byte: String) in StatCache.Record(status, objectID: ObjectID(hex: String(repeating: byte, count: 20))!) }
        var builder = StatCache.Builder()
        builder.append(BytePath("b"), id("01"))
        builder.append(BytePath("a/z"), id("02"))
        builder.append(BytePath("b"), id("03"))
        let built = builder.cache
        #expect((0..<built.count).map { built.path(at: $0) } == [BytePath("a/z"), BytePath("b")])
        #expect(built[BytePath("b")] == id("03"))
        var newer = StatCache.Builder()
        newer.append(BytePath("a"), id("04"))
        newer.append(BytePath("b"), id("05"))
        let merged = built.merging(newer.cache)
        #expect((0..<merged.count).map { merged.path(at: $0) } == [BytePath("a"), BytePath("a/z"), BytePath("b")])
        #expect(merged[BytePath("b")] == id("05") && merged[BytePath("a/z")] == id("02"))
        let hint = StatCache.LookupHint()
        #expect(merged.index(of: BytePath("a"), hint: hint) == 0 && merged.index(of: BytePath("a/z"), hint: hint) == 1)
        #expect(merged.index(of: BytePath("a/y"), hint: hint) == nil && merged.index(of: BytePath("b"), hint: hint) == 2)
    }

    /// `StatCache.Changes`, fed a run's records one at a time, decides as a plain count over the
    /// whole old and new caches would: random caches around the rewrite thresholds (one change in
    /// `rewriteFraction`, unrecorded bytes against the file's size), settled or not, merged or replacing.
    @Test(arguments: 0..<300) func changesCountedAsTheyComeDecideAsTheWholeCachesWould(seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed))
        let paths = (0..<700).map { BytePath(String(format: "d%02d/f%03d", $0 % 7, $0)) }.sorted()
        let writtenAt = Timestamp(seconds: 1_000)
        func record(_ tag: Int) -> StatCache.Record {
            StatCache.Record(
                device: 1, inode: UInt64(tag), size: Int64.random(in: 0...(seed % 3 == 0 ? 200_000 : 100), using: &random),
                modificationTime: writtenAt, changeTime: Timestamp(seconds: Int.random(in: 0..<400, using: &random) == 0 ? 1_000 : 990),
                mode: 0o100644, objectID: .zero)
        }
        var previousEntries: [BytePath: StatCache.Record] = [:]
        for path in paths where Int.random(in: 0..<10, using: &random) < 8 { previousEntries[path] = record(0) }
        var builder = StatCache.Builder()
        for path in previousEntries.keys.sorted() { builder.append(path, previousEntries[path]!) }
        var previous = builder.cache
        previous.writtenAt = seed % 11 == 0 ? nil : writtenAt
        // Most runs give back nearly what the cache holds; a few differ a lot.
        let churn = [0, 1, 2, 3, 50][seed % 5]
        var given: [(BytePath, StatCache.Record)] = []
        for path in paths {
            let keep =
                previousEntries[path] != nil
                ? Int.random(in: 0..<700, using: &random) >= churn : Int.random(in: 0..<700, using: &random) < churn
            guard keep else { continue }
            let changed = previousEntries[path] == nil || Int.random(in: 0..<700, using: &random) < churn
            given.append((path, changed ? record(1) : previousEntries[path]!))
        }
        if seed % 7 == 0, given.count > 1 { given.swapAt(0, given.count - 1) }
        for replacingAll in [true, false] {
            var changes = StatCache.Changes(against: previous, replacingAll: replacingAll)
            for (path, record) in given { changes.add(path, record) }
            guard seed % 7 != 0 || given.count < 2 else {
                #expect(changes.areWorthWriting == nil)
                continue
            }
            var newEntries = replacingAll ? [:] : previousEntries
            for (path, record) in given { newEntries[path] = record }
            var count = previousEntries.keys.filter { newEntries[$0] == nil }.count, bytes = 0
            for (path, record) in newEntries where previousEntries[path] != record || !previous.isSettled(record) {
                count += 1
                bytes += Int(record.size)
            }
            let pathBytes = newEntries.keys.map(\.bytes.count).reduce(0, +)
            let expected =
                count > 0
                && (count * StatCache.rewriteFraction > max(newEntries.count, previousEntries.count)
                    || bytes > StatCache.sizeBound(count: newEntries.count, pathBytes: pathBytes))
            #expect(changes.areWorthWriting == expected, "replacingAll \(replacingAll): \(count) changes, \(bytes) bytes")
        }
    }

    @Test func theCacheRoundTripsEveryField() throws {
        var cache = StatCache()
        let status = try FileSystem.status(BytePath("/"))
        cache[BytePath([0x61, 0x0A, 0xFF])] = StatCache.Record(status, objectID: ObjectID(hex: String(repeating: "ab", count: 20))!)
        cache[BytePath("a")] = StatCache.Record(status, objectID: ObjectID(hex: String(repeating: "cd", count: 20))!)
        #expect(cache.count == 2 && cache.path(at: 0) == BytePath("a"))
        let decoded = try #require(StatCache.decode(cache.encode()))
        #expect(decoded.hasSameEntries(as: cache))
        #expect(StatCache.decode(Array(cache.encode().dropLast())) == nil)
    }

    /// A cache large enough that its checksum is verified on another thread while it is decoded:
    /// read back whole when intact, refused when any byte of it or of its trailer changed.
    @Test func aLargeCacheIsReadOnlyWhenItsChecksumHolds() throws {
        let status = try FileSystem.status(BytePath("/"))
        var builder = StatCache.Builder()
        for index in 0..<6000 {
            let id = try #require(ObjectID(hex: String(repeating: String(format: "%02x", index % 256), count: 20)))
            builder.append(BytePath(String(format: "src/dir%03d/file-%05d.c", index / 100, index)), StatCache.Record(status, objectID: id))
        }
        let cache = builder.cache
        let bytes = cache.encode()
        #expect(bytes.count >= Checksum.concurrentTrailerSize, "\(bytes.count) bytes: not large enough to take the concurrent path")
        #expect(try #require(StatCache.decode(bytes)).hasSameEntries(as: cache))
        for position in [StatCache.magic.count + 4 + 30, bytes.count / 2, bytes.count - 21, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x01
            #expect(StatCache.decode(damaged) == nil, "byte \(position) of \(bytes.count) changed")
        }
        // A record's device number changed: still a well-formed cache, refused for its checksum alone.
        var changed = bytes
        changed[StatCache.magic.count + 4 + 4 + 28] ^= 0x01
        #expect(StatCache.decode(changed) == nil)
        changed.replaceSubrange((changed.count - 20)..., with: Checksum.sha1(changed.dropLast(20)).bytes)
        let reread = try #require(StatCache.decode(changed), "the same bytes with their checksum recomputed are read")
        #expect(reread.count == cache.count && !reread.hasSameEntries(as: cache))
    }

    @Test func concurrentRestoresDoNotInterleave() throws {
        let repository = try GitRepository.basic()
        let before = try contentSnapshot(of: repository.path)
        let results = try [0, 1].map { _ in
            try Subprocess([builtProduct("git-mtime"), "restore", "-C", repository.path], stdout: .discard)
        }.map { process in
            let result = process.wait()
            return (result.status, result.stderr)
        }
        for (status, message) in results {
            #expect(status == 0 || (status == 75 && message.contains("another git-mtime restore is running")), "\(message)")
        }
        #expect(results.contains { $0.0 == 0 })
        try expectRestored(repository.path)
        #expect(try contentSnapshot(of: repository.path) == before)
    }

    @Test func aHeldLockMakesTheSecondRunGiveUpCleanly() throws {
        let repository = try GitRepository.basic()
        try FileSystem.createDirectory(BytePath(repository.directory.url(".git/git-mtime")))
        let lock = try #require(try FileLock(exclusive: BytePath(repository.directory.url(".git/git-mtime/lock")), timeout: 1))
        let before = try mtimeSnapshot(repository.path)
        let result = try gitMtime(["restore"], in: repository.path)
        #expect(result.status == 75)
        #expect(result.stderr.contains("another git-mtime restore is running"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try mtimeSnapshot(repository.path) == before)
        withExtendedLifetime(lock) {}
    }
}
