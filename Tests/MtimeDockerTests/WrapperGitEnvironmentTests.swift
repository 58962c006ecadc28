import Foundation
import MtimeCore
import Testing
import TestSupport

/// The wrapper's restore-and-manifest step works on the repository git's environment names, as
/// `restore` and `manifest` do: `git --git-dir=A --work-tree=B mtime docker …` from anywhere.
@Suite struct WrapperGitEnvironmentTests {
    /// A client that keeps the manifest the build would receive (`--build-context git-mtime=DIR`).
    private func recordingClient(in directory: TemporaryDirectory) throws -> (client: String, manifest: String) {
        let client = directory.url("docker"), manifest = directory.url("received-manifest")
        let script = """
            #!/bin/sh
            for argument in "$@"; do
              case "$argument" in git-mtime=*) cp "${argument#git-mtime=}/manifest" '\(manifest)' ;; esac
            done
            exit 0
            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: client))
        try runChecked(["chmod", "755", client])
        return (client, manifest)
    }

    @Test func theManifestStepUsesTheRepositoryGitsOptionsName() throws {
        let project = try GitRepository(label: "docker-env")
        try project.write("Dockerfile", "FROM scratch\n")
        try project.write("src/a.txt", "a\n")
        let head = try project.commit("one")
        // The git dir apart from the working tree: without git's options there is no repository there.
        let holder = TemporaryDirectory("docker-env-gitdir")
        let gitDirectory = holder.url("repo.git")
        try FileManager.default.moveItem(atPath: project.directory.url(".git"), toPath: gitDirectory)
        try runChecked(["touch", project.directory.url("src/a.txt"), project.directory.url("Dockerfile")])
        let bystander = try GitRepository(label: "docker-bystander")
        try bystander.write("only-here.txt", "x\n")
        try bystander.write("Dockerfile", "FROM scratch\n")
        try bystander.commit("bystander")
        let (client, received) = try recordingClient(in: holder)
        let before = try contentSnapshot(of: project.path)

        // Relative options, started inside another repository: relative to where git was started.
        let options = ["--git-dir=\(gitDirectory)", "--work-tree=\(project.path)"]
        let result = try run(
            ["git"] + options + ["mtime", "docker", "--docker", client, "buildx", "build", project.path],
            in: bystander.path, environment: hookEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("git-mtime: restored 2 file(s)"), "\(result.stderr)")
        let manifest = try String(contentsOfFile: received, encoding: .utf8)
        #expect(manifest.contains("head \(head)\n"), "\(manifest)")
        #expect(manifest.contains("src/a.txt") && manifest.contains("Dockerfile"), "\(manifest)")
        #expect(!manifest.contains("only-here.txt"), "\(manifest)")
        #expect(try modificationTime(project.directory.url("src/a.txt")).seconds == project.clock)
        #expect(try contentSnapshot(of: project.path) == before)

        // A context outside the working tree git names is refused before the client runs.
        try FileManager.default.removeItem(atPath: received)
        let outside = try run(
            ["git"] + options + ["mtime", "docker", "--docker", client, "buildx", "build", "."],
            in: bystander.path, environment: hookEnvironment)
        #expect(outside.status == 125, "\(outside.stderr)")
        let root = try FileSystem.resolve(BytePath(project.path))
        #expect(
            outside.stderr.hasSuffix(
                "git-mtime: error: . is outside the working tree \(root)/ (set by GIT_DIR, GIT_WORK_TREE or core.worktree)\n"),
            "\(outside.stderr)")
        #expect(!FileManager.default.fileExists(atPath: received))
    }
}
