import Testing
@testable import MtimeDocker

@Suite struct BuildArgumentsTests {
    @Test func contextAndDefaultDockerfile() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "app:1", "--build-arg", "A=B", "--no-cache", "ctx"])
        #expect(parsed.builder == .build)
        #expect(parsed.command == ["build"])
        #expect(parsed.context == .directory("ctx"))
        #expect(parsed.dockerfile == .inContext)
        #expect(parsed.dockerfilePath == "ctx/Dockerfile")
        #expect(parsed.options == ["-t", "app:1", "--build-arg", "A=B", "--no-cache", "ctx"])
    }

    @Test(arguments: [
        (["build", "-f", "x/D", "."], "x/D"),
        (["build", "--file", "x/D", "."], "x/D"),
        (["build", "--file=x/D", "."], "x/D"),
        (["build", "-fx/D", "."], "x/D"),
        (["build", "-f=x/D", "."], "x/D"),
        (["build", ".", "-f", "x/D"], "x/D"),
        (["build", "-qf", "x/D", "."], "x/D"),
        (["build", "-f", "first", "--file", "x/D", "."], "x/D"),
    ])
    func dockerfileOptionForms(arguments: [String], path: String) throws {
        let parsed = try BuildArguments(parsing: arguments)
        #expect(parsed.dockerfile == .path(path))
        #expect(parsed.context == .directory("."))
    }

    @Test func valuesThatLookLikeContextsAreNotContexts() throws {
        // Each value belongs to its option in both the `--opt value` and `--opt=value` forms.
        let parsed = try BuildArguments(parsing: [
            "build", "--network", "none", "--progress=plain", "--label", "ctx", "-o", "type=local,dest=out",
            "--secret", "id=a,src=b", "-m", "1g", "--platform=linux/amd64", "--target", "final", "real-context",
        ])
        #expect(parsed.context == .directory("real-context"))
    }

    @Test func dockerfileOnStandardInput() throws {
        let parsed = try BuildArguments(parsing: ["build", "-f", "-", "ctx"])
        #expect(parsed.dockerfile == .standardInput)
        #expect(parsed.dockerfilePath == nil)
        #expect(parsed.context == .directory("ctx"))
    }

    @Test(arguments: ["https://github.com/a/b.git", "http://host/ctx.tar.gz", "git@github.com:a/b.git", "github.com/a/b", "git://host/r"])
    func urlContextsPassThrough(url: String) throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "x", url])
        #expect(parsed.context == .url(url))
    }

    @Test func standardInputContext() throws {
        #expect(try BuildArguments(parsing: ["build", "-t", "x", "-"]).context == .standardInput)
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "x", "--", "-odd-name"])
        #expect(parsed.context == .directory("-odd-name"))
        #expect(parsed.options(inserting: ["--build-context", "git-mtime=/t"]) == ["-t", "x", "--build-context", "git-mtime=/t", "--", "-odd-name"])
    }

    @Test func buildx() throws {
        let parsed = try BuildArguments(parsing: ["buildx", "build", "--load", "--builder", "b", "."])
        #expect(parsed.builder == .buildx)
        #expect(parsed.command == ["buildx", "build"])
        #expect(parsed.options == ["--load", "--builder", "b", "."])
        #expect(try BuildArguments(parsing: ["buildx", "b", "."]).builder == .buildx)
    }

    @Test func replacingTheDockerfileKeepsEveryOtherArgument() throws {
        let separate = try BuildArguments(parsing: ["build", "-t", "x", "-f", "D", "--pull", "ctx"])
        #expect(separate.options(dockerfile: "/tmp/R") == ["-t", "x", "--file=/tmp/R", "--pull", "ctx"])
        let inline = try BuildArguments(parsing: ["build", "--file=D", "ctx"])
        #expect(inline.options(dockerfile: "/tmp/R") == ["--file=/tmp/R", "ctx"])
        let clustered = try BuildArguments(parsing: ["build", "-qf", "D", "ctx"])
        #expect(clustered.options(dockerfile: "/tmp/R") == ["-q", "--file=/tmp/R", "ctx"])
        let absent = try BuildArguments(parsing: ["build", "-t", "x", "ctx", "--no-cache"])
        #expect(absent.options(dockerfile: "/tmp/R") == ["-t", "x", "--file=/tmp/R", "ctx", "--no-cache"])
    }

    @Test func buildContextGoesBeforeTheContext() throws {
        let parsed = try BuildArguments(parsing: ["build", "-t", "x", "ctx", "--pull"])
        #expect(parsed.options(inserting: ["--build-context", "git-mtime=/t"]) == ["-t", "x", "--build-context", "git-mtime=/t", "ctx", "--pull"])
    }

    @Test(arguments: [
        (["run", "."], "expected `build` or `buildx build` after `docker`, got: run ."),
        (["build", "-t", "x"], "no build context given (docker build [OPTIONS] PATH | URL | -)"),
        (["build", "a", "b"], "expected exactly one build context, got: a b"),
        (["build", "--frobnicate", "x", "."], "unknown docker build option --frobnicate; if it takes a value, write it as --frobnicate=VALUE"),
        (["build", "-Z", "."], "unknown docker build option -Z"),
        (["build", "."] + ["--tag"], "option --tag needs a value"),
        (["build", ".", "-f"], "option -f needs a value"),
    ])
    func errors(arguments: [String], message: String) {
        #expect(throws: BuildArgumentsError(message)) { try BuildArguments(parsing: arguments) }
    }

    @Test func unknownOptionWithInlineValueIsStillAnError() {
        // Guessing would risk taking a value for the context.
        #expect(throws: BuildArgumentsError.self) { try BuildArguments(parsing: ["build", "--future-option=1", "."]) }
    }
}

