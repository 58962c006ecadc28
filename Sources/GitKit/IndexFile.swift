import Glibc
import MtimeCore

/// git's index file (`Documentation/gitformat-index.txt`, versions 2–4) parsed directly: libgit2's
/// reader builds a hash map of every entry and checksums the file with collision-detecting SHA-1,
/// which at 64,000 entries was a fifth of a warm restore. Only the common case is read here; for
/// anything else — a required extension (`link`: split index, `sdir`: sparse index), a path of
/// 4,095 bytes or more, a path or mode libgit2 would refuse, entries out of order, a file that
/// does not end exactly where its entries and extensions say — `parse` returns nil and the caller
/// asks libgit2, so behaviour and error messages stay libgit2's.
///
/// The trailing SHA-1 is not checked, as git itself does not check it when reading (read-cache.c
/// verifies it only for `git fsck`, since git 2.13): git replaces the index by renaming a complete
/// file over it, so a torn one is never seen, and with `index.skipHash` (git 2.40; on with
/// `feature.manyFiles`) the trailer is all zeros, which libgit2 1.5 calls corrupt. Hashing the
/// 7.5 MB index of a 64,000-file tree was a tenth of a warm restore's CPU time.
enum IndexFile {
    private static let headerSize = 12
    /// ctime, mtime (seconds, nanoseconds), dev, ino, mode, uid, gid, size, then the id and the flags.
    private static let fixedEntrySize = 40 + ObjectID.byteCount + 2

    static func parse(_ bytes: UnsafeRawBufferPointer) -> [IndexEntry]? {
        guard bytes.count >= headerSize + ObjectID.byteCount, bytes.starts(with: "DIRC".utf8) else { return nil }
        return parseEntries(bytes)
    }

    static func parse(_ bytes: [UInt8]) -> [IndexEntry]? { bytes.withUnsafeBytes { parse($0) } }

