import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

// Untracked files in the context (docs/stamp.md, "Untracked files"): a changed untracked source is
// rebuilt whatever mtime it arrives with, and an untracked in-tree output never hides a change.

private let stampArguments = ["--stamp", "build/.git-mtime-stamp"]

/// Replaces `relative` with `contents` carrying the project's old commit time, as `cp -p` or a
/// copy that keeps mtimes brings in a file: the change looks older than every output.
private func replaceWithOldTime(_ project: GuardProject, _ relative: String, _ contents: String) throws {
    try project.write(relative, contents)
    try FileSystem.setModificationTime(BytePath(project.path(relative)), to: project.commitTime)
}

private func stamp(_ project: GuardProject) throws -> BuildStamp {
    try BuildStamp(parsing: Array(Data(contentsOf: URL(fileURLWithPath: project.path("build/.git-mtime-stamp")))))
}

@Test func untrackedSourceChangedWithAnOldTimeIsRebuilt() throws {
    let project = GuardProject()
    try project.write(
        "Makefile",
        """
        build/app: build/main.o build/extra.o
        \tgcc -o $@ $^
        build/%.o: src/%.c | build
        \tgcc -c -o $@ $<
        build:
        \tmkdir -p build

        """)
    try project.write(
        "src/main.c", "#include <stdio.h>\nconst char *extra(void);\nint main(void) { printf(\"%s\\n\", extra()); return 0; }\n")
    func extra(_ text: String) -> String { "const char *extra(void) { return \"\(text)\"; }\n" }
    try project.write("src/extra.c", extra("extra-1"))  // never `git add`ed
    let tracked = ["Makefile", "src/main.c"], untracked = ["src/extra.c"]
    func guardedMake() throws -> ProcessResult {
        try project.writeManifest(tracked, untracked: untracked)
        let before = try contentSnapshot(of: project.path("src"))
        let result = try project.guardCommand("run", stampArguments + ["--", "make"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try contentSnapshot(of: project.path("src")) == before, "the guard never writes contents")
        return result
    }
    func output() throws -> String { try project.tool([project.path("build/app")]).stdout }

    #expect(compiledObjects(try guardedMake().stdout) == ["build/extra.o", "build/main.o"])
    #expect(try output() == "extra-1\n")

    // Trusted stamp: exactly the changed untracked source is rebuilt.
    try replaceWithOldTime(project, "src/extra.c", extra("extra-2"))
    #expect(compiledObjects(try project.tool(["make", "-n"]).stdout) == [], "plain make would keep the stale object")
    #expect(compiledObjects(try guardedMake().stdout) == ["build/extra.o"])
    #expect(try output() == "extra-2\n")
    #expect(try stamp(project).objectIDsByPath[BytePath("src/extra.c")] == BlobHasher.hash(bytes: Array(extra("extra-2").utf8)))

    // After an unsealed build the stamp is not trusted; the untracked source is still rebuilt.
    try project.write("src/extra.c", extra("extra-3"))
    #expect(compiledObjects(try project.tool(["make"]).stdout) == ["build/extra.o"])
    try replaceWithOldTime(project, "src/extra.c", extra("extra-4"))
    let untrusted = try guardedMake()
    #expect(untrusted.stderr.contains("ignoring the build stamp"))
    #expect(compiledObjects(untrusted.stdout).contains("build/extra.o"))
    #expect(try output() == "extra-4\n")

    #expect(compiledObjects(try guardedMake().stdout) == [], "nothing changed: nothing compiled")
}

@Test func untrackedInTreeOutputsNeverHideAChangedSource() throws {
    // Objects and the program sit next to the sources and git doesn't ignore them: they are untracked
    // context entries too, and must not get the same time as a changed source.
    let project = GuardProject()
    try project.write("Makefile", "app: src/a.o\n\tgcc -o $@ $^\nsrc/%.o: src/%.c\n\tgcc -c -o $@ $<\n")
    func source(_ text: String) -> String { "#include <stdio.h>\nint main(void) { puts(\"\(text)\"); return 0; }\n" }
    try project.write("src/a.c", source("a-1"))
    func guardedMake() throws -> ProcessResult {
        try project.writeManifest(["Makefile", "src/a.c"], untracked: ["src/a.o", "app"])
        let result = try project.guardCommand("run", stampArguments + ["--", "make"])
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }
    func output() throws -> String { try project.tool([project.path("app")]).stdout }

    #expect(compiledObjects(try guardedMake().stdout) == ["src/a.o"])
    #expect(try output() == "a-1\n")

    try replaceWithOldTime(project, "src/a.c", source("a-2"))
    #expect(
        compiledObjects(try guardedMake().stdout) == ["src/a.o"], "the outputs were not in the last stamp: never bumped past the source")
    #expect(try output() == "a-2\n")

    #expect(compiledObjects(try guardedMake().stdout) == [], "the stamp recorded the outputs as the build left them")

    try project.write("build/unsealed-output", "written by a build that did not seal\n")
    try replaceWithOldTime(project, "src/a.c", source("a-3"))
    let untrusted = try guardedMake()
    #expect(untrusted.stderr.contains("ignoring the build stamp"))
    #expect(compiledObjects(untrusted.stdout) == ["src/a.o"])
    #expect(try output() == "a-3\n")
}

