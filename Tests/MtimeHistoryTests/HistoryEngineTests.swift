import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

/// A repository exercising every case the issue lists, built with the real git CLI.
private func makeScenarioRepository() throws -> GitRepository {
    let repo = try GitRepository(label: "history-scenario")
    try repo.write("README", "hello\n")
    try repo.write("src/main.c", "int main;\n")
    try repo.write("src/util/helper.c", "helper\n")
    try repo.write("with space.txt", "space\n")
    try repo.write("caf\u{e9}.txt", "non-ascii\n")
    try repo.write("line\nbreak", "newline in name\n")
    try repo.write("-leading-dash", "dash\n")
    try repo.write("swap/inner", "was a directory\n")
    try repo.write("old-name.txt", "renamed later\n")
    try repo.write("recreated", "first life\n")
    try repo.write("mode.sh", "#!/bin/sh\n")
    try runChecked(["ln", "-s", "README", repo.directory.url("link")])
    // Not valid UTF-8: only the raw bytes name this file.
    try runChecked(["sh", "-c", "printf raw > \"$(printf 'bad\\377name')\""], in: repo.path)
    try repo.commit("root")

    try repo.write("src/main.c", "int main(void);\n")
    try repo.git("mv", "old-name.txt", "new-name.txt")
    try repo.commit("rename")

    // Equal timestamps: two commits in the same second.
    try repo.write("README", "hello again\n")
    try repo.commit("same second A", advancing: 0)
    try repo.write("src/util/helper.c", "helper 2\n")
    try repo.commit("same second B", advancing: 0)

    // A side branch whose changes reach main only through the merge.
    try repo.git("checkout", "-q", "-b", "side")
    try repo.write("side-only.txt", "from the side\n")
    try repo.write("src/util/helper.c", "helper from side\n")
    try repo.commit("side work")
    try repo.git("checkout", "-q", "main")
    try repo.write("main-only.txt", "main\n")
    try repo.commit("main work")
    repo.clock += 100
    try repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")

    // Delete and re-create; mode-only change; symlink retarget; a directory becomes a file.
    try repo.git("rm", "-q", "recreated")
    try repo.commit("delete")
    try repo.write("recreated", "second life\n")
    try repo.commit("recreate")
    try repo.git("update-index", "--chmod=+x", "mode.sh")
    try runChecked(["chmod", "+x", repo.directory.url("mode.sh")])
    try repo.commit("mode only")
    try runChecked(["ln", "-sfn", "src", repo.directory.url("link")])
    try repo.git("rm", "-q", "-r", "swap")
    try repo.write("swap", "now a file\n")
    try repo.commit("symlink and swap")

    // A submodule entry (gitlink) without a checkout.
    let commitID = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    try repo.git("update-index", "--add", "--cacheinfo", "160000,\(commitID),vendor/sub")
    // `commit()` runs `git add -A`, which drops a gitlink without a directory: commit the index as it is.
    repo.clock += 100
    try repo.git("commit", "-q", "-m", "add submodule")
    try repo.write("README", "final\n")
    repo.clock += 100
    try repo.git("add", "README")
    try repo.git("commit", "-q", "-m", "touch readme")
    return repo
}

@Suite struct HistoryEngineTests {
    @Test func firstParentMatchesGitLogForEveryPath() throws {
        let repo = try makeScenarioRepository()
        let before = try contentSnapshot(of: repo.path)
        let result = try runEngine(repo.path)
        let entries = try headEntries(repo.path)
        #expect(mismatches(result, try firstParentOracle(repo.path), entries: entries) == [])
        #expect(result.head.hex == (try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(result.shallowBoundaryFiles == 0)
        #expect(!result.usedCache)
        #expect(try contentSnapshot(of: repo.path) == before)

        // The literal per-path oracle, `git log -1 --first-parent -- PATH`, for every UTF-8 name.
        for file in result.files where file.mode != 0o160000 {
            guard let path = String(validating: file.path.bytes, as: UTF8.self) else { continue }
            let line = try repo.gitArray(["--literal-pathspecs", "log", "-1", "--first-parent", "--format=%H %ct %at", "--", path])
            let fields = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(
                fields == [
                    file.lastChange!.commit.hex, String(file.lastChange!.committerTime),
                    String(file.lastChange!.authorTime),
                ], "\(path)")
        }
    }

