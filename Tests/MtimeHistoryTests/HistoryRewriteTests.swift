import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import Testing
import TestSupport

/// RELIABILITY.md defect 20: `git log` reads history through replace refs (`git replace`,
/// `git replace --graft`) and the graft file; the walk read the raw objects and gave files the time
/// of commits git's history no longer holds (older than git's). Each seed applies random rewrites
/// of every kind to a random history, and the engine (both modes, one thread and several, with a
/// cache cold and warm) must give git's answer; a rewrite that closes a loop must end the walk
/// (git shows each commit once), with an error only for paths git names no commit for.
@Suite struct HistoryRewriteTests {
    enum Kind: CaseIterable {
        case graftToRoot, graftToOthers, replaceCommit, replaceTree, replaceChain
        case graftFile, graftFileFromEnvironment, replaceOffInEnvironment, replaceOffInConfig, replaceRefBase
    }

    @Test(arguments: Array(1...14) as [UInt64])
    func rewrittenHistoriesMatchGit(seed: UInt64) throws {
        let repo = try GitRepository(label: "history-rewrites")
        try makeRandomHistory(in: repo, seed: seed, commits: 50, extraFiles: seed % 3 == 0 ? 160 : 0)
        var random = SeededGenerator(seed: seed &* 7919)
        let commits = try repo.git("rev-list", "--all").split(separator: "\n").map(String.init)
        let line = try repo.git("rev-list", "--first-parent", "HEAD").split(separator: "\n").map(String.init)
        var environment: [String: String] = [:]
        var applied: [String] = []
        let graftFile = repo.directory.url(".git/info/grafts")
        // The first kinds cycle so that every kind is applied by some seed.
        let kinds =
            [Kind.allCases[Int(seed) % Kind.allCases.count]]
            + (0..<Int.random(in: 0...2, using: &random)).map { _ in Kind.allCases.randomElement(using: &random)! }
        // git refuses some rewrites (a graft that changes nothing): those are simply not applied.
        func replace(_ arguments: String...) throws -> Bool {
            try run(["git", "replace", "-f"] + arguments, in: repo.path).succeeded
        }
        for kind in kinds {
            let target = line.dropFirst().randomElement(using: &random)!
            let other = commits.randomElement(using: &random)!
            let another = commits.randomElement(using: &random)!
            switch kind {
            case .graftToRoot:
                guard try replace("--graft", target) else { continue }
            case .graftToOthers:
                guard try replace("--graft", target, other, another) else { continue }
            case .replaceCommit where other != target:
                guard try replace(target, other) else { continue }
            case .replaceTree where other != target:
                let trees = try [target, other].map {
                    try repo.git("rev-parse", "\($0)^{tree}").trimmingCharacters(in: .whitespacesAndNewlines)
                }
                guard trees[0] != trees[1], try replace(trees[0], trees[1]) else { continue }
            case .replaceChain where Set([target, other, another]).count == 3:
                guard try replace(target, other), try replace(other, another) else { continue }
            case .graftFile:
                let text = "# comment\n\(target) \(other)\n\(other)  \(another)\n\(target)\n"
                try Data(text.utf8).write(to: URL(fileURLWithPath: graftFile))
            case .graftFileFromEnvironment:
                let file = repo.directory.url("elsewhere-grafts")
                try Data("\(target.uppercased())\t\(other)\n".utf8).write(to: URL(fileURLWithPath: file))
                environment["GIT_GRAFT_FILE"] = file
            case .replaceOffInEnvironment:
                guard try replace("--graft", target) else { continue }
                environment["GIT_NO_REPLACE_OBJECTS"] = ""
            case .replaceOffInConfig:
                guard try replace("--graft", target, other) else { continue }
                try repo.git("config", "core.useReplaceRefs", "false")
            case .replaceRefBase:
                try repo.git("update-ref", "refs/alternative/\(target)", other)
                environment["GIT_REPLACE_REF_BASE"] = "refs/alternative/"
            default: continue
            }
            applied.append("\(kind) \(target.prefix(7)) \(other.prefix(7))")
        }
        // Half the seeds read the replace refs from packed-refs (a loose directory left empty or gone).
        if seed % 2 == 0 { try repo.git("pack-refs", "--all") }
        let context = "seed \(seed): \(applied)"
        let cache = TemporaryDirectory("history-rewrites-cache")
        for mode in HistoryMode.allCases {
            let oracle =
                mode == .firstParent
                ? try firstParentOracle(repo.path, environment: environment)
                : try allHistoryOracle(repo.path, environment: environment)
            let entries = try headEntries(repo.path, environment: environment)
            for (threads, cached) in [(1, false), (4, false), (4, true), (1, true)] {
                let run = "\(context) \(mode) threads \(threads) cache \(cached)"
                do {
                    let result = try runEngine(
                        repo.path, mode: mode, cache: cached ? cache.path : nil, threads: threads, environment: environment)
                    #expect(mismatches(result, oracle, entries: entries) == [], "\(run)")
                } catch HistoryError.unresolvedPath(let path) {
                    // Only a loop leaves a path without an answer, and then git has none either.
                    #expect(
                        entries[path] != nil && oracle[path] == nil,
                        "\(run): \(path) unresolved, git says \(String(describing: oracle[path]))")
                }
            }
        }
        // The same cache without the rewrites: answers computed through them are not reused.
        for reference in try repo.git("for-each-ref", "--format=%(refname)", "refs/replace/", "refs/alternative/").split(separator: "\n") {
            try repo.git("update-ref", "-d", String(reference))
        }
        try? FileManager.default.removeItem(atPath: graftFile)
        try run(["git", "config", "--unset-all", "core.useReplaceRefs"], in: repo.path)  // exit 5 when unset
        let plain = try runEngine(repo.path, cache: cache.path)
        #expect(mismatches(plain, try firstParentOracle(repo.path), entries: try headEntries(repo.path)) == [], "\(context) after")
    }
}

