import Dispatch
import Glibc
import MtimeCore
import GitKit
import Synchronization

/// The working tree as restore reaches it: every file operation (stat, open for hashing, read link,
/// set time, list) is relative to a held directory descriptor (`DirectoryTree`), one name at a
/// time, never following a symlink below the root, so no path is resolved twice and a directory
/// swapped for a symlink while restore works can't redirect anything outside the tree.
///
/// A path below a symlinked directory, below a file or below a missing directory is *unreachable*:
/// restore treats it as absent, as git does.
final class WorkingTreeFiles {
    let tree: DirectoryTree
    /// Files come in path order: most questions are about the same directory as the last one.
    private var cursor = ParentCursor()
    private let hasher = BufferedBlobHasher()

    init(root: BytePath) throws(SystemError) {
        tree = try DirectoryTree(root: root)
    }

    /// The absolute path of `path`, for messages.
    func pathOf(_ path: BytePath) -> BytePath { tree.pathOf(path) }

    /// The held directory at `path` (empty: the root); nil when unreachable.
    func directory(_ path: BytePath) throws(SystemError) -> HeldDirectory? {
        try ParentCursor.directory(path, in: tree)
    }

    /// The held parent of `path` and its last component; nil when unreachable.
    func parent(of path: BytePath) throws(SystemError) -> (directory: HeldDirectory, name: BytePath)? {
        try cursor.parent(of: path, in: tree)
    }

    /// `lstat` of `path`; nil when nothing is there or it is unreachable.
    func status(_ path: BytePath) throws(SystemError) -> FileStatus? {
        try cursor.statusIfPresent(path, in: tree)
    }

    /// `lstat` of each path (nil in `paths`: skipped), as `status` gives it, on up to `threads` threads
    /// the way git's `core.preloadIndex` does (`inParts`). Each answer, an error too, depends only
    /// on its path, never on the split: `PreloadedStatuses.status(at:)` throws a path's error when
    /// the caller reaches that path, so a caller going through the paths in order fails where a
    /// serial walk would.
    static func statuses(of paths: [BytePath?], in tree: DirectoryTree, threads: Int) -> PreloadedStatuses {
        let found = inParts(
            paths.count, in: tree, threads: threads, minimumPerThread: PreloadedStatuses.minimumPathsPerThread,
            stoppingAtFailure: false
        ) { (position, cursor) throws(SystemError) -> FileStatus? in
            guard let path = paths[position] else { return nil }
            return try cursor.statusIfPresent(path, in: tree)
        }
        return PreloadedStatuses(statuses: found.values, taken: paths.map { $0 != nil }, failures: found.failures)
    }

    /// `statuses(of:)` of the paths of an index file's entries, taken straight from the file's
    /// `bytes` where `ranges` (`Repository.indexPathRanges`) says they lie, before the entries are
    /// decoded: by position in the file; the paths `PreloadedStatuses.isWorthStat` leaves out are
    /// not asked for. Unchecked: `PreloadedStatuses.matches` tells whether the decoded entries are
    /// the ones these paths were read from.
    static func statuses(ofIndexPaths ranges: [IndexPathRange], in bytes: FileBytes, tree: DirectoryTree, threads: Int) -> PreloadedStatuses
    {
        let taken = PreloadedStatuses.worthStat(ranges.indices) { position in
            (
                ranges[position].mode, Int(ranges[position].stage),
                position > 0 && PreloadedStatuses.samePath(ranges[position - 1], ranges[position], bytes)
            )
        }
        let found = bytes.withUnsafeBytes { raw in
            let file = UnsafeSendable(raw)
            return inParts(
                ranges.count, in: tree, threads: threads, minimumPerThread: PreloadedStatuses.minimumPathsPerThread,
                stoppingAtFailure: false
            ) { (position, cursor) throws(SystemError) -> FileStatus? in
                guard taken[position] else { return nil }
                let range = ranges[position]
                let path = UnsafeRawBufferPointer(rebasing: file.value[Int(range.start)..<Int(range.start + range.count)])
                return try cursor.statusIfPresent(pathBytes: path, in: tree)
            }
        }
        return PreloadedStatuses(statuses: found.values, taken: taken, failures: found.failures)
    }

