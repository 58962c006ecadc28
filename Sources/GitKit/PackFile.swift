import Glibc
import CLibGit2
import MtimeCore

/// A whole file mapped read-only (`FileBytes(mapping:)`). Git never rewrites a pack or index in
/// place (a repack writes new files and unlinks the old ones), so the mapping stays valid while we
/// hold it.
///
/// Used by one thread at a time: another thread takes a view (`init(viewOf:)`) of the same mapping.
/// Objects two walk threads both retained and released per object read cost far more than the
/// reads themselves (the reference count's cache line moving between cores).
final class MappedFile {
    let path: BytePath
    let base: UnsafeRawPointer
    let count: Int
    /// The mapping, shared by every view of it; it is unmapped when the last one goes.
    private let mapping: FileBytes
    /// Bytes read through this view (at least a page per read) since it last dropped the pages.
    private var readSinceDrop = 0
    /// Past this many, `noteRead` drops the mapping's pages (`MADV_DONTNEED`). Tests lower it.
    nonisolated(unsafe) static var residentBudget = 256 << 20

    init(_ path: BytePath) throws(GitError) {
        // Non-blocking and regular files only: a FIFO in a shared alternate object directory can't hang us.
        do {
            mapping = try FileBytes(mapping: try FileDescriptor(openFollowingSymlinks: path))
        } catch {
            // A vanished file (a concurrent repack deleting an old pack) is "not found", like libgit2's.
            throw GitError(code: error.isNotFound ? GIT_ENOTFOUND.rawValue : -1, operation: "map \(path)", message: error.description)
        }
        self.path = path
        base = mapping.bytes.baseAddress!
        count = mapping.count
    }

    /// The same mapping for another thread; it stays mapped while any view lives.
    init(viewOf other: MappedFile) {
        path = other.path
        base = other.base
        count = other.count
        mapping = other.mapping
    }

