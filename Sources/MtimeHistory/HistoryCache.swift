import GitKit
import MtimeCore

/// Snapshots of finished runs: for one commit and mode, every file path of that commit's tree and
/// the change that decides its time. One file per snapshot (`history-v2-<mode>-<commit>`), written
/// atomically; a file that fails any check (magic, version, mode, commit, boundary, lengths, SHA-1
/// trailer) is removed and ignored, never trusted.
///
/// A commit id names its whole history, so a snapshot is valid in any clone that has the commit
/// with the same shallow boundary, replace refs and grafts (none, in a full clone): the directory can be shared between
/// clones and restored by a CI cache (`HistoryCacheLocation`). Snapshots of commits this history
/// lacks (another repository, a rewritten branch) are simply never reached. The format version is
/// part of the file name, so versions sharing a directory never read each other's files.
///
/// Anyone who can write a shared directory can write a well-formed snapshot, so outside the
/// repository's own directory a snapshot is trusted only when this repository wrote it or
/// `SnapshotCheck` passed it before: their digests (SHA-1 trailers) are listed in `trustList`,
/// inside the repository, where the shared directory's writers cannot reach. With a `CacheKey`,
/// every snapshot written also gets a MAC beside it (`<snapshot name>.mac`: `hmac-sha1 <hex>`, HMAC
/// over the whole file), and a snapshot whose MAC verifies under the key is trusted as well. A
/// sidecar, not a field, so the format (and older readers of it) stays as it was; the pair is not
/// written atomically, but a reader that sees a snapshot with another file's MAC only checks it.
struct HistoryCache {
    let directory: BytePath
    /// Nil when `directory` is the repository's own (everything in it was written by this repository).
    let trustList: BytePath?
    let mode: HistoryMode
    /// The shallow boundary, replace refs and grafts the answers were computed with (a digest).
    let boundary: ObjectID
    /// Commits that have a snapshot file for this mode.
    private(set) var available: Set<ObjectID> = []
    /// Digests of snapshots this repository wrote to, or checked in, a directory other than its own.
    private let trusted: Set<ObjectID>
    /// Writes a MAC beside every snapshot and trusts snapshots whose MAC verifies (nil: neither).
    let key: CacheKey?
    /// How many digests the trust list keeps (newest last).
    static let trustListLength = 64

    static let keep = 8
    /// The trust list's name in the repository's own cache directory.
    static let trustListName = "trusted-snapshots-v2"
    private static let magic = Array("git-mtime history\n".utf8)
    private static let version: UInt32 = 2
    /// A temporary this old in the directory was left by a writer that died: writers are not
    /// serialised (the directory may be shared), so age, not a pid, says it is abandoned.
    static let abandonedTemporaryAge: Int64 = 3600

    /// `trustList`: where this repository lists the snapshots it trusts in `directory` (nil: `directory`
    /// is the repository's own, every snapshot there is trusted).
    init(directory: BytePath, mode: HistoryMode, boundary: ObjectID, trustList: BytePath? = nil, key: CacheKey? = nil) {
        self.directory = directory
        self.key = key
        self.mode = mode
        self.boundary = boundary
        self.trustList = trustList
        trusted = trustList.map { Set(HistoryCache.readTrustList($0)) } ?? []
        let prefix = filePrefix
        for name in (try? FileSystem.listDirectory(directory)) ?? [] where name.bytes.starts(with: prefix) {
            if let id = ObjectID(hex: String(decoding: name.bytes.dropFirst(prefix.count), as: UTF8.self)) {
                available.insert(id)
            }
        }
    }

    /// The digest `boundary` holds for a shallow boundary (the empty set for a full clone) and the
    /// replace refs and grafts the walk read history through (none: the digest of the boundary
    /// alone, so caches written without them stay valid).
    static func boundary(of shallow: Set<ObjectID>, rewrites: HistoryRewrites = .none) -> ObjectID {
        var bytes = Array("shallow\n".utf8)
        for id in shallow.sorted() { bytes.append(contentsOf: id.bytes) }
        if !rewrites.isEmpty { bytes += rewrites.digest }
        return Checksum.sha1(bytes)
    }

