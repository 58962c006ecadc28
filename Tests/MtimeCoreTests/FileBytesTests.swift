import Foundation
import Glibc
import MtimeCore
import Testing
import TestSupport

/// `FileBytes`: a regular file's bytes, mapped, refusing what `readRegularFile` refuses.
@Suite struct FileBytesTests {
    /// Every size around the page boundaries reads back exactly; a file replaced by renaming a new
    /// one over it (how git writes the index) leaves the bytes already taken as they were.
    @Test func theBytesAreTheFilesAndSurviveItsReplacement() throws {
        let directory = TemporaryDirectory("file-bytes")
        var generator = SeededGenerator(seed: 14)
        for size in [0, 1, 4095, 4096, 4097, 3 * 4096 + 17, 300_000] {
            let path = directory.url("f\(size)")
            let contents = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(contents).write(to: URL(fileURLWithPath: path))
            let bytes = try FileBytes(contentsOf: BytePath(path), limit: size)
            #expect(bytes.count == size)
            #expect(bytes.withUnsafeBytes { Array($0) } == contents, "\(size) bytes")
            #expect(try FileSystem.readFile(BytePath(path)) == contents)
            try Data(repeating: 7, count: size + 5).write(to: URL(fileURLWithPath: path + ".new"))
            try FileSystem.rename(BytePath(path + ".new"), to: BytePath(path))
            #expect(bytes.withUnsafeBytes { Array($0) } == contents, "\(size) bytes, after the file was replaced")
        }
    }

    /// More than the limit, a directory, a FIFO (without waiting for a writer) and a symlink (not
    /// followed) are refused, each with its typed error.
    @Test func onlyARegularFileWithinTheLimitIsTaken() throws {
        let directory = TemporaryDirectory("file-bytes-refused")
        let file = directory.url("file")
        try Data("twelve bytes".utf8).write(to: URL(fileURLWithPath: file))
        /// The error taking `name` failed with; nil when it was taken.
        func refusal(_ name: String, limit: Int) -> SystemError? {
            do {
                _ = try FileBytes(contentsOf: BytePath(directory.url(name)), limit: limit)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal("file", limit: 11)?.isTooLarge == true)
        #expect(refusal("file", limit: 12) == nil)
        #expect(mkfifo(directory.url("fifo"), 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: directory.url("link"), withDestinationPath: file)
        #expect(refusal("fifo", limit: 1 << 20)?.isNotRegularFile == true)
        #expect(refusal(".", limit: 1 << 20)?.isNotRegularFile == true)
        #expect(refusal("link", limit: 1 << 20)?.isSymlink == true)
    }

    /// `init(mapping:)` (the pack reader's, which drops pages) maps or fails: never a copy, whose
    /// pages `MADV_DONTNEED` would zero. An empty file can't be mapped; a FIFO is refused unopened.
    @Test func aMappingIsAMappingOrAnError() throws {
        let directory = TemporaryDirectory("file-bytes-mapping")
        try Data("pack bytes".utf8).write(to: URL(fileURLWithPath: directory.url("pack")))
        try Data().write(to: URL(fileURLWithPath: directory.url("empty")))
        #expect(mkfifo(directory.url("fifo"), 0o600) == 0)
        func mapping(_ name: String) throws(SystemError) -> FileBytes {
            try FileBytes(mapping: FileDescriptor(openForReading: BytePath(directory.url(name))))
        }
        let mapped = try mapping("pack")
        #expect(mapped.withUnsafeBytes { Array($0) } == Array("pack bytes".utf8))
        #expect(throws: SystemError.self) { try mapping("empty") }
        do {
            _ = try mapping("fifo")
            Issue.record("a FIFO was mapped")
        } catch {
            #expect(error.isNotRegularFile)
        }
    }

    /// A copy holds its own bytes.
    @Test func aCopyHoldsTheBytesGiven() {
        var contents: [UInt8] = [1, 2, 3]
        let bytes = FileBytes(copying: contents)
        contents[0] = 9
        #expect(bytes.withUnsafeBytes { Array($0) } == [1, 2, 3])
        #expect(FileBytes(copying: []).count == 0)
    }
}