@Test func prepareAndSealRulesForUntrackedEntries() throws {
    let project = GuardProject()
    let names = ["old-time", "new-time", "build/output", "vanishes", "after-manifest", "unchanged"]
    try project.write("tracked.txt", "tracked 1\n")
    for name in names { try project.write(name, "\(name) 1\n") }
    try project.writeManifest(["tracked.txt"], untracked: names)
    let sealed = try project.guardCommand("seal", stampArguments)
    #expect(sealed.status == 0, "\(sealed.stderr)")
    let sealTime = try stamp(project).sealTime
    #expect(Set(try stamp(project).entries.map(\.path.description)) == Set(names + ["tracked.txt"]))
    let unchangedTime = try modificationTime(project.path("unchanged"))
    usleep(20_000)  // past the file system's clock tick, so a plain write is newer than the seal

    try replaceWithOldTime(project, "tracked.txt", "tracked 2\n")
    try replaceWithOldTime(project, "old-time", "old-time 2\n")
    try project.write("new-time", "new-time 2\n")
    try replaceWithOldTime(project, "build/output", "output 2\n")
    try project.writeManifest(["tracked.txt"], untracked: names)
    try FileManager.default.removeItem(atPath: project.path("vanishes"))
    try replaceWithOldTime(project, "after-manifest", "after-manifest 2\n")
    let newTime = try modificationTime(project.path("new-time"))
    #expect(newTime > sealTime)

    let prepared = try project.guardCommand("prepare", stampArguments)
    #expect(prepared.status == 0, "untracked files may change or vanish after the manifest: \(prepared.stderr)")
    let bumped = try modificationTime(project.path("tracked.txt"))
    #expect(bumped > sealTime)
    let untrackedBump = Timestamp(
        seconds: bumped.nanoseconds == 0 ? bumped.seconds - 1 : bumped.seconds,
        nanoseconds: bumped.nanoseconds == 0 ? 999_999_999 : bumped.nanoseconds - 1)
    #expect(try modificationTime(project.path("old-time")) == untrackedBump, "changed, and not newer than the last build")
    #expect(try modificationTime(project.path("after-manifest")) == untrackedBump)
    #expect(try modificationTime(project.path("new-time")) == newTime, "already newer than the last build")
    #expect(try modificationTime(project.path("build/output")) == project.commitTime, "beside the stamp: an output")
    #expect(try modificationTime(project.path("unchanged")) == unchangedTime)

    // `run` seals what the build left: an untracked file it rewrote is recorded with its new content.
    let rebuilt = try project.guardCommand("run", stampArguments + ["--", "sh", "-c", "echo rebuilt > old-time"])
    #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
    let recorded = try stamp(project).objectIDsByPath
    #expect(recorded[BytePath("old-time")] == BlobHasher.hash(bytes: Array("rebuilt\n".utf8)))
    #expect(recorded[BytePath("vanishes")] == nil)
    #expect(recorded[BytePath("tracked.txt")] == BlobHasher.hash(bytes: Array("tracked 2\n".utf8)))
}
