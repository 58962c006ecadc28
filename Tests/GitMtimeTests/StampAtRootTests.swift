import Foundation
import MtimeCore
import Testing
import TestSupport

/// An in-tree C build at the root of the repository, stamp at the root too (issue 13, case 5).
/// `ignoreOutputs`: the outputs are in `.gitignore` (else they are untracked files the manifest
/// lists). The stamp itself is never ignored: the guard must leave it out of the build's inputs.
private func inTreeProject(ignoreOutputs: Bool) throws -> GitRepository {
    let repo = try GitRepository(label: "in-tree")
    try repo.write("Makefile", "prog: main.o util.o\n\tcc -o prog main.o util.o\n%.o: %.c\n\tcc -c -o $@ $<\n")
    try repo.write("main.c", "int util(void);\nint main(void) { return util(); }\n")
    try repo.write("util.c", "int util(void) { return 0; }\n")
    if ignoreOutputs { try repo.write(".gitignore", "*.o\nprog\n") }
    try repo.commit("in-tree build")
    try repo.git("config", "mtime.stamp", ".git-mtime-stamp")
    return repo
}

/// The `cc` commands make ran.
private func compilations(_ result: ProcessResult) -> [String] {
    result.stdout.split(separator: "\n").filter { $0.hasPrefix("cc ") }.map(String.init)
}

@Test(arguments: [true, false])
func aStampAtTheRootIsTrustedWhenNothingChanged(ignoreOutputs: Bool) throws {
    let repo = try inTreeProject(ignoreOutputs: ignoreOutputs)
    let first = try repo.mtime("run", "--", "make")
    #expect(compilations(first) == ["cc -c -o main.o main.c", "cc -c -o util.o util.c", "cc -o prog main.o util.o"], "\(first.stdout)")
    #expect(FileManager.default.fileExists(atPath: repo.directory.url(".git-mtime-stamp")))

    // restore rewrites .git/git-mtime and gives the bumped sources their commit times again:
    // none of that is a build output, so the stamp stays trusted and nothing is compiled.
    let second = try repo.mtime("run", "--", "make")
    #expect(compilations(second) == [], "\(second.stdout)\n\(second.stderr)")
    #expect(!second.stderr.contains("warning"), "\(second.stderr)")

    try repo.write("util.c", "int util(void) { return 1 - 1; }\n")
    try repo.git("commit", "-q", "-m", "util", "util.c")
    let edited = try repo.mtime("run", "--", "make")
    #expect(compilations(edited) == ["cc -c -o util.o util.c", "cc -o prog main.o util.o"], "\(edited.stdout)")

    // An unsealed build after a change: the next run must not trust the stamp.
    try repo.write("main.c", "int util(void);\nint main(void) { return util() * 2; }\n")
    #expect(try repo.tool("make").succeeded)
    try repo.git("checkout", "main.c")
    let afterUnsealed = try repo.mtime("run", "--", "make")
    #expect(afterUnsealed.stderr.contains("warning: ignoring the build stamp"), "\(afterUnsealed.stderr)")
    #expect(compilations(afterUnsealed).contains("cc -c -o main.o main.c"), "\(afterUnsealed.stdout)")
    try repo.expectWorkingTreeMatchesHead()
}
