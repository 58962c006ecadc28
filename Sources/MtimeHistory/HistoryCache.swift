import GitKit
import MtimeCore

/// Snapshots of finished runs: for one commit and mode, every file path of that commit's tree and
/// the change that decides its time. One file per snapshot (`history-<mode>-<commit>`), written
/// atomically; a file that fails any check (magic, version, mode, commit, repository, lengths,
/// SHA-1 trailer) is removed and ignored, never trusted.
struct HistoryCache {
    let directory: BytePath
    let mode: HistoryMode
    /// Identifies the repository and its shallow boundary: a snapshot is only valid for both.
    let identity: ObjectID
    /// Commits that have a snapshot file for this mode.
    private(set) var available: Set<ObjectID> = []

    static let keep = 8
    private static let magic = Array("git-mtime history\n".utf8)
    private static let version: UInt32 = 1

    init(directory: BytePath, mode: HistoryMode, identity: ObjectID) {
        self.directory = directory
        self.mode = mode
        self.identity = identity
        let prefix = filePrefix
        for name in (try? FileSystem.listDirectory(directory)) ?? [] where name.bytes.starts(with: prefix) {
            if let id = ObjectID(hex: String(decoding: name.bytes.dropFirst(prefix.count), as: UTF8.self)) {
                available.insert(id)
            }
        }
    }

    private var filePrefix: [UInt8] { Array("history-\(mode.rawValue)-".utf8) }

    private func file(for commit: ObjectID) -> BytePath {
        directory.appending(BytePath(filePrefix + Array(commit.hex.utf8)))
    }

    /// Whether HEAD or one of its nearest first-parent ancestors has a snapshot.
    func hasSnapshot(near head: Commit, _ objects: ObjectDatabase, within distance: Int = 32) -> Bool {
        guard !available.isEmpty else { return false }
        var commit = head
        for _ in 0..<distance {
            if available.contains(commit.id) { return true }
            guard let parent = commit.parents.first, let next = try? objects.commit(parent) else { return false }
            commit = next
        }
        return false
    }

