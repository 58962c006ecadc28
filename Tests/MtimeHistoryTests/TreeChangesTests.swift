import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

/// The tree diff the hooks use, against git's own: `git diff-tree -r --no-renames OLD NEW`, keeping
/// what exists in NEW (added, modified, type-changed; not deleted, not submodules).
@Suite struct TreeChangesTests {
    private func gitChangedFiles(_ repo: GitRepository, from old: String, to new: String) throws -> [String] {
        let output = try gitOutput(["diff-tree", "-r", "--no-renames", "-z", "--no-abbrev", old, new], in: repo.path)
        var files: [String] = []
        let fields = output.split(separator: 0, omittingEmptySubsequences: false)
        var index = 0
        while index + 1 < fields.count {
            let meta = String(decoding: fields[index], as: UTF8.self).split(separator: " ")
            let path = String(decoding: fields[index + 1], as: UTF8.self)
            index += 2
            guard meta.count == 5, meta[4] != "D", meta[1] != "160000" else { continue }
            files.append("\(meta[1]) \(meta[3]) \(path)")
        }
        return files
    }

    private func describe(_ files: [TrackedFile]) -> [String] {
        files.map { "\(String($0.mode, radix: 8)) \($0.objectID.hex) \($0.path)" }
    }

    @Test(arguments: [21, 22, 23])
    func changedFilesMatchGitDiffTree(seed: UInt64) throws {
        let repo = try GitRepository(label: "tree-changes")
        try makeRandomHistory(in: repo, seed: seed, commits: 80, extraFiles: 60)
        let commits = try repo.git("rev-list", "--all").split(separator: "\n").map(String.init)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        var random = SeededGenerator(seed: seed)
        var pairs = 0
        for _ in 0..<40 {
            let old = commits.randomElement(using: &random)!, new = commits.randomElement(using: &random)!
            let mine = try TreeChanges.changedFiles(objects, from: try #require(ObjectID(hex: old)), to: try #require(ObjectID(hex: new)))
            #expect(describe(mine) == (try gitChangedFiles(repo, from: old, to: new)), "\(old) → \(new)")
            pairs += 1
        }
        #expect(pairs == 40)
        // No old commit: every file of the new tree (submodules excluded), as `git ls-tree -r` lists them.
        let head = commits[0]
        let everything = try TreeChanges.changedFiles(objects, from: nil, to: try #require(ObjectID(hex: head)))
        let listed = try repo.git("ls-tree", "-r", head).split(separator: "\n").map { line -> String in
            let parts = line.split(separator: "\t", maxSplits: 1)
            let meta = parts[0].split(separator: " ")
            return "\(meta[0]) \(meta[2]) \(parts[1])"
        }
        #expect(!everything.isEmpty)
        #expect(describe(everything) == listed)
    }

    /// A diff skips the entries two versions of a directory begin and end with byte for byte. Names
    /// that hold what looks like another entry's bytes ("a100644 b"), names around a subtree's
    /// place in tree order ("e.c" < "e/" < "e0"), and changes at the first and last entries must
    /// not move where it thinks an entry starts.
    @Test(arguments: [31, 32, 33])
    func sharedBeginningsAndEndsMatchGitDiffTree(seed: UInt64) throws {
        let repo = try GitRepository(label: "tree-alike")
        let names = [
            "0", "a", "a b", "a100644 b", "100644 b", "b", "c 40000 d", "e.c", "e/f", "e/g 100644 h", "e0", "zz",
        ]
        var random = SeededGenerator(seed: seed)
        var present = Set<String>()
        var commits: [String] = []
        for round in 0..<30 {
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let name = names.randomElement(using: &random)!
                if present.contains(name), Bool.random(using: &random) {
                    try FileManager.default.removeItem(atPath: repo.directory.url(name))
                    present.remove(name)
                } else {
                    try repo.write(name, "\(name) \(round)\n")
                    present.insert(name)
                }
            }
            commits.append(try repo.commit("round \(round)"))
        }
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        var pairs = 0
        for (index, new) in commits.enumerated() {
            for old in [commits[max(0, index - 1)], commits[(index * 7) % commits.count]] {
                let mine = try TreeChanges.changedFiles(
                    objects, from: try #require(ObjectID(hex: old)), to: try #require(ObjectID(hex: new)))
                #expect(describe(mine) == (try gitChangedFiles(repo, from: old, to: new)), "\(old) → \(new)")
                pairs += 1
            }
        }
        #expect(pairs == 60)
    }
}
