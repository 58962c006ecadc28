import Foundation
import GitKit
import MtimeCore
@testable import MtimeHistory
import Testing
import TestSupport

/// A snapshot answers the open paths by one merge pass over its entries in byte order (HEAD's file
/// order). These cases put names whose byte order differs from the order of their tree entries
/// (`a-b` < `a.b` < `a/b` < `a0` in bytes, while git sorts the tree `a` as `a/`), bytes >= 0x80,
/// gitlinks, and paths a snapshot has but HEAD lost, and check against `git log` itself.
@Suite struct SnapshotMergeTests {
    /// Names around a directory `a` and a directory `a.b`, plus UTF-8 names (bytes >= 0x80) and a gitlink.
    private static let names = [
        "a-b", "a.b/x", "a.b/y/z", "a/b", "a/b.c", "a/b/c", "a/bc", "a0", "a!", "a", "ab", "a.c",
        "\u{00FC}ber", "\u{00FC}/x", "z\u{65E5}\u{672C}", "z/\u{00E9}", "~", "Z",
    ]

    /// Writes `name` (removing whatever file lies on its way or below it), or removes it when it is
    /// a file and the coin says so.
    private func touch(_ repo: GitRepository, _ name: String, _ round: Int, _ random: inout SeededGenerator) throws {
        let full = repo.directory.url(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue, Bool.random(using: &random) {
            try FileManager.default.removeItem(atPath: full)
            return
        }
        // `a/b` and `a/b/c` cannot both be files: the newer one wins, as a checkout would have it.
        let components = name.split(separator: "/")
        for count in 1..<components.count {
            let ancestor = repo.directory.url(components.prefix(count).joined(separator: "/"))
            if FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory), !isDirectory.boolValue {
                try FileManager.default.removeItem(atPath: ancestor)
            }
        }
        try? FileManager.default.removeItem(atPath: full)
        try repo.write(name, "\(name) \(round)\n")
    }