@Suite struct InjectionModeTests {
    @Test func buildxAlwaysUsesBuildContexts() {
        #expect(InjectionMode.select(builder: .buildx, clientVersion: docker20, buildkit: "0", buildxAvailable: { false }) == .buildContext)
    }

    @Test func buildahAndPodmanUseBuildContexts() {
        #expect(InjectionMode.select(builder: .build, clientVersion: "buildah version 1.28.2 (image-spec 1.1.0-rc2, runtime-spec 1.0.2-dev)\n",
                                     buildkit: nil, buildxAvailable: { false }) == .buildContext)
        #expect(InjectionMode.select(builder: .build, clientVersion: "podman version 4.3.1\n", buildkit: "0", buildxAvailable: { false }) == .buildContext)
    }

    let docker20 = "Docker version 20.10.24+dfsg1, build 297e128\n"
    let docker28 = "Docker version 28.5.1, build e180ab8\n"

    @Test(arguments: [
        ("1", 20, false, InjectionMode.taggedImage),
        ("true", 20, true, .taggedImage),
        ("1", 28, true, .buildContext),
        ("0", 28, true, .rewrittenDockerfile),
        ("false", 20, false, .rewrittenDockerfile),
    ])
    func explicitBuildKitSetting(buildkit: String, major: Int, buildx: Bool, expected: InjectionMode) {
        let version = major == 20 ? docker20 : docker28
        #expect(InjectionMode.select(builder: .build, clientVersion: version, buildkit: buildkit, buildxAvailable: { buildx }) == expected)
    }

    @Test func defaultsFollowTheClient() {
        #expect(InjectionMode.select(builder: .build, clientVersion: docker28, buildkit: nil, buildxAvailable: { true }) == .buildContext)
        #expect(InjectionMode.select(builder: .build, clientVersion: docker28, buildkit: nil, buildxAvailable: { false }) == .rewrittenDockerfile)
        #expect(InjectionMode.select(builder: .build, clientVersion: docker20, buildkit: "", buildxAvailable: { true }) == .rewrittenDockerfile)
        #expect(InjectionMode.select(builder: .build, clientVersion: "", buildkit: nil, buildxAvailable: { true }) == .rewrittenDockerfile)
    }

    @Test func buildxIsOnlyAskedAboutWhenItMatters() {
        var asked = false
        _ = InjectionMode.select(builder: .build, clientVersion: docker20, buildkit: nil, buildxAvailable: { asked = true; return true })
        #expect(!asked)
    }

    @Test func clientVersions() {
        #expect(InjectionMode.clientMajorVersion(fromVersionOutput: "Docker version 20.10.24+dfsg1, build 297e128\n") == 20)
        #expect(InjectionMode.clientMajorVersion(fromVersionOutput: "Docker version 28.5.1, build e180ab8") == 28)
        #expect(InjectionMode.clientMajorVersion(fromVersionOutput: "podman: command not found") == nil)
    }
}
