import Foundation
import MtimeCore
import Testing
import TestSupport

/// `--cache-dir`, $GIT_MTIME_CACHE_DIR and `git config mtime.cacheDir`: where the history cache goes,
/// and that a cache restored into a fresh clone, read-only or shared by two clones at once, always
/// gives the times `git log -1 --first-parent -- PATH` gives.
@Suite struct RestoreCacheDirTests {
    private func history(_ label: String, seed: UInt64 = 91) throws -> GitRepository {
        let repo = try GitRepository(label: label)
        try makeRandomHistory(in: repo, seed: seed, commits: 50)
        return repo
    }

    private func head(_ repo: GitRepository) throws -> String {
        try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    private func restore(
        _ repo: GitRepository, _ arguments: [String] = [], environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProcessResult {
        let before = try contentSnapshot(of: repo.path)
        let result = try run([builtProduct("git-mtime"), "restore", "-v"] + arguments, in: repo.path, environment: environment)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(try contentSnapshot(of: repo.path) == before, "file contents changed", sourceLocation: sourceLocation)
        return result
    }

    @Test func optionEnvironmentAndConfigChooseTheDirectory() throws {
        let repo = try history("cache-dir-choice")
        let option = TemporaryDirectory("cache-dir-option"), variable = TemporaryDirectory("cache-dir-env")
        let configured = TemporaryDirectory("cache-dir-config")
        let own = repo.directory.url(".git/git-mtime")
        // Each run follows a new commit, so the directory that receives its snapshot is the one used.
        func runAfterCommit(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
            try repo.write("a", "commit at \(repo.clock)\n")
            try repo.commit()
            _ = try restore(repo, arguments, environment: environment)
            try expectRestored(repo.path)
            return "history-v2-first-parent-\(try head(repo))"
        }
        try repo.git("config", "mtime.cacheDir", configured.path)
        let byOption = try runAfterCommit(["--cache-dir", option.path], environment: ["GIT_MTIME_CACHE_DIR": variable.path])
        #expect(
            names(option.path).contains(byOption) && !names(variable.path).contains(byOption)
                && !names(configured.path).contains(byOption))
        let byVariable = try runAfterCommit([], environment: ["GIT_MTIME_CACHE_DIR": variable.path])
        #expect(names(variable.path).contains(byVariable) && !names(configured.path).contains(byVariable))
        let byConfig = try runAfterCommit([])
        #expect(names(configured.path).contains(byConfig))
        // Relative to the working-tree root, whatever directory restore runs in.
        try repo.git("config", "mtime.cacheDir", "../relative-cache")
        let relative = (repo.path as NSString).deletingLastPathComponent + "/relative-cache"
        defer { try? FileManager.default.removeItem(atPath: relative) }
        let byRelative = try runAfterCommit(["-C", repo.directory.url("d")])
        #expect(names(relative).contains(byRelative))
        // An empty value is unset: the repository's own directory. The stat cache and the lock never move.
        try repo.git("config", "mtime.cacheDir", "")
        let byDefault = try runAfterCommit([], environment: ["GIT_MTIME_CACHE_DIR": ""])
        #expect(names(own).contains(byDefault))
        #expect(names(own).filter { $0.hasPrefix("history-") } == [byDefault])
        #expect(names(own).contains("lock") && names(option.path).allSatisfy { !$0.hasPrefix("stat") && $0 != "lock" })

        let empty = try run([builtProduct("git-mtime"), "restore", "--cache-dir", ""], in: repo.path)
        #expect(empty.status == 64)
    }

    /// A user-level setting in GIT_CONFIG_GLOBAL reaches the command: the history cache goes where it says.
    @Test func aSettingInGitConfigGlobalReachesRestore() throws {
        let repository = try GitRepository(label: "config-global-restore")
        try repository.write("a", "a\n")
        try repository.commit()
        let cache = TemporaryDirectory("config-global-cache"), files = TemporaryDirectory("config-global-file")
        let global = files.url("gitconfig")
        try "[mtime]\n\tcacheDir = \(cache.path)\n".write(toFile: global, atomically: true, encoding: .utf8)
        let result = try run([builtProduct("git-mtime"), "restore"], in: repository.path, environment: ["GIT_CONFIG_GLOBAL": global])
        #expect(result.status == 0, "\(result.stderr)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []
        #expect(written.contains { $0.hasPrefix("history-") }, "\(written)")
    }

    @Test func freshCloneWithARestoredCacheWalksNothing() throws {
        let origin = try history("cache-dir-origin")
        let saved = TemporaryDirectory("cache-dir-saved")
        _ = try restore(origin, ["--cache-dir", saved.path])
        // What a CI cache action does: save the directory, restore it somewhere else for a new job.
        let restored = TemporaryDirectory("cache-dir-restored")
        try runChecked(["cp", "-a", saved.path + "/.", restored.path])
        let clone = try GitRepository.freshClone(of: origin, label: "cache-dir-clone")
        let result = try restore(clone, ["--cache-dir", restored.path])
        #expect(summaryValue(result.stdout, "commits walked") == "0 (history cache used)", "\(result.stdout)")
        try expectRestored(clone.path)

        // Two commits later, the clone walks exactly those two.
        for round in 1...2 {
            try clone.write("f/j", "later \(round)\n")
            try clone.commit()
        }
        let later = try restore(clone, ["--cache-dir", restored.path])
        #expect(summaryValue(later.stdout, "commits walked") == "2 (history cache used)", "\(later.stdout)")
        try expectRestored(clone.path)
    }

    /// $GIT_MTIME_CACHE_KEY end to end: a keyed run writes a MAC beside its snapshot; a fresh clone
    /// with the same key uses the snapshot without checking it (nothing added to its trust list);
    /// a key shorter than the minimum is ignored with one warning, and the key is never printed.
    @Test func cacheKeyFromTheEnvironment() throws {
        let origin = try history("cache-key-origin")
        let saved = TemporaryDirectory("cache-key-saved")
        let secret = "a CI secret of enough bytes"
        let written = try restore(origin, ["--cache-dir", saved.path], environment: ["GIT_MTIME_CACHE_KEY": secret])
        let snapshot = "history-v2-first-parent-\(try head(origin))"
        #expect(names(saved.path).filter { $0.hasPrefix("history-") } == [snapshot, snapshot + ".mac"])
        #expect(!(written.stdout + written.stderr).contains(secret))

        let restored = TemporaryDirectory("cache-key-restored")
        try runChecked(["cp", "-a", saved.path + "/.", restored.path])
        let clone = try GitRepository.freshClone(of: origin, label: "cache-key-clone")
        let keyed = try restore(clone, ["--cache-dir", restored.path], environment: ["GIT_MTIME_CACHE_KEY": secret])
        #expect(summaryValue(keyed.stdout, "commits walked") == "0 (history cache used)", "\(keyed.stdout)")
        try expectRestored(clone.path)
        #expect(!names(clone.directory.url(".git/git-mtime")).contains("trusted-snapshots-v2"), "trusted by its MAC, not checked")

        // Too short: ignored (the snapshot is checked, and listed as checked), one warning line.
        let short = try GitRepository.freshClone(of: origin, label: "cache-key-short")
        let warned = try restore(short, ["--cache-dir", restored.path], environment: ["GIT_MTIME_CACHE_KEY": "short-key"])
        #expect(
            warned.stderr.split(separator: "\n").filter { $0.contains("GIT_MTIME_CACHE_KEY") }
                == ["git-mtime: warning: $GIT_MTIME_CACHE_KEY is shorter than 16 bytes: ignored"], "\(warned.stderr)")
        #expect(!(warned.stdout + warned.stderr).contains("short-key"))
        #expect(summaryValue(warned.stdout, "commits walked") == "0 (history cache used)", "\(warned.stdout)")
        try expectRestored(short.path)
        #expect(names(short.directory.url(".git/git-mtime")).contains("trusted-snapshots-v2"))

        // No command git-mtime starts inherits the secret (here the build `run` runs).
        let child = try run(
            [
                builtProduct("git-mtime"), "run", "--cache-dir", restored.path, "--", "sh", "-c",
                "printenv GIT_MTIME_CACHE_KEY || echo unset",
            ],
            in: clone.path, environment: ["GIT_MTIME_CACHE_KEY": secret])
        #expect(child.status == 0 && child.stdout == "unset\n" && !child.stderr.contains(secret), "\(child.stdout) \(child.stderr)")
    }

