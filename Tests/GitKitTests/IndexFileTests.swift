import Foundation
@testable import GitKit
import MtimeCore
import Testing
import TestSupport

/// Our index reader against libgit2's on the same file: equal entries, or nil (then libgit2 reads it).
private func compareWithLibgit2(_ repo: GitRepository, expectParsed: Bool = true, _ comment: Comment) throws {
    let repository = try Repository(discoveringFrom: repo.path)
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: repo.directory.url(".git/index"))))
    let parsed = IndexFile.parse(bytes)
    if expectParsed {
        let parsed = try #require(parsed, comment)
        #expect(parsed == (try repository.indexEntriesFromLibgit2()), comment)
        #expect(!parsed.isEmpty, comment)
        expectRanges(bytes.withUnsafeBytes { IndexFile.pathRanges($0) }, of: parsed, in: bytes, comment)
    } else {
        #expect(parsed == nil, comment)
    }
    // Whichever reads it, the public entry point gives libgit2's answer (or its error).
    let libgit2 = Result { try repository.indexEntriesFromLibgit2() }
    let ours = Result { try repository.indexEntries() }
    switch (libgit2, ours) {
    case (.success(let a), .success(let b)): #expect(a == b, comment)
    case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", comment)
    default: Issue.record("libgit2 \(libgit2), ours \(ours): \(comment)")
    }
}

@Test func indexFileReadsEveryVersionAndEntryKindAsLibgit2Does() throws {
    let repo = try GitRepository(label: "index-file")
    try repo.write("a.txt", "a\n")
    try repo.write("dir/b.txt", "b\n")
    try repo.write("dir/sub/c.sh", "#!/bin/sh\n")
    try runChecked(["chmod", "+x", repo.directory.url("dir/sub/c.sh")])
    try runChecked(["ln", "-s", "a.txt", repo.directory.url("link")])
    try repo.git("add", ".")
    let blob = try repo.git("hash-object", "-w", "a.txt").trimmingCharacters(in: .whitespacesAndNewlines)
    try repo.git("update-index", "--add", "--cacheinfo", "160000,\(blob),gitlink")
    try repo.git("commit", "-q", "-m", "one")  // adds the optional TREE extension
    try compareWithLibgit2(repo, "version 2, TREE extension")

    // Version 3: extended flags (skip-worktree, intent-to-add).
    try repo.git("update-index", "--skip-worktree", "dir/b.txt")
    try repo.write("new.txt", "n\n")
    try repo.git("add", "-N", "new.txt")
    try compareWithLibgit2(repo, "version 3, skip-worktree and intent-to-add")

    try repo.git("update-index", "--index-version", "4")
    try compareWithLibgit2(repo, "version 4, prefix-compressed paths")
    try repo.git("update-index", "--untracked-cache")
    try repo.git("status", "--porcelain")
    try compareWithLibgit2(repo, "version 4, untracked cache extension")

    // A conflict: stages 1–3 of one path.
    try repo.git("update-index", "--index-version", "2")
    try repo.git("update-index", "--no-skip-worktree", "dir/b.txt")
    try repo.git("rm", "-q", "--cached", "new.txt")
    try repo.git("checkout", "-q", "-b", "other")
    try repo.write("a.txt", "other\n")
    try repo.git("commit", "-q", "-am", "other")
    try repo.git("checkout", "-q", "main")
    try repo.write("a.txt", "main\n")
    try repo.git("commit", "-q", "-am", "main")
    _ = try? repo.git("merge", "-q", "other")
    let stages = try repo.git("ls-files", "--stage", "a.txt")
    #expect(stages.split(separator: "\n").count == 3, "\(stages)")
    try compareWithLibgit2(repo, "conflict stages")
}

@Test func indexFileLeavesUnusualIndexesToLibgit2() throws {
    let repo = try GitRepository(label: "index-file-odd")
    try repo.write("a.txt", "a\n")
    try repo.write("b.txt", "b\n")
    try repo.git("add", ".")
    try repo.git("commit", "-q", "-m", "one")
    let blob = try repo.git("rev-parse", "HEAD:a.txt").trimmingCharacters(in: .whitespacesAndNewlines)

    // A path longer than the 12-bit length field (no working-tree file needed): libgit2 1.5 calls it corrupt.
    let long = (0..<18).map { _ in String(repeating: "d", count: 240) }.joined(separator: "/") + "/file"
    try repo.git("update-index", "--add", "--cacheinfo", "100644,\(blob),\(long)")
    try compareWithLibgit2(repo, expectParsed: false, "path of 4,095 bytes or more")
    try repo.git("update-index", "--force-remove", long)
    try compareWithLibgit2(repo, "long path removed")

    // A required extension (`link`): a split index.
    try repo.git("update-index", "--split-index")
    try compareWithLibgit2(repo, expectParsed: false, "split index")
    try repo.git("update-index", "--no-split-index")
    try compareWithLibgit2(repo, "split index undone")

    // Paths libgit2 refuses, and entries out of order or twice.
    for (paths, label) in [
        (["../escape"], "dot-dot"), (["a/./b"], "dot"), (["x/.GIT/config"], ".git"), (["a//b"], "empty component"),
        (["b.txt", "a.txt"], "unsorted"), (["a.txt", "a.txt"], "duplicate"),
    ] {
        try writeIndexInOrder(repo, paths.map { (0o100644, blob, $0) })
        try compareWithLibgit2(repo, expectParsed: false, "\(label)")
    }
    try writeIndexInOrder(repo, [(0o100664, blob, "a.txt")])
    try compareWithLibgit2(repo, expectParsed: false, "old group-writable mode")
}

