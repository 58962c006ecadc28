import Foundation
import Testing
import TestSupport
@testable import MtimeDocker

/// Every flag of every client's flag list (Fixtures/), in every form pflag accepts.
@Suite struct ClientFlagFormTests {
    static let flags = (try? ClientFlagLists.all()) ?? []

    @Test func theListsWereRead() throws {
        let flags = try ClientFlagLists.all()
        // docker 20.10 and 28, buildx, podman and buildah together.
        #expect(flags.count > 100)
        for expected in ["tag", "file", "build-context", "load", "call", "check", "stream", "detach", "volume", "pull"] {
            #expect(flags.contains { $0.long == expected }, "\(expected) missing from the fixtures")
        }
    }

    @Test func theTableKnowsEveryFlagAsItsClientDoes() throws {
        for flag in try ClientFlagLists.all() {
            if flag.takesValue {
                #expect(BuildFlags.longWithValue.contains(flag.long), "--\(flag.long) takes a value")
                #expect(!BuildFlags.longWithoutValue.contains(flag.long))
            } else {
                #expect(BuildFlags.longWithoutValue.contains(flag.long), "--\(flag.long) takes no value")
                #expect(!BuildFlags.longWithValue.contains(flag.long))
            }
            if let short = flag.short {
                #expect((flag.takesValue ? BuildFlags.shortWithValue : BuildFlags.shortWithoutValue).contains(short), "-\(short)")
            }
        }
        #expect(BuildFlags.longWithValue.isDisjoint(with: BuildFlags.longWithoutValue))
        #expect(BuildFlags.shortWithValue.isDisjoint(with: BuildFlags.shortWithoutValue))
    }

