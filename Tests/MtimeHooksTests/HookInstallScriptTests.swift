import Foundation
import MtimeCore
import Testing
import TestSupport

/// install.sh into a temporary prefix, twice (the second run changes nothing), with --hooks, then
/// --uninstall. It builds in release mode in a scratch directory beside the tests' own (slow once).
@Test(.timeLimit(.minutes(30))) func installScriptInstallsIdempotentlyAndUninstalls() throws {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    // <scratch>/<triple>/debug/git-mtime: a release build in <scratch>-install doesn't wait for this run's lock.
    let scratch = URL(fileURLWithPath: builtProduct("git-mtime")).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path + "-install"
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
    #expect(installed.stdout == "0.1.0\n")
    // No dependency on the toolchain's runtime directory; the guard is fully static.
    let libraries = try runChecked(["ldd", "\(prefix.path)/bin/git-mtime"]).stdout
    #expect(!libraries.contains("libswiftCore"), "\(libraries)")
    #expect(!(try run(["ldd", "\(prefix.path)/bin/git-mtime-guard"]).stdout.contains("libswiftCore")))

    let snapshot = try contentSnapshot(of: prefix.path)
    let second = try runChecked(arguments, in: prefix.path)
    #expect(second.stdout.contains("install.sh: \(prefix.path)/bin/git-mtime is up to date\n"), "\(second.stdout)")
    #expect(second.stdout.contains("install.sh: \(prefix.path)/bin/git-mtime-guard is up to date\n"))
    #expect(second.stdout.contains("post-checkout: already installed"))
    #expect(try contentSnapshot(of: prefix.path) == snapshot)

    let removed = try runChecked([script, "--prefix", prefix.path, "--hooks", repo.path, "--uninstall"], in: prefix.path)
    #expect(removed.stdout.contains("install.sh: removed \(prefix.path)/bin/git-mtime\n"))
    #expect(removed.stdout.contains("post-checkout: removed"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(prefix.path)/bin") == [])
    #expect(!FileManager.default.fileExists(atPath: repo.directory.url(".git/hooks/post-checkout")))
    let again = try runChecked([script, "--prefix", prefix.path, "--uninstall"], in: prefix.path)
    #expect(again.stdout.contains("was not installed"))

    let help = try runChecked([script, "--help"])
    #expect(help.stdout.hasPrefix("usage: ./install.sh"))
    let wrong = try run([script, "--frobnicate"])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.hasSuffix("install.sh: error: unknown argument: --frobnicate\n"))
}
