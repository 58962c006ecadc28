import MtimeCore

/// Restore's own record of files it verified clean: after restore changes a file's mtime (and,
/// through `utimensat`, its ctime) the index's stat data no longer matches, and without this every
/// later run would re-hash every file. Kept in the per-worktree git dir, written atomically with a
/// trailing checksum; a damaged or unknown file is treated as empty.
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

        init(_ status: FileStatus, objectID: ObjectID) {
            device = status.device
            inode = status.inode
            size = status.size
            modificationTime = status.modificationTime
            changeTime = status.changeTime
            mode = status.mode
            self.objectID = objectID
        }

        func matches(_ status: FileStatus) -> Bool {
            self == Record(status, objectID: objectID)
        }
    }

    static let magic = Array("GMSTATC1".utf8)

    var records: [PathKey: Record] = [:]
    /// The cache file's own mtime when loaded: a record whose ctime is not older was taken in the
    /// same clock tick as the write, so a change in that tick would be invisible ("racily clean").
    var writtenAt: Timestamp?

    subscript(path: BytePath) -> Record? {
        get { records[PathKey(path)] }
        set { records[PathKey(path)] = newValue }
    }

    /// `<per-worktree git dir>/git-mtime/stat-cache` (inside `RestoreSession.privateDirectory`).
    static func location(in gitDirectory: BytePath) -> BytePath { gitDirectory.appending("git-mtime/stat-cache") }

    /// The record for `path` when it vouches for exactly this file state and this blob.
    func trusts(_ path: BytePath, status: FileStatus, objectID: ObjectID) -> Bool {
        guard let record = records[PathKey(path)], record.objectID == objectID, record.matches(status) else { return false }
        return isSettled(record)
    }

    /// Whether `record` was taken strictly before this cache file was written (so it can be trusted).
    func isSettled(_ record: Record) -> Bool {
        guard let writtenAt else { return false }
        return record.changeTime < writtenAt
    }

    static func load(from path: BytePath) -> StatCache {
        guard let status = try? FileSystem.statusIfPresent(path), let bytes = try? FileSystem.readFile(path, limit: 1 << 30),
              let records = decode(bytes) else { return StatCache() }
        return StatCache(records: records, writtenAt: status.modificationTime)
    }

    func write(to path: BytePath) throws(SystemError) {
        try FileSystem.createDirectory(path.parent)
        try FileSystem.writeAtomically(path, contents: encode(), durable: false)
    }

    func encode() -> [UInt8] {
        var out = StatCache.magic
        var writer = ByteWriter(bytes: out)
        writer.append(UInt64(records.count))
        for (key, record) in records {
            writer.append(UInt64(key.path.bytes.count))
            writer.bytes.append(contentsOf: key.path.bytes)
            writer.append(record.device)
            writer.append(record.inode)
            writer.append(UInt64(bitPattern: record.size))
            writer.append(UInt64(bitPattern: record.modificationTime.seconds))
            writer.append(UInt64(UInt32(bitPattern: record.modificationTime.nanoseconds)))
            writer.append(UInt64(bitPattern: record.changeTime.seconds))
            writer.append(UInt64(UInt32(bitPattern: record.changeTime.nanoseconds)))
            writer.append(UInt64(record.mode))
            writer.bytes.append(contentsOf: record.objectID.bytes)
        }
        out = writer.bytes
        out.append(contentsOf: Checksum.sha1(out).bytes)
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [PathKey: Record]? {
        guard bytes.count >= magic.count + 8 + ObjectID.byteCount, bytes.starts(with: magic) else { return nil }
        let body = Array(bytes[..<(bytes.count - ObjectID.byteCount)])
        guard Checksum.sha1(body).bytes == Array(bytes[(bytes.count - ObjectID.byteCount)...]) else { return nil }
        var reader = ByteReader(bytes: body, offset: magic.count)
        guard let count = reader.uint64() else { return nil }
        var records: [PathKey: Record] = [:]
        for _ in 0..<count {
            guard let length = reader.uint64(), let path = reader.take(Int(clamping: length)),
                  let device = reader.uint64(), let inode = reader.uint64(), let size = reader.uint64(),
                  let mtimeSeconds = reader.uint64(), let mtimeNanos = reader.uint64(),
                  let ctimeSeconds = reader.uint64(), let ctimeNanos = reader.uint64(),
                  let mode = reader.uint64(), let id = reader.objectID() else { return nil }
            let record = Record(
                device: device, inode: inode, size: Int64(bitPattern: size),
                modificationTime: Timestamp(seconds: Int64(bitPattern: mtimeSeconds), nanoseconds: Int32(truncatingIfNeeded: mtimeNanos)),
                changeTime: Timestamp(seconds: Int64(bitPattern: ctimeSeconds), nanoseconds: Int32(truncatingIfNeeded: ctimeNanos)),
                mode: UInt32(truncatingIfNeeded: mode), objectID: id)
            records[PathKey(BytePath(Array(path)))] = record
        }
        return reader.isAtEnd ? records : nil
    }
}

extension StatCache.Record {
    fileprivate init(device: UInt64, inode: UInt64, size: Int64, modificationTime: Timestamp, changeTime: Timestamp,
                 mode: UInt32, objectID: ObjectID) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modificationTime = modificationTime
        self.changeTime = changeTime
        self.mode = mode
        self.objectID = objectID
    }
}

/// Little-endian fixed-width fields for the cache file.
private struct ByteWriter {
    var bytes: [UInt8]

    mutating func append(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func uint64() -> UInt64? {
        guard let slice = take(8) else { return nil }
        return slice.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// 20 raw bytes as an id, without the generic byte initialiser (slow enough to dominate a warm run).
    mutating func objectID() -> ObjectID? {
        guard let slice = take(ObjectID.byteCount) else { return nil }
        return slice.withUnsafeBytes { ObjectID(loading: $0.baseAddress!) }
    }
}

/// A dictionary key for a path that hashes all its bytes in one call: `BytePath`'s synthesized
/// `Hashable` feeds the hasher byte by byte, which dominated warm runs over thousands of paths.
struct PathKey: Hashable {
    let path: BytePath

    init(_ path: BytePath) { self.path = path }

    static func == (lhs: PathKey, rhs: PathKey) -> Bool { lhs.path.bytes == rhs.path.bytes }

    func hash(into hasher: inout Hasher) {
        path.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