    /// The arguments come back unchanged, the context is found, and only `-f` and `--build-context` are read.
    func check(
        _ options: [String], context: String = "ctx", flag: ClientFlag, value: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for command in [["build"], ["buildx", "build"]] {
            let parsed = try BuildArguments(parsing: command + options)
            #expect(parsed.options == options, sourceLocation: sourceLocation)
            #expect(parsed.context == context, "\(options)", sourceLocation: sourceLocation)
            #expect(!parsed.wantsHelp, sourceLocation: sourceLocation)
            #expect(parsed.dockerfiles == (flag.long == "file" ? [value!] : []), "\(options)", sourceLocation: sourceLocation)
            #expect(
                parsed.buildContextNames == (flag.long == "build-context" ? [String(value!.prefix { $0 != "=" })] : []),
                sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: flags.filter(\.takesValue))
    func longFlagWithValue(flag: ClientFlag) throws {
        let value = "name=some value"
        try check(["--\(flag.long)", value, "ctx"], flag: flag, value: value)
        try check(["--\(flag.long)=\(value)", "ctx"], flag: flag, value: value)
        try check(["--\(flag.long)=", "ctx"], flag: flag, value: "")
        // After the context, with a value that looks like a context or like an option.
        try check(["ctx", "--\(flag.long)", "other-dir"], flag: flag, value: "other-dir")
        try check(["--\(flag.long)", "-x", "ctx"], flag: flag, value: "-x")
        try check(["--\(flag.long)", "--help", "ctx"], flag: flag, value: "--help")
    }

    @Test(arguments: flags.filter { !$0.takesValue && $0.long != "help" })
    func longFlagWithoutValue(flag: ClientFlag) throws {
        try check(["--\(flag.long)", "ctx"], flag: flag)
        try check(["ctx", "--\(flag.long)"], flag: flag)
        try check(["--\(flag.long)=true", "ctx"], flag: flag)
        try check(["--\(flag.long)=false", "ctx"], flag: flag)
    }

    @Test(arguments: flags.filter { $0.short != nil && $0.takesValue })
    func shortFlagWithValue(flag: ClientFlag) throws {
        let letter = flag.short!
        try check(["-\(letter)", "v", "ctx"], flag: flag, value: "v")
        try check(["-\(letter)v", "ctx"], flag: flag, value: "v")
        try check(["-\(letter)=v", "ctx"], flag: flag, value: "v")
        try check(["ctx", "-\(letter)", "other-dir"], flag: flag, value: "other-dir")
        // Bundled after every short flag without a value (`-qt tag`, `-qttag`).
        for bool in BuildFlags.shortWithoutValue where bool != "h" {
            try check(["-\(bool)\(letter)", "v", "ctx"], flag: flag, value: "v")
            try check(["-\(bool)\(letter)v", "ctx"], flag: flag, value: "v")
        }
    }

    @Test(arguments: flags.filter { $0.short != nil && !$0.takesValue && $0.long != "help" })
    func shortFlagWithoutValue(flag: ClientFlag) throws {
        let letter = flag.short!
        try check(["-\(letter)", "ctx"], flag: flag)
        try check(["-\(letter)=false", "ctx"], flag: flag)
        for other in BuildFlags.shortWithoutValue where other != "h" {
            try check(["-\(letter)\(other)", "ctx"], flag: flag)
        }
    }
}

@Suite struct BuildArgumentsTests {
    @Test func contextAndDefaultDockerfile() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "app:1", "--build-arg", "A=B", "--no-cache", "ctx"])
        #expect(parsed.builder == .build)
        #expect(parsed.command == ["build"])
        #expect(parsed.globalOptions == [])
        #expect(parsed.context == "ctx")
        #expect(parsed.dockerfiles == [])
        #expect(parsed.options == ["-t", "app:1", "--build-arg", "A=B", "--no-cache", "ctx"])
    }

    @Test(arguments: [
        (["build", "-f", "x/D", "."], ["x/D"]),
        (["build", "--file", "x/D", "."], ["x/D"]),
        (["build", "--file=x/D", "."], ["x/D"]),
        (["build", "-fx/D", "."], ["x/D"]),
        (["build", "-f=x/D", "."], ["x/D"]),
        (["build", ".", "-f", "x/D"], ["x/D"]),
        (["build", "-qf", "x/D", "."], ["x/D"]),
        (["build", "-f", "first", "--file", "x/D", "."], ["first", "x/D"]),
        (["build", "-f", "-", "."], ["-"]),
    ])
    func dockerfileOptionForms(arguments: [String], files: [String]) throws {
        let parsed = try BuildArguments(parsing: arguments)
        #expect(parsed.dockerfiles == files)
        #expect(parsed.context == ".")
    }

    @Test(arguments: [
        (["build", "."], ["build"], BuildArguments.Builder.build, [String]()),
        (["image", "build", "."], ["image", "build"], .build, []),
        (["builder", "build", "."], ["builder", "build"], .build, []),
        (["bud", "."], ["bud"], .build, []),
        (["buildx", "build", "."], ["buildx", "build"], .buildx, []),
        (["buildx", "b", "."], ["buildx", "b"], .buildx, []),
        (["buildx", "--builder", "ci", "-D", "build", "."], ["buildx", "--builder", "ci", "-D", "build"], .buildx, []),
        (["-H", "unix:///run/x.sock", "build", "."], ["build"], .build, ["-H", "unix:///run/x.sock"]),
        (
            ["--context", "build", "--log-level=debug", "-D", "build", "."], ["build"], .build,
            ["--context", "build", "--log-level=debug", "-D"]
        ),
        (
            ["--root", "/var/r", "--storage-driver", "vfs", "build", "."], ["build"], .build,
            ["--root", "/var/r", "--storage-driver", "vfs"]
        ),
    ])
    func commandWordsAndGlobalOptions(arguments: [String], command: [String], builder: BuildArguments.Builder, global: [String]) throws {
        let parsed = try BuildArguments(parsing: arguments)
        #expect(parsed.command == command)
        #expect(parsed.builder == builder)
        #expect(parsed.globalOptions == global)
        #expect(parsed.context == ".")
        #expect(parsed.options == ["."])
    }

    @Test(arguments: ["https://github.com/a/b.git", "-", "github.com/a/b", "git@github.com:a/b.git"])
    func contextArgumentIsKeptAsTyped(context: String) throws {
        #expect(try BuildArguments(parsing: ["build", "-t", "x", context]).context == context)
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "x", "--", "-odd-name"])
        #expect(parsed.context == "-odd-name")
        #expect(
            parsed.inserting(["--build-context", "git-mtime=/t"]) == [
                "build", "-t", "x", "--build-context", "git-mtime=/t", "--", "-odd-name",
            ])
        #expect(try BuildArguments(parsing: ["build", "--", "--help"]).wantsHelp == false)
    }

    @Test(arguments: [
        ["build", "--help"], ["build", "-h"], ["build", "--help=true"], ["build", "-qh"], ["build", "-t", "x", ".", "--help"],
        ["buildx", "build", "--help"], ["image", "build", "--help", "a", "b", "c"], ["build", "--frobnicate", "x", "y", "--help"],
    ])
    func helpIsTheClients(arguments: [String]) throws {
        let parsed = try BuildArguments(parsing: arguments)
        #expect(parsed.wantsHelp)
        #expect(parsed.context == nil)
    }

    @Test func helpAsAValueOrSwitchedOffIsNotHelp() throws {
        #expect(try BuildArguments(parsing: ["build", "--tag", "--help", "."]).wantsHelp == false)
        #expect(try BuildArguments(parsing: ["build", "-t", "-h", "."]).wantsHelp == false)
        #expect(try BuildArguments(parsing: ["build", "--help=false", "."]).wantsHelp == false)
    }

    /// An option no flag list has: written `--opt=value` it is one word; written `--opt` the next word may be
    /// its value, and the context is the positional argument not right after such an option.
    @Test(arguments: [
        (["build", "--new-flag", "value", "ctx"], "ctx"),
        (["build", "--new-flag", "ctx"], "ctx"),
        (["build", "ctx", "--new-flag", "value"], "ctx"),
        (["build", "ctx", "--new-flag"], "ctx"),
        (["build", "--new-flag=value", "ctx"], "ctx"),
        (["build", "--detach=true", "ctx"], "ctx"),
        (["build", "--new-a", "x", "--new-b", "y", "ctx"], "ctx"),
        (["build", "--new-a", "x", "ctx", "--new-b"], "ctx"),
        (["build", "-Z", "x", "ctx"], "ctx"),
        (["build", "-Zvalue", "ctx"], "ctx"),
        (["build", "-Z=f", "ctx"], "ctx"),
        (["build", "-qZ", "x", "ctx"], "ctx"),
    ])
    func unknownOptions(arguments: [String], context: String) throws {
        let parsed = try BuildArguments(parsing: arguments)
        #expect(parsed.context == context)
        #expect(parsed.options == Array(arguments.dropFirst()))
    }

    @Test func buildContextNames() throws {
        let parsed = try BuildArguments(parsing: [
            "buildx", "build", "--build-context", "deps=../deps", "--build-context=git-mtime=/x", ".",
        ])
        #expect(parsed.buildContextNames == ["deps", "git-mtime"])
    }

    @Test func replacingTheDockerfileKeepsEveryOtherArgument() throws {
        let separate = try BuildArguments(parsing: ["build", "-t", "x", "-f", "D", "--pull", "ctx"])
        #expect(separate.replacingDockerfile(with: "/tmp/R") == ["build", "-t", "x", "--file=/tmp/R", "--pull", "ctx"])
        let inline = try BuildArguments(parsing: ["build", "--file=D", "ctx"])
        #expect(inline.replacingDockerfile(with: "/tmp/R") == ["build", "--file=/tmp/R", "ctx"])
        let clustered = try BuildArguments(parsing: ["build", "-qf", "D", "ctx"])
        #expect(clustered.replacingDockerfile(with: "/tmp/R") == ["build", "-q", "--file=/tmp/R", "ctx"])
        let absent = try BuildArguments(parsing: ["build", "-t", "x", "ctx", "--no-cache"])
        #expect(absent.replacingDockerfile(with: "/tmp/R") == ["build", "-t", "x", "--file=/tmp/R", "ctx", "--no-cache"])
        // docker reads the last -f: that one is replaced.
        let twice = try BuildArguments(parsing: ["build", "-f", "A", "ctx", "-f", "B"])
        #expect(twice.replacingDockerfile(with: "/tmp/R") == ["build", "-f", "A", "ctx", "--file=/tmp/R"])
        let global = try BuildArguments(parsing: ["-H", "h", "build", "ctx"])
        #expect(global.replacingDockerfile(with: "/tmp/R") == ["build", "--file=/tmp/R", "ctx"])
    }

    @Test func buildContextGoesBeforeTheContext() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "x", "ctx", "--pull"])
        #expect(
            parsed.inserting(["--build-context", "git-mtime=/t"]) == [
                "build", "-t", "x", "--build-context", "git-mtime=/t", "ctx", "--pull",
            ])
        // No context (podman builds the working directory): at the end.
        let none = try BuildArguments(parsing: ["build", "-t", "x"])
        #expect(none.context == nil)
        #expect(none.inserting(["--build-context", "git-mtime=/t"]) == ["build", "-t", "x", "--build-context", "git-mtime=/t"])
    }

    @Test(arguments: [
        (["run", "."], "expected `build`, `buildx build`, `image build`, `builder build` or `bud` after `docker`, got: run ."),
        (["buildx", "ls"], "expected `build`, `buildx build`, `image build`, `builder build` or `bud` after `docker`, got: buildx ls"),
        (["build", "a", "b"], "expected one build context (PATH | URL | -), got: a b"),
        (
            ["build", "--new-a", "x", "--new-b", "y"],
            "cannot tell the build context among: x y (git-mtime does not know whether --new-a, --new-b take a value): write such options as --option=VALUE"
        ),
        (["build", "-Zf", "x", "."], "unknown option -Z in -Zf: write -Z=VALUE or split the flags (-Z -f)"),
        (["build", "."] + ["--tag"], "option --tag needs a value"),
        (["build", ".", "-f"], "option -f needs a value"),
    ])
    func errors(arguments: [String], message: String) {
        #expect(throws: BuildArgumentsError(message)) { try BuildArguments(parsing: arguments) }
    }
}