    /// Whether the file ends in the null hash instead of its SHA-1 (`index.skipHash`), which libgit2
    /// 1.5 refuses as corrupt.
    static func hasNullTrailer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= headerSize + ObjectID.byteCount && bytes.suffix(ObjectID.byteCount).allSatisfy { $0 == 0 }
    }

    /// Where each entry's path lies in `bytes` (versions 2 and 3 only: version 4's paths are
    /// prefix-compressed), in file order, found by hopping from entry to entry by the length in its
    /// flags: a pass that costs nothing next to `parse`, so that work on the paths (restore's `lstat`s)
    /// can start while `parse` decodes and checks the file. Nothing is verified: a path's owner must
    /// compare it with the entry `parse` (or libgit2) gives at that position before trusting it.
    /// Nil for anything `parse` would refuse up front, or an entry that runs past the end.
    static func pathRanges(_ file: UnsafeRawBufferPointer) -> [IndexPathRange]? {
        // Offsets are kept in 32 bits.
        guard file.count >= headerSize + ObjectID.byteCount, file.count <= Int(Int32.max), file.starts(with: "DIRC".utf8)
        else { return nil }
        let end = file.count - ObjectID.byteCount
        let version = word(file, 4)
        guard version == 2 || version == 3 else { return nil }
        let count = Int(word(file, 8))
        guard count <= end / fixedEntrySize else { return nil }
        var ranges: [IndexPathRange] = []
        ranges.reserveCapacity(count)
        var offset = headerSize
        for _ in 0..<count {
            let start = offset
            guard start + fixedEntrySize <= end else { return nil }
            let flags = UInt16(file[start + 60]) << 8 | UInt16(file[start + 61])
            let pathStart = start + fixedEntrySize + (flags & 0x4000 != 0 ? 2 : 0)
            let length = Int(flags & 0x0FFF)
            // A name of 4095 bytes or more does not fit the flags: `parse` refuses it too.
            guard length < 0x0FFF, pathStart + length < end else { return nil }
            ranges.append(
                IndexPathRange(
                    start: Int32(pathStart), count: Int32(length), mode: word(file, start + 24), stage: UInt8(flags >> 12 & 3)))
            offset = start + ((pathStart + length - start + 8) & ~7)
        }
        return ranges
    }

    /// The entries, once the header and trailer are known to be there.
    private static func parseEntries(_ file: UnsafeRawBufferPointer) -> [IndexEntry]? {
        let end = file.count - ObjectID.byteCount
        let version = word(file, 4)
        guard (2...4).contains(version) else { return nil }
        let count = Int(word(file, 8))
        guard count <= end / fixedEntrySize else { return nil }
        var entries: [IndexEntry] = []
        entries.reserveCapacity(count)
        var offset = headerSize
        var previous: [UInt8] = []
        for _ in 0..<count {
            let start = offset
            guard start + fixedEntrySize <= end else { return nil }
            let flags = UInt16(file[start + 60]) << 8 | UInt16(file[start + 61])
            var pathStart = start + fixedEntrySize
            var extended: UInt16 = 0
            if flags & 0x4000 != 0 {
                guard version >= 3, pathStart + 2 <= end else { return nil }
                extended = UInt16(file[pathStart]) << 8 | UInt16(file[pathStart + 1])
                pathStart += 2
            }
            let path: [UInt8]
            if version == 4 {
                // Prefix compression: drop N bytes of the previous path, append the NUL-terminated rest.
                guard let (strip, length) = varint(file, pathStart, end), strip <= previous.count,
                    let nul = firstZero(file, pathStart + length, end)
                else { return nil }
                path = previous.dropLast(Int(strip)) + UnsafeRawBufferPointer(rebasing: file[(pathStart + length)..<nul])
                offset = nul + 1
            } else {
                guard let nul = firstZero(file, pathStart, end) else { return nil }
                path = Array(UnsafeRawBufferPointer(rebasing: file[pathStart..<nul]))
                // Padded with 1–8 NULs to a multiple of 8 bytes from the entry's start.
                offset = start + ((nul - start + 8) & ~7)
                guard offset <= end else { return nil }
            }
            let mode = word(file, start + 24)
            let stage = Int(flags >> 12 & 3)
            // A path of 4095 bytes or more (its length does not fit the flags) libgit2 1.5 calls corrupt.
            guard Int(flags & 0x0FFF) == path.count, path.count < 0x0FFF, isUsualMode(mode), isPlainPath(path) else { return nil }
            if !entries.isEmpty {
                // libgit2 sorts what it reads; git writes sorted: anything else goes to libgit2.
                let order = compare(previous, path)
                guard order < 0 || (order == 0 && entries[entries.count - 1].stage < stage) else { return nil }
            }
            entries.append(
                IndexEntry(
                    path: BytePath(path), objectID: ObjectID(loading: file.baseAddress! + start + 40), mode: mode, stage: stage,
                    modificationTime: Timestamp(
                        seconds: seconds(file, start + 8), nanoseconds: Int32(bitPattern: word(file, start + 12))),
                    changeTime: Timestamp(seconds: seconds(file, start), nanoseconds: Int32(bitPattern: word(file, start + 4))),
                    inode: word(file, start + 20), uid: word(file, start + 28), gid: word(file, start + 32),
                    fileSize: word(file, start + 36), isSkipWorktree: extended & 0x4000 != 0))
            previous = path
        }
        // Extensions: a signature starting with A–Z is optional (a cache); any other must be understood.
        while offset + 8 <= end {
            let signature = file[offset]
            let size = Int(word(file, offset + 4))
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(signature), size <= end - offset - 8 else { return nil }
            offset += 8 + size
        }
        return offset == end ? entries : nil
    }

    private static func word(_ file: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The index stores seconds as a signed 32-bit number (libgit2's `int32_t`).
    private static func seconds(_ file: UnsafeRawBufferPointer, _ offset: Int) -> Int64 {
        Int64(Int32(bitPattern: word(file, offset)))
    }

    private static func firstZero(_ file: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start <= end else { return nil }
        return UnsafeRawBufferPointer(rebasing: file[start..<end]).firstIndex(of: 0).map { start + $0 }
    }

    /// git's offset varint (`varint.c`): returns the value and the bytes it took.
    private static func varint(_ file: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (UInt64, Int)? {
        var position = start
        guard position < end else { return nil }
        var byte = file[position]
        var value = UInt64(byte & 127)
        while byte & 128 != 0 {
            position += 1
            guard position < end, value < 1 << 48 else { return nil }
            byte = file[position]
            value = ((value + 1) << 7) + UInt64(byte & 127)
        }
        return (value, position + 1 - start)
    }

    private static func isUsualMode(_ mode: UInt32) -> Bool {
        mode == 0o100644 || mode == 0o100755 || mode == 0o120000 || mode == 0o160000
    }

    /// No empty, `.`, `..` or `.git` (any case) component: libgit2 refuses those paths, so they go to it.
    /// From slash to slash by `memchr`: this looks at every path in the index, and a loop over
    /// every byte took 3 ms of a warm restore at 64,000 paths.
    private static func isPlainPath(_ path: [UInt8]) -> Bool {
        path.withUnsafeBufferPointer { path in
            guard let base = path.baseAddress else { return false }
            let dot = UInt8(ascii: "."), count = path.count
            var start = 0
            while true {
                var end = count
                if start < count, let slash = memchr(base + start, Int32(UInt8(ascii: "/")), count - start) {
                    end = UnsafePointer(slash.assumingMemoryBound(to: UInt8.self)) - base
                }
                let length = end - start
                if length == 0 { return false }
                if base[start] == dot, length <= 4 {
                    if length == 1 || (length == 2 && base[start + 1] == dot) { return false }
                    if length == 4, base[start + 1] | 0x20 == UInt8(ascii: "g"), base[start + 2] | 0x20 == UInt8(ascii: "i"),
                        base[start + 3] | 0x20 == UInt8(ascii: "t")
                    {
                        return false
                    }
                }
                if end == count { return true }
                start = end + 1
            }
        }
    }

    private static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in compareBytes(a, b) } }
    }
}

/// One entry's path in the index file's bytes (`IndexFile.pathRanges`), with the mode and stage
/// next to it: enough to tell which paths are worth an `lstat` before the entries are decoded.
public struct IndexPathRange: Sendable, Equatable {
    /// Byte offset and length of the path in the file.
    public let start: Int32
    public let count: Int32
    public let mode: UInt32
    public let stage: UInt8
}
