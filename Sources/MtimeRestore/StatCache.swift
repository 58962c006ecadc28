import MtimeCore

/// Restore's own record of files it verified clean: after restore changes a file's mtime (and,
/// through `utimensat`, its ctime) the index's stat data no longer matches, and without this every
/// later run would re-hash every file. Kept in the per-worktree git dir, written atomically with a
/// trailing checksum; a damaged or unknown file is treated as empty.
///
/// Entries are kept sorted by path bytes, paths packed into one buffer: restore asks for them in
/// that same order, so a lookup is one comparison at a remembered position and loading or writing
/// thousands of them costs a few allocations, not one per path.
struct StatCache {
    /// Everything `lstat` says that a content change would disturb. ctime can't be set by users,
    /// so a file rewritten and given its old mtime back still differs here.
    struct Record: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modificationTime: Timestamp
        var changeTime: Timestamp
        var mode: UInt32
        var objectID: ObjectID

        func matches(_ status: FileStatus) -> Bool {
            self == Record(status, objectID: objectID)
        }
    }

    static let magic = Array("GMSTATC3".utf8)
    /// The previous layout (fixed-width fields, whole paths): still read, never written.
    static let fixedWidthMagic = Array("GMSTATC2".utf8)

    /// Path `i` is `pathBytes[pathStarts[i]..<pathStarts[i + 1]]`; strictly increasing byte order.
    private(set) var pathBytes: [UInt8] = []
    private(set) var pathStarts: [Int] = [0]
    /// `records[i]` belongs to path `i`.
    private(set) var records: [Record] = []
    /// The cache file's own mtime when loaded: a record whose ctime is not older was taken in the
    /// same clock tick as the write, so a change in that tick would be invisible ("racily clean").
    var writtenAt: Timestamp?
    /// Read from a `fixedWidthMagic` file: any new cache is worth writing (`Changes`), so every
    /// user's file moves to the current layout on the next run (half the bytes to read on every
    /// warm run), not only once enough records change.
    private(set) var isInPreviousLayout = false

    init() {}

    var count: Int { records.count }

    /// Same paths and records (the load time aside).
    func hasSameEntries(as other: StatCache) -> Bool {
        records == other.records && pathStarts == other.pathStarts && pathBytes == other.pathBytes
    }

    /// Where the last lookup ended: the next one in path order starts there.
    final class LookupHint {
        var next = 0
    }

    func path(at index: Int) -> BytePath { BytePath(Array(pathBytes[pathStarts[index]..<pathStarts[index + 1]])) }

    /// The position of `path`, trying `hint` (the entry after the previous match) before a binary search.
    func index(of path: BytePath, hint: LookupHint? = nil) -> Int? {
        path.bytes.withUnsafeBytes { wanted in
            pathBytes.withUnsafeBytes { packed in
                func order(_ index: Int) -> Int {
                    compareBytes(UnsafeRawBufferPointer(rebasing: packed[pathStarts[index]..<pathStarts[index + 1]]), wanted)
                }
                if let hint, hint.next < records.count, order(hint.next) == 0 {
                    hint.next += 1
                    return hint.next - 1
                }
                var low = 0, high = records.count
                while low < high {
                    let middle = (low + high) / 2
                    let comparison = order(middle)
                    if comparison == 0 {
                        hint?.next = middle + 1
                        return middle
                    }
                    if comparison < 0 { low = middle + 1 } else { high = middle }
                }
                return nil
            }
        }
    }

    subscript(path: BytePath) -> Record? {
        get { index(of: path).map { records[$0] } }
        set {
            var builder = Builder()
            var inserted = false
            for index in records.indices {
                let existing = self.path(at: index)
                if !inserted && !(existing < path) {
                    if let newValue { builder.append(path, newValue) }
                    inserted = true
                    if existing == path { continue }
                }
                builder.append(existing, records[index])
            }
            if !inserted, let newValue { builder.append(path, newValue) }
            let writtenAt = writtenAt
            self = builder.cache
            self.writtenAt = writtenAt
        }
    }

    /// Whether replacing `previous` with `self` is worth writing the whole file (`Changes`).
    func isWorthWriting(replacing previous: StatCache) -> Bool {
        var changes = Changes(against: previous, replacingAll: true)
        for index in records.indices { changes.add(path(at: index), records[index]) }
        return changes.areWorthWriting == true
    }

    /// What a new cache would change against `previous`, counted from its records one at a time, so
    /// that a warm run with nothing worth writing never builds the new cache. The new cache holds
    /// just the records given (`replacingAll`), or `previous` with them added. A record left out (or
    /// not yet settled) only makes the next run hash that file, so up to one entry in
    /// `rewriteFraction`, holding fewer bytes than the file itself, may wait for a later rewrite.
    /// Counted: paths only one of them has, and records `previous` holds differently or can't vouch
    /// for yet (not settled against its file).
    struct Changes {
        private let previous: StatCache
        private let replacingAll: Bool
        private let hint = LookupHint()
        private var changes = 0, unrecordedBytes = 0
        private var given = 0, givenPathBytes = 0, matched = 0, matchedPathBytes = 0
        private var last: BytePath?
        private var inOrder = true

        init(against previous: StatCache, replacingAll: Bool) {
            self.previous = previous
            self.replacingAll = replacingAll
            // Kept as they are when merged: counted unless a record given replaces them.
            if !replacingAll {
                for record in previous.records where !previous.isSettled(record) { added(record) }
            }
        }

        private mutating func added(_ record: Record, _ sign: Int = 1) {
            changes += sign
            unrecordedBytes += sign * Int(clamping: record.size)
        }

        mutating func add(_ path: BytePath, _ record: Record) {
            if let last, !(last < path) { inOrder = false }
            last = path
            given += 1
            givenPathBytes += path.bytes.count
            guard let old = previous.index(of: path, hint: hint) else { return added(record) }
            matched += 1
            matchedPathBytes += path.bytes.count
            let oldRecord = previous.records[old]
            if !replacingAll && !previous.isSettled(oldRecord) { added(oldRecord, -1) }
            if record != oldRecord || !previous.isSettled(record) { added(record) }
        }

        /// Nil when the paths were not given in strictly increasing order: a path given twice would
        /// be counted twice, so the caller builds the cache and asks `isWorthWriting` instead.
        var areWorthWriting: Bool? {
            guard inOrder else { return nil }
            let count = replacingAll ? given : previous.count + given - matched
            let pathBytes = replacingAll ? givenPathBytes : previous.pathBytes.count + givenPathBytes - matchedPathBytes
            let total = changes + (replacingAll ? previous.count - matched : 0)
            if previous.isInPreviousLayout && count > 0 { return true }
            return total > 0
                && (total * StatCache.rewriteFraction > max(count, previous.count)
                    || unrecordedBytes > StatCache.sizeBound(count: count, pathBytes: pathBytes))
        }
    }

    static let rewriteFraction = 256

    /// `self` with `newer`'s records added, replacing those for the same paths.
    func merging(_ newer: StatCache) -> StatCache {
        var builder = Builder(capacity: count + newer.count)
        var old = 0, new = 0
        while old < count || new < newer.count {
            if new == newer.count {
                builder.append(path(at: old), records[old]); old += 1; continue
            }
            if old == count {
                builder.append(newer.path(at: new), newer.records[new]); new += 1; continue
            }
            let oldPath = path(at: old), newPath = newer.path(at: new)
            if oldPath < newPath {
                builder.append(oldPath, records[old]); old += 1
            } else {
                if oldPath == newPath { old += 1 }
                builder.append(newPath, newer.records[new]); new += 1
            }
        }
        return builder.cache
    }

    /// Collects entries, cheapest when given in increasing path order (restore's plan order).
    struct Builder {
        private var entries = StatCache()
        private var inOrder = true

        init(capacity: Int = 0) {
            entries.records.reserveCapacity(capacity)
            entries.pathStarts.reserveCapacity(capacity + 1)
            entries.pathBytes.reserveCapacity(capacity * 32)
        }

        mutating func append(_ path: BytePath, _ record: Record) {
            if inOrder, let last = entries.records.indices.last {
                inOrder = entries.pathBytes.withUnsafeBytes { packed in
                    path.bytes.withUnsafeBytes { next in
                        compareBytes(UnsafeRawBufferPointer(rebasing: packed[entries.pathStarts[last]...]), next) < 0
                    }
                }
            }
            entries.pathBytes.append(contentsOf: path.bytes)
            entries.pathStarts.append(entries.pathBytes.count)
            entries.records.append(record)
        }

        /// The entries in path order; for a path given twice, the later record.
        var cache: StatCache {
            if inOrder { return entries }
            var latest: [BytePath: Record] = [:]
            for index in entries.records.indices { latest[entries.path(at: index)] = entries.records[index] }
            var sorted = Builder(capacity: latest.count)
            for path in latest.keys.sorted() { sorted.append(path, latest[path]!) }
            return sorted.entries
        }
    }

    /// `<per-worktree git dir>/git-mtime/stat-cache` (inside `RestoreSession.privateDirectory`).
    static func location(in gitDirectory: BytePath) -> BytePath { gitDirectory.appending("git-mtime/stat-cache") }

    /// The record for `path` when it vouches for exactly this file state and this blob.
    func trusts(_ path: BytePath, status: FileStatus, objectID: ObjectID, hint: LookupHint? = nil) -> Bool {
        guard let index = index(of: path, hint: hint) else { return false }
        let record = records[index]
        guard record.objectID == objectID, record.matches(status) else { return false }
        return isSettled(record)
    }

    /// Whether `record` was taken strictly before this cache file was written (so it can be trusted).
    func isSettled(_ record: Record) -> Bool {
        guard let writtenAt else { return false }
        return record.changeTime < writtenAt
    }

    static func load(from path: BytePath) -> StatCache {
        // The time the records are settled against comes from the file the bytes came from (one
        // open): a cache replaced between a stat and a read by path could vouch for older records.
        guard let file = try? FileDescriptor(openForReading: path), let status = try? file.status(),
            let bytes = try? FileBytes(file, limit: 1 << 30), var cache = decode(bytes)
        else { return StatCache() }
        cache.writtenAt = status.modificationTime
        return cache
    }

    func write(to path: BytePath) throws(SystemError) {
        try FileSystem.createDirectory(path.parent)
        try FileSystem.writeAtomically(path, contents: encode(), durable: false)
    }

    /// Per entry after the path, in `fixedWidthMagic` files: device, inode, size, mtime seconds,
    /// ctime seconds (u64 each), mtime and ctime nanoseconds, mode (u32 each), blob id.
    private static let recordSize = 5 * 8 + 3 * 4 + ObjectID.byteCount

    /// The file's size in the fixed-width layout (whole paths, every field at full width), which
    /// `isWorthWriting` weighs without sizing every varint: about twice what `encode` writes.
    static func sizeBound(count: Int, pathBytes: Int) -> Int {
        magic.count + 4 + count * (4 + recordSize) + pathBytes + ObjectID.byteCount
    }

    private static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    private static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }

    /// `body` with each of the record's varint fields, in their order in the file.
    @inline(__always)
    private static func forEachField(of record: Record, _ body: (UInt64) -> Void) {
        body(record.device)
        body(record.inode)
        body(UInt64(bitPattern: record.size))
        body(zigzag(record.modificationTime.seconds))
        body(zigzag(record.changeTime.seconds))
        body(UInt64(record.modificationTime.nanoseconds))  // 0 ... 999,999,999
        body(UInt64(record.changeTime.nanoseconds))
        body(UInt64(record.mode))
    }

    /// Bytes path `index` shares with path `index - 1` (0 for the first).
    private func sharedPrefix(_ index: Int, in packed: UnsafeRawBufferPointer) -> Int {
        guard index > 0 else { return 0 }
        let previous = pathStarts[index - 1], start = pathStarts[index]
        let limit = min(start - previous, pathStarts[index + 1] - start)
        var shared = 0
        while shared < limit && packed[previous + shared] == packed[start + shared] { shared += 1 }
        return shared
    }

    // Layout: magic, entry count u32, the paths' total length u64 (the decoder fills one buffer of
    // exactly that size), entries, SHA-1 of everything before it. An entry: the bytes
    // its path shares with the previous one and the length of the rest (varints), the rest, then
    // device, inode, size, mtime seconds, ctime seconds, mtime and ctime nanoseconds and mode
    // (varints; sizes as their 64-bit pattern, seconds zigzag-coded), and the blob id. Paths in
    // strictly increasing byte order. Half the size of whole paths and fixed-width fields at 64,000
    // files (4 MB instead of 8): the file is written on every run that verified files, and on a
    // fresh clone writing it was the largest part of apply after the times themselves.
    func encode() -> [UInt8] {
        pathBytes.withUnsafeBytes { packed in
            // Sized first: the writer fills one buffer of exactly that size.
            var size = StatCache.magic.count + 4 + 8 + ObjectID.byteCount
            for (index, record) in records.enumerated() {
                let shared = sharedPrefix(index, in: packed)
                let rest = pathStarts[index + 1] - pathStarts[index] - shared
                size += BinaryWriter.varintSize(UInt64(shared)) + BinaryWriter.varintSize(UInt64(rest)) + rest
                StatCache.forEachField(of: record) { size += BinaryWriter.varintSize($0) }
                size += ObjectID.byteCount
            }
            return BinaryWriter.bytes(size: size) { writer in
                writer.append(StatCache.magic)
                writer.append(UInt32(records.count))
                writer.append(UInt64(pathBytes.count))
                for (index, record) in records.enumerated() {
                    let shared = sharedPrefix(index, in: packed)
                    let rest = UnsafeRawBufferPointer(rebasing: packed[(pathStarts[index] + shared)..<pathStarts[index + 1]])
                    writer.appendVarint(UInt64(shared))
                    writer.appendVarint(UInt64(rest.count))
                    writer.append(rest)
                    StatCache.forEachField(of: record) { writer.appendVarint($0) }
                    writer.append(record.objectID)
                }
                writer.appendChecksum()
            }
        }
    }

    /// Nil unless `bytes` is exactly what `encode` writes (magic, lengths, order, checksum), or a
    /// file of the previous layout.
    static func decode(_ bytes: [UInt8]) -> StatCache? { decode(FileBytes(copying: bytes)) }

    static func decode(_ bytes: FileBytes) -> StatCache? {
        guard bytes.count >= magic.count + 4 + ObjectID.byteCount else { return nil }
        let entries: (inout BinaryReader) -> StatCache?
        if bytes.bytes.starts(with: magic) {
            entries = decodeEntries
        } else if bytes.bytes.starts(with: fixedWidthMagic) {
            entries = decodeFixedWidthEntries
        } else {
            return nil
        }
        return Checksum.verifyingTrailer(of: bytes) {
            bytes.withUnsafeBytes { file in
                // What lies between the magic (both layouts' are 8 bytes) and the trailer.
                var reader = BinaryReader(UnsafeRawBufferPointer(rebasing: file[..<(file.count - ObjectID.byteCount)]), offset: magic.count)
                return entries(&reader)
            }
        }
    }

    /// The entries of a `magic` file from `reader`, past the magic and short of the trailer (the
    /// checksum is not looked at); nil unless every length, value and the path order are as
    /// `encode` writes them.
    private static func decodeEntries(_ reader: inout BinaryReader) -> StatCache? {
        // The shortest entry: two one-byte lengths, a one-byte name, eight one-byte fields, the id.
        guard let count = reader.integer(UInt32.self), Int(count) <= reader.remaining / (11 + ObjectID.byteCount),
            // Claimed, so bounded before anything is allocated: paths 64 times longer than the
            // rest of their entries would be 2 KB each (such a cache is ignored, as a damaged one).
            let pathByteCount = reader.integer(UInt64.self), pathByteCount <= UInt64(reader.remaining) * 64
        else { return nil }
        var records: [Record] = [], pathStarts = [0]
        records.reserveCapacity(Int(count))
        pathStarts.reserveCapacity(Int(count) + 1)
        var valid = true
        // Each path written straight after the previous one, whose shared prefix it copies: one
        // buffer, no per-entry arrays (a warm run reads 64,000 of these).
        let pathBytes = [UInt8](unsafeUninitializedCapacity: Int(pathByteCount)) { paths, initialized in
            var previousStart = 0
            for _ in 0..<Int(count) {
                let previousLength = initialized - previousStart
                guard let shared = reader.varint().flatMap({ Int(exactly: $0) }), shared <= previousLength,
                    let restLength = reader.varint().flatMap({ Int(exactly: $0) }), restLength <= paths.count - initialized - shared,
                    let rest = reader.take(restLength), !rest.isEmpty,
                    // All the bytes shared, as `encode` counts them: one file, one way to write it.
                    shared == previousLength || rest[0] != paths[previousStart + shared]
                else { valid = false; return }
                let start = initialized
                let base = UnsafeMutableRawPointer(paths.baseAddress!)
                (base + start).copyMemory(from: base + previousStart, byteCount: shared)
                (base + start + shared).copyMemory(from: rest.baseAddress!, byteCount: restLength)
                initialized += shared + restLength
                // Strictly after the previous path (the first is not empty: `rest` is not).
                let path = UnsafeRawBufferPointer(start: base + start, count: initialized - start)
                guard start == 0 || compareBytes(UnsafeRawBufferPointer(start: base + previousStart, count: previousLength), path) < 0,
                    let device = reader.varint(), let inode = reader.varint(), let size = reader.varint(),
                    let mtimeSeconds = reader.varint(), let ctimeSeconds = reader.varint(),
                    let mtimeNanos = reader.varint().flatMap({ Int32(exactly: $0) }),
                    let ctimeNanos = reader.varint().flatMap({ Int32(exactly: $0) }),
                    // Only times `Timestamp` can hold, as every record's are.
                    let modificationTime = Timestamp(exactly: unzigzag(mtimeSeconds), nanoseconds: mtimeNanos),
                    let changeTime = Timestamp(exactly: unzigzag(ctimeSeconds), nanoseconds: ctimeNanos),
                    let mode = reader.varint().flatMap({ UInt32(exactly: $0) }), let id = reader.objectID()
                else { valid = false; return }
                previousStart = start
                pathStarts.append(initialized)
                records.append(
                    Record(
                        device: device, inode: inode, size: Int64(bitPattern: size),
                        modificationTime: modificationTime, changeTime: changeTime, mode: mode, objectID: id))
            }
        }
        guard valid, pathBytes.count == Int(pathByteCount), reader.isAtEnd else { return nil }
        var cache = StatCache()
        cache.pathBytes = pathBytes
        cache.pathStarts = pathStarts
        cache.records = records
        return cache
    }

    /// The entries of a `fixedWidthMagic` file (path length u32, path, fixed-width record), as
    /// `decodeEntries` checks them.
    private static func decodeFixedWidthEntries(_ reader: inout BinaryReader) -> StatCache? {
        guard let count = reader.integer(UInt32.self), Int(count) <= reader.remaining / (4 + recordSize) else { return nil }
        var cache = StatCache()
        cache.isInPreviousLayout = true
        cache.records.reserveCapacity(Int(count))
        cache.pathStarts.reserveCapacity(Int(count) + 1)
        cache.pathBytes.reserveCapacity(reader.remaining - Int(count) * (4 + recordSize))
        var previous: UnsafeRawBufferPointer?
        for _ in 0..<count {
            guard let length = reader.integer(UInt32.self), let path = reader.take(Int(length)),
                previous.map({ compareBytes($0, path) < 0 }) ?? true,
                let device = reader.integer(UInt64.self), let inode = reader.integer(UInt64.self),
                let size = reader.integer(Int64.self),
                let mtimeSeconds = reader.integer(Int64.self), let ctimeSeconds = reader.integer(Int64.self),
                let mtimeNanos = reader.integer(Int32.self), let ctimeNanos = reader.integer(Int32.self),
                let mode = reader.integer(UInt32.self), let id = reader.objectID()
            else { return nil }
            previous = path
            cache.pathBytes.append(contentsOf: path)
            cache.pathStarts.append(cache.pathBytes.count)
            cache.records.append(
                Record(
                    device: device, inode: inode, size: size,
                    modificationTime: Timestamp(seconds: mtimeSeconds, nanoseconds: mtimeNanos),
                    changeTime: Timestamp(seconds: ctimeSeconds, nanoseconds: ctimeNanos),
                    mode: mode, objectID: id))
        }
        return reader.isAtEnd ? cache : nil
    }
}

extension StatCache.Record {
    // In an extension, so the memberwise initializer the cache decoder uses stays available.
    init(_ status: FileStatus, objectID: ObjectID) {
        self.init(
            device: status.device, inode: status.inode, size: status.size, modificationTime: status.modificationTime,
            changeTime: status.changeTime, mode: status.mode, objectID: objectID)
    }
}