/// Defect 21 in `--history all`: git orders its walk by `commit->date`, which 2.39 parses apart from
/// `%ct` (`parse_commit_date`: after the first `>` of a `committer` line that must follow the
/// `author` line). Two parents of a merge change the same file; which one the walk pops first (the
/// newer by that date) gives the file its commit. One parent carries a hostile committer line, the
/// other an ordinary date around it; the engine must pick git's commit and give it git's `%ct`.
@Test func hostileCommitDatesOrderTheWalkAsGitDoes() throws {
    let repo = try GitRepository(label: "walk-dates")
    try repo.write("f", "base\n")
    let base = try repo.commit("base")
    func tree(_ content: String) throws -> String {
        try repo.write("f", content)
        try repo.git("add", "f")
        return try repo.git("write-tree").trimmingCharacters(in: .whitespacesAndNewlines)
    }
    func commit(_ header: [String]) throws -> String {
        try runChecked(
            ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], in: repo.path,
            input: (header + ["", "m", ""]).joined(separator: "\n")
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let (one, two, merged) = (try tree("one\n"), try tree("two\n"), try tree("merged\n"))
    let hostile = [
        "t <t@t> 1609459200", "t <t@t>", "t <t@t> -5 +0000", "t <t@t> +1609459200 +0000", "t <t@t> 1609459200x +0000",
        "t > 1609459200 +0000", "t <t@t> 99999999999999999999 +0000", "t <t@t>  1609459200 0000", "t <t@t> 1609459200 +0000",
    ]
    var cases = 0
    for line in hostile {
        for date in [0, 1_609_459_199, 1_609_459_200, 1_609_459_201, 4_000_000_000] as [Int64] {
            for hostileFirst in [false, true] {
                let odd = try commit(["tree \(one)", "parent \(base)", "author a <a@a> 1609459200 +0000", "committer \(line)"])
                let plain = try commit(["tree \(two)", "parent \(base)", "author a <a@a> \(date) +0000", "committer c <c@c> \(date) +0000"])
                let parents = hostileFirst ? [odd, plain] : [plain, odd]
                let merge = try commit(
                    ["tree \(merged)"] + parents.map { "parent \($0)" } + [
                        "author a <a@a> 1700000000 +0000", "committer c <c@c> 1700000000 +0000",
                    ])
                try repo.git("update-ref", "refs/heads/main", merge)
                try repo.git("reset", "-q", "--hard")
                let oracle = try allHistoryOracle(repo.path)
                let result = try runEngine(repo.path, mode: .all)
                #expect(
                    mismatches(result, oracle, entries: try headEntries(repo.path)) == [],
                    "[\(line)] against \(date), hostile first \(hostileFirst)")
                cases += 1
            }
        }
    }
    #expect(cases == 90)
}

/// The shallow boundary as git reads it: from `GIT_SHALLOW_FILE` when set (a full clone cut there,
/// and a shallow clone whose file was moved), and a commit both in the shallow file and grafted
/// takes the graft's parents. Both modes against `git log` under the same environment.
@Test func shallowFileFromTheEnvironmentAndGraftsOverIt() throws {
    let repo = try GitRepository(label: "shallow-file")
    try makeRandomHistory(in: repo, seed: 41, commits: 40)
    let line = try repo.git("rev-list", "--first-parent", "HEAD").split(separator: "\n").map(String.init)
    let cut = repo.directory.url("cut-here")
    var cases = 0
    for (index, commit) in line.enumerated() where index % 5 == 2 {
        try Data("\(commit)\n".utf8).write(to: URL(fileURLWithPath: cut))
        let graftFile = repo.directory.url(".git/info/grafts")
        for grafted in [false, true] {
            if grafted {
                try Data("\(commit) \(line[line.count - 1])\n".utf8).write(to: URL(fileURLWithPath: graftFile))
            } else {
                try? FileManager.default.removeItem(atPath: graftFile)
            }
            let environment = ["GIT_SHALLOW_FILE": cut]
            for mode in HistoryMode.allCases {
                let oracle =
                    mode == .firstParent
                    ? try firstParentOracle(repo.path, environment: environment)
                    : try allHistoryOracle(repo.path, environment: environment)
                let result = try runEngine(repo.path, mode: mode, environment: environment)
                #expect(
                    mismatches(result, oracle, entries: try headEntries(repo.path)) == [], "cut at \(index), grafted \(grafted), \(mode)")
                // A grafted commit is no boundary: nothing gets a boundary time.
                #expect(!grafted || result.shallowBoundaryFiles == 0, "cut at \(index), \(mode)")
                cases += 1
            }
        }
    }
    #expect(cases > 8)
}
