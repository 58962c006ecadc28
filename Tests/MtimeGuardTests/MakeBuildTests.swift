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
    try project.write(
        "src/main.c", "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"\(mainMessage) %s\\n\", util()); return 0; }\n")
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

/// The same make build guarded by a manifest of each format the guard reads (docs/manifest.md,
/// "Versions"): version 1 (no origin), 2, and 3 with the library's files as `submodule` entries. A
/// change that arrives with an old mtime is rebuilt, and nothing else, whichever the version.
@Test(arguments: [1, 2, 3])
func everyManifestVersionGuardsTheSameBuild(_ version: Int) throws {
    let project = try makeProject(mainMessage: "main")
    func writeManifest() throws {
        var lines = String(decoding: try project.writeManifest(sources).serialized(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(lines[0] == "git-mtime-manifest 2")
        switch version {
        case 1:
            lines.remove(at: 4)  // `untracked 0`
            lines[0] = "git-mtime-manifest 1"
            for index in 5..<lines.count { lines[index] = String(lines[index].drop { $0 != " " }.dropFirst()) }
        case 3:
            lines[0] = "git-mtime-manifest 3"
            for index in 6..<lines.count where lines[index].hasSuffix(" src/util.c") || lines[index].hasSuffix(" src/util.h") {
                lines[index] = "submodule" + lines[index].drop { $0 != " " }
            }
        default: break
        }
        let text = lines.joined(separator: "\n") + "\n"
        #expect(try Manifest(parsing: Array(text.utf8)).submoduleCount == (version == 3 ? 2 : 0))
        try project.writeManifestBytes(Array(text.utf8))
    }
    func guardedMake() throws -> ProcessResult { try project.guardCommand("run", stampArguments + ["--", "make"]) }

    try writeManifest()
    let first = try guardedMake()
    #expect(first.status == 0, "\(first.stderr)")
    #expect(compiledObjects(first.stdout) == ["build/main.o", "build/util.o"])

    // The library's source changes and arrives with its (old) commit time.
    try project.write("src/util.c", "const char *util(void) { return \"util-2\"; }\n")
    try FileSystem.setModificationTime(BytePath(project.path("src/util.c")), to: project.commitTime)
    try writeManifest()
    let changed = try guardedMake()
    #expect(changed.status == 0, "\(changed.stderr)")
    #expect(compiledObjects(changed.stdout) == ["build/util.o"], "\(changed.stdout)")
    #expect(try project.tool([project.path("build/app")]).stdout == "main util-2\n")

    let unchanged = try guardedMake()
    #expect(unchanged.status == 0, "\(unchanged.stderr)")
    #expect(compiledObjects(unchanged.stdout) == [])
}