    /// Counts a read of `bytes`; past `residentBudget`, drops every page of the mapping from this
    /// process. A cold walk reads commits and trees from all over a pack as large as the history
    /// (700 MB at Linux scale), and each mapped page it touched stayed in its resident set: peak
    /// RSS above git log's. Dropped pages stay in the page cache; a later read maps them again (a
    /// minor fault). The mapping is private and never written, so another thread reading it
    /// meanwhile sees the same bytes.
    @inline(__always)
    func noteRead(_ bytes: Int) {
        readSinceDrop += max(bytes, 4096)
        guard readSinceDrop >= MappedFile.residentBudget else { return }
        readSinceDrop = 0
        madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_DONTNEED)
    }

    @inline(__always)
    func bigEndian32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func bigEndian64(at offset: Int) -> UInt64 {
        UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// A version-2 pack index (`objects/pack/*.idx`): fanout table, sorted ids, CRCs, 31-bit offsets
/// with a table of 64-bit ones for packs over 2 GiB, then the pack's and the index's checksums.
final class PackIndex {
    let file: MappedFile
    let objectCount: Int
    private let offsetsStart: Int
    private let largeOffsetsStart: Int
    private let largeOffsetCount: Int

    private static let magic: UInt32 = 0xFF74_4F63  // "\377tOc"
    private static let fanoutStart = 8
    private static let idsStart = 8 + 256 * 4

    /// Nil for an index in the old version-1 format (no magic): libgit2 reads those for us.
    /// Throws when a version-2 index is inconsistent or truncated.
    static func open(_ path: BytePath) throws(GitError) -> PackIndex? {
        let file = try MappedFile(path)
        guard file.count >= 8, file.bigEndian32(at: 0) == magic else { return nil }
        return try PackIndex(file)
    }

    /// The same index for another thread (`MappedFile.init(viewOf:)`).
    init(viewOf other: PackIndex) {
        file = MappedFile(viewOf: other.file)
        objectCount = other.objectCount
        offsetsStart = other.offsetsStart
        largeOffsetsStart = other.largeOffsetsStart
        largeOffsetCount = other.largeOffsetCount
    }

    private init(_ file: MappedFile) throws(GitError) {
        func corrupt(_ what: String) -> GitError {
            GitError(code: -1, operation: "read pack index \(file.path)", message: "corrupt index: \(what)")
        }
        guard file.bigEndian32(at: 4) == 2 else { throw corrupt("unsupported version \(file.bigEndian32(at: 4))") }
        guard file.count >= PackIndex.idsStart + 40 else { throw corrupt("truncated fanout table") }
        // A non-decreasing fanout keeps every binary search inside the id table.
        var previous: UInt32 = 0
        for bucket in 0..<256 {
            let value = file.bigEndian32(at: PackIndex.fanoutStart + 4 * bucket)
            guard value >= previous else { throw corrupt("fanout table decreases at \(bucket)") }
            previous = value
        }
        let count = Int(previous)
        let fixed = PackIndex.idsStart + count * (ObjectID.byteCount + 4 + 4)
        // After the fixed tables: 8 bytes per large offset, then two 20-byte checksums.
        guard file.count >= fixed + 40, (file.count - fixed - 40) % 8 == 0 else {
            throw corrupt("size \(file.count) does not fit \(count) objects")
        }
        self.file = file
        objectCount = count
        offsetsStart = PackIndex.idsStart + count * (ObjectID.byteCount + 4)
        largeOffsetsStart = fixed
        largeOffsetCount = (file.count - fixed - 40) / 8
    }

    /// The pack's own checksum, as the index records it: must equal the pack's trailer.
    var packChecksum: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: file.base + (file.count - 40), count: ObjectID.byteCount)
    }

    /// Where the object starts in the pack; nil when this pack lacks it.
    func offset(of id: ObjectID) throws(GitError) -> Int? {
        let first = Int(truncatingIfNeeded: id.high >> 56)
        var low = first == 0 ? 0 : Int(file.bigEndian32(at: PackIndex.fanoutStart + 4 * (first - 1)))
        var high = Int(file.bigEndian32(at: PackIndex.fanoutStart + 4 * first))
        // Ids are uniformly distributed, so an id's value predicts its position: interpolate
        // between the known bounds a few times (each probe narrows them), then bisect what is
        // left. Most lookups touch two or three cache lines of the table instead of the ~log2(n)
        // scattered ones a plain bisection reads. Keys are the ids' first 8 bytes, less the bucket's
        // first byte, so every bound fits 64 bits.
        let key = id.high << 8
        var lowKey: UInt64 = 0, highKey: UInt64 = .max
        var rounds = 0
        while high - low > 8, rounds < 4, highKey > lowKey, key >= lowKey, key <= highKey {
            rounds += 1
            let span = UInt64(high - low)
            let product = (key - lowKey).multipliedFullWidth(by: span)
            let (quotient, _) = (highKey - lowKey).dividingFullWidth(product)
            let guess = low + Int(min(quotient, span - 1))
            let order = compareEntry(guess, id)
            if order == 0 { return try packOffset(at: guess) }
            let guessKey = file.bigEndian64(at: PackIndex.idsStart + guess * ObjectID.byteCount) << 8
            if order < 0 {
                low = guess + 1
                lowKey = guessKey
            } else {
                high = guess
                highKey = guessKey
            }
        }
        while low < high {
            let middle = (low + high) >> 1
            let order = compareEntry(middle, id)
            if order == 0 { return try packOffset(at: middle) }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The id at `position` compared with `id` (<0, 0, >0), as three big-endian integers like ObjectID's own order.
    @inline(__always)
    private func compareEntry(_ position: Int, _ id: ObjectID) -> Int {
        let entry = PackIndex.idsStart + position * ObjectID.byteCount
        let high = file.bigEndian64(at: entry)
        if high != id.high { return high < id.high ? -1 : 1 }
        let middle = file.bigEndian64(at: entry + 8)
        if middle != id.middle { return middle < id.middle ? -1 : 1 }
        let low = file.bigEndian32(at: entry + 16)
        if low != id.low { return low < id.low ? -1 : 1 }
        return 0
    }

    private func packOffset(at position: Int) throws(GitError) -> Int {
        let small = file.bigEndian32(at: offsetsStart + 4 * position)
        guard small & 0x8000_0000 != 0 else { return Int(small) }
        let large = Int(small & 0x7FFF_FFFF)
        guard large < largeOffsetCount else {
            throw GitError(
                code: -1, operation: "read pack index \(file.path)",
                message: "corrupt index: 64-bit offset \(large) of \(largeOffsetCount)")
        }
        let value = file.bigEndian64(at: largeOffsetsStart + 8 * large)
        guard value < UInt64(Int.max) else {
            throw GitError(code: -1, operation: "read pack index \(file.path)", message: "corrupt index: offset \(value)")
        }
        return Int(value)
    }
}

/// A pack (`objects/pack/*.pack`) with its index. Object data lies between the 12-byte header and
/// the 20-byte trailing checksum; every read is checked against those bounds.
final class PackFile {
    let index: PackIndex
    let data: MappedFile
    /// Where object data ends: the trailing checksum starts here.
    let dataEnd: Int

    static let headerSize = 12

    init(index: PackIndex, packPath: BytePath) throws(GitError) {
        let data = try MappedFile(packPath)
        func corrupt(_ what: String) -> GitError {
            GitError(code: -1, operation: "read pack \(packPath)", message: "corrupt pack: \(what)")
        }
        guard data.count >= PackFile.headerSize + ObjectID.byteCount else { throw corrupt("truncated header") }
        guard data.bigEndian32(at: 0) == 0x5041_434B else { throw corrupt("bad signature") }  // "PACK"
        let version = data.bigEndian32(at: 4)
        guard version == 2 || version == 3 else { throw corrupt("unsupported version \(version)") }
        guard Int(data.bigEndian32(at: 8)) == index.objectCount else {
            throw corrupt("\(data.bigEndian32(at: 8)) objects, its index lists \(index.objectCount)")
        }
        let trailer = UnsafeRawBufferPointer(start: data.base + (data.count - ObjectID.byteCount), count: ObjectID.byteCount)
        guard trailer.elementsEqual(index.packChecksum) else { throw corrupt("checksum differs from its index's") }
        self.index = index
        self.data = data
        dataEnd = data.count - ObjectID.byteCount
    }

    /// The same pack for another thread (`MappedFile.init(viewOf:)`).
    init(viewOf other: PackFile) {
        index = PackIndex(viewOf: other.index)
        data = MappedFile(viewOf: other.data)
        dataEnd = other.dataEnd
    }

    var path: BytePath { data.path }

    func corrupt(_ what: String, at offset: Int) -> GitError {
        GitError(code: -1, operation: "read pack \(data.path) at offset \(offset)", message: "corrupt pack: \(what)")
    }

    /// An entry's header: its type, its inflated size, where its compressed data starts, and for a
    /// delta where its base is.
    struct EntryHeader {
        var type: UInt8
        var size: Int
        var dataStart: Int
        /// OFS_DELTA: the base's offset in this pack.
        var baseOffset: Int
        /// REF_DELTA: the base's id.
        var baseID: ObjectID
    }

    static let offsetDelta: UInt8 = 6
    static let referenceDelta: UInt8 = 7

    func entryHeader(at offset: Int) throws(GitError) -> EntryHeader {
        guard offset >= PackFile.headerSize, offset < dataEnd else { throw corrupt("object offset out of range", at: offset) }
        let base = data.base
        var position = offset
        var byte = base.load(fromByteOffset: position, as: UInt8.self)
        position += 1
        let type = (byte >> 4) & 7
        var size = Int(byte & 0x0F)
        var shift = 4
        while byte & 0x80 != 0 {
            guard position < dataEnd, shift <= 56 else { throw corrupt("bad object header", at: offset) }
            byte = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            size |= Int(byte & 0x7F) << shift
            shift += 7
        }
        guard size >= 0 else { throw corrupt("bad object size", at: offset) }
        var header = EntryHeader(type: type, size: size, dataStart: position, baseOffset: 0, baseID: .zero)
        switch type {
        case 1, 2, 3, 4:
            break
        case PackFile.offsetDelta:
            // Big-endian base-128 with an implicit +1 per continuation byte: a distance back from `offset`.
            guard position < dataEnd else { throw corrupt("truncated delta base offset", at: offset) }
            byte = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            var distance = Int(byte & 0x7F)
            while byte & 0x80 != 0 {
                guard position < dataEnd, distance < (Int.max >> 8) else { throw corrupt("bad delta base offset", at: offset) }
                byte = base.load(fromByteOffset: position, as: UInt8.self)
                position += 1
                distance = ((distance + 1) << 7) | Int(byte & 0x7F)
            }
            guard distance > 0, distance <= offset - PackFile.headerSize else {
                throw corrupt("delta base offset out of range", at: offset)
            }
            header.baseOffset = offset - distance
            header.dataStart = position
        case PackFile.referenceDelta:
            guard position + ObjectID.byteCount <= dataEnd else { throw corrupt("truncated delta base id", at: offset) }
            header.baseID = ObjectID(loading: base + position)
            header.dataStart = position + ObjectID.byteCount
        default:
            throw corrupt("unknown object type \(type)", at: offset)
        }
        guard header.dataStart < dataEnd else { throw corrupt("object data out of range", at: offset) }
        // zlib cannot expand by more than ~1032:1: a larger claimed size is corrupt, and checking it
        // keeps a damaged header from asking for an absurd allocation.
        guard size / 1032 <= dataEnd - header.dataStart else { throw corrupt("object size \(size) exceeds the pack", at: offset) }
        return header
    }
}
