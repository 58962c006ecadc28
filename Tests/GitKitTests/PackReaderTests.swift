import Foundation
@testable import GitKit
import MtimeCore
import Synchronization
import Testing
import TestSupport

/// Every object git has, as `git cat-file --batch-all-objects --batch` prints it (loose and packed).
private func allObjectsFromGit(_ repo: GitRepository) throws -> [ObjectID: RawObject] {
    let file = repo.directory.url("../\(UUID().uuidString).batch")
    defer { try? FileManager.default.removeItem(atPath: file) }
    try runChecked(["sh", "-c", "git cat-file --batch-all-objects --batch > \"$1\"", "sh", file], in: repo.path)
    let data = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    var objects: [ObjectID: RawObject] = [:]
    var position = 0
    while position < data.count {
        let lineEnd = data[position...].firstIndex(of: 0x0A)!
        let fields = String(decoding: data[position..<lineEnd], as: UTF8.self).split(separator: " ")
        let size = Int(fields[2])!
        let kind: ObjectKind =
            switch fields[1] {
            case "commit": .commit
            case "tree": .tree
            case "blob": .blob
            default: .tag
            }
        objects[ObjectID(hex: fields[0])!] = RawObject(kind: kind, bytes: Array(data[(lineEnd + 1)..<(lineEnd + 1 + size)]))
        position = lineEnd + 1 + size + 1
    }
    return objects
}

/// Pack files of a repository, by extension.
private func packFiles(_ repo: GitRepository, _ suffix: String) throws -> [String] {
    let directory = repo.path + "/.git/objects/pack"
    return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(suffix) }.sorted()
        .map { directory + "/" + $0 }
}

/// A history with long delta chains: a growing file (blob deltas) and many directories (tree deltas).
private func makeDeltaHeavyRepository() throws -> GitRepository {
    let repo = try GitRepository(label: "pack-reader")
    try makeRandomHistory(in: repo, seed: 5, commits: 120, extraFiles: 60)
    try repo.git("checkout", "-q", "-f", "main")
    var log = ""
    for round in 0..<30 {
        log += "line \(round): " + String(repeating: "x", count: round * 7) + "\n"
        try repo.write("growing.log", log)
        try repo.write("many/dir\(round % 7)/extra\(round)", "extra \(round)\n")
        try repo.commit("round \(round)")
    }
    return repo
}