    /// Positions a thread takes at a time: small enough that the threads finish together, large
    /// enough that taking a run (one atomic add) costs nothing next to its system calls.
    static let runLength = 512

    /// `body(position, cursor)` for each position in `0..<count`, on up to `threads` threads (one
    /// when there are fewer than `minimumPerThread` positions per thread). The positions are cut
    /// into runs of `runLength` that the threads take in turn, in increasing order, each thread with
    /// its own `ParentCursor` over the shared held directories of `tree`: a thread that gets less CPU
    /// (the history walk runs meanwhile) takes fewer runs instead of finishing last. The values and
    /// the errors by position; with `stoppingAtFailure`, a thread stops at its first failure or once
    /// it is past another thread's earlier one, so every position left without a value or an error
    /// comes after a failed position. Safe to call from any thread: `tree` is shared, the cursors are not.
    static func inParts<Value: Sendable>(
        _ count: Int, in tree: DirectoryTree, threads: Int, minimumPerThread: Int, stoppingAtFailure: Bool,
        _ body: @Sendable (_ position: Int, _ cursor: inout ParentCursor) throws(SystemError) -> Value?
    ) -> (values: [Value?], failures: [Int: SystemError]) {
        var values = [Value?](repeating: nil, count: count)
        let failures = Mutex<[Int: SystemError]>([:])
        let firstFailure = Atomic<Int>(.max)
        let parts = max(1, min(threads, count / max(1, minimumPerThread)))
        let runs = (count + runLength - 1) / runLength
        let nextRun = Atomic<Int>(0)
        values.withUnsafeMutableBufferPointer { buffer in
            let output = UnsafeSendable(buffer)
            @Sendable func work(_: Int) {
                var cursor = ParentCursor()
                while case let run = nextRun.add(1, ordering: .relaxed).oldValue, run < runs {
                    for position in (run * runLength)..<min(count, (run + 1) * runLength) {
                        if stoppingAtFailure, position > firstFailure.load(ordering: .relaxed) { return }
                        do throws(SystemError) {
                            output.value[position] = try body(position, &cursor)
                        } catch {
                            failures.withLock { $0[position] = error }
                            guard stoppingAtFailure else { continue }
                            _ = firstFailure.min(position, ordering: .relaxed)
                            return
                        }
                    }
                }
            }
            // One part runs here: a small job starts no thread.
            if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
        }
        return (values, failures.withLock { $0 })
    }

    /// The blob id of the regular file or symlink at `path` (a symlink's target, not followed) and
    /// its status, read through its held parent; nil when it is gone or unreachable.
    func hash(_ path: BytePath) throws(SystemError) -> (id: ObjectID, status: FileStatus)? {
        guard let (directory, name) = try parent(of: path), let status = try directory.statusIfPresent(name) else { return nil }
        switch status.kind {
        case .symlink: return (BlobHasher.hash(bytes: try directory.readLink(name)), status)
        case .regular: return try hasher.hash(regularFile: directory.openFile(name))
        case .directory, .other:
            throw SystemError(operation: "hash (not a file or symlink)", path: directory.pathOf(name), errno: .isDirectory)
        }
    }

    /// The bytes of the regular file at `path`, read through its held parent.
    func contents(_ path: BytePath) throws(SystemError) -> [UInt8] {
        guard let (directory, name) = try parent(of: path) else {
            throw SystemError(operation: "open (below a symlink or a file)", path: pathOf(path), errno: .notFound)
        }
        return try directory.openFile(name).readRegularFile(limit: .max)
    }
}

/// The last parent directory looked up, kept by each walker of paths in path order (one per thread).
struct ParentCursor {
    /// The last parent looked up (nil before the first) and what it was: two fields, not an optional
    /// tuple, so that comparing with it copies (retains) neither, once per tracked file.
    private var lastPath: [UInt8]?
    private var lastDirectory: HeldDirectory? {
        didSet { lastHeld = lastDirectory.map { Unmanaged.passUnretained($0) } }
    }
    /// `lastDirectory`, unretained (kept alive by `lastDirectory`).
    private var lastHeld: Unmanaged<HeldDirectory>?

