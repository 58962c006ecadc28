import Foundation
import MtimeCore
import Testing
import TestSupport

/// install.sh from the source checkout into a temporary prefix, twice (the second run changes
/// nothing), with --hooks, then --uninstall. It builds the static release (scripts/release --stage)
/// in scripts/release's own scratch directory, which tests/release/run.sh then reuses (slow once).
@Test(.timeLimit(.minutes(30))) func installScriptInstallsIdempotentlyAndUninstalls() throws {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let scratch = package.appendingPathComponent(".build-release").path
    let prefix = TemporaryDirectory("prefix")
    let repo = try GitRepository(label: "install")
    try repo.write("a.txt", "a\n")
    try repo.commit()
    let script = package.appendingPathComponent("install.sh").path
    let arguments = [script, "--prefix", prefix.path, "--scratch-path", scratch, "--hooks", repo.path]

    let first = try runChecked(arguments, in: prefix.path)
    #expect(first.stdout.contains("install.sh: installed \(prefix.path)/bin/git-mtime\n"), "\(first.stdout)")
    #expect(first.stdout.contains("install.sh: installed \(prefix.path)/bin/git-mtime-guard\n"))
    #expect(first.stdout.contains("post-checkout: installed"))
    let installed = try runChecked(["\(prefix.path)/bin/git-mtime", "--version"])
    #expect(installed.stdout == Version.current + "\n")
    // Both static: nothing from the toolchain or libgit2 is needed where they run.
    for program in ["git-mtime", "git-mtime-guard"] {
        let ldd = try run(["ldd", "\(prefix.path)/bin/\(program)"])
        #expect((ldd.stdout + ldd.stderr).contains("not a dynamic executable"), "\(program): \(ldd.stdout)")
    }
    for page in ["git-mtime.1", "git-mtime.restore.1", "git-mtime-guard.run.1"] {
        #expect(FileManager.default.fileExists(atPath: "\(prefix.path)/share/man/man1/\(page)"), "\(page)")
    }

    let snapshot = try contentSnapshot(of: prefix.path)
    let second = try runChecked(arguments, in: prefix.path)
    #expect(second.stdout.contains("install.sh: \(prefix.path)/bin/git-mtime is up to date\n"), "\(second.stdout)")
    #expect(second.stdout.contains("install.sh: \(prefix.path)/bin/git-mtime-guard is up to date\n"))
    #expect(second.stdout.contains("post-checkout: already installed"))
    #expect(try contentSnapshot(of: prefix.path) == snapshot)

    let removed = try runChecked([script, "--prefix", prefix.path, "--hooks", repo.path, "--uninstall"], in: prefix.path)
    #expect(removed.stdout.contains("install.sh: removed \(prefix.path)/bin/git-mtime\n"))
    #expect(removed.stdout.contains("post-checkout: removed"))
    // Everything install.sh made is gone, the directories it created included.
    #expect(try FileManager.default.contentsOfDirectory(atPath: prefix.path) == [])
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url(".git/hooks/post-checkout")))
    let again = try runChecked([script, "--prefix", prefix.path, "--uninstall"], in: prefix.path)
    #expect(again.stdout.contains("was not installed"))

    let help = try runChecked([script, "--help"])
    #expect(help.stdout.hasPrefix("usage: ./install.sh"))
    let wrong = try run([script, "--frobnicate"])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.hasSuffix("install.sh: error: unknown argument: --frobnicate\n"))
}
