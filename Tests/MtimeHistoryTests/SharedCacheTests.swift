import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

/// A cache directory outside the repository, shared between clones (`--cache-dir`): whatever it
/// holds, every run gives exactly the cold answer, which the oracle (`git log`) checks.
@Suite struct SharedCacheTests {
    private func snapshots(_ directory: String) throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("history-") }.sorted()
    }

    private func oracle(_ repo: GitRepository, _ mode: HistoryMode) throws -> [BytePath: OracleChange] {
        mode == .firstParent ? try firstParentOracle(repo.path) : try allHistoryOracle(repo.path)
    }

    @Test(arguments: HistoryMode.allCases)
    func restoredCacheOnAFreshCloneWalksOnlyWhatItLacks(mode: HistoryMode) throws {
        let origin = try GitRepository(label: "shared-origin")
        try makeRandomHistory(in: origin, seed: 31, commits: 150)
        let cache = TemporaryDirectory("shared-cache")
        let first = try runEngine(origin.path, mode: mode, cache: cache.path)
        #expect(!first.usedCache && first.commitsWalked > 0)
        #expect(try snapshots(cache.path).count == 1)

        // The same HEAD in a fresh clone: nothing to walk.
        let same = try GitRepository.freshClone(of: origin, label: "shared-same")
        let hit = try runEngine(same.path, mode: mode, cache: cache.path)
        #expect(hit.usedCache && hit.commitsWalked == 0)
        #expect(hit.files == (try runEngine(same.path, mode: mode)).files)
        #expect(mismatches(hit, try oracle(same, mode), entries: try headEntries(same.path)) == [])
        // The repository's own directory holds only the list of snapshots it checked (HostileCacheTests).
        #expect(try FileManager.default.contentsOfDirectory(atPath: same.directory.url(".git/git-mtime")) == ["trusted-snapshots-v2"])

        // The branch moved on by three commits: a fresh clone walks exactly those.
        for round in 1...3 {
            try origin.write("d/e/moved\(round)", "round \(round)\n")
            try origin.write("a", "moved on \(round)\n")
            try origin.commit("moved on \(round)")
        }
        let later = try GitRepository.freshClone(of: origin, label: "shared-later")
        let warm = try runEngine(later.path, mode: mode, cache: cache.path)
        #expect(warm.usedCache && warm.commitsWalked == 3)
        #expect(warm.files == (try runEngine(later.path, mode: mode)).files)
        #expect(mismatches(warm, try oracle(later, mode), entries: try headEntries(later.path)) == [])
        // A walk that reached a snapshot within fewer than `snapshotInterval` commits writes none.
        #expect(try snapshots(cache.path).count == 1)

        // Moved on by `snapshotInterval` commits: the walk reaches the old snapshot, and writes its own,
        // which the next fresh clone of that commit uses as it is.
        for round in 1...HistoryEngine.snapshotInterval {
            try origin.write("d/e/moved\(round % 3)", "far \(round)\n")
            try origin.commit("far \(round)")
        }
        let far = try GitRepository.freshClone(of: origin, label: "shared-far")
        let walked = try runEngine(far.path, mode: mode, cache: cache.path)
        #expect(walked.usedCache && walked.commitsWalked == HistoryEngine.snapshotInterval + 3)
        #expect(mismatches(walked, try oracle(far, mode), entries: try headEntries(far.path)) == [])
        #expect(try snapshots(cache.path).count == 2)
        let farAgain = try GitRepository.freshClone(of: origin, label: "shared-far-again")
        let hitFar = try runEngine(farAgain.path, mode: mode, cache: cache.path)
        #expect(hitFar.usedCache && hitFar.commitsWalked == 0)
        #expect(hitFar.files == walked.files)
    }

    @Test func cacheOfAnUnrelatedRepositoryIsNeverReached() throws {
        let one = try GitRepository(label: "shared-one")
        try makeRandomHistory(in: one, seed: 41, commits: 60)
        let other = try GitRepository(label: "shared-other")
        try makeRandomHistory(in: other, seed: 42, commits: 60)
        let cache = TemporaryDirectory("shared-unrelated")
        _ = try runEngine(one.path, cache: cache.path)
        let ones = try snapshots(cache.path)

        let result = try runEngine(other.path, cache: cache.path)
        #expect(!result.usedCache)
        #expect(mismatches(result, try firstParentOracle(other.path), entries: try headEntries(other.path)) == [])
        // The other repository's snapshot stays, still valid for it.
        #expect(Set(ones).isSubset(of: Set(try snapshots(cache.path))))
        let again = try runEngine(one.path, cache: cache.path)
        #expect(again.usedCache && again.commitsWalked == 0)

        // A snapshot renamed to claim the other HEAD is rejected (it names its own commit) and removed.
        let otherHead = try other.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let forged = TemporaryDirectory("shared-forged")
        try FileManager.default.copyItem(atPath: cache.url(ones[0]), toPath: forged.url("history-v2-first-parent-\(otherHead)"))
        let rejected = try runEngine(other.path, cache: forged.path)
        #expect(!rejected.usedCache)
        #expect(mismatches(rejected, try firstParentOracle(other.path), entries: try headEntries(other.path)) == [])
        #expect(try snapshots(forged.path) == ["history-v2-first-parent-\(otherHead)"])
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: forged.url("history-v2-first-parent-\(otherHead)")))
                != (try Data(contentsOf: URL(fileURLWithPath: cache.url(ones[0])))), "replaced by a valid one")
    }

    /// A force-push: the old tip's snapshot is unreachable, the surviving base's is used.
    @Test(arguments: HistoryMode.allCases)
    func rewrittenHistoryUsesOnlyWhatSurvives(mode: HistoryMode) throws {
        let repo = try GitRepository(label: "shared-rewrite")
        try makeRandomHistory(in: repo, seed: 51, commits: 100)
        let cache = TemporaryDirectory("shared-rewrite-cache")
        let base = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try runEngine(repo.path, mode: mode, cache: cache.path)
        // Far enough from the base's snapshot for the old tip to get its own.
        for round in 1...HistoryEngine.snapshotInterval {
            try repo.write("f/g/h", "old tip \(round)\n")
            try repo.commit("old tip \(round)")
        }
        _ = try runEngine(repo.path, mode: mode, cache: cache.path)
        #expect(try snapshots(cache.path).count == 2)

        // Rewrite the four commits: other contents, other times, other ids.
        try repo.git("reset", "-q", "--hard", base)
        repo.clock += 5000
        for round in 1...4 {
            try repo.write("f/g/h", "new tip \(round)\n")
            try repo.write("k/l", "rewritten \(round)\n")
            try repo.commit("new tip \(round)")
        }
        let rewritten = try runEngine(repo.path, mode: mode, cache: cache.path)
        #expect(rewritten.usedCache && rewritten.commitsWalked == 4)
        #expect(rewritten.files == (try runEngine(repo.path, mode: mode)).files)
        #expect(mismatches(rewritten, try oracle(repo, mode), entries: try headEntries(repo.path)) == [])
    }

    /// A snapshot made with one shallow boundary answers differently than the full history would:
    /// a shallow clone never uses a full clone's snapshot, nor the other way round.
    @Test func shallowAndFullClonesDoNotShareAnswers() throws {
        let origin = try GitRepository(label: "shared-shallow-origin")
        try makeRandomHistory(in: origin, seed: 61, commits: 80)
        let cache = TemporaryDirectory("shared-shallow-cache")
        _ = try runEngine(origin.path, cache: cache.path)
        let shallow = try GitRepository.freshClone(of: origin, label: "shared-shallow", depth: 3)
        let result = try runEngine(shallow.path, cache: cache.path)
        #expect(!result.usedCache)
        #expect(result.shallowBoundaryFiles > 0)
        #expect(result.files == (try runEngine(shallow.path)).files)
        #expect(mismatches(result, try firstParentOracle(shallow.path), entries: try headEntries(shallow.path)) == [])
        // Now the cache holds the shallow clone's snapshot of the same commit: the full history ignores it.
        let full = try GitRepository.freshClone(of: origin, label: "shared-full")
        let fullCache = TemporaryDirectory("shared-shallow-only")
        for name in try snapshots(cache.path) { try FileManager.default.removeItem(atPath: cache.url(name)) }
        _ = try runEngine(shallow.path, cache: fullCache.path)
        let fullResult = try runEngine(full.path, cache: fullCache.path)
        #expect(!fullResult.usedCache)
        #expect(mismatches(fullResult, try firstParentOracle(full.path), entries: try headEntries(full.path)) == [])
    }

    /// Files of a newer format carry a newer name: never read, never removed. A file under our name
    /// whose header claims another version (checksum intact) is rejected like any damaged one.
    @Test func otherFormatVersionsAreIgnored() throws {
        let repo = try GitRepository(label: "shared-versions")
        try makeRandomHistory(in: repo, seed: 71, commits: 60)
        let cache = TemporaryDirectory("shared-versions-cache")
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let newer = ["history-v3-first-parent-\(head)", "trees-v3"]
        for name in newer { try Data("a newer git-mtime's format\n".utf8).write(to: URL(fileURLWithPath: cache.url(name))) }
        let cold = try runEngine(repo.path, cache: cache.path)
        #expect(!cold.usedCache)
        #expect(mismatches(cold, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [])
        for name in newer {
            #expect(try Data(contentsOf: URL(fileURLWithPath: cache.url(name))) == Data("a newer git-mtime's format\n".utf8))
        }

        // Our name, version 3 inside, a valid trailer: not trusted.
        let ours = cache.url("history-v2-first-parent-\(head)")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: ours)))
        let versionOffset = "git-mtime history\n".utf8.count
        #expect(bytes[versionOffset] == 2)
        bytes[versionOffset] = 3
        bytes.removeLast(ObjectID.byteCount)
        let trailer = Checksum.sha1(bytes)
        bytes += withUnsafeBytes(of: (trailer.high.bigEndian, trailer.middle.bigEndian, trailer.low.bigEndian)) { Array($0.prefix(20)) }
        try Data(bytes).write(to: URL(fileURLWithPath: ours))
        let rejected = try runEngine(repo.path, cache: cache.path)
        #expect(!rejected.usedCache)
        #expect(rejected.files == cold.files)
    }

    @Test func formatOneFilesAreRemovedFromTheRepositorysOwnDirectory() throws {
        let repo = try GitRepository(label: "shared-format1")
        try makeRandomHistory(in: repo, seed: 81, commits: 30)
        let own = repo.directory.url(".git/git-mtime")
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let legacy = ["history-first-parent-\(head)", "history-all-\(head)", "trees"]
        for name in legacy { try Data("format 1\n".utf8).write(to: URL(fileURLWithPath: own + "/" + name)) }
        let result = try runEngine(repo.path, cache: own)
        #expect(!result.usedCache)
        let left = try FileManager.default.contentsOfDirectory(atPath: own).sorted()
        #expect(left == ["history-v2-first-parent-\(head)", "trees-v2"])
    }
}