    /// The held parent of `path` in `tree` and its last component; nil when unreachable.
    mutating func parent(of path: BytePath, in tree: DirectoryTree) throws(SystemError) -> (directory: HeldDirectory, name: BytePath)? {
        let nameStart = ParentCursor.nameStart(of: path)
        return try directory(holding: path, nameStart: nameStart, in: tree).map { ($0, BytePath(Array(path.bytes[nameStart...]))) }
    }

    /// `lstat` of `path` through its held parent (as `parent(of:)` finds it, then `statusIfPresent`);
    /// nil when nothing is there or it is unreachable. The name is passed as a slice of `path`: this
    /// runs once per tracked file, and a copy of each name was a heap allocation per file.
    mutating func statusIfPresent(_ path: BytePath, in tree: DirectoryTree) throws(SystemError) -> FileStatus? {
        try path.bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try statusIfPresent(pathBytes: raw, in: tree) } }.get()
    }

    /// `statusIfPresent` of the path held in `path` (a slice of a larger buffer: the index file's
    /// bytes for the preload, `WorkingTreeFiles.statuses(ofIndexPaths:)`).
    mutating func statusIfPresent(pathBytes path: UnsafeRawBufferPointer, in tree: DirectoryTree) throws(SystemError) -> FileStatus? {
        let nameStart = ParentCursor.nameStart(of: path)
        guard try moveToParent(of: path, nameStart: nameStart, in: tree), let held = lastHeld else { return nil }
        // Through the cursor's own reference, unretained: it keeps the directory alive meanwhile,
        // and a retain and release per file of one shared object showed in warm profiles.
        let name = UnsafeRawBufferPointer(rebasing: path[nameStart...])
        return try held._withUnsafeGuaranteedRef { directory in
            Result { () throws(SystemError) in try directory.statusIfPresent(nameBytes: name) }
        }.get()
    }

    /// Where `path`'s last component starts: after its last `/`, or at 0.
    private static func nameStart(of path: BytePath) -> Int {
        path.bytes.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
    }

    private static func nameStart(of path: UnsafeRawBufferPointer) -> Int {
        path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
    }

    private mutating func directory(holding path: BytePath, nameStart: Int, in tree: DirectoryTree) throws(SystemError) -> HeldDirectory? {
        try path.bytes.withUnsafeBytes { raw in
            Result { () throws(SystemError) in try directory(holding: raw, nameStart: nameStart, in: tree) }
        }.get()
    }

    /// The held directory of `path`'s first `nameStart - 1` bytes (its parent; the root when
    /// `nameStart` is 0): the last one looked up when it is the same, else looked up in `tree`.
    private mutating func directory(
        holding path: UnsafeRawBufferPointer, nameStart: Int, in tree: DirectoryTree
    ) throws(SystemError) -> HeldDirectory? {
        try moveToParent(of: path, nameStart: nameStart, in: tree) ? lastDirectory : nil
    }

    /// Makes the parent of `path` (as `directory(holding:)` finds it) the last directory looked up;
    /// false when it is unreachable.
    private mutating func moveToParent(of path: UnsafeRawBufferPointer, nameStart: Int, in tree: DirectoryTree) throws(SystemError) -> Bool
    {
        let parentLength = max(nameStart - 1, 0)
        let parent = UnsafeRawBufferPointer(rebasing: path[..<parentLength])
        if lastPath?.count != parentLength || lastPath?.withUnsafeBytes({ compareBytes($0, parent) == 0 }) != true {
            let parentPath = BytePath(Array(parent))
            let held = try ParentCursor.directory(parentPath, in: tree)
            lastPath = parentPath.bytes
            lastDirectory = held
        }
        return lastHeld != nil
    }

    /// The held directory at `path` in `tree`; nil when unreachable (absent, below a file or a symlink).
    static func directory(_ path: BytePath, in tree: DirectoryTree) throws(SystemError) -> HeldDirectory? {
        do { return try tree.directory(path) } catch {
            if error.isAbsent || error.isSymlink { return nil }
            throw error
        }
    }
}

