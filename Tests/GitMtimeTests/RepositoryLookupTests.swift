import Foundation
import MtimeCore
import Testing
import TestSupport

/// Every command finds its repository one way, git's: `-C` entered first, then GIT_DIR,
/// GIT_WORK_TREE (relative to where `-C` leads) and the `git -c` settings git passes on.
@Suite struct RepositoryLookupTests {
    /// A repository whose git dir lives apart from its working tree, and a bystander directory
    /// (itself a repository) that must never be acted on.
    final class World: @unchecked Sendable {
        let repository: GitRepository
        let elsewhere = TemporaryDirectory("lookup-gitdir")
        let bystander: GitRepository
        var gitDirectory: String { elsewhere.url("repo.git") }
        let commitTime: Timestamp

        init() throws {
            repository = try GitRepository(label: "lookup-worktree")
            try repository.write("README.md", "readme\n")
            try repository.write("Dockerfile", "FROM scratch\nCOPY . .\n")
            try repository.commit("first")
            commitTime = Timestamp(seconds: repository.clock, nanoseconds: 0)
            bystander = try GitRepository(label: "lookup-bystander")
            try bystander.write("README.md", "bystander\n")
            try bystander.commit("bystander")
            try FileManager.default.moveItem(atPath: repository.directory.url(".git"), toPath: gitDirectory)
        }

        /// The two ways in: absolute GIT_DIR/GIT_WORK_TREE from the bystander, and `-C <work tree>`
        /// with both relative to it (as `git -C wt --git-dir=../x` would pass them).
        var ways: [(name: String, arguments: [String], environment: [String: String])] {
            let relativeGitDir = "../" + (elsewhere.path as NSString).lastPathComponent + "/repo.git"
            return [
                ("GIT_DIR + GIT_WORK_TREE", [], ["GIT_DIR": gitDirectory, "GIT_WORK_TREE": repository.path]),
                ("-C with relative GIT_DIR", ["-C", repository.path], ["GIT_DIR": relativeGitDir, "GIT_WORK_TREE": "."]),
            ]
        }
    }

    /// Each command, and what its output says when it acted on the repository in the world.
    static let commands: [(name: String, arguments: [String], says: @Sendable (World) -> String)] = [
        ("restore", ["restore", "-v"], { _ in "files set: 2" }),
        ("manifest", ["manifest"], { _ in "README.md" }),
        ("status", ["status"], { "repository: \(try! FileSystem.resolve(BytePath($0.repository.path)))" }),
        ("doctor", ["doctor"], { "repository \(try! FileSystem.resolve(BytePath($0.repository.path)))" }),
        ("explain", ["explain", "README.md"], { _ in "README.md: clean" }),
    ]

    @Test(arguments: commands.indices)
    func everyCommandActsOnTheRepositoryGitsEnvironmentNames(_ index: Int) throws {
        let command = Self.commands[index]
        let world = try World()
        for way in world.ways {
            try runChecked(["sh", "-c", "touch README.md Dockerfile"], in: world.repository.path)
            let bystanderBefore = try mtimeSnapshot(world.bystander.path)
            let subcommand = [command.arguments[0]], rest = Array(command.arguments.dropFirst())
            let result = try run(
                [builtProduct("git-mtime")] + subcommand + way.arguments + rest, in: world.bystander.path,
                environment: way.environment)
            #expect(
                result.status == 0 || (command.name == "doctor" && result.status == 1), "\(command.name), \(way.name): \(result.stderr)")
            #expect(result.stdout.contains(command.says(world)), "\(command.name), \(way.name): \(result.stdout)\n\(result.stderr)")
            #expect(try mtimeSnapshot(world.bystander.path) == bystanderBefore, "\(command.name), \(way.name): the bystander was touched")
        }
    }

    /// `git -c mtime.*=…` reaches every setting a command reads, through git as a user types it.
    @Test func gitDashCSettingsReachTheCommands() throws {
        let repository = try GitRepository(label: "dash-c")
        try repository.write("README.md", "readme\n")
        try repository.commit("first")
        let root = try FileSystem.resolve(BytePath(repository.path))
        func git(_ arguments: [String]) throws -> ProcessResult {
            try run(["git"] + arguments, in: repository.path, environment: hookEnvironment)
        }
        let status = try git(["-c", "mtime.stamp=out dir/it's.stamp", "mtime", "status"])
        #expect(status.stdout.contains("build stamp: \(root)/out dir/it's.stamp"), "\(status.stdout)\(status.stderr)")
        let explain = try git(["-c", "mtime.stamp=elsewhere.stamp", "mtime", "explain", "README.md"])
        #expect(explain.stdout.contains("stamp elsewhere.stamp") || explain.stdout.contains("elsewhere.stamp"), "\(explain.stdout)")
        let refused = try git(["-c", "mtime.hookMode=sometimes", "mtime", "status"])
        #expect(refused.status == 1 && refused.stderr.contains("mtime.hookMode is 'sometimes'"), "\(refused.stderr)")

        let cache = TemporaryDirectory("dash-c-cache")
        let restore = try git(["-c", "mtime.cacheDir=\(cache.path)", "mtime", "restore"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try !FileManager.default.contentsOfDirectory(atPath: cache.path).isEmpty, "the history cache went to mtime.cacheDir")
        // The same through GIT_CONFIG_COUNT, which git documents for scripts.
        let counted = try run(
            [builtProduct("git-mtime"), "status"], in: repository.path,
            environment: ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "MTIME.Stamp", "GIT_CONFIG_VALUE_0": "counted.stamp"])
        #expect(counted.stdout.contains("build stamp: \(root)/counted.stamp"), "\(counted.stdout)")
    }
}