    @Test func progressReportsTheCommitsWalked() throws {
        final class Reports: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int] = []
        }
        let repo = try GitRepository(label: "history-progress")
        try makeRandomHistory(in: repo, seed: 8, commits: 40)
        let reports = Reports()
        let engine = HistoryEngine(
            repository: try Repository(discoveringFrom: repo.path), cacheDirectory: nil,
            progress: { walked in reports.lock.withLock { reports.values.append(walked) } })
        let result = try engine.run()
        #expect(result.commitsWalked > 0)
        #expect(reports.lock.withLock { reports.values } == [result.commitsWalked])
    }

    @Test func sideBranchOnlyFileGetsTheMergeTime() throws {
        let repo = try makeScenarioRepository()
        let result = try runEngine(repo.path)
        let merge = try repo.git("log", "-1", "--merges", "--format=%H").trimmingCharacters(in: .whitespacesAndNewlines)
        let side = try #require(result.files.first { $0.path == BytePath("side-only.txt") })
        #expect(side.lastChange?.commit.hex == merge)
        let submodule = try #require(result.files.first { $0.path == BytePath("vendor/sub") })
        #expect(submodule.mode == 0o160000)
        #expect(submodule.lastChange == nil)
        #expect(result.files.contains { $0.path.bytes == Array("bad".utf8) + [0xFF] + Array("name".utf8) })
        #expect(result.files.first { $0.path == BytePath("mode.sh") }?.mode == 0o100755)
        #expect(result.files.first { $0.path == BytePath("link") }?.mode == 0o120000)
    }

    @Test func allHistoryMatchesGitLogOrder() throws {
        let repo = try makeScenarioRepository()
        let result = try runEngine(repo.path, mode: .all)
        #expect(mismatches(result, try allHistoryOracle(repo.path), entries: try headEntries(repo.path)) == [])
        // Under --history all the side branch's own commit decides, not the merge.
        let sideCommit = try repo.git("log", "-1", "--format=%H", "side").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.files.first { $0.path == BytePath("side-only.txt") }?.lastChange?.commit.hex == sideCommit)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomHistoriesMatchGit(seed: UInt64) throws {
        let repo = try GitRepository(label: "history-random")
        try makeRandomHistory(in: repo, seed: seed, commits: 160)
        let entries = try headEntries(repo.path)
        let before = try contentSnapshot(of: repo.path)
        let firstParent = try runEngine(repo.path)
        #expect(mismatches(firstParent, try firstParentOracle(repo.path), entries: entries) == [], "seed \(seed)")
        let all = try runEngine(repo.path, mode: .all)
        #expect(mismatches(all, try allHistoryOracle(repo.path), entries: entries) == [], "seed \(seed)")
        #expect(try contentSnapshot(of: repo.path) == before)
    }

    /// Enough files for the walk to split across threads: every thread count gives git's answer.
    @Test(arguments: HistoryMode.allCases)
    func threadsDoNotChangeTheResult(mode: HistoryMode) throws {
        let repo = try GitRepository(label: "history-threads")
        try makeRandomHistory(in: repo, seed: 99, commits: 150, extraFiles: 300)
        let oracle = mode == .firstParent ? try firstParentOracle(repo.path) : try allHistoryOracle(repo.path)
        let entries = try headEntries(repo.path)
        #expect(entries.count > 4 * 64)
        let serial = try runEngine(repo.path, mode: mode, threads: 1)
        #expect(mismatches(serial, oracle, entries: entries) == [])
        for threads in [2, 3, 4] {
            let parallel = try runEngine(repo.path, mode: mode, threads: threads)
            #expect(parallel.files == serial.files, "\(threads) threads")
        }
    }

    @Test func shallowCloneStopsAtTheBoundary() throws {
        let origin = try GitRepository(label: "history-origin")
        try makeRandomHistory(in: origin, seed: 42, commits: 60)
        let clones = TemporaryDirectory("history-shallow")
        let clone = clones.url("clone")
        try runChecked(["git", "clone", "-q", "--depth", "5", "file://\(origin.path)", clone], in: clones.path)
        let result = try runEngine(clone)
        #expect(mismatches(result, try firstParentOracle(clone), entries: try headEntries(clone)) == [])
        let boundary = try String(contentsOfFile: clone + "/.git/shallow", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let atBoundary = result.files.filter { $0.lastChange.map { boundary.contains($0.commit.hex) } ?? false }
        #expect(!atBoundary.isEmpty)
        #expect(atBoundary.allSatisfy { $0.lastChange!.isShallowBoundary })
        #expect(result.files.filter { $0.lastChange?.isShallowBoundary == true }.count == atBoundary.count)
        #expect(result.shallowBoundaryFiles == atBoundary.count)
        #expect(result.commitsWalked <= 5)
        let all = try runEngine(clone, mode: .all)
        #expect(mismatches(all, try allHistoryOracle(clone), entries: try headEntries(clone)) == [])
    }

    @Test func onlyRestrictsFilesAndStopsEarly() throws {
        let repo = try makeScenarioRepository()
        let full = try runEngine(repo.path)
        let partial = try runEngine(repo.path, only: [BytePath("src/"), BytePath("./README")])
        let expected = full.files.filter { $0.path.isWithin(BytePath("src")) || $0.path == BytePath("README") }
        #expect(partial.files == expected)
        #expect(partial.files.count == 3)
        // README changed in the newest commit and src/ a few commits back: fewer commits read.
        #expect(partial.commitsWalked < full.commitsWalked)
    }

    @Test func sha256RepositoryIsRefusedWithAClearError() throws {
        let directory = TemporaryDirectory("history-sha256")
        try runChecked(["git", "init", "-q", "--object-format=sha256", directory.path], in: directory.path)
        do {
            _ = try Repository(discoveringFrom: directory.path)
            Issue.record("opening a SHA-256 repository succeeded")
        } catch {
            guard case .unsupportedObjectFormat = error else { Issue.record("unexpected error \(error)"); return }
            #expect(error.description.contains("SHA-256 repositories are not supported"))
        }
    }

    @Test func unbornHeadIsAnError() throws {
        let repo = try GitRepository(label: "history-unborn")
        #expect(throws: HistoryError.unbornHead) { try runEngine(repo.path) }
    }
}
