import Foundation
import MtimeCore
import Testing
import TestSupport

/// The `cc` commands make ran.
private func compilations(_ result: ProcessResult) -> [String] {
    result.stdout.split(separator: "\n").filter { $0.hasPrefix("cc ") }.map(String.init)
}

/// A guarded make build whose library source lives in a submodule: a submodule bump that brings a
/// changed source with an old mtime (an archive, `cp -p`, a whole-second copy) is rebuilt.
@Test func aSubmoduleBumpWithAnOldMtimeIsRebuilt() throws {
    let library = try GitRepository(label: "library")
    library.clock = 1_550_000_000
    try library.write("lib.c", "int lib(void) { return 1; }\n")
    try library.commit("lib returns 1")

    let top = try GitRepository(label: "app")
    try top.write(
        "Makefile",
        """
        target/prog: target/main.o target/lib.o
        \tcc -o target/prog target/main.o target/lib.o
        target/main.o: main.c
        \t@mkdir -p target
        \tcc -c -o target/main.o main.c
        target/lib.o: vendor/lib/lib.c
        \t@mkdir -p target
        \tcc -c -o target/lib.o vendor/lib/lib.c

        """)
    try top.write("main.c", "int lib(void);\nint main(void) { return lib(); }\n")
    try top.write(".gitignore", "target/\n")
    try top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", library.path, "vendor/lib")
    try top.commit("app")
    let clone = try GitRepository(cloning: top.path, label: "app-clone", arguments: ["--recurse-submodules"])

    let first = try clone.mtime("run", "--", "make")
    #expect(
        compilations(first) == [
            "cc -c -o target/main.o main.c", "cc -c -o target/lib.o vendor/lib/lib.c",
            "cc -o target/prog target/main.o target/lib.o",
        ], "\(first.stdout)")
    #expect(try clone.tool("target/prog").status == 1)

    // The library changes in a commit dated long before the build; the superproject bumps to it.
    library.clock = 1_560_000_000
    try library.write("lib.c", "int lib(void) { return 2; }\n")
    try library.commit("lib returns 2")
    try runChecked(["git", "-c", "protocol.file.allow=always", "fetch", "-q"], in: clone.directory.url("vendor/lib"))
    try runChecked(["git", "checkout", "-q", "origin/main"], in: clone.directory.url("vendor/lib"))
    try clone.git("commit", "-q", "-am", "bump lib")
    // The changed source arrives with an old mtime, older than the outputs.
    try FileSystem.setModificationTime(
        BytePath(clone.directory.url("vendor/lib/lib.c")),
        to: Timestamp(seconds: 1_560_000_000, nanoseconds: 0))

    let bumped = try clone.mtime("run", "--", "make")
    #expect(
        compilations(bumped) == ["cc -c -o target/lib.o vendor/lib/lib.c", "cc -o target/prog target/main.o target/lib.o"],
        "\(bumped.stdout)\n\(bumped.stderr)")
    #expect(try clone.tool("target/prog").status == 2)
    #expect(bumped.stderr.contains("in 1 submodule(s)"), "\(bumped.stderr)")

    // Nothing changed since: the stamp is trusted (the submodule's files are no outputs), nothing is compiled.
    let again = try clone.mtime("run", "--", "make")
    #expect(compilations(again) == [], "\(again.stdout)\n\(again.stderr)")
    #expect(!again.stderr.contains("warning"), "\(again.stderr)")
    #expect(
        try clone.time("vendor/lib/lib.c")
            == Timestamp(
                commitSeconds: library.clock,
                objectID: try unwrap(
                    ObjectID(hex: library.git("rev-parse", "HEAD:lib.c").trimmingCharacters(in: .whitespacesAndNewlines)), "id")))
    try clone.expectWorkingTreeMatchesHead()
}