    private func makeRepository(mode: HistoryMode) throws -> GitRepository {
        let repo = try GitRepository(label: "snapshot-merge-\(mode.rawValue)")
        var random = SeededGenerator(seed: mode == .firstParent ? 41 : 42)
        func touch(_ name: String, _ round: Int) throws { try self.touch(repo, name, round, &random) }
        for name in Self.names.filter({ !$0.contains("/") || $0.hasPrefix("a.b/") || $0.hasPrefix("z/") }) { try touch(name, 0) }
        try repo.commit("root")
        // A gitlink (an embedded repository, as a submodule's checkout) has no time of its own.
        let sub = repo.directory.url("sub")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        for arguments in [["init", "-q"], ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "sub"]] {
            try runChecked(["git"] + arguments, in: sub)
        }
        try repo.commit("gitlink")
        for round in 1...40 {
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let name = Self.names.randomElement(using: &random)!
                try touch(name, round)
            }
            try repo.commit("round \(round)")
            if round % 10 == 5 {
                // A merge whose result no parent had (an evil merge): `--history all` answers the
                // path from its merge pass, so the snapshot holds merge answers too.
                try repo.git("checkout", "-q", "-b", "side\(round)", "HEAD~2")
                try repo.write("side\(round)", "side\n")
                try repo.commit("side \(round)")
                try repo.git("checkout", "-q", "main")
                try repo.git("merge", "-q", "--no-commit", "--no-ff", "side\(round)")
                try repo.write("merged-only-\(round)", "made by the merge\n")
                try repo.commit("merge \(round)")
            }
        }
        return repo
    }

    private func oracle(_ repo: GitRepository, _ mode: HistoryMode) throws -> [BytePath: OracleChange] {
        mode == .firstParent ? try firstParentOracle(repo.path) : try allHistoryOracle(repo.path)
    }

    /// Warm runs after a snapshot give `git log`'s answer for every path, whatever the byte order of
    /// the names, after commits that add, remove and swap files and directories.
    @Test(arguments: HistoryMode.allCases)
    func snapshotAnswersEveryByteOrder(mode: HistoryMode) throws {
        let repo = try makeRepository(mode: mode)
        let cache = repo.directory.url(".git/git-mtime")
        let first = try runEngine(repo.path, mode: mode, cache: cache)
        #expect(!first.usedCache)
        #expect(mismatches(first, try oracle(repo, mode), entries: try headEntries(repo.path)) == [])
        let names = Set(first.files.map { String(decoding: $0.path.bytes, as: UTF8.self) })
        #expect(names.contains("sub") && names.contains { $0.unicodeScalars.contains { $0.value >= 0x80 } })

        var random = SeededGenerator(seed: 43)
        for round in 1...6 {
            // Snapshot paths HEAD no longer has, new paths, and changed ones, before the snapshot's commit.
            for name in Self.names.shuffled(using: &random).prefix(3) { try touch(repo, name, 100 + round, &random) }
            try repo.commit("warm \(round)")
            let warm = try runEngine(repo.path, mode: mode, cache: cache)
            #expect(warm.usedCache, "round \(round)")
            #expect(warm.commitsWalked == round, "round \(round)")
            #expect(mismatches(warm, try oracle(repo, mode), entries: try headEntries(repo.path)) == [], "round \(round)")
            #expect(warm.files == (try runEngine(repo.path, mode: mode)).files, "round \(round)")
        }
    }

    /// A snapshot lacking one open path is not used (the walk goes past it), nor one whose paths are
    /// out of byte order or repeated (damaged); one with paths HEAD lacks is used.
    @Test(arguments: HistoryMode.allCases)
    func snapshotWithMissingExtraOrUnorderedPaths(mode: HistoryMode) throws {
        let repo = try makeRepository(mode: mode)
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let cold = try runEngine(repo.path, mode: mode)
        let merges = Set(
            try repo.git("log", "--merges", "--format=%H").split(separator: "\n").map(String.init))
        let real: [(path: BytePath, change: Change)] = cold.files.compactMap { file in
            file.lastChange.map {
                (file.path, Change(lastChange: $0, isMerge: mode == .all && merges.contains($0.commit.hex)))
            }
        }
        let cache = HistoryCache(directory: BytePath("/unused"), mode: mode, boundary: HistoryCache.boundary(of: []))
        let name = "history-v2-\(mode.rawValue)-\(head)"
        func run(with entries: [(path: BytePath, change: Change)]) throws -> HistoryResult {
            let directory = repo.directory.url(".git/git-mtime")
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(cache.encode(entries, commit: ObjectID(hex: head)!)).write(to: URL(fileURLWithPath: directory + "/" + name))
            return try runEngine(repo.path, mode: mode, cache: directory)
        }

        let whole = try run(with: real)
        #expect(whole.usedCache && whole.commitsWalked == 0 && whole.files == cold.files)

        for dropped in [0, real.count / 2, real.count - 1] {
            var entries = real
            entries.remove(at: dropped)
            let result = try run(with: entries)
            #expect(!result.usedCache, "without \(real[dropped].path)")
            #expect(result.files == cold.files, "without \(real[dropped].path)")
        }

        // Paths HEAD lacks, before, between and after its own (in byte order): skipped.
        let extra = ["", "a.b/x0", "a/b.", "zz", "\u{00FF}"].map { BytePath($0 == "" ? "!" : $0) }
        let padded = (real + extra.map { (path: $0, change: real[0].change) }).sorted { $0.path < $1.path }
        let skipping = try run(with: padded)
        #expect(skipping.usedCache && skipping.commitsWalked == 0 && skipping.files == cold.files)

        for swap in [0, real.count / 2, real.count - 2] {
            var entries = real
            entries.swapAt(swap, swap + 1)
            let result = try run(with: entries)
            #expect(!result.usedCache, "swapped at \(swap)")
            #expect(result.files == cold.files, "swapped at \(swap)")
        }
        var twice = real
        twice.insert(real[3], at: 4)
        let duplicated = try run(with: twice)
        #expect(!duplicated.usedCache && duplicated.files == cold.files)
    }
}

/// A malformed tree (git refuses to write one; `git mktree` doesn't) can list a directory twice, so
/// HEAD's files come out of byte order: the result is still sorted and equals a cold run's, and no
/// snapshot is written (it could never be read by a pass in byte order).
@Suite struct MalformedTreeOrderTests {
    @Test func filesOutOfByteOrderAreSortedAndNotSnapshotted() throws {
        let repo = try GitRepository(label: "snapshot-malformed")
        try repo.write("main.c", "int main;\n")
        try repo.write("sub/a", "a\n")
        try repo.write("sub/c", "c\n")
        let commit = try repo.commit("root")
        // A second `sub` holding `b` and `d`: whichever `sub` comes first, the files interleave.
        let second = try runChecked(
            ["git", "mktree"], in: repo.path, input: "160000 commit \(commit)\tb\n160000 commit \(commit)\td\n"
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let top = try repo.git("ls-tree", "HEAD") + "040000 tree \(second)\tsub\n"
        let tree = try runChecked(["git", "mktree"], in: repo.path, input: top).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        repo.clock += 100
        let next = try repo.gitArray(["commit-tree", tree, "-p", commit, "-m", "a second sub"])
        try repo.git("update-ref", "HEAD", next.trimmingCharacters(in: .whitespacesAndNewlines))

        let cold = try runEngine(repo.path)
        #expect(cold.files.map { String(decoding: $0.path.bytes, as: UTF8.self) } == ["main.c", "sub/a", "sub/b", "sub/c", "sub/d"])
        let cache = repo.directory.url(".git/git-mtime")
        for round in 0..<2 {
            let result = try runEngine(repo.path, cache: cache)
            #expect(result.files == cold.files && !result.usedCache, "round \(round)")
            let snapshots = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("history-") }
            #expect(snapshots.isEmpty, "round \(round)")
        }
    }
}