@Suite struct InjectionModeTests {
    let docker20 = Client(versionOutput: "Docker version 20.10.24+dfsg1, build 297e128\n")
    let docker28 = Client(versionOutput: "Docker version 28.5.1, build e180ab8\n")

    @Test func clients() {
        #expect(docker20 == .docker(majorVersion: 20))
        #expect(docker28 == .docker(majorVersion: 28))
        #expect(Client(versionOutput: "podman version 4.3.1\n") == .podman)
        #expect(Client(versionOutput: "buildah version 1.28.2 (image-spec 1.1.0-rc2, runtime-spec 1.0.2-dev)\n") == .buildah)
        #expect(Client(versionOutput: "") == .docker(majorVersion: nil))
    }

    @Test func buildxAlwaysUsesBuildContexts() {
        #expect(InjectionMode.select(client: docker20, builder: .buildx, buildkit: "0", buildxAvailable: { false }) == .buildContext)
    }

    @Test func buildahAndPodmanUseBuildContexts() {
        #expect(InjectionMode.select(client: .buildah, builder: .build, buildkit: nil, buildxAvailable: { false }) == .buildContext)
        #expect(InjectionMode.select(client: .podman, builder: .build, buildkit: "0", buildxAvailable: { false }) == .buildContext)
        #expect(InjectionMode.buildContext.dockerfileRules(for: .podman) == .buildah)
    }