    private var filePrefix: [UInt8] { Array("history-v\(HistoryCache.version)-\(mode.rawValue)-".utf8) }

    private func file(for commit: ObjectID) -> BytePath {
        directory.appending(BytePath(filePrefix + Array(commit.hex.utf8)))
    }

    private static let macSuffix = Array(".mac".utf8)

    private func macFile(for commit: ObjectID) -> BytePath {
        directory.appending(BytePath(filePrefix + Array(commit.hex.utf8) + HistoryCache.macSuffix))
    }

    /// The MAC file's whole content for a snapshot file's bytes under `key`.
    private static func macLine(_ file: UnsafeRawBufferPointer, key: CacheKey) -> [UInt8] {
        Array("hmac-sha1 ".utf8) + Array(ObjectID(bytes: key.authenticationCode(of: file)).hex.utf8) + [UInt8(ascii: "\n")]
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
    func load(_ commit: ObjectID) -> Snapshot? {
        guard available.contains(commit) else { return nil }
        let path = file(for: commit)
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 30) else { return nil }
        guard var snapshot = decode(bytes, commit: commit) else {
            try? FileSystem.remove(path)
            return nil
        }
        if let key, let stored = try? FileSystem.readFile(macFile(for: commit), limit: 256) {
            let expected = bytes.withUnsafeBytes { HistoryCache.macLine($0, key: key) }
            snapshot.isAuthenticated = HMACSHA1.constantTimeEqual(expected, stored)
        }
        return snapshot
    }

    /// Whether the walk may use `snapshot` as it is (else `SnapshotCheck` must pass its answers first).
    func isTrusted(_ snapshot: Snapshot) -> Bool {
        trustList == nil || snapshot.isAuthenticated || trusted.contains(snapshot.digest)
    }

    /// Writes a snapshot and prunes old ones; returns its digest. A cache that cannot be written (a
    /// read-only or vanished directory, a full disk) only costs speed, so failures are ignored.
    @discardableResult
    func store(_ commit: ObjectID, _ entries: [(path: BytePath, change: Change)]) -> ObjectID {
        try? FileSystem.createDirectory(directory)
        let bytes = encode(entries, commit: commit)
        try? FileSystem.writeAtomically(file(for: commit), contents: bytes, durable: false)
        // Written after the snapshot: a reader in between sees no MAC, or the one of identical bytes
        // (a commit's snapshot is the same whoever computes it), and at worst checks the snapshot.
        if let key {
            let mac = bytes.withUnsafeBytes { HistoryCache.macLine($0, key: key) }
            try? FileSystem.writeAtomically(macFile(for: commit), contents: mac, durable: false)
        }
        prune()
        return bytes.withUnsafeBytes { ObjectID(loading: $0.baseAddress! + $0.count - ObjectID.byteCount) }
    }

    /// Adds `digests` to the trust list (kept to the newest `trustListLength`). Unwritable: the
    /// next run checks those snapshots again, which only costs time.
    func trust(_ digests: [ObjectID]) {
        guard let trustList, !digests.isEmpty else { return }
        var list = HistoryCache.readTrustList(trustList).filter { !digests.contains($0) } + digests
        list = Array(list.suffix(HistoryCache.trustListLength))
        try? FileSystem.createDirectory(trustList.parent)
        try? FileSystem.writeAtomically(trustList, contents: Array(list.map { $0.hex + "\n" }.joined().utf8), durable: false)
    }

    private static func readTrustList(_ path: BytePath) -> [ObjectID] {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { ObjectID(hex: String(decoding: $0, as: UTF8.self)) }
    }

