import Foundation
import MtimeCore
import Testing
import TestSupport
@testable import MtimeDocker

/// The built `git-mtime docker` front end, run as a real process.
@Suite struct DockerCommandTests {
    let gitMtime = builtProduct("git-mtime")

    @Test func wrapperHelpStillWorks() throws {
        let result = try run([gitMtime, "docker", "--help"])
        #expect(result.status == 0)
        #expect(
            result.stdout.contains(
                "git mtime docker [--docker <path>] [--explain] [--cache-dir <dir>] [client options] build [docker build options] <context>"
            ))
        #expect(result.stdout.contains("--docker <path>"))
        #expect(result.stdout.contains("RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run"))
    }

    /// `--help` after `build` is docker's (defect 8): passed on as typed, no context needed, nothing restored.
    @Test(arguments: [["build", "--help"], ["build", "--help", "-"], ["buildx", "build", "-h"], ["-H", "unix:///x", "build", "--help"]])
    func dockerHelpAfterBuildIsPassedToDocker(arguments: [String]) throws {
        let result = try run([gitMtime, "docker", "--docker", "echo"] + arguments)
        #expect(result.status == 0)
        #expect(result.stdout == arguments.joined(separator: " ") + "\n")
        #expect(result.stderr == "")
    }

    @Test func urlContextIsPassedThroughUntouched() throws {
        let arguments = ["build", "-t", "x", "--build-arg=A=B", "https://example.invalid/repo.git"]
        let result = try run([gitMtime, "docker", "--docker", "echo"] + arguments, environment: ["DOCKER": "/nonexistent"])
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix(arguments.joined(separator: " ") + "\n"))
        #expect(
            result.stderr
                == "git-mtime: the build context is a URL: nothing on this machine to restore or describe, so echo runs unchanged (a RUN mounting from=git-mtime finds nothing)\n"
        )
    }

    /// A directory named like a URL is a local context when it exists; docker takes it for a URL only when it doesn't.
    @Test func localDirectoryNamedLikeAURL() throws {
        let place = TemporaryDirectory()
        let project = try GitRepository()
        try project.write("Dockerfile", "FROM scratch\n")
        try project.commit()
        try FileManager.default.createDirectory(atPath: place.url("github.com/x"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: project.path, toPath: place.url("github.com/x/y"))
        let local = try run(
            [gitMtime, "docker", "--docker", "echo", "build", "github.com/x/y"], in: place.path, environment: ["DOCKER_BUILDKIT": "0"])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(local.stdout.hasSuffix("build github.com/x/y\n"))
        #expect(local.stderr.contains("git-mtime: restored "), "\(local.stderr)")
        let remote = try run([gitMtime, "docker", "--docker", "echo", "build", "github.com/x/z"], in: place.path)
        #expect(remote.status == 0)
        #expect(remote.stderr.contains("the build context is a URL"))
    }

    @Test func exitStatusIsTheClients() throws {
        let result = try run([gitMtime, "docker", "build", "-"], environment: ["DOCKER": "false"])
        #expect(result.status == 1)
    }

    @Test(arguments: [
        (
            ["build", "--frobnicate", "x", "--twiddle", "y"],
            "git-mtime: error: cannot tell the build context among: x y (git-mtime does not know whether --frobnicate, --twiddle take a value): write such options as --option=VALUE\n"
        ),
        (
            ["buildx", "build", "--build-context", "git-mtime=/tmp", "."],
            "git-mtime: error: --build-context git-mtime=… is taken: git mtime docker passes the guard and manifest to the build under that name; remove your own, or run docker directly\n"
        ),
        (
            ["buildx", "build", "--build-context=GIT-MTIME=docker-image://x", "."],
            "git-mtime: error: --build-context GIT-MTIME=… is taken: git mtime docker passes the guard and manifest to the build under that name; remove your own, or run docker directly\n"
        ),
        (
            ["run", "x"],
            "git-mtime: error: expected `build`, `buildx build`, `image build`, `builder build` or `bud` after `docker`, got: run x\n"
        ),
    ])
    func badArgumentsAreOneClearLine(arguments: [String], message: String) throws {
        let result = try run([gitMtime, "docker"] + arguments, environment: ["DOCKER": "false"])
        #expect(result.status == 64)
        #expect(result.stderr == message)
    }

    /// A context without history (defect 7): the build runs, with one note saying why no time was restored.
    @Test func contextsWithoutHistoryStillBuild() throws {
        let outside = TemporaryDirectory("no-repository")
        let unborn = try GitRepository()
        for directory in [outside.path, unborn.path] {
            try Data("FROM scratch\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- true\n".utf8)
                .write(to: URL(fileURLWithPath: directory + "/Dockerfile"))
            try Data("data\n".utf8).write(to: URL(fileURLWithPath: directory + "/input.txt"))
            let before = try contentSnapshot(of: directory)
            let result = try run([gitMtime, "docker", "--docker", "echo", "buildx", "build", directory])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("buildx build --build-context git-mtime=/"), "\(result.stdout)")
            let reason = directory == unborn.path ? "the repository has no commit yet" : "\(directory) is not in a git repository"
            #expect(
                result.stderr.contains("git-mtime: note: times not restored (\(reason)): manifest of 2 file(s), all untracked\n"),
                "\(result.stderr)")
            #expect(try contentSnapshot(of: directory) == before)
        }
    }

    @Test func missingGuardStopsBeforeAnythingRuns() throws {
        let project = try GitRepository()
        try project.write("Dockerfile", "FROM scratch\n")
        try project.commit()
        let before = try contentSnapshot(of: project.path)
        let empty = TemporaryDirectory()
        let result = try run(
            [gitMtime, "docker", "build", project.path],
            environment: ["DOCKER": "false", "GIT_MTIME_GUARD": empty.url("nothing"), "TMPDIR": empty.path])
        #expect(result.status == 125)
        #expect(result.stderr == "git-mtime: error: GIT_MTIME_GUARD=\(empty.url("nothing")) is not an executable file\n")
        #expect(try contentSnapshot(of: project.path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
    }

    /// The wrapper passes its arguments to the client as text (defect 32): a context, `-f` or
    /// `--build-context` path that isn't UTF-8 would reach the client as another path, so it is refused
    /// naming the word, exit 64, before anything is restored or run.
    @Test(arguments: [
        ["build", "CONTEXT"], ["build", "-f", "CONTEXT/Dockerfile", "."], ["build", "--build-context", "x=CONTEXT", "."],
    ])
    func argumentsThatAreNotUTF8AreRefused(arguments: [String]) throws {
        let (project, before) = try projectWithAnOldDockerfile()
        let base = TemporaryDirectory()
        // The project reached through a symlink whose name is `d\xe9`.
        let words = arguments.map { "\"" + $0.replacingOccurrences(of: "CONTEXT", with: "$d") + "\"" }
        let script =
            "d=\"$1/d$(printf '\\351')\" && ln -s \"$2\" \"$d\" && exec \"$3\" docker --docker echo " + words.joined(separator: " ")
        let result = try run(["sh", "-c", script, "sh", base.path, project.path, gitMtime], in: project.path)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stdout == "", "the client did not run")
        #expect(result.stderr.hasPrefix("git-mtime: the argument '"), "\(result.stderr)")
        #expect(result.stderr.contains("d\\xe9") && result.stderr.contains("isn't UTF-8"), "\(result.stderr)")
        try expectUnchanged(project, before)
    }

    /// A TMPDIR whose name isn't UTF-8 can't be given to the client as text: refused naming it, exit 125,
    /// before anything is restored or made.
    @Test func temporaryDirectoryThatIsNotUTF8IsRefused() throws {
        let (project, before) = try projectWithAnOldDockerfile()
        let base = TemporaryDirectory()
        let script = """
            t="$1/d$(printf '\\351')" && mkdir "$t" && TMPDIR="$t" "$2" docker --docker echo buildx build "$3"; s=$?
            ls -A "$t" | wc -l; exit $s
            """
        let result = try run(
            ["sh", "-c", script, "sh", base.path, gitMtime, project.path],
            environment: ["GIT_MTIME_GUARD": builtProduct("git-mtime-guard")])
        #expect(result.status == 125, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespaces) == "0\n", "nothing made, the client did not run")
        #expect(
            result.stderr
                == "git-mtime: error: TMPDIR=\(base.path)/d\\xe9 isn't UTF-8: echo is given the temporary directory's paths as text; set TMPDIR to a directory whose name is\n"
        )
        try expectUnchanged(project, before)
    }

    /// A committed Dockerfile whose mtime is not its commit time: a restore would change it.
    func projectWithAnOldDockerfile() throws -> (GitRepository, [String: Data]) {
        let project = try GitRepository()
        try project.write("Dockerfile", "FROM scratch\n")
        try project.commit()
        try runChecked(["touch", "-d", "@1000000", project.path + "/Dockerfile"])
        return (project, try contentSnapshot(of: project.path))
    }

    func expectUnchanged(_ project: GitRepository, _ before: [String: Data]) throws {
        #expect(try contentSnapshot(of: project.path) == before)
        #expect(try modificationTime(project.path + "/Dockerfile").seconds == 1_000_000, "nothing restored")
    }
}