    @Test(arguments: [
        ("1", 20, false, InjectionMode.rewrittenMountSource),
        ("true", 20, true, .rewrittenMountSource),
        ("1", 28, true, .buildContext),
        ("0", 28, true, .rewrittenForClassicBuilder),
        ("false", 20, false, .rewrittenForClassicBuilder),
    ])
    func explicitBuildKitSetting(buildkit: String, major: Int, buildx: Bool, expected: InjectionMode) {
        let client = major == 20 ? docker20 : docker28
        #expect(InjectionMode.select(client: client, builder: .build, buildkit: buildkit, buildxAvailable: { buildx }) == expected)
    }

    @Test func defaultsFollowTheClient() {
        #expect(InjectionMode.select(client: docker28, builder: .build, buildkit: nil, buildxAvailable: { true }) == .buildContext)
        #expect(
            InjectionMode.select(client: docker28, builder: .build, buildkit: nil, buildxAvailable: { false })
                == .rewrittenForClassicBuilder)
        #expect(
            InjectionMode.select(client: docker20, builder: .build, buildkit: "", buildxAvailable: { true }) == .rewrittenForClassicBuilder)
        #expect(
            InjectionMode.select(client: .docker(majorVersion: nil), builder: .build, buildkit: nil, buildxAvailable: { true })
                == .rewrittenForClassicBuilder)
    }

    @Test func buildxIsOnlyAskedAboutWhenItMatters() {
        var asked = false
        _ = InjectionMode.select(
            client: docker20, builder: .build, buildkit: nil,
            buildxAvailable: {
                asked = true; return true
            })
        #expect(!asked)
    }

    @Test func dockerfileRules() {
        #expect(InjectionMode.rewrittenForClassicBuilder.dockerfileRules(for: docker20) == .classicClient)
        #expect(InjectionMode.rewrittenMountSource.dockerfileRules(for: docker20) == .buildKit)
        #expect(InjectionMode.buildContext.dockerfileRules(for: docker28) == .buildKit)
    }
}