    /// A cache directory git-mtime may not write (a read-only mount, another user's): used as it is.
    @Test func readOnlyCacheDirectoryIsReadNotWritten() throws {
        let repo = try history("cache-dir-readonly")
        let cache = TemporaryDirectory("cache-dir-readonly-cache")
        _ = try restore(repo, ["--cache-dir", cache.path])
        try repo.write("k/l", "after the cache was saved\n")
        try repo.commit()
        try runChecked(["chmod", "-R", "a-w", cache.path])
        defer { _ = try? run(["chmod", "-R", "u+w", cache.path]) }
        let listing = names(cache.path)
        let contents = try contentSnapshot(of: cache.path)
        // root writes anywhere; drop the capabilities that let it, so the permission bits apply.
        let unprivileged = getuid() == 0 ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] : []
        let result = try run(unprivileged + [builtProduct("git-mtime"), "restore", "-v", "--cache-dir", cache.path], in: repo.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summaryValue(result.stdout, "commits walked") == "1 (history cache used)", "\(result.stdout)")
        try expectRestored(repo.path)
        #expect(names(cache.path) == listing)
        #expect(try contentSnapshot(of: cache.path) == contents)

        // A cache directory that cannot even be created: a cold walk, the same times.
        let missing = cache.url("cannot-be-created")
        let cold = try run(unprivileged + [builtProduct("git-mtime"), "restore", "-v", "--cache-dir", missing], in: repo.path)
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(summaryValue(cold.stdout, "commits walked")?.hasSuffix("(history cache used)") == false, "\(cold.stdout)")
        #expect(!FileManager.default.fileExists(atPath: missing))
        try expectRestored(repo.path)
    }

    /// Two clones of one history, each with its own new commits, restoring at the same moment
    /// through one cache directory, round after round.
    @Test func twoClonesShareOneCacheDirectoryAtOnce() throws {
        let origin = try history("cache-dir-concurrent-origin", seed: 92)
        let cache = TemporaryDirectory("cache-dir-concurrent")
        let clones = [
            try GitRepository.freshClone(of: origin, label: "cache-dir-first"),
            try GitRepository.freshClone(of: origin, label: "cache-dir-second"),
        ]
        let tool = builtProduct("git-mtime")
        for round in 1...6 {
            for (index, clone) in clones.enumerated() {
                try clone.write("d/e/clone\(index)", "round \(round)\n")
                if round % 2 == 0 { try clone.write("b.txt", "clone \(index) round \(round)\n") }
                try clone.commit()
            }
            // Both started before either is waited for.
            let processes = try clones.map { clone in
                try Subprocess([tool, "restore", "--cache-dir", cache.path, "-C", clone.path], stdout: .discard)
            }
            let results = processes.map { $0.wait() }
            #expect(results.map(\.status) == [0, 0], "round \(round): \(results.map(\.stderr))")
            for clone in clones { try expectRestored(clone.path) }
        }
        // Each clone's first (cold) run wrote a snapshot; the later ones walked a few commits from it
        // and wrote none (`HistoryEngine.snapshotInterval`).
        #expect(names(cache.path).filter { $0.hasPrefix("history-") }.count == 2)
        #expect(names(cache.path).allSatisfy { !$0.contains(".tmp-") })
    }

    /// manifest, run and the docker wrapper (with `true` as the client) restore through the same option.
    @Test func everyCommandThatRestoresUsesTheDirectory() throws {
        let repo = try history("cache-dir-commands")
        try repo.write("Dockerfile", "FROM scratch\n")
        try repo.commit()
        let commands: [(String, [String])] = [
            ("manifest", ["manifest", "--restore", "-o", "/dev/null", "--cache-dir"]),
            ("run", ["run", "--stamp", repo.directory.url(".git/stamp"), "--cache-dir"]),
            ("docker", ["docker", "--docker", "true", "--cache-dir"]),
        ]
        for (name, prefix) in commands {
            try repo.write("a", "before \(name)\n")
            try repo.commit()
            let cache = TemporaryDirectory("cache-dir-\(name)")
            let suffix = name == "run" ? ["--", "true"] : name == "docker" ? ["build", "."] : []
            let result = try run([builtProduct("git-mtime")] + prefix + [cache.path] + suffix, in: repo.path, environment: hookEnvironment)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(names(cache.path).contains("history-v2-first-parent-\(try head(repo))"), "\(name)")
            // (`run`'s guard then gives every file a fresh time: there is no stamp yet.)
            if name != "run" { try expectRestored(repo.path) }
        }
    }

    @Test func everyCommandThatRestoresDocumentsTheOption() throws {
        for command in [["restore"], ["manifest"], ["run"], ["docker"]] {
            let help = try run([builtProduct("git-mtime")] + command + ["--help"], in: "/")
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("--cache-dir <dir>"), "\(command): \(help.stdout)")
            #expect(help.stdout.contains("GIT_MTIME_CACHE_DIR") && help.stdout.contains("mtime.cacheDir"), "\(command)")
        }
    }
}