@Suite struct PackReaderTests {
    /// Two threads read every object through views of one mapping of each pack while the mapping's
    /// pages are dropped after every read (`MappedFile.residentBudget` of one byte): each still
    /// reads exactly git's bytes.
    @Test func droppedPagesAndSharedMappingsReadWhatGitHas() throws {
        let repo = try makeDeltaHeavyRepository()
        try repo.git("gc", "-q", "--aggressive")
        let expected = try allObjectsFromGit(repo)
        let main = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        let shared = main.sharedPacks
        let saved = MappedFile.residentBudget
        MappedFile.residentBudget = 1
        defer { MappedFile.residentBudget = saved }
        let path = repo.path
        let wrong = Mutex([Int]())
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            var count = 0
            do {
                let objects = try ObjectDatabase(try Repository(discoveringFrom: path), sharing: shared)
                for (id, object) in expected where (try? objects.object(id)) != object { count += 1 }
            } catch { count = -1 }
            wrong.withLock { $0.append(count) }
        }
        let results = wrong.withLock { $0 }
        #expect(results == [0, 0])
        #expect(try packFiles(repo, ".idx").count == 1 && expected.count > 1000)
    }

    /// OFS deltas (aggressive gc), a second pack of REF deltas, and loose objects: each object our
    /// reader returns equals git's, and the packed ones really come from our reader.
    @Test func everyObjectEqualsGits() throws {
        let repo = try makeDeltaHeavyRepository()
        try repo.git("gc", "-q", "--aggressive")
        let packedFirst = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        for round in 0..<12 {
            try repo.write("growing.log", String(repeating: "second pack \(round)\n", count: round + 40))
            try repo.write("many/dir\(round % 7)/late\(round)", "late \(round)\n")
            try repo.commit("second pack \(round)")
        }
        // `--no-delta-base-offset`: deltas name their base by id (REF_DELTA).
        try runChecked(
            [
                "sh", "-c",
                "git rev-list --objects \(packedFirst)..HEAD | git pack-objects -q --no-delta-base-offset .git/objects/pack/pack >/dev/null",
            ],
            in: repo.path)
        try repo.git("prune-packed")
        for round in 0..<3 {
            try repo.write("loose\(round)", "loose \(round)\n")
            try repo.commit("loose \(round)")
        }
        #expect(try packFiles(repo, ".idx").count == 2)
        let verify = try repo.git("verify-pack", "-v", try packFiles(repo, ".idx")[0])
        #expect(verify.contains("chain length = 5"), "the aggressive pack has deep deltas")

        let expected = try allObjectsFromGit(repo)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        var packed = 0, loose = 0
        for (id, object) in expected {
            #expect(try objects.object(id) == object, "\(id)")
            if try objects.isPacked(id) { packed += 1 } else { loose += 1 }
            if object.kind == .tree {
                // The walk's cursor over the raw bytes sees what the parsed tree holds.
                let parsed = try objects.tree(id)
                var cursor = try objects.rawTree(id).makeCursor()
                var seen: [([UInt8], UInt32, ObjectID)] = []
                while try cursor.advance() { seen.append((cursor.name, cursor.mode, cursor.id)) }
                #expect(seen.map(\.0) == parsed.entries.map { Array(parsed.name(of: $0)) })
                #expect(seen.map(\.1) == parsed.entries.map(\.mode))
                #expect(seen.map(\.2) == parsed.entries.map(\.id))
            }
        }
        #expect(packed > 1000)
        #expect(loose >= 9)
        // The parsed forms agree with git too.
        let head = try objects.commit(
            try #require(ObjectID(hex: repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines))))
        #expect(try objects.tree(head.tree).entries.count > 5)
    }

    /// Objects packed after the database was opened are not in our reader's packs: libgit2 finds them.
    @Test func packsWrittenAfterOpeningAreStillRead() throws {
        let repo = try GitRepository(label: "pack-late")
        try makeRandomHistory(in: repo, seed: 3, commits: 20)
        try repo.git("repack", "-adq")
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        try repo.git("checkout", "-q", "-f", "main")
        try repo.write("new-file", "new\n")
        let newCommit = try #require(ObjectID(hex: try repo.commit("after opening")))
        try repo.git("repack", "-adq")
        #expect(try !objects.isPacked(newCommit))
        #expect(try objects.commit(newCommit).id == newCommit)
    }

    /// A `clone --shared` holds no objects of its own: its alternate's packs are read as ours.
    @Test func alternatesPacksAreRead() throws {
        let origin = try GitRepository(label: "pack-origin")
        try makeRandomHistory(in: origin, seed: 9, commits: 30)
        try origin.git("repack", "-adq")
        let clones = TemporaryDirectory("pack-shared")
        let clone = clones.url("clone")
        try runChecked(["git", "clone", "-q", "--shared", origin.path, clone], in: clones.path)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: clone))
        let expected = try allObjectsFromGit(origin)
        for (id, object) in expected {
            #expect(try objects.isPacked(id))
            #expect(try objects.object(id) == object)
        }
        #expect(expected.count > 50)
    }

    @Test func truncatedPackIsAnError() throws {
        let repo = try GitRepository(label: "pack-truncated")
        try makeRandomHistory(in: repo, seed: 4, commits: 20)
        try repo.git("repack", "-adq")
        let pack = try #require(try packFiles(repo, ".pack").first)
        try runChecked(["chmod", "u+w", pack])
        try runChecked(["truncate", "-s", "2000", pack])
        #expect(throws: GitError.self) { try ObjectDatabase(try Repository(discoveringFrom: repo.path)) }
    }

    @Test(arguments: ["magic", "version", "fanout", "truncated"])
    func damagedIndexIsAnError(damage: String) throws {
        let repo = try GitRepository(label: "pack-bad-index")
        try makeRandomHistory(in: repo, seed: 6, commits: 20)
        try repo.git("repack", "-adq")
        let index = try #require(try packFiles(repo, ".idx").first)
        try runChecked(["chmod", "u+w", index])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: index)))
        switch damage {
        // Without the magic it reads as a version-1 index, which we leave to libgit2, which refuses it.
        case "magic": bytes[0...3] = [0, 0, 0, 0]
        case "version": bytes[4...7] = [0, 0, 0, 3]
        case "fanout": bytes[8 + 4 * 100..<8 + 4 * 101] = [0xFF, 0xFF, 0xFF, 0xFF]
        default: bytes.removeLast(bytes.count / 3)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: index))
        let head = try #require(ObjectID(hex: try repo.git("rev-parse", "main").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(throws: GitError.self) { _ = try ObjectDatabase(try Repository(discoveringFrom: repo.path)).commit(head) }
    }

    /// A flipped byte in every object's data, one object at a time: each damaged read throws or
    /// returns some object, and never crashes or reads outside the pack.
    @Test func flippedBytesInObjectsAreErrorsNotCrashes() throws {
        let repo = try makeDeltaHeavyRepository()
        try repo.git("repack", "-adfq", "--depth=50", "--window=50")
        let index = try #require(try packFiles(repo, ".idx").first)
        let pack = try #require(try packFiles(repo, ".pack").first)
        try runChecked(["chmod", "u+w", pack])
        let pristine = try Data(contentsOf: URL(fileURLWithPath: pack))
        // verify-pack -v: "<id> <type> <size> <size-in-pack> <offset> [<depth> <base>]".
        let entries = try repo.git("verify-pack", "-v", index).split(separator: "\n").compactMap { line -> (ObjectID, Int, Int, Bool)? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5, let id = ObjectID(hex: fields[0]), let length = Int(fields[3]), let offset = Int(fields[4])
            else { return nil }
            return (id, offset, length, fields.count >= 7)
        }
        let deltas = entries.filter { $0.3 }
        #expect(deltas.count > 50)
        var thrown = 0
        // A sample of deltas (their zlib data and their instructions' stream) and of whole objects.
        let sample =
            deltas.enumerated().filter { $0.offset % max(1, deltas.count / 40) == 0 }.map(\.element)
            + entries.enumerated().filter { $0.offset % max(1, entries.count / 20) == 0 }.map(\.element)
        for (id, offset, length, _) in sample {
            for position in Set([offset, offset + length / 2, offset + length - 1]) {
                var damaged = pristine
                damaged[position] ^= 0x5A
                try damaged.write(to: URL(fileURLWithPath: pack))
                let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
                do { _ = try objects.object(id) } catch { thrown += 1 }
            }
        }
        #expect(thrown > sample.count)
    }

    /// A pack big enough that lookups interpolate within the fanout buckets: every id is found, and
    /// ids next to them are not.
    @Test func indexLookupFindsEveryObjectOfALargePack() throws {
        let repo = try GitRepository(label: "pack-large")
        var stream = "commit refs/heads/main\ncommitter C <c@example.com> 1600000000 +0000\ndata 1\nc\n"
        for file in 0..<20_000 { stream += "M 100644 inline f\(file)\ndata \(String(file).utf8.count)\n\(file)\n" }
        try runChecked(["git", "fast-import", "--quiet"], in: repo.path, input: stream)
        let ids = try repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
            .split(separator: "\n").compactMap { ObjectID(hex: $0) }
        #expect(ids.count > 20_000)
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        let known = Set(ids)
        var missed = 0, phantom = 0
        for id in ids {
            if try !objects.isPacked(id) { missed += 1 }
            let neighbour = ObjectID(high: id.high, middle: id.middle, low: id.low ^ 1)
            if !known.contains(neighbour), try objects.isPacked(neighbour) { phantom += 1 }
            let far = ObjectID(high: id.high ^ 0xFF, middle: id.middle, low: id.low)
            if !known.contains(far), try objects.isPacked(far) { phantom += 1 }
        }
        #expect(missed == 0)
        #expect(phantom == 0)
    }

    @Test func malformedRawTreeIsAnError() throws {
        let repo = try GitRepository(label: "raw-tree")
        // A tree entry whose mode is not octal, written with hash-object's --literally.
        let file = repo.directory.url("bad-tree")
        try Data("100648 name\0".utf8 + [UInt8](repeating: 7, count: 20)).write(to: URL(fileURLWithPath: file))
        let id = try #require(
            ObjectID(
                hex: try repo.git("hash-object", "-w", "-t", "tree", "--literally", file)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        let objects = try ObjectDatabase(try Repository(discoveringFrom: repo.path))
        var cursor = try objects.rawTree(id).makeCursor()
        #expect(throws: GitError.self) { _ = try cursor.advance() }
        #expect(throws: GitError.self) { _ = try objects.tree(id) }
    }

    /// Delta instructions that reach outside their base or result, or stop short, are errors.
    @Test func malformedDeltasAreErrors() throws {
        let repo = try GitRepository(label: "pack-delta")
        try makeRandomHistory(in: repo, seed: 2, commits: 5)
        try repo.git("repack", "-adq")
        let indexPath = try #require(try packFiles(repo, ".idx").first)
        let packPath = try #require(try packFiles(repo, ".pack").first)
        let index = try #require(try PackIndex.open(BytePath(indexPath)))
        let pack = try PackFile(index: index, packPath: BytePath(packPath))
        let base = try ObjectBytes.make(count: 11)
        base.pointer.copyMemory(from: Array("hello world".utf8), byteCount: 11)
        func apply(_ delta: [UInt8]) throws(GitError) -> [UInt8] {
            let copy = try ObjectBytes.make(count: delta.count)
            copy.pointer.copyMemory(from: delta, byteCount: delta.count)
            return try copy.withBuffer { bytes throws(GitError) in
                try PackReader.apply(bytes, to: base, pack, at: 12).withBuffer { Array($0) }
            }
        }
        // Copy "world" then insert "!": base size 11, result 6.
        #expect(try apply([11, 6, 0x91, 6, 5, 1, UInt8(ascii: "!")]) == Array("world!".utf8))
        let bad: [[UInt8]] = [
            [10, 6, 0x91, 6, 5, 1, 0x21],  // wrong base size
            [11, 6, 0x91, 8, 5, 1, 0x21],  // copy past the base's end
            [11, 5, 0x91, 6, 5, 1, 0x21],  // more output than the result size
            [11, 7, 0x91, 6, 5, 1, 0x21],  // less output than the result size
            [11, 6, 0x91, 6],  // copy instruction cut short
            [11, 6, 0x91, 6, 5, 3, 0x21],  // insert past the delta's end
            [11, 6, 0x00],  // reserved instruction
            [0x80],  // header cut short
            [11, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],  // absurd result size
        ]
        for delta in bad {
            #expect(throws: GitError.self, "\(delta)") { try apply(delta) }
        }
    }
}
