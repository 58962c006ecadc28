import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// A root with two files, plus a directory outside it holding a file the guard must never reach.
private final class Refusal: @unchecked Sendable {
    let project = GuardProject()
    let outside = TemporaryDirectory("guard-outside")
    var outsideFile: String { outside.url("secret") }
    let files = ["a.txt", "sub/b.txt"]

    init() throws {
        try project.write("a.txt", "alpha\n")
        try project.write("sub/b.txt", "beta\n")
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: outsideFile))
    }

    /// Everything observable: contents and mtimes inside and outside the root.
    func state() throws -> [String] {
        let inside = try contentSnapshot(of: project.root).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.count)" }
        let times = try modificationTimes(under: project.root).sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }
        let secret = try String(contentsOfFile: outsideFile, encoding: .utf8)
        return inside + times + ["secret=\(secret)@\(try modificationTime(outsideFile))"]
    }

    /// A valid manifest's text with `line` as one more entry of `origin` (count adjusted, entries
    /// sorted by path; version 3 for a `submodule` entry).
    func manifest(adding line: String, origin: String = "tracked") throws -> [UInt8] {
        let valid = try project.writeManifest(files).serialized()
        var lines = String(decoding: valid, as: UTF8.self).split(separator: "\n").map(String.init)
        if origin == "submodule" { lines[0] = "git-mtime-manifest 3" }
        lines[5] = "entries 3"
        let entries = (lines[6...] + ["\(origin) " + line]).sorted { $0.split(separator: " ")[4] < $1.split(separator: " ")[4] }
        return Array(((lines[..<6] + entries).joined(separator: "\n") + "\n").utf8)
    }

    /// Runs `check` and requires it to fail with `code` and `message`, leaving everything as it was.
    func expectRefused(_ bytes: [UInt8]?, code: Int32, message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let bytes { try project.writeManifestBytes(bytes) }
        let before = try state()
        for subcommand in ["check", "prepare"] {
            let result = try project.guardCommand(subcommand)
            #expect(result.status == code, "\(subcommand): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(message), "\(subcommand): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        }
        #expect(try state() == before, sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: project.path("target")), sourceLocation: sourceLocation)
    }
}

private let someID = "0123456789abcdef0123456789abcdef01234567"

/// A `submodule` entry (manifest format 3) is held to every rule a tracked one is.
@Test(arguments: ["tracked", "submodule"])
func absolutePathIsRefused(_ origin: String) throws {
    let refusal = try Refusal()
    try refusal.expectRefused(
        refusal.manifest(adding: "100644 \(someID) 1.000000000 \(refusal.outsideFile)", origin: origin),
        code: 64, message: "refusing path \(refusal.outsideFile): absolute path")
}

@Test(arguments: ["tracked", "submodule"])
func dotDotPathIsRefused(_ origin: String) throws {
    let refusal = try Refusal()
    try refusal.expectRefused(
        refusal.manifest(adding: "100644 \(someID) 1.000000000 ../x/secret", origin: origin),
        code: 64, message: "refusing path ../x/secret: contains '..'")
}

@Test(arguments: ["tracked", "submodule"])
func symlinkedParentEscapingTheRootIsRefused(_ origin: String) throws {
    let refusal = try Refusal()
    try FileManager.default.createSymbolicLink(atPath: refusal.project.path("escape"), withDestinationPath: refusal.outside.path)
    // The entry's id is the real secret's, so nothing but the path check stands in the way.
    let secretID = try BlobHasher.hash(fileAt: BytePath(refusal.outsideFile))
    try refusal.expectRefused(
        refusal.manifest(adding: "100644 \(secretID) 1.000000000 escape/secret", origin: origin), code: 64,
        message:
            "refusing manifest entry escape/secret: its parent escape is a symlink to \(refusal.outside.path); the guard never follows symlinks below the root"
    )
}

/// A symlinked directory that stays inside the root is refused too: git never has an entry below
/// a symlink, and following one would resolve a path twice.
@Test func symlinkedParentInsideTheRootIsRefused() throws {
    let refusal = try Refusal()
    try FileManager.default.createSymbolicLink(atPath: refusal.project.path("alias"), withDestinationPath: "sub")
    let id = try BlobHasher.hash(fileAt: BytePath(refusal.project.path("sub/b.txt")))
    try refusal.expectRefused(
        refusal.manifest(adding: "100644 \(id) 1.000000000 alias/b.txt"), code: 64,
        message:
            "refusing manifest entry alias/b.txt: its parent alias is a symlink to sub; the guard never follows symlinks below the root")
}