/// What `WorkingTreeFiles.statuses` found, by position.
struct PreloadedStatuses {
    /// Below this many paths per thread, another thread costs more than it saves.
    static let minimumPathsPerThread = 2048

    fileprivate let statuses: [FileStatus?]
    /// Whether the path at a position was asked for.
    fileprivate let taken: [Bool]
    fileprivate let failures: [Int: SystemError]

    /// The paths of `index` (sorted by path, then stage) worth an `lstat`: one per path, and no gitlink
    /// (a submodule's checkout is not a file).
    static func paths(of index: [IndexEntry]) -> [BytePath?] {
        let taken = worthStat(index.indices) { position in
            (index[position].mode, index[position].stage, position > 0 && index[position - 1].path == index[position].path)
        }
        return index.indices.map { taken[$0] ? index[$0].path : nil }
    }

    /// By position: whether the entry `entry(position)` describes (mode, stage, whether the entry
    /// before it has the same path) gets an `lstat`. Sorted by path, then stage: a path's later
    /// entries are conflict stages above 0.
    fileprivate static func worthStat(
        _ positions: Range<Int>, _ entry: (Int) -> (mode: UInt32, stage: Int, repeatsPrevious: Bool)
    ) -> [Bool] {
        positions.map { position in
            let (mode, stage, repeatsPrevious) = entry(position)
            return !(stage > 0 && repeatsPrevious) && mode != Tree.submoduleMode
        }
    }

    fileprivate static func samePath(_ one: IndexPathRange, _ other: IndexPathRange, _ bytes: FileBytes) -> Bool {
        one.count == other.count
            && bytes.withUnsafeBytes { file in
                memcmp(file.baseAddress! + Int(one.start), file.baseAddress! + Int(other.start), Int(one.count)) == 0
            }
    }

    /// Whether `index` holds, position by position, exactly the entries whose paths, modes and
    /// stages `ranges` found in `bytes`: then statuses preloaded from those paths
    /// (`WorkingTreeFiles.statuses(ofIndexPaths:)`) are by position in `index`, and the same ones
    /// `paths(of: index)` would have asked for.
    static func matches(_ index: [IndexEntry], _ ranges: [IndexPathRange], in bytes: FileBytes) -> Bool {
        guard index.count == ranges.count else { return false }
        return bytes.withUnsafeBytes { file in
            index.withUnsafeBufferPointer { entries in
                for position in entries.indices {
                    let range = ranges[position]
                    let matched = entries[position].path.bytes.withUnsafeBytes { path in
                        path.count == Int(range.count) && entries[position].mode == range.mode
                            && entries[position].stage == Int(range.stage)
                            && (path.isEmpty || memcmp(path.baseAddress!, file.baseAddress! + Int(range.start), path.count) == 0)
                    }
                    if !matched { return false }
                }
                return true
            }
        }
    }

    /// The status taken for the path at `position` (`.some(nil)`: absent or unreachable); nil when
    /// none was taken there or its `lstat` failed (`status(at:)` then takes it or throws).
    func preloaded(at position: Int) -> FileStatus?? {
        guard position >= 0, position < taken.count, taken[position], failures.isEmpty || failures[position] == nil else { return nil }
        return .some(statuses[position])
    }

    /// The status of the path at `position` (nil: absent or unreachable), or the error its `lstat`
    /// (or a directory on its way) failed with; `lstat` itself for a position not asked for.
    func status(at position: Int, else lstat: () throws(SystemError) -> FileStatus?) throws(SystemError) -> FileStatus? {
        guard position >= 0, position < taken.count, taken[position] else { return try lstat() }
        // Usually none: an empty dictionary is not hashed into once per tracked file.
        if !failures.isEmpty, let failure = failures[position] { throw failure }
        return statuses[position]
    }
}

/// A value handed to threads that each touch a disjoint part of it.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