    /// Keeps the newest `keep` snapshots of this mode and version, and the MACs of those; removes
    /// the unversioned files of format 1 (`history-<mode>-<commit>`, `trees`), which only ever lived
    /// in a repository's own directory, and abandoned temporaries.
    private func prune() {
        let prefix = filePrefix
        guard let names = try? FileSystem.listDirectory(directory) else { return }
        var snapshots: [(time: Timestamp, path: BytePath)] = []
        var macs: [BytePath] = []
        for name in names {
            let path = directory.appending(name)
            if name.bytes.starts(with: prefix) {
                if name.bytes.count == prefix.count + 2 * ObjectID.byteCount {
                    if let status = try? FileSystem.status(path) { snapshots.append((status.modificationTime, path)) }
                } else if name.bytes.count == prefix.count + 2 * ObjectID.byteCount + HistoryCache.macSuffix.count,
                    name.bytes.reversed().starts(with: HistoryCache.macSuffix.reversed())
                {
                    macs.append(path)
                }
            } else if HistoryCache.isFormat1(name) {
                try? FileSystem.remove(path)
            }
        }
        FileSystem.removeAbandonedTemporaries(in: directory, minimumAge: HistoryCache.abandonedTemporaryAge)
        snapshots.sort { ($0.time, $0.path) > ($1.time, $1.path) }
        for old in snapshots.dropFirst(HistoryCache.keep) { try? FileSystem.remove(old.path) }
        let kept = Set(snapshots.prefix(HistoryCache.keep).map { $0.path.bytes + HistoryCache.macSuffix })
        for mac in macs where !kept.contains(mac.bytes) { try? FileSystem.remove(mac) }
    }

    private static func isFormat1(_ name: BytePath) -> Bool {
        if name.bytes.elementsEqual("trees".utf8) { return true }
        return HistoryMode.allCases.contains { mode in
            let prefix = Array("history-\(mode.rawValue)-".utf8)
            return name.bytes.count == prefix.count + 2 * ObjectID.byteCount && name.bytes.starts(with: prefix)
        }
    }

    // Layout: magic, version u32, mode u8, commit id, boundary id, change count u32, entry count u32,
    // changes (id, committer time i64, author time i64, flags u8), entries (path length u32, path,
    // change index u32; paths strictly increasing in byte order), then SHA-1 of everything before it.
    // Integers little-endian. `entries` must be in that order (HEAD's file order is).
    func encode(_ entries: [(path: BytePath, change: Change)], commit: ObjectID) -> [UInt8] {
        var changes: [Change] = []
        var changeIndex: [ObjectID: UInt32] = [:]
        var indices: [UInt32] = []
        indices.reserveCapacity(entries.count)
        var pathBytes = 0
        for (path, change) in entries {
            pathBytes += path.bytes.count
            // Neighbouring paths often share their change: try the last one before hashing.
            if let last = indices.last, changes[Int(last)] == change { indices.append(last); continue }
            if let known = changeIndex[change.lastChange.commit], changes[Int(known)] == change {
                indices.append(known)
            } else {
                changeIndex[change.lastChange.commit] = UInt32(changes.count)
                indices.append(UInt32(changes.count))
                changes.append(change)
            }
        }
        let size =
            HistoryCache.magic.count + 4 + 1 + 2 * ObjectID.byteCount + 4 + 4
            + changes.count * (ObjectID.byteCount + 8 + 8 + 1) + entries.count * (4 + 4) + pathBytes + ObjectID.byteCount
        return BinaryWriter.bytes(size: size) { out in
            out.append(HistoryCache.magic)
            out.append(HistoryCache.version)
            out.append(modeByte)
            out.append(commit)
            out.append(boundary)
            out.append(UInt32(changes.count))
            out.append(UInt32(entries.count))
            for change in changes {
                out.append(change.lastChange.commit)
                out.append(change.lastChange.committerTime)
                out.append(change.lastChange.authorTime)
                out.append(UInt8((change.lastChange.isShallowBoundary ? 1 : 0) | (change.isMerge ? 2 : 0)))
            }
            for (entry, index) in zip(entries, indices) {
                out.append(UInt32(entry.path.bytes.count))
                out.append(entry.path.bytes)
                out.append(index)
            }
            out.appendChecksum()
        }
    }

    private var modeByte: UInt8 { mode == .firstParent ? 0 : 1 }

