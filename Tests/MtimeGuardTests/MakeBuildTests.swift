import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

private let makefile = """
build/app: build/main.o build/util.o
\tgcc -o $@ $^
build/%.o: src/%.c src/util.h | build
\tgcc -c -o $@ $<
build:
\tmkdir -p build

"""
private let sources = ["Makefile", "src/main.c", "src/util.c", "src/util.h"]
private let stampArguments = ["--stamp", "build/.git-mtime-stamp"]

private func makeProject(mainMessage: String) throws -> GuardProject {
    let project = GuardProject()
    try project.write("Makefile", makefile)
    try project.write("src/util.h", "const char *util(void);\n")
    try project.write("src/util.c", "const char *util(void) { return \"util-1\"; }\n")
    try project.write("src/main.c", "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"\(mainMessage) %s\\n\", util()); return 0; }\n")
    return project
}

private func sourceSnapshot(_ project: GuardProject) throws -> [String: Data] {
    try contentSnapshot(of: project.root).filter { !$0.key.hasPrefix("build") }
}

@Test func guardRunRebuildsWhatPlainMakeLeavesStale() throws {
    let project = try makeProject(mainMessage: "Hello, world!")
    try #require(project.tool(["make"]).succeeded)
    let incoming = TemporaryDirectory("guard-incoming")
    let real = incoming.url("main.c")
    try Data("#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"real %s\\n\", util()); return 0; }\n".utf8)
        .write(to: URL(fileURLWithPath: real))
    try FileSystem.setModificationTime(BytePath(real), to: project.commitTime)
    try runChecked(["cp", "-p", real, project.path("src/main.c")])

    let plain = try project.tool(["make"])
    #expect(plain.succeeded && compiledObjects(plain.stdout) == [])
    #expect(try project.tool([project.path("build/app")]).stdout == "Hello, world! util-1\n", "the seed's bug: make kept the dummy")

    try project.writeManifest(sources)
    let before = try sourceSnapshot(project)
    let guarded = try project.guardCommand("run", stampArguments + ["--", "make"])
    #expect(guarded.status == 0, "\(guarded.stderr)")
    #expect(compiledObjects(guarded.stdout) == ["build/main.o", "build/util.o"])
    #expect(try project.tool([project.path("build/app")]).stdout == "real util-1\n")
    #expect(try sourceSnapshot(project) == before)
}

@Test func stampLimitsMakeRebuildsToChangedObjects() throws {
    let project = try makeProject(mainMessage: "main")
    func output() throws -> String { try project.tool([project.path("build/app")]).stdout }
    func guardedMake() throws -> ProcessResult { try project.guardCommand("run", stampArguments + ["--", "make"]) }

    try project.writeManifest(sources)
    let first = try guardedMake()
    #expect(first.status == 0, "\(first.stderr)")
    #expect(compiledObjects(first.stdout) == ["build/main.o", "build/util.o"])

    try project.write("src/util.c", "const char *util(void) { return \"util-2\"; }\n")
    try project.writeManifest(sources)
    let before = try sourceSnapshot(project)
    let changed = try guardedMake()
    #expect(changed.status == 0, "\(changed.stderr)")
    #expect(compiledObjects(changed.stdout) == ["build/util.o"])
    #expect(changed.stdout.contains("gcc -o build/app"))
    #expect(try output() == "main util-2\n")
    #expect(try sourceSnapshot(project) == before)

    let unchanged = try guardedMake()
    #expect(unchanged.status == 0)
    #expect(compiledObjects(unchanged.stdout) == [])
    #expect(!unchanged.stdout.contains("gcc"))

    // An unsealed make in between leaves outputs newer than the seal time: full rebuild.
    try project.write("src/util.c", "const char *util(void) { return \"util-3\"; }\n")
    #expect(compiledObjects(try project.tool(["make"]).stdout) == ["build/util.o"])
    try project.writeManifest(sources)
    let afterUnsealed = try guardedMake()
    #expect(afterUnsealed.status == 0, "\(afterUnsealed.stderr)")
    #expect(afterUnsealed.stderr.contains("warning: ignoring the build stamp"))
    #expect(compiledObjects(afterUnsealed.stdout) == ["build/main.o", "build/util.o"])
    #expect(try output() == "main util-3\n")
}