/// The fixtures are what the installed clients print: checked against them wherever the same client
/// versions are installed (skipped, with the reason, elsewhere).
@Suite struct InstalledClientFlagTests {
    /// The fixture's first line names the client's `--version` output.
    static func installed(_ executable: String, fixture: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: executable),
            let header = try? String(contentsOf: ClientFlagLists.directory.appendingPathComponent(fixture), encoding: .utf8)
                .split(separator: "\n").first,
            let version = try? run([executable, "--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        else { return false }
        return header.hasSuffix(version) || header.contains(version + ",") || header.contains(version + " ")
    }

    func compare(_ command: [String], environment: [String: String] = [:], fixture: String) throws {
        let live = try run(command, environment: environment)
        #expect(live.status == 0, "\(live.stderr)")
        let recorded = try String(contentsOf: ClientFlagLists.directory.appendingPathComponent(fixture), encoding: .utf8)
        #expect(Set(ClientFlagLists.parseHelp(live.stdout)) == Set(ClientFlagLists.parseHelp(recorded)))
    }

    @Test(.enabled(if: installed("/usr/bin/docker", fixture: "docker-20.10-classic-build-help.txt"), "docker.io 20.10 is not installed"))
    func docker20() throws {
        try compare(
            ["/usr/bin/docker", "build", "--help"], environment: ["DOCKER_BUILDKIT": "0"], fixture: "docker-20.10-classic-build-help.txt")
        try compare(
            ["/usr/bin/docker", "build", "--help"], environment: ["DOCKER_BUILDKIT": "1"], fixture: "docker-20.10-buildkit-build-help.txt")
    }

    @Test(.enabled(if: installed("/usr/local/bin/docker", fixture: "docker-28-classic-build-help.txt"), "docker 28.2.2 is not installed"))
    func docker28() throws {
        try compare(
            ["/usr/local/bin/docker", "build", "--help"], environment: ["DOCKER_BUILDKIT": "0"], fixture: "docker-28-classic-build-help.txt"
        )
    }

    @Test(.enabled(if: installed("/usr/bin/podman", fixture: "podman-4.3-build-help.txt"), "podman 4.3 is not installed"))
    func podman() throws {
        try compare(["/usr/bin/podman", "build", "--help"], fixture: "podman-4.3-build-help.txt")
    }

    @Test(.enabled(if: installed("/usr/bin/buildah", fixture: "buildah-1.28-build-help.txt"), "buildah 1.28 is not installed"))
    func buildah() throws {
        try compare(["/usr/bin/buildah", "build", "--help"], fixture: "buildah-1.28-build-help.txt")
    }
}