    /// The snapshot for `commit`, or nil when there is none or it fails validation (then it is removed).
    func load(_ commit: ObjectID) -> [BytePath: Change]? {
        guard available.contains(commit) else { return nil }
        let path = file(for: commit)
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 30) else { return nil }
        if let snapshot = decode(bytes, commit: commit) { return snapshot }
        try? FileSystem.remove(path)
        return nil
    }

    /// Writes a snapshot and prunes old ones. A cache that cannot be written only costs speed,
    /// so failures are ignored.
    func store(_ commit: ObjectID, _ entries: [(path: BytePath, change: Change)]) {
        try? FileSystem.createDirectory(directory)
        try? FileSystem.writeAtomically(file(for: commit), contents: encode(entries, commit: commit), durable: false)
        prune()
    }

    private func prune() {
        let prefix = filePrefix
        guard let names = try? FileSystem.listDirectory(directory) else { return }
        var snapshots: [(time: Timestamp, path: BytePath)] = []
        for name in names where name.bytes.starts(with: prefix) {
            let path = directory.appending(name)
            if let status = try? FileSystem.status(path) { snapshots.append((status.modificationTime, path)) }
        }
        guard snapshots.count > HistoryCache.keep else { return }
        snapshots.sort { ($0.time, $0.path) > ($1.time, $1.path) }
        for old in snapshots[HistoryCache.keep...] { try? FileSystem.remove(old.path) }
    }

    // Layout: magic, version u32, mode u8, commit id, identity id, change count u32, entry count u32,
    // changes (id, committer time i64, author time i64, flags u8), entries (path length u32, path,
    // change index u32), then SHA-1 of everything before it. Integers little-endian.
    func encode(_ entries: [(path: BytePath, change: Change)], commit: ObjectID) -> [UInt8] {
        var changes: [Change] = []
        var changeIndex: [ObjectID: UInt32] = [:]
        var out = HistoryCache.magic
        out.appendInteger(HistoryCache.version)
        out.append(modeByte)
        out.append(contentsOf: commit.bytes)
        out.append(contentsOf: identity.bytes)
        var entryBytes: [UInt8] = []
        for (path, change) in entries {
            let index: UInt32
            if let known = changeIndex[change.lastChange.commit], changes[Int(known)] == change {
                index = known
            } else {
                index = UInt32(changes.count)
                changeIndex[change.lastChange.commit] = index
                changes.append(change)
            }
            entryBytes.appendInteger(UInt32(path.bytes.count))
            entryBytes.append(contentsOf: path.bytes)
            entryBytes.appendInteger(index)
        }
        out.appendInteger(UInt32(changes.count))
        out.appendInteger(UInt32(entries.count))
        for change in changes {
            out.append(contentsOf: change.lastChange.commit.bytes)
            out.appendInteger(UInt64(bitPattern: change.lastChange.committerTime))
            out.appendInteger(UInt64(bitPattern: change.lastChange.authorTime))
            out.append((change.lastChange.isShallowBoundary ? 1 : 0) | (change.isMerge ? 2 : 0))
        }
        out.append(contentsOf: entryBytes)
        out.append(contentsOf: Checksum.sha1(out).bytes)
        return out
    }

    private var modeByte: UInt8 { mode == .firstParent ? 0 : 1 }

    func decode(_ bytes: [UInt8], commit: ObjectID) -> [BytePath: Change]? {
        guard bytes.count >= HistoryCache.magic.count + ObjectID.byteCount else { return nil }
        let body = bytes[..<(bytes.count - ObjectID.byteCount)]
        let trailer = bytes[body.endIndex...].withUnsafeBytes { ObjectID(loading: $0.baseAddress!) }
        guard Checksum.sha1(body) == trailer else { return nil }
        var reader = ByteReader(bytes: body)
        guard reader.take(HistoryCache.magic.count).map(Array.init) == HistoryCache.magic,
              reader.integer(UInt32.self) == HistoryCache.version,
              reader.take(1)?.first == modeByte,
              reader.objectID() == commit,
              reader.objectID() == identity,
              let changeCount = reader.integer(UInt32.self),
              let entryCount = reader.integer(UInt32.self),
              Int(changeCount) <= body.count, Int(entryCount) <= body.count
        else { return nil }
        var changes: [Change] = []
        changes.reserveCapacity(Int(changeCount))
        for _ in 0..<changeCount {
            guard let id = reader.objectID(), let committed = reader.integer(UInt64.self),
                  let authored = reader.integer(UInt64.self), let flags = reader.take(1)?.first, flags < 4
            else { return nil }
            changes.append(Change(lastChange: LastChange(commit: id, committerTime: Int64(bitPattern: committed),
                                                         authorTime: Int64(bitPattern: authored),
                                                         isShallowBoundary: flags & 1 != 0),
                                  isMerge: flags & 2 != 0))
        }
        var snapshot: [BytePath: Change] = [:]
        snapshot.reserveCapacity(Int(entryCount))
        for _ in 0..<entryCount {
            guard let length = reader.integer(UInt32.self), let path = reader.take(Int(length)),
                  let index = reader.integer(UInt32.self), Int(index) < changes.count else { return nil }
            snapshot[BytePath(Array(path))] = changes[Int(index)]
        }
        guard reader.isAtEnd, snapshot.count == Int(entryCount) else { return nil }
        return snapshot
    }
}

private extension Array where Element == UInt8 {
    mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Bounds-checked sequential reads; every read returns nil past the end.
private struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    var isAtEnd: Bool { offset == bytes.endIndex }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.endIndex - offset >= count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let raw = take(MemoryLayout<T>.size) else { return nil }
        return raw.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    mutating func objectID() -> ObjectID? {
        take(ObjectID.byteCount)?.withUnsafeBytes { ObjectID(loading: $0.baseAddress!) }
    }
}
