import Foundation
import GitKit
import MtimeCore
@testable import MtimeHistory
import Testing
import TestSupport

/// A shared cache directory is input anyone with write access to it shapes: a well-formed snapshot
/// (valid trailer, right commit, right boundary) whose answers are wrong must not give wrong times.
/// Each case forges one answer of a real snapshot in a way `SnapshotCheck` can tell from the object
/// database, and the run must give exactly the cold answer.
@Suite struct HostileCacheTests {
    private struct Commit { var parents: [String]; var committerTime: Int64; var authorTime: Int64 }

    /// Every commit's parents and times, and its tree's file entries ("mode id" by path).
    private func history(_ repo: GitRepository) throws -> (commits: [String: Commit], entries: [String: [String: String]]) {
        var commits: [String: Commit] = [:]
        var entries: [String: [String: String]] = [:]
        for line in try repo.git("log", "--all", "--format=%H %ct %at %P").split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            commits[fields[0]] = Commit(parents: Array(fields[3...]), committerTime: Int64(fields[1])!, authorTime: Int64(fields[2])!)
            var files: [String: String] = [:]
            for record in try repo.git("ls-tree", "-r", "-z", "--full-tree", fields[0]).split(separator: "\0") {
                let parts = record.split(separator: "\t", maxSplits: 1)
                let meta = parts[0].split(separator: " ")
                files[String(parts[1])] = "\(meta[0]) \(meta[2])"
            }
            entries[fields[0]] = files
        }
        return (commits, entries)
    }

    private enum Forgery: CaseIterable {
        case shiftedTime, shallowFlag, commitThatKeptThePath, commitThatSetOtherContent, mergeFlag
    }

    @Test(arguments: HistoryMode.allCases)
    func forgedAnswersAreNeverUsed(mode: HistoryMode) throws {
        var random = SeededGenerator(seed: mode == .firstParent ? 91 : 92)
        let origin = try GitRepository(label: "hostile-origin")
        try makeRandomHistory(in: origin, seed: mode == .firstParent ? 93 : 94, commits: 120)
        let (commits, entries) = try history(origin)
        let head = try origin.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let honest = TemporaryDirectory("hostile-honest")
        let cold = try runEngine(origin.path, mode: mode, cache: honest.path)
        let real: [(path: BytePath, change: Change)] = cold.files.compactMap { file in
            file.lastChange.map { (file.path, Change(lastChange: $0, isMerge: mode == .all && commits[$0.commit.hex]!.parents.count > 1)) }
        }
        let victim = try GitRepository.freshClone(of: origin, label: "hostile-victim")
        let cache = HistoryCache(directory: BytePath(honest.path), mode: mode, boundary: HistoryCache.boundary(of: []))

        // The unforged snapshot from another clone is used as it is: the forgeries below fail on their lie alone.
        let untouched = TemporaryDirectory("hostile-untouched")
        try Data(cache.encode(real, commit: ObjectID(hex: head)!)).write(
            to: URL(fileURLWithPath: untouched.url("history-v2-\(mode.rawValue)-\(head)")))
        let used = try runEngine(victim.path, mode: mode, cache: untouched.path)
        #expect(used.usedCache && used.commitsWalked == 0 && used.files == cold.files)

        var forged = 0
        for round in 0..<40 {
            let index = Int.random(in: 0..<real.count, using: &random)
            let path = String(decoding: real[index].path.bytes, as: UTF8.self)
            var change = real[index].change
            switch Forgery.allCases.randomElement(using: &random)! {
            case .shiftedTime:
                change.lastChange.committerTime -= Int64.random(in: 1...1_000_000, using: &random)
            case .shallowFlag:
                change.lastChange.isShallowBoundary = true
            case .mergeFlag:
                change.isMerge.toggle()
            case .commitThatKeptThePath, .commitThatSetOtherContent:
                // Another real non-merge commit with its real times: one whose entry for the path
                // equals its parent's, or (first-parent mode) one that set the path to other content.
                let candidates = commits.filter { id, commit in
                    guard commit.parents.count == 1, let parent = commit.parents.first, id != change.lastChange.commit.hex else {
                        return false
                    }
                    let mine = entries[id]![path], parents = entries[parent]![path]
                    return mine == parents || (mode == .firstParent && mine != nil && mine != entries[head]![path])
                }.keys.sorted()
                guard let pick = candidates.randomElement(using: &random) else { continue }
                let commit = commits[pick]!
                change.lastChange = LastChange(
                    commit: ObjectID(hex: pick)!, committerTime: commit.committerTime,
                    authorTime: commit.authorTime, isShallowBoundary: false)
                change.isMerge = mode == .all && commit.parents.count > 1
            }
            guard change != real[index].change else { continue }
            var entries = real
            entries[index].change = change
            let directory = TemporaryDirectory("hostile-\(round)")
            let name = "history-v2-\(mode.rawValue)-\(head)"
            try Data(cache.encode(entries, commit: ObjectID(hex: head)!)).write(to: URL(fileURLWithPath: directory.url(name)))
            let result = try runEngine(victim.path, mode: mode, cache: directory.path)
            #expect(!result.usedCache, "round \(round): forged \(path) as \(change)")
            #expect(result.files == cold.files, "round \(round): forged \(path) as \(change)")
            forged += 1
        }
        #expect(forged >= 30)
    }

    /// What the victim trusts is listed in its own directory: a snapshot checked once is not checked
    /// again, one it wrote itself never is, and the list names nothing else.
    @Test func trustListHoldsCheckedAndWrittenSnapshots() throws {
        let origin = try GitRepository(label: "hostile-trust-origin")
        try makeRandomHistory(in: origin, seed: 95, commits: 40)
        let shared = TemporaryDirectory("hostile-trust-shared")
        _ = try runEngine(origin.path, cache: shared.path)
        let clone = try GitRepository.freshClone(of: origin, label: "hostile-trust-clone")
        let hit = try runEngine(clone.path, cache: shared.path)
        #expect(hit.usedCache && hit.commitsWalked == 0)
        let list = clone.directory.url(".git/git-mtime/\(HistoryCache.trustListName)")
        let snapshotName = try FileManager.default.contentsOfDirectory(atPath: shared.path).first { $0.hasPrefix("history-v2-") }!
        let snapshot = try Data(contentsOf: URL(fileURLWithPath: shared.url(snapshotName)))
        let digest = snapshot.suffix(ObjectID.byteCount).map { String(format: "%02x", $0) }.joined()
        #expect(try String(contentsOfFile: list, encoding: .utf8) == digest + "\n")

        // A short walk from the checked snapshot writes none (nothing new to list); a long enough one
        // writes its own, which is listed after the checked one.
        try clone.write("new", "one more\n")
        try clone.commit("one more")
        let short = try runEngine(clone.path, cache: shared.path)
        #expect(short.usedCache && short.commitsWalked == 1)
        #expect(try String(contentsOfFile: list, encoding: .utf8) == digest + "\n")
        for round in 2...HistoryEngine.snapshotInterval {
            try clone.write("new", "one more \(round)\n")
            try clone.commit("one more \(round)")
        }
        let warm = try runEngine(clone.path, cache: shared.path)
        #expect(warm.usedCache && warm.commitsWalked == HistoryEngine.snapshotInterval)
        let lines = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[0] == digest)
    }
}
