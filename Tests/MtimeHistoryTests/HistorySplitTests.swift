import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

/// The first-parent walk on two threads splits the line into a newer and an older half. The older
/// half reads history a serial walk may never reach: its failures count only when an answer needs it.
@Suite struct HistorySplitTests {
    /// 300 files (enough for two threads), 40 commits, every object loose; then the commit `depth`
    /// commits below HEAD is deleted from the object store.
    private func repositoryMissingCommit(depth: Int, touchEverythingAtHead: Bool) throws -> GitRepository {
        let repo = try GitRepository(label: "history-split")
        for file in 0..<300 { try repo.write("dir\(file % 10)/file\(file)", "v0 \(file)\n") }
        try repo.commit("root")
        for round in 1..<40 {
            try repo.write("dir\(round % 10)/file\(round)", "v\(round)\n")
            try repo.commit("round \(round)")
        }
        if touchEverythingAtHead {
            for file in 0..<300 { try repo.write("dir\(file % 10)/file\(file)", "final \(file)\n") }
            try repo.commit("touch everything")
        }
        let missing = try repo.git("rev-parse", "HEAD~\(depth)").trimmingCharacters(in: .whitespacesAndNewlines)
        let object = repo.path + "/.git/objects/" + missing.prefix(2) + "/" + missing.dropFirst(2)
        #expect(FileManager.default.fileExists(atPath: object), "commits made by the CLI are loose")
        try FileManager.default.removeItem(atPath: object)
        return repo
    }

    @Test(arguments: [1, 2])
    func olderHistoryThatIsNotNeededMayBeMissing(threads: Int) throws {
        let repo = try repositoryMissingCommit(depth: 30, touchEverythingAtHead: true)
        let result = try runEngine(repo.path, threads: threads)
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.files.count == 300)
        #expect(result.files.allSatisfy { $0.lastChange?.commit.hex == head })
    }

    @Test(arguments: [1, 2])
    func missingHistoryThatIsNeededIsAnError(threads: Int) throws {
        let repo = try repositoryMissingCommit(depth: 30, touchEverythingAtHead: false)
        #expect(throws: GitError.self) { try runEngine(repo.path, threads: threads) }
    }

    /// Both halves, and the hand-over between them, give git's answer for every path.
    @Test func splitLineMatchesGit() throws {
        let repo = try GitRepository(label: "history-split-oracle")
        try makeRandomHistory(in: repo, seed: 17, commits: 400, extraFiles: 400)
        let oracle = try firstParentOracle(repo.path)
        let entries = try headEntries(repo.path)
        let serial = try runEngine(repo.path, threads: 1)
        let split = try runEngine(repo.path, threads: 2)
        #expect(mismatches(split, oracle, entries: entries) == [])
        #expect(split.files == serial.files)
    }
}