    func decode(_ bytes: [UInt8], commit: ObjectID) -> Snapshot? {
        bytes.withUnsafeBytes { file -> Snapshot? in
            guard file.count >= HistoryCache.magic.count + ObjectID.byteCount, Checksum.hasValidTrailer(file) else { return nil }
            var reader = BinaryReader(UnsafeRawBufferPointer(rebasing: file[..<(file.count - ObjectID.byteCount)]))
            guard let magic = reader.take(HistoryCache.magic.count), magic.elementsEqual(HistoryCache.magic),
                reader.integer(UInt32.self) == HistoryCache.version,
                reader.integer(UInt8.self) == modeByte,
                reader.objectID() == commit,
                reader.objectID() == boundary,
                let changeCount = reader.integer(UInt32.self),
                let entryCount = reader.integer(UInt32.self),
                Int(changeCount) <= reader.remaining, Int(entryCount) <= reader.remaining
            else { return nil }
            var snapshot = Snapshot()
            snapshot.digest = ObjectID(loading: file.baseAddress! + file.count - ObjectID.byteCount)
            snapshot.changes.reserveCapacity(Int(changeCount))
            for _ in 0..<changeCount {
                guard let id = reader.objectID(), let committed = reader.integer(Int64.self),
                    let authored = reader.integer(Int64.self), let flags = reader.integer(UInt8.self), flags < 4
                else { return nil }
                snapshot.changes.append(
                    Change(
                        lastChange: LastChange(
                            commit: id, committerTime: committed,
                            authorTime: authored,
                            isShallowBoundary: flags & 1 != 0),
                        isMerge: flags & 2 != 0))
            }
            // Entries are written in HEAD's file order, which is byte order: strictly increasing paths
            // are checked here, so `Snapshot.Cursor` can answer by one merge pass.
            let body = file.count - ObjectID.byteCount
            snapshot.entriesStart = body - reader.remaining
            var previous: UnsafeRawBufferPointer?
            for _ in 0..<entryCount {
                guard let length = reader.integer(UInt32.self), let path = reader.take(Int(length)),
                    let index = reader.integer(UInt32.self), Int(index) < snapshot.changes.count,
                    previous.map({ compareBytes($0, path) < 0 }) ?? true
                else { return nil }
                previous = path
            }
            guard reader.isAtEnd else { return nil }
            snapshot.entriesEnd = body
            return snapshot
        }.map { snapshot in
            var snapshot = snapshot
            snapshot.bytes = bytes
            return snapshot
        }
    }

    /// One loaded snapshot: the file's bytes as read (checked), its changes decoded; the entries are
    /// read in place by a `Cursor`, with no per-path allocation or hashing.
    struct Snapshot {
        /// The file's SHA-1 trailer: names its whole content.
        fileprivate(set) var digest: ObjectID = .zero
        /// Its MAC verified under the cache's key: written by a holder of the key, exactly as it is.
        fileprivate(set) var isAuthenticated = false
        fileprivate(set) var changes: [Change] = []
        /// The whole file; entries (path length u32, path, change index u32) lie in
        /// `entriesStart..<entriesEnd`, paths strictly increasing in byte order.
        fileprivate var bytes: [UInt8] = []
        fileprivate var entriesStart = 0
        fileprivate var entriesEnd = 0

        /// Calls `body` with a cursor at the first entry (valid only inside `body`).
        func withCursor<R>(_ body: (inout Cursor) throws -> R) rethrows -> R {
            try bytes.withUnsafeBytes { file in
                var cursor = Cursor(reader: BinaryReader(UnsafeRawBufferPointer(rebasing: file[..<entriesEnd]), offset: entriesStart))
                return try body(&cursor)
            }
        }

        /// Answers paths asked in increasing byte order (HEAD's file order) by moving forward only.
        struct Cursor {
            fileprivate var reader: BinaryReader

            /// The index in `changes` of `path`'s answer; nil when the snapshot has no such path.
            /// Every path asked must be greater than the one asked before.
            mutating func change(of path: UnsafeRawBufferPointer) -> Int? {
                while !reader.isAtEnd {
                    var next = reader
                    // Lengths and indices were checked when the snapshot was loaded.
                    let length = next.integer(UInt32.self)!
                    let entry = next.take(Int(length))!
                    let order = compareBytes(entry, path)
                    if order > 0 { return nil }
                    let index = next.integer(UInt32.self)!
                    reader = next
                    if order == 0 { return Int(index) }
                }
                return nil
            }
        }
    }
}