/// The path ranges the first pass found are the parsed entries' paths, modes and stages, in order
/// (versions 2 and 3); version 4's prefix-compressed paths give none.
private func expectRanges(_ ranges: [IndexPathRange]?, of entries: [IndexEntry], in bytes: [UInt8], _ comment: Comment) {
    guard bytes[7] != 4 else {
        #expect(ranges == nil, comment)
        return
    }
    guard let ranges else {
        Issue.record("no path ranges for an index parsed whole: \(comment)")
        return
    }
    #expect(ranges.count == entries.count, comment)
    for (range, entry) in zip(ranges, entries) {
        #expect(Array(bytes[Int(range.start)..<Int(range.start + range.count)]) == entry.path.bytes, comment)
        #expect(range.mode == entry.mode && Int(range.stage) == entry.stage, "\(entry.path): \(comment)")
    }
}

/// `.git/index` version 2 with `entries` exactly in the order given.
private func writeIndexInOrder(_ repo: GitRepository, _ entries: [(mode: UInt32, id: String, path: String)]) throws {
    func word(_ value: UInt32, _ out: inout [UInt8]) { out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
    var out = Array("DIRC".utf8)
    word(2, &out)
    word(UInt32(entries.count), &out)
    for entry in entries {
        let start = out.count
        for _ in 0..<6 { word(0, &out) }
        word(entry.mode, &out)
        for _ in 0..<3 { word(0, &out) }
        out += try unwrap(ObjectID(hex: entry.id), "id").bytes
        let name = Array(entry.path.utf8)
        out += [UInt8(name.count >> 8), UInt8(name.count & 0xFF)]
        out += name
        repeat { out.append(0) } while (out.count - start) % 8 != 0
    }
    out += Checksum.sha1(out).bytes
    try Data(out).write(to: URL(fileURLWithPath: repo.directory.url(".git/index")))
}

/// Hostile bytes: every truncation and random byte changes of a real version-3 and version-4 index,
/// checksum recomputed so the parser itself is exercised. Nothing may crash, and whatever we read
/// must be what libgit2 reads.
@Test func indexFileSurvivesDamagedIndexes() throws {
    let repo = try GitRepository(label: "index-file-fuzz")
    for path in ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "e.txt"] { try repo.write(path, path) }
    try repo.git("add", ".")
    try repo.git("commit", "-q", "-m", "one")
    try repo.git("update-index", "--skip-worktree", "e.txt")
    let repository = try Repository(discoveringFrom: repo.path)
    let index = URL(fileURLWithPath: repo.directory.url(".git/index"))
    var generator = SystemRandomNumberGenerator()
    for version in ["3", "4"] {
        try repo.git("update-index", "--index-version", version)
        let original = Array(try Data(contentsOf: index))
        var damaged: [[UInt8]] = (12..<(original.count - 20)).map { Array(original[..<$0]) }
        for _ in 0..<300 {
            var bytes = Array(original.dropLast(20))
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                bytes[Int.random(in: 12..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            damaged.append(bytes)
        }
        for var bytes in damaged {
            bytes += Checksum.sha1(bytes).bytes
            // The first pass trusts nothing either: every range it gives lies inside the entries.
            let ranges = bytes.withUnsafeBytes { IndexFile.pathRanges($0) }
            #expect(ranges?.allSatisfy { $0.start >= 12 && $0.count >= 0 && Int($0.start + $0.count) < bytes.count - 20 } ?? true)
            guard let parsed = IndexFile.parse(bytes) else { continue }
            if version == "3" { expectRanges(ranges, of: parsed, in: bytes, "damaged, still parsed") }
            try Data(bytes).write(to: index)
            let libgit2 = try? repository.indexEntriesFromLibgit2()
            #expect(libgit2 == nil || parsed == libgit2, "version \(version), \(bytes.count) bytes")
        }
        try Data(original).write(to: index)
    }
}

/// The trailer is not checked, as git does not check it when reading (read-cache.c, outside
/// `git fsck`): an index whose trailer is all zeros (`index.skipHash`, git 2.40, on with
/// `feature.manyFiles`), or holds any other bytes, is read as its entries say, on the direct path
/// and through the public entry point alike (libgit2 1.5 calls both corrupt); a large one too.
@Test func anIndexIsReadWhateverItsTrailerHolds() throws {
    for files in [1, 5000] {
        let repo = try GitRepository(label: "index-file-trailer")
        try repo.write("a.txt", "a\n")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "one")
        let blob = try repo.git("rev-parse", "HEAD:a.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let info = (1..<files).map { "100644 \(blob)\tdir\($0 % 50)/sub\($0 % 7)/file-with-a-longish-name-\($0).txt\n" }.joined()
        if !info.isEmpty { try runChecked(["git", "update-index", "--index-info"], in: repo.path, input: info) }
        try compareWithLibgit2(repo, "\(files) entries, intact")
        let repository = try Repository(discoveringFrom: repo.path)
        let intact = try repository.indexEntriesFromLibgit2()
        #expect(intact.count == files)
        let index = URL(fileURLWithPath: repo.directory.url(".git/index"))
        let original = Array(try Data(contentsOf: index))
        for (label, trailer) in [("zeros", [UInt8](repeating: 0, count: 20)), ("one bit off", original.suffix(20).map { $0 ^ 1 })] {
            let bytes = original.dropLast(20) + trailer
            #expect(IndexFile.parse(Array(bytes)) == intact, "\(files) entries, trailer \(label)")
            try Data(bytes).write(to: index)
            #expect((try? repository.indexEntriesFromLibgit2()) == nil, "libgit2 1.5 refuses it: \(label)")
            #expect(try repository.indexEntries() == intact, "\(files) entries, trailer \(label), public entry point")
        }
    }
}