@Test func truncatedManifestIsRefused() throws {
    let refusal = try Refusal()
    let valid = try refusal.project.writeManifest(refusal.files).serialized()
    try refusal.expectRefused(Array(valid.dropLast(10)), code: 64, message: "manifest is truncated (no final newline)")
    try refusal.expectRefused(
        Array(String(decoding: valid, as: UTF8.self).split(separator: "\n").dropLast().joined(separator: "\n").utf8) + [10],
        code: 64, message: "manifest is truncated or padded: header says 2 entries, found 1")
}

@Test func corruptManifestIsRefused() throws {
    let refusal = try Refusal()
    try refusal.expectRefused(
        refusal.manifest(adding: "100644 not-an-id 1.000000000 0bad"), code: 64,
        message: "line 7: object id is not 40 lowercase hex digits")
    try refusal.expectRefused(Array("PK\u{3}\u{4} binary junk\n".utf8), code: 64, message: "expected 'git-mtime-manifest <value>'")
}

@Test func hugeEntryCountIsRefused() throws {
    let refusal = try Refusal()
    let valid = String(decoding: try refusal.project.writeManifest(refusal.files).serialized(), as: UTF8.self)
    try refusal.expectRefused(
        Array(valid.replacingOccurrences(of: "entries 2", with: "entries 99999999999999").utf8),
        code: 64, message: "line 6: entry count is not a number in range")
}

@Test func missingFileIsAMismatch() throws {
    let refusal = try Refusal()
    try refusal.project.writeManifest(refusal.files)
    try FileManager.default.removeItem(atPath: refusal.project.path("sub/b.txt"))
    try refusal.expectRefused(nil, code: 1, message: "missing: sub/b.txt")
    // With --allow-missing the rest is checked and its times set.
    let allowed = try refusal.project.guardCommand("check", ["--allow-missing"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
    #expect(allowed.stderr.contains("1 files match the manifest (1 missing, allowed)"))
    let id = try BlobHasher.hash(fileAt: BytePath(refusal.project.path("a.txt")))
    #expect(
        try modificationTime(refusal.project.path("a.txt")) == Timestamp(commitSeconds: refusal.project.commitTime.seconds, objectID: id))
}

@Test func changedFileIsAMismatch() throws {
    let refusal = try Refusal()
    try refusal.project.writeManifest(refusal.files)
    try refusal.project.write("a.txt", "edited\n")
    let found = try BlobHasher.hash(fileAt: BytePath(refusal.project.path("a.txt")))
    try refusal.expectRefused(nil, code: 1, message: "changed: a.txt (manifest: ")
    let result = try refusal.project.guardCommand("check")
    #expect(result.stderr.contains("found: \(found))"))
    #expect(result.stderr.contains("1 of 2 files differ from the manifest; no times were set"))
}

@Test func wrongTypeIsAMismatch() throws {
    let refusal = try Refusal()
    try refusal.project.writeManifest(refusal.files)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: refusal.project.path("a.txt"))
    try refusal.expectRefused(nil, code: 1, message: "wrong type: a.txt (manifest: regular file, found: executable file)")
    try FileManager.default.removeItem(atPath: refusal.project.path("a.txt"))
    try FileManager.default.createSymbolicLink(atPath: refusal.project.path("a.txt"), withDestinationPath: "sub/b.txt")
    try refusal.expectRefused(nil, code: 1, message: "wrong type: a.txt (manifest: regular file, found: symlink)")
}

@Test func missingManifestIsAnIOError() throws {
    let refusal = try Refusal()
    let before = try refusal.state()
    let result = try run(
        [builtProduct("git-mtime-guard"), "check", "--manifest", refusal.project.manifestDirectory.url("absent")],
        in: refusal.project.root)
    #expect(result.status == 74)
    #expect(
        result.stderr == "git-mtime-guard: \(refusal.project.manifestDirectory.url("absent")): cannot open: No such file or directory\n")
    #expect(try refusal.state() == before)
}

@Test func checkSetsManifestTimesAndNeverContents() throws {
    let refusal = try Refusal()
    try FileManager.default.createSymbolicLink(atPath: refusal.project.path("link"), withDestinationPath: "a.txt")
    let manifest = try refusal.project.writeManifest(["a.txt", "link", "sub/b.txt"])
    let before = try contentSnapshot(of: refusal.project.root)
    let result = try refusal.project.guardCommand("check")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "git-mtime-guard: 3 files match the manifest; 3 mtimes set\n")
    // `link` comes after its target `a.txt`: had its time followed the link, a.txt's time would be wrong.
    #expect(manifest.entries[0].modificationTime != manifest.entries[1].modificationTime)
    for entry in manifest.entries {
        #expect(try modificationTime(refusal.project.path(entry.path.description)) == entry.modificationTime)
    }
    #expect(try contentSnapshot(of: refusal.project.root) == before)
    let again = try refusal.project.guardCommand("check")
    #expect(again.stderr == "git-mtime-guard: 3 files match the manifest; 0 mtimes set\n")
}
