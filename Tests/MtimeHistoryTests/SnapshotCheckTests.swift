import Foundation
import GitKit
import MtimeCore
@testable import MtimeHistory
import Testing
import TestSupport

/// `SnapshotCheck` against its specification, computed from git's own view of the history
/// (`git log` for parents and times, `git ls-tree -r` for every commit's entries): random answers,
/// true and forged (wrong commit, unchanged from the parent, merge flags, shallow boundary flags,
/// paths whose directory is a file at the parent), one at a time and in batches, on one thread and
/// split over two. Every batch's verdict must be the conjunction of its answers' verdicts.
@Suite struct SnapshotCheckTests {
    private struct CommitInfo { var parents: [String]; var committerTime: Int64; var authorTime: Int64 }

    private struct History {
        var commits: [String: CommitInfo] = [:]
        /// Per commit: "mode id" by path, files only (a directory is no entry).
        var entries: [String: [String: String]] = [:]
        var head = ""
        var shallow: Set<String> = []
    }

    private func history(_ repo: GitRepository) throws -> History {
        var result = History()
        result.head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let shallowFile = repo.directory.url(".git/shallow")
        result.shallow = Set(((try? String(contentsOfFile: shallowFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        for line in try repo.git("log", "--format=%H %ct %at %P", "HEAD").split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            result.commits[fields[0]] = CommitInfo(
                parents: Array(fields[3...]), committerTime: Int64(fields[1])!, authorTime: Int64(fields[2])!)
            var files: [String: String] = [:]
            for record in try repo.git("ls-tree", "-r", "-z", "--full-tree", fields[0]).split(separator: "\0") {
                let parts = record.split(separator: "\t", maxSplits: 1)
                let meta = parts[0].split(separator: " ")
                files[String(parts[1])] = "\(meta[0]) \(meta[2])"
            }
            result.entries[fields[0]] = files
        }
        return result
    }

    /// The specification of one answer (see `SnapshotCheck`).
    private func verdict(_ claim: (file: TrackedFile, change: Change), _ history: History, _ mode: HistoryMode) -> Bool {
        let path = String(decoding: claim.file.path.bytes, as: UTF8.self)
        let claimed = claim.change.lastChange
        guard let commit = history.commits[claimed.commit.hex], commit.committerTime == claimed.committerTime,
            commit.authorTime == claimed.authorTime, claimed.isShallowBoundary == history.shallow.contains(claimed.commit.hex)
        else { return false }
        let entry = history.entries[claimed.commit.hex]![path]
        let parents = claimed.isShallowBoundary ? [] : mode == .firstParent ? Array(commit.parents.prefix(1)) : commit.parents
        guard claim.change.isMerge == (parents.count > 1) else { return false }
        if mode == .firstParent && entry != history.entries[history.head]![path] { return false }
        if parents.isEmpty { return entry != nil }
        return parents.contains { history.entries[$0]![path] != entry }
    }

    private func check(
        _ objects: ObjectDatabase, _ mode: HistoryMode, _ history: History, _ claims: [(file: TrackedFile, change: Change)], threads: Int
    )
        -> Bool
    {
        var check = SnapshotCheck(objects: objects, mode: mode, shallow: Set(history.shallow.map { ObjectID(hex: $0)! }))
        check.maximumThreads = threads
        check.minimumCommitsPerThread = 1
        return check.passes(claims)
    }

    private func headFile(_ path: String, _ history: History) -> TrackedFile {
        let fields = history.entries[history.head]![path]!.split(separator: " ")
        return TrackedFile(path: BytePath(path), objectID: ObjectID(hex: fields[1])!, mode: UInt32(fields[0], radix: 8)!, lastChange: nil)
    }

    /// A claim that `commit` changed `path`, with that commit's real times and flags unless told otherwise.
    private func claim(_ path: String, _ commit: String, _ history: History, _ mode: HistoryMode) -> (file: TrackedFile, change: Change) {
        let info = history.commits[commit]!
        let isBoundary = history.shallow.contains(commit)
        let parents = isBoundary ? 0 : mode == .firstParent ? min(1, info.parents.count) : info.parents.count
        return (
            headFile(path, history),
            Change(
                lastChange: LastChange(
                    commit: ObjectID(hex: commit)!, committerTime: info.committerTime, authorTime: info.authorTime,
                    isShallowBoundary: isBoundary),
                isMerge: parents > 1)
        )
    }

    /// The honest answers of a cold run, and random true or forged variants of them.
    private func exercise(_ repo: GitRepository, mode: HistoryMode, seed: UInt64) throws -> Int {
        let history = try history(repo)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        let cold = try runEngine(repo.path, mode: mode)
        let honest: [(file: TrackedFile, change: Change)] = cold.files.compactMap { file in
            file.lastChange.map { last in
                (
                    file,
                    Change(
                        lastChange: last,
                        isMerge: mode == .all && history.commits[last.commit.hex]!.parents.count > 1 && !last.isShallowBoundary)
                )
            }
        }
        for threads in [1, 2] {
            #expect(check(objects, mode, history, honest, threads: threads), "honest answers, \(threads) threads")
        }
        var random = SeededGenerator(seed: seed)
        let commits = history.commits.keys.sorted()
        let paths = history.entries[history.head]!.keys.sorted()
        // Per path, the commits a true claim may name (more than the cold answer's in `.all`).
        var passing: [String: [String]] = [:]
        for path in paths { passing[path] = commits.filter { verdict(claim(path, $0, history, mode), history, mode) } }
        var failing = 0
        for round in 0..<150 {
            var batch = honest
            // Up to three answers replaced by claims of random commits for random paths, some with
            // a flag or a time changed.
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let path = paths.randomElement(using: &random)!
                let pick = Bool.random(using: &random) ? passing[path]!.randomElement(using: &random) : nil
                var forged = claim(path, pick ?? commits.randomElement(using: &random)!, history, mode)
                switch Int.random(in: 0..<8, using: &random) {
                case 0: forged.change.isMerge.toggle()
                case 1: forged.change.lastChange.isShallowBoundary.toggle()
                case 2: forged.change.lastChange.authorTime += 1
                default: break
                }
                let single = verdict(forged, history, mode)
                for threads in [1, 2] {
                    #expect(check(objects, mode, history, [forged], threads: threads) == single, "round \(round): \(forged)")
                }
                let index = batch.firstIndex { $0.file.path == forged.file.path }!
                batch[index] = forged
            }
            let expected = batch.allSatisfy { verdict($0, history, mode) }
            if !expected { failing += 1 }
            for threads in [1, 2] {
                #expect(check(objects, mode, history, batch, threads: threads) == expected, "round \(round), \(threads) threads")
            }
        }
        return failing
    }

    @Test(arguments: HistoryMode.allCases)
    func randomAnswersGetTheSpecifiedVerdict(mode: HistoryMode) throws {
        let repo = try GitRepository(label: "check-random")
        try makeRandomHistory(in: repo, seed: mode == .firstParent ? 201 : 202, commits: 90)
        let failing = try exercise(repo, mode: mode, seed: 203)
        // Both verdicts occur often enough to mean something.
        #expect(failing > 20 && failing < 150)
    }

    /// A shallow clone: boundary commits compare with the empty tree and must be flagged as such.
    @Test(arguments: HistoryMode.allCases)
    func shallowBoundaryFlagsAreChecked(mode: HistoryMode) throws {
        let origin = try GitRepository(label: "check-shallow-origin")
        try makeRandomHistory(in: origin, seed: mode == .firstParent ? 204 : 205, commits: 90)
        let clone = try GitRepository.freshClone(of: origin, label: "check-shallow", depth: 12)
        let history = try history(clone)
        #expect(!history.shallow.isEmpty)
        let failing = try exercise(clone, mode: mode, seed: 206)
        #expect(failing > 20 && failing < 150)
        // A boundary commit's claim with the flag cleared, and a non-boundary commit's with it set.
        let objects = try ObjectDatabase(try Repository(discoveringFrom: clone.path))
        let path = history.entries[history.head]!.keys.sorted()[0]
        for commit in history.commits.keys.sorted() where history.entries[commit]![path] != nil {
            var flipped = claim(path, commit, history, mode)
            flipped.change.lastChange.isShallowBoundary.toggle()
            #expect(!check(objects, mode, history, [flipped], threads: 1))
        }
    }

    /// Hand-made cases: a path whose directory is a file at the parent, a commit that kept the path,
    /// the right content at the wrong commit.
    @Test func directoryThatWasAFile() throws {
        let repo = try GitRepository(label: "check-swap")
        try repo.write("a", "a file\n")
        try repo.write("keep", "kept\n")
        try repo.commit("a is a file")
        try repo.git("rm", "-q", "a")
        try repo.write("a/b", "inside\n")
        try repo.commit("a is a directory")
        try repo.write("keep", "changed\n")
        try repo.commit("keep changes")
        try repo.write("other", "other\n")
        try repo.commit("other only")
        let history = try history(repo)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        let log = try repo.git("log", "--format=%H").split(separator: "\n").map(String.init)
        let (other, keep, directory, file) = (log[0], log[1], log[2], log[3])
        for mode in HistoryMode.allCases {
            func passes(_ path: String, _ commit: String) -> Bool {
                let one = claim(path, commit, history, mode)
                #expect(verdict(one, history, mode) == check(objects, mode, history, [one], threads: 1), "\(path) at \(commit)")
                return check(objects, mode, history, [one], threads: 1)
            }
            #expect(passes("a/b", directory))
            #expect(!passes("a/b", file) && !passes("a/b", keep) && !passes("a/b", other))
            #expect(passes("keep", keep) && !passes("keep", other) && !passes("keep", directory))
            #expect(passes("keep", file) == (mode == .all), "the root set other content: only .all allows it")
            #expect(passes("other", other) && !passes("other", keep))
        }
    }
}
