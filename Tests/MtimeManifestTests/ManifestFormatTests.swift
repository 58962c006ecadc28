import Foundation
import MtimeCore
import Testing
import TestSupport
@testable import MtimeManifest

@Suite struct ManifestFormatTests {
    let id = ObjectID(hex: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")!

    func manifest(_ paths: [[UInt8]]) -> Manifest {
        Manifest(
            headCommit: id, dirtyCount: 1,
            entries: paths.enumerated().map { index, path in
                ManifestEntry(
                    path: BytePath(path), objectID: id,
                    modificationTime: Timestamp(seconds: 1_600_000_000 + Int64(index), nanoseconds: Int32(index * 7)),
                    mode: index % 3 == 0
                        ? ManifestEntry.regularMode : index % 3 == 1 ? ManifestEntry.executableMode : ManifestEntry.symlinkMode,
                    isUntracked: index % 4 == 3)
            })
    }

    @Test func roundTripsAnyPathByte() throws {
        let odd: [[UInt8]] = [
            Array("plain.rs".utf8), Array("with space".utf8), Array("tab\there".utf8), Array("new\nline".utf8),
            Array("back\\slash".utf8), [0x6C, 0x61, 0x74, 0x69, 0x6E, 0xE9], Array("ünïcödé/ok".utf8), Array("-leading-dash".utf8),
            [0x7F, 0x41], Array("dir/sub/file.c".utf8),
        ]
        let original = manifest(odd)
        let text = original.serialized()
        let parsed = try Manifest(parsing: text)
        #expect(parsed == original)
        #expect(parsed.serialized() == text, "the same tree gives byte-identical manifests")
        let lines = text.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        #expect(lines.contains { $0.hasSuffix(" new\\x0aline") })
        #expect(lines.contains { $0.hasSuffix(" latin\\xe9") })
        #expect(lines.contains { $0.hasSuffix(" with\\x20space") })
        #expect(lines.contains { $0.hasSuffix(" ünïcödé/ok") })
    }

    @Test func exactHeader() throws {
        let text = String(decoding: manifest(["a", "b", "c", "d"].map { Array($0.utf8) }).serialized(), as: UTF8.self)
        #expect(
            text == """
                git-mtime-manifest 2
                object-format sha1
                head e69de29bb2d1d6434b8b29ae775ad8c2e48c5391
                dirty 1
                untracked 1
                entries 4
                tracked 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1600000000.000000000 a
                tracked 100755 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1600000001.000000007 b
                tracked 120000 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1600000002.000000014 c
                untracked 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1600000003.000000021 d

                """)
    }

    /// A manifest with a submodule entry is version 3 (`submodule` origin); it reads back the same.
    @Test func submoduleEntriesMakeVersionThree() throws {
        var original = manifest(["a", "b", "c", "d"].map { Array($0.utf8) })
        original.entries[1].isInSubmodule = true
        let text = String(decoding: original.serialized(), as: UTF8.self)
        #expect(text.hasPrefix("git-mtime-manifest 3\n"))
        #expect(text.contains("\nsubmodule 100755 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1600000001.000000007 b\n"))
        let parsed = try Manifest(parsing: Array(text.utf8))
        #expect(parsed == original)
        #expect(parsed.submoduleCount == 1 && parsed.untrackedCount == 1)
        // Version 3 without a submodule entry is read too (a writer always picks 2 for it).
        let plain = text.replacingOccurrences(of: "\nsubmodule ", with: "\ntracked ")
        #expect(
            try Manifest(parsing: Array(plain.utf8)).serialized() == manifest(["a", "b", "c", "d"].map { Array($0.utf8) }).serialized())
        // An entry can't be both: untracked wins.
        #expect(
            !ManifestEntry(
                path: BytePath("x"), objectID: id, modificationTime: Timestamp(seconds: 1, nanoseconds: 0),
                mode: ManifestEntry.regularMode, isUntracked: true, isInSubmodule: true
            ).isInSubmodule)
    }

    /// Version 1 (no origin field) is still read: every entry is tracked.
    @Test func readsVersionOne() throws {
        let text = "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100755 \(id.hex) 5.000000001 run.sh\n"
        let parsed = try Manifest(parsing: Array(text.utf8))
        #expect(
            parsed.entries == [
                ManifestEntry(
                    path: BytePath("run.sh"), objectID: id, modificationTime: Timestamp(seconds: 5, nanoseconds: 1),
                    mode: ManifestEntry.executableMode)
            ])
        #expect(parsed.untrackedCount == 0)
    }

    @Test(arguments: [
        ("", "truncated"),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 2\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "truncated or padded"
        ),
        (
            "git-mtime-manifest 4\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 0\n",
            "format 4 is not supported (this guard reads 1 to 3)"
        ),
        // `submodule` is an origin from version 3 on: a version 2 manifest with it is malformed.
        (
            "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 1\nsubmodule 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "line 7: first field is not 'tracked' or 'untracked'"
        ),
        (
            "git-mtime-manifest 3\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 1\nstaged 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "'tracked', 'untracked' or 'submodule'"
        ),
        (
            "git-mtime-manifest 3\nobject-format sha1\nhead -\ndirty 0\nuntracked 1\nentries 1\nsubmodule 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "header says 1 untracked"
        ),
        ("git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nentries 0\n", "expected 'untracked <value>'"),
        (
            "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 1\nentries 1\ntracked 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "header says 1 untracked"
        ),
        (
            "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 1\nstaged 100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "'tracked' or 'untracked'"
        ),
        (
            "git-mtime-manifest 2\nobject-format sha1\nhead -\ndirty 0\nuntracked 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "expected 5 fields"
        ),
        ("something else\n", "expected 'git-mtime-manifest"),
        ("git-mtime-manifest 1\nobject-format sha256\nhead -\ndirty 0\nentries 0\n", "object format 'sha256'"),
        ("git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 99999999999\n", "entry count"),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 /etc/passwd\n",
            "absolute path"
        ),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a/../../x\n",
            "contains '..'"
        ),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\\x00b\n",
            "NUL"
        ),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100600 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "mode '100600'"
        ),
        ("git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 zz 1.000000000 a\n", "object id"),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.5 a\n",
            "time"
        ),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 1\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 bad\\q\n",
            "malformed escape"
        ),
        (
            "git-mtime-manifest 1\nobject-format sha1\nhead -\ndirty 0\nentries 2\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 b\n100644 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 1.000000000 a\n",
            "not sorted"
        ),
    ])
    func rejectsBadInput(_ text: String, _ expected: String) throws {
        let error = try #require(throws: ManifestError.self) { try Manifest(parsing: Array(text.utf8)) }
        #expect(error.description.contains(expected), "\(error)")
    }
}
