import Foundation
import GitKit
import MtimeCore
@testable import MtimeHistory
import Testing
import TestSupport

/// Snapshots written under `GIT_MTIME_CACHE_KEY` carry a MAC beside them; a run holding the same key
/// uses them without `SnapshotCheck`, any other run (another key, none, a MAC or snapshot altered by
/// a single byte) checks them as ever, and every run gives exactly the cold answer.
@Suite struct KeyedCacheTests {
    static let keyA = CacheKey(Array("key A, long enough to use".utf8))!
    static let keyB = CacheKey(Array("key B, long enough to use".utf8))!

    private func run(_ directory: String, mode: HistoryMode = .firstParent, cache: String, key: CacheKey?) throws -> HistoryResult {
        try HistoryEngine(
            repository: try Repository(discoveringFrom: directory), mode: mode, cacheDirectory: BytePath(cache), cacheKey: key
        ).run()
    }

    /// The digests the clone's own directory lists as checked (empty: it checked nothing).
    private func checked(_ clone: GitRepository) -> [String] {
        let list = clone.directory.url(".git/git-mtime/\(HistoryCache.trustListName)")
        return ((try? String(contentsOfFile: list, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// A private copy of `source`: a run that rejects a snapshot writes its own in its place.
    private func copy(_ source: TemporaryDirectory, _ label: String) throws -> TemporaryDirectory {
        let copy = TemporaryDirectory(label)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(atPath: source.url(name), toPath: copy.url(name))
        }
        return copy
    }

    /// A random history, its cold answer, and a cache directory a run with key A wrote (its snapshot's name).
    private func keyedCache(_ label: String, seed: UInt64) throws -> (GitRepository, HistoryResult, TemporaryDirectory, String) {
        let origin = try GitRepository(label: "\(label)-origin")
        try makeRandomHistory(in: origin, seed: seed, commits: 40)
        let shared = TemporaryDirectory(label)
        _ = try run(origin.path, cache: shared.path, key: Self.keyA)
        return (origin, try runEngine(origin.path), shared, "history-v2-first-parent-\(try head(origin))")
    }

    private func head(_ repo: GitRepository) throws -> String {
        try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: HistoryMode.allCases)
    func theKeyHolderSkipsTheCheckAndEveryoneGetsTheColdAnswer(mode: HistoryMode) throws {
        let origin = try GitRepository(label: "keyed-origin")
        try makeRandomHistory(in: origin, seed: mode == .firstParent ? 71 : 72, commits: 80)
        let cold = try runEngine(origin.path, mode: mode)
        let shared = TemporaryDirectory("keyed-shared")
        let writer = try run(origin.path, mode: mode, cache: shared.path, key: Self.keyA)
        #expect(writer.files == cold.files)
        let name = "history-v2-\(mode.rawValue)-\(try head(origin))"
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: shared.path).filter { $0.hasPrefix("history-") }.sorted() == [
                name, name + ".mac",
            ])

        // The MAC is HMAC-SHA1 over a label and the whole file, as Python's hmac computes it.
        let script = """
            import hmac, hashlib, sys
            data = open(sys.argv[1], "rb").read()
            print("hmac-sha1 " + hmac.new(sys.argv[2].encode(), b"git-mtime history snapshot\\n" + data, hashlib.sha1).hexdigest())
            """
        let python = try runChecked(["python3", "-c", script, shared.url(name), "key A, long enough to use"])
        #expect(try String(contentsOfFile: shared.url(name + ".mac"), encoding: .utf8) == python.stdout)

        for (label, key) in [("A", Self.keyA), ("B", Self.keyB), ("none", nil)] as [(String, CacheKey?)] {
            let clone = try GitRepository.freshClone(of: origin, label: "keyed-clone-\(label)")
            let directory = try copy(shared, "keyed-copy-\(label)")
            let result = try run(clone.path, mode: mode, cache: directory.path, key: key)
            #expect(result.usedCache && result.commitsWalked == 0, "key \(label)")
            #expect(result.files == cold.files, "key \(label)")
            // Only the holder of key A skipped the check; the others checked it and listed it.
            #expect(checked(clone).count == (label == "A" ? 0 : 1), "key \(label)")
        }
    }

    /// A forged answer MACed under key A: the holder of A trusts it (that is the trust model: only
    /// trusted writers hold the key); under key B or without a key it is checked and rejected.
    @Test(arguments: HistoryMode.allCases)
    func aForgeryUnderAnotherKeyIsCheckedAndRejected(mode: HistoryMode) throws {
        let origin = try GitRepository(label: "keyed-forged-origin")
        try makeRandomHistory(in: origin, seed: mode == .firstParent ? 73 : 74, commits: 60)
        let cold = try runEngine(origin.path, mode: mode)
        let head = ObjectID(hex: try head(origin))!
        var entries: [(path: BytePath, change: Change)] = cold.files.compactMap { file in
            file.lastChange.map { (file.path, Change(lastChange: $0, isMerge: false)) }
        }
        if mode == .all {
            let merges = Set(try origin.git("rev-list", "--merges", "HEAD").split(separator: "\n").map { ObjectID(hex: $0)! })
            for index in entries.indices { entries[index].change.isMerge = merges.contains(entries[index].change.lastChange.commit) }
        }
        let victimPath = entries[entries.count / 2].path
        let index = entries.firstIndex { $0.path == victimPath }!
        entries[index].change.lastChange.committerTime -= 86_400
        let forged = TemporaryDirectory("keyed-forged")
        HistoryCache(directory: BytePath(forged.path), mode: mode, boundary: HistoryCache.boundary(of: []), key: Self.keyA)
            .store(head, entries)
        let forgedDigest = try Data(contentsOf: URL(fileURLWithPath: forged.url("history-v2-\(mode.rawValue)-\(head.hex)")))
            .suffix(ObjectID.byteCount).map { String(format: "%02x", $0) }.joined()

        for (label, key) in [("B", Self.keyB), ("none", nil), ("A", Self.keyA)] as [(String, CacheKey?)] {
            let clone = try GitRepository.freshClone(of: origin, label: "keyed-forged-\(label)")
            let directory = try copy(forged, "keyed-forged-copy-\(label)")
            let result = try run(clone.path, mode: mode, cache: directory.path, key: key)
            let time = result.files.first { $0.path == victimPath }!.lastChange!.committerTime
            if label == "A" {
                #expect(result.usedCache && result.commitsWalked == 0 && time == entries[index].change.lastChange.committerTime)
            } else {
                #expect(!result.usedCache && result.files == cold.files, "key \(label)")
                #expect(!checked(clone).contains(forgedDigest), "key \(label): rejected, so not listed")
            }
        }
    }

    /// One flipped byte anywhere: in the snapshot (its trailer fails: removed), in the snapshot with
    /// the trailer made right again (the MAC fails: checked, rejected), or in the MAC (checked, passes).
    @Test func oneFlippedByteIsNeverTrusted() throws {
        let (origin, cold, shared, name) = try keyedCache("keyed-flip", seed: 75)
        let snapshot = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shared.url(name))))
        let mac = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shared.url(name + ".mac"))))
        var random = SeededGenerator(seed: 76)
        // The first change's committer time: after magic, version, mode, commit, boundary, counts and its id.
        let firstTime = 18 + 4 + 1 + 20 + 20 + 4 + 4 + 20
        for round in 0..<12 {
            let directory = try copy(shared, "keyed-flip-\(round)")
            var bytes = snapshot, macBytes = mac
            let kind = round % 3
            switch kind {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1:
                bytes[firstTime + Int.random(in: 0..<8, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                let body = Array(bytes.dropLast(ObjectID.byteCount))
                bytes = body + Checksum.sha1(body).bytes
            default: macBytes[Int.random(in: 0..<macBytes.count, using: &random)] ^= UInt8.random(in: 1...127, using: &random)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: directory.url(name)))
            try Data(macBytes).write(to: URL(fileURLWithPath: directory.url(name + ".mac")))
            let clone = try GitRepository.freshClone(of: origin, label: "keyed-flip-clone-\(round)")
            let result = try run(clone.path, cache: directory.path, key: Self.keyA)
            #expect(result.files == cold.files, "round \(round)")
            #expect(result.usedCache == (kind == 2), "round \(round)")
            if kind == 2 { #expect(checked(clone).count == 1, "round \(round): checked, not trusted") }
        }
    }

    /// A MAC sidecar that is not a regular file (a FIFO would block a reader, a directory fails to
    /// read, a symlink is not followed) counts as no MAC: the snapshot is checked, never waited on.
    @Test func aSidecarThatIsNoRegularFileCountsAsNoMAC() throws {
        let (origin, cold, shared, name) = try keyedCache("keyed-odd", seed: 77)
        for kind in ["fifo", "directory", "symlink"] {
            let directory = try copy(shared, "keyed-odd-\(kind)")
            let mac = directory.url(name + ".mac")
            try FileManager.default.moveItem(atPath: mac, toPath: directory.url("real-mac"))
            switch kind {
            case "fifo": try runChecked(["mkfifo", mac])
            case "directory": try FileManager.default.createDirectory(atPath: mac, withIntermediateDirectories: false)
            default: try FileManager.default.createSymbolicLink(atPath: mac, withDestinationPath: "real-mac")
            }
            let clone = try GitRepository.freshClone(of: origin, label: "keyed-odd-clone-\(kind)")
            let result = try run(clone.path, cache: directory.path, key: Self.keyA)
            #expect(result.usedCache && result.files == cold.files, "\(kind)")
            #expect(checked(clone).count == 1, "\(kind): checked, not trusted")
        }
    }

    @Test func shortKeysAreRefusedAndNoKeyIsPrinted() {
        #expect(CacheKey([UInt8](repeating: 7, count: CacheKey.minimumLength - 1)) == nil)
        #expect(CacheKey([]) == nil)
        let key = CacheKey(Array("secret-secret-secret".utf8))!
        #expect(!"\(key)".contains("secret") && !String(reflecting: key).contains("secret"))
    }

    /// Pruning keeps the MACs of the snapshots it keeps and removes the others'.
    @Test func pruningRemovesTheMACsOfPrunedSnapshots() throws {
        let repo = try GitRepository(label: "keyed-prune")
        let shared = TemporaryDirectory("keyed-prune-cache")
        for round in 0..<(HistoryCache.keep + 3) {
            // Every file changes: each walk ends at HEAD, before any snapshot, so each run writes one
            // (one that reached a snapshot within `HistoryEngine.snapshotInterval` commits would not).
            for file in 0..<3 { try repo.write("file\(file)", "round \(round)\n") }
            try repo.commit("round \(round)")
            _ = try run(repo.path, cache: shared.path, key: Self.keyA)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: shared.path).filter { $0.hasPrefix("history-") }
        let snapshots = Set(names.filter { !$0.hasSuffix(".mac") })
        #expect(snapshots.count == HistoryCache.keep)
        #expect(Set(names.filter { $0.hasSuffix(".mac") }.map { String($0.dropLast(4)) }) == snapshots)
    }
}
