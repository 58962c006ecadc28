import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

@Test func staticGuardIsNotADynamicExecutable() throws {
    let ldd = try run(["ldd", builtProduct("git-mtime-guard")])
    #expect(ldd.stdout.contains("not a dynamic executable") || ldd.stderr.contains("not a dynamic executable"))
}

@Test(.enabled(if: geteuid() == 0, "chroot and mounting /proc need root"))
func staticGuardChecksATreeInAnEmptyChroot() throws {
    let guardPath = builtProduct("git-mtime-guard")
    // The chroot holds only the guard (as /guard), its manifest beside it, a mounted /proc and the tree.
    let jail = TemporaryDirectory("guard-chroot")
    try runChecked(["cp", guardPath, jail.url("guard")])
    try FileManager.default.createDirectory(atPath: jail.url("proc"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: jail.url("ctx/src"), withIntermediateDirectories: true)
    try Data("fn main() {}\n".utf8).write(to: URL(fileURLWithPath: jail.url("ctx/src/main.rs")))
    try FileManager.default.createSymbolicLink(atPath: jail.url("ctx/link"), withDestinationPath: "src/main.rs")
    var entries: [ManifestEntry] = []
    for (relative, mode) in [("link", ManifestEntry.symlinkMode), ("src/main.rs", ManifestEntry.regularMode)] {
        let id = try BlobHasher.hash(fileAt: BytePath(jail.url("ctx/" + relative)))
        entries.append(
            ManifestEntry(
                path: BytePath(relative), objectID: id,
                modificationTime: Timestamp(commitSeconds: 1_600_000_000, objectID: id), mode: mode))
    }
    try Data(Manifest(headCommit: nil, dirtyCount: 0, entries: entries).serialized()).write(to: URL(fileURLWithPath: jail.url("manifest")))
    let before = try contentSnapshot(of: jail.url("ctx"))

    try runChecked(["mount", "-t", "proc", "proc", jail.url("proc")])
    defer { _ = try? run(["umount", jail.url("proc")]) }
    let result = try run(["chroot", jail.path, "/guard", "check", "--root", "/ctx"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "git-mtime-guard: 2 files match the manifest; 2 mtimes set\n")
    for entry in entries {
        #expect(try modificationTime(jail.url("ctx/" + entry.path.description)) == entry.modificationTime)
    }
    #expect(try contentSnapshot(of: jail.url("ctx")) == before)
}
