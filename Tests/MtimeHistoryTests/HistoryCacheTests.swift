import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

@Suite struct HistoryCacheTests {
    private func cacheFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("history-") }.sorted()
    }

    @Test(arguments: HistoryMode.allCases)
    func warmRunAfterNewCommitsEqualsColdRun(mode: HistoryMode) throws {
        let repo = try GitRepository(label: "history-cache")
        try makeRandomHistory(in: repo, seed: 7, commits: 120)
        let cache = repo.directory.url(".git/git-mtime")
        let first = try runEngine(repo.path, mode: mode, cache: cache)
        #expect(!first.usedCache)
        #expect(try cacheFiles(cache).count == 1)

        let hit = try runEngine(repo.path, mode: mode, cache: cache)
        #expect(hit.usedCache && hit.commitsWalked == 0)
        #expect(hit.files == first.files)

        try repo.write("d/x", "new content\n")
        try repo.write("brand-new", "new file\n")
        try repo.commit("one more")
        try repo.write("d/e/z", "more\n")
        try repo.commit("and another")
        let warm = try runEngine(repo.path, mode: mode, cache: cache)
        let cold = try runEngine(repo.path, mode: mode, cache: nil)
        #expect(warm.usedCache)
        #expect(warm.commitsWalked == 2)
        #expect(warm.files == cold.files)
        let oracle = mode == .firstParent ? try firstParentOracle(repo.path) : try allHistoryOracle(repo.path)
        #expect(mismatches(warm, oracle, entries: try headEntries(repo.path)) == [])

        // A restricted run uses the cache too, and writes no partial snapshot.
        let snapshots = try cacheFiles(cache)
        try repo.write("d/y", "restricted\n")
        try repo.commit("for the restricted run")
        let partial = try runEngine(repo.path, mode: mode, cache: cache, only: [BytePath("d")])
        let partialCold = try runEngine(repo.path, mode: mode, only: [BytePath("d")])
        #expect(partial.usedCache)
        #expect(partial.files == partialCold.files)
        #expect(!partial.files.isEmpty && partial.files.allSatisfy { $0.path.isWithin(BytePath("d")) })
        #expect(try cacheFiles(cache) == snapshots)
    }

    @Test func switchingBranchesBackHitsTheCache() throws {
        let repo = try GitRepository(label: "history-branches")
        try makeRandomHistory(in: repo, seed: 11, commits: 80)
        let cache = repo.directory.url(".git/git-mtime")
        _ = try runEngine(repo.path, cache: cache)
        try repo.git("checkout", "-q", "-b", "topic", "HEAD~3")
        try repo.write("topic-file", "topic\n")
        try repo.commit("topic work")
        let topic = try runEngine(repo.path, cache: cache)
        #expect(topic.files == (try runEngine(repo.path)).files)
        try repo.git("checkout", "-q", "main")
        let back = try runEngine(repo.path, cache: cache)
        #expect(back.usedCache && back.commitsWalked == 0)
        #expect(back.files == (try runEngine(repo.path)).files)
    }

    /// Every damaged form of the snapshot HEAD~1 would use: same answer as a cold run, file replaced.
    @Test(arguments: ["flipped byte", "truncated", "empty", "foreign bytes", "wrong magic"])
    func damagedCacheIsRebuiltNotTrusted(damage: String) throws {
        let repo = try GitRepository(label: "history-damage")
        try makeRandomHistory(in: repo, seed: 3, commits: 60)
        let cache = repo.directory.url(".git/git-mtime")
        _ = try runEngine(repo.path, cache: cache)
        let snapshot = cache + "/" + (try cacheFiles(cache)).first!
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: snapshot)))
        switch damage {
        case "flipped byte": bytes[bytes.count / 2] ^= 0x40
        case "truncated": bytes.removeLast(bytes.count / 3)
        case "empty": bytes = []
        case "foreign bytes": bytes = Array(String(repeating: "not a cache file\n", count: 50).utf8)
        default: bytes[0] ^= 0xFF
        }
        try Data(bytes).write(to: URL(fileURLWithPath: snapshot))
        try repo.write("a", "changed\n")
        try repo.commit("after damage")
        let warm = try runEngine(repo.path, cache: cache)
        #expect(!warm.usedCache)
        #expect(warm.files == (try runEngine(repo.path)).files)
        #expect(mismatches(warm, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [])
        // The damaged file is gone, the new HEAD's snapshot is valid and used.
        #expect(!FileManager.default.fileExists(atPath: snapshot))
        let again = try runEngine(repo.path, cache: cache)
        #expect(again.usedCache && again.commitsWalked == 0)
    }

    /// HEAD's trees kept in `trees`: a warm run reads only changed trees from the object database,
    /// gives the cold answer, and a damaged or foreign file is ignored (then rewritten).
    @Test(arguments: ["intact", "flipped byte", "truncated", "foreign bytes"])
    func treeCacheGivesTheColdAnswer(damage: String) throws {
        let repo = try GitRepository(label: "history-trees")
        try makeRandomHistory(in: repo, seed: 13, commits: 50)
        let cache = repo.directory.url(".git/git-mtime")
        let trees = cache + "/trees-v2"
        _ = try runEngine(repo.path, cache: cache)
        #expect(FileManager.default.fileExists(atPath: trees))
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: trees)))
        switch damage {
        case "flipped byte": bytes[bytes.count / 2] ^= 0x40
        case "truncated": bytes.removeLast(bytes.count / 3)
        case "foreign bytes": bytes = Array(String(repeating: "not a cache file\n", count: 50).utf8)
        default: break
        }
        try Data(bytes).write(to: URL(fileURLWithPath: trees))
        try repo.write("d/e/deeper", "new subtree\n")
        try repo.write("a", "changed again\n")
        try repo.commit("changes two subtrees")
        let warm = try runEngine(repo.path, cache: cache)
        #expect(warm.files == (try runEngine(repo.path)).files)
        #expect(mismatches(warm, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [])
        // Rewritten with the new HEAD's trees, which the next run uses as they are.
        let rewritten = try Data(contentsOf: URL(fileURLWithPath: trees))
        #expect(Array(rewritten) != bytes)
        let again = try runEngine(repo.path, cache: cache)
        #expect(again.files == warm.files)
        #expect(try Data(contentsOf: URL(fileURLWithPath: trees)) == rewritten)
        // A restricted run reads part of the tree and leaves the file alone.
        try repo.write("d/y", "restricted\n")
        try repo.commit("for the restricted run")
        _ = try runEngine(repo.path, cache: cache, only: [BytePath("d")])
        #expect(try Data(contentsOf: URL(fileURLWithPath: trees)) == rewritten)
    }

    /// With hundreds of trees, a commit changing a few of them leaves `trees-v2` as it is (those few
    /// are read from the object database again, the answer still the cold one); one changing many
    /// rewrites it.
    @Test func treeCacheIsRewrittenOnlyWhenManyTreesChanged() throws {
        let repo = try GitRepository(label: "history-trees-few")
        for directory in 0..<300 { try repo.write("m\(directory % 20)/d\(directory)/file", "\(directory)\n") }
        try repo.commit("root")
        let cache = repo.directory.url(".git/git-mtime")
        let trees = cache + "/trees-v2"
        _ = try runEngine(repo.path, cache: cache)
        let written = try Data(contentsOf: URL(fileURLWithPath: trees))

        try repo.write("m3/d3/file", "changed\n")
        try repo.commit("one file: three new trees of 321")
        let warm = try runEngine(repo.path, cache: cache)
        #expect(try Data(contentsOf: URL(fileURLWithPath: trees)) == written)
        #expect(warm.files == (try runEngine(repo.path)).files)
        #expect(mismatches(warm, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [])

        for directory in stride(from: 0, to: 300, by: 3) { try repo.write("m\(directory % 20)/d\(directory)/file", "again\n") }
        try repo.commit("a hundred files")
        let many = try runEngine(repo.path, cache: cache)
        #expect(try Data(contentsOf: URL(fileURLWithPath: trees)) != written)
        #expect(many.files == (try runEngine(repo.path)).files)
        #expect(mismatches(many, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [])
    }

    @Test func cacheKeepsABoundedNumberOfSnapshots() throws {
        let repo = try GitRepository(label: "history-bounded")
        try repo.write("file", "0\n")
        try repo.commit("root")
        let cache = repo.directory.url(".git/git-mtime")
        for round in 1...12 {
            try repo.write("file", "\(round)\n")
            try repo.commit("round \(round)")
            _ = try runEngine(repo.path, cache: cache)
        }
        #expect(try cacheFiles(cache).count == 8)
        let warm = try runEngine(repo.path, cache: cache)
        #expect(warm.usedCache && warm.commitsWalked == 0)
    }
}
