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

private func makeProject(mainMessage: String, in project: GuardProject = GuardProject()) throws -> GuardProject {
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

/// Soak soak-1130b, scenario 137 (a whole-second file system, an output dated 2037): the bump time
/// lies past that output, out of the wait's reach, so the guard started make at once; make
/// recompiled util.o in the second build/app was written in, found app not older, and did not
/// relink. Here app is dated up to two seconds ahead (where the next build's writes land, however
/// fast this machine is); the soak hit it with app written in the second the next build started.
@Test(.enabled(if: geteuid() == 0, "loop-mounting a whole-second file system needs root"))
func aFarFutureOutputDoesNotLetMakeSkipTheRelinkOnAWholeSecondFileSystem() throws {
    let project = GuardProject()
    let image = TemporaryDirectory("whole-second-image")
    try mountWholeSecondExt4(at: project.root, image: image)
    defer { _ = try? run(["umount", "-l", project.root]) }
    _ = try makeProject(mainMessage: "main", in: project)
    try project.writeManifest(sources)
    let archive = "touch -d @2114380800 build/archive.dat"
    let soon = "touch -d @$(( $(date +%s) + 2 )) build/app"
    let first = try project.guardCommand("run", stampArguments + ["--", "sh", "-c", "make && \(archive) && \(soon)"])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(try modificationTime(project.path("build/archive.dat")) == Timestamp(seconds: 2_114_380_800))

    try project.write("src/util.c", "const char *util(void) { return \"util-2\"; }\n")
    try FileSystem.setModificationTime(BytePath(project.path("src/util.c")), to: project.commitTime)
    try project.writeManifest(sources)
    let before = try sourceSnapshot(project)
    let changed = try project.guardCommand("run", stampArguments + ["--", "make"])
    #expect(changed.status == 0, "\(changed.stderr)")
    #expect(changed.stderr.contains("1 of 4 files changed since the last sealed build; stamp trusted"), "\(changed.stderr)")
    #expect(compiledObjects(changed.stdout) == ["build/util.o"], "\(changed.stdout)")
    #expect(changed.stdout.contains("gcc -o build/app"), "make did not relink: \(changed.stdout)")
    #expect(try project.tool([project.path("build/app")]).stdout == "main util-2\n")
    #expect(try sourceSnapshot(project) == before)
}
