import MtimeCore

/// What the last recorded build consumed: each path's content id and mtime, the seal time (taken
/// from the file system's clock, see docs/stamp.md) and the state of the build outputs beside the
/// stamp when it was sealed. Written by `git-mtime-guard seal` next to the build outputs; `prepare`
/// bumps exactly the files whose id differs from the stamp's, and trusts the stamp only while the
/// outputs are exactly as sealed.
public struct BuildStamp: Equatable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var path: BytePath
        public var objectID: ObjectID
        public var modificationTime: Timestamp
        /// An untracked manifest entry (a new source or an in-tree output), recorded as the build left it.
        public var isUntracked: Bool

        public init(path: BytePath, objectID: ObjectID, modificationTime: Timestamp, isUntracked: Bool = false) {
            self.path = path
            self.objectID = objectID
            self.modificationTime = modificationTime
            self.isUntracked = isUntracked
        }
    }

    /// Version 2 added the output state and the tracked/untracked field; version 1 stamps are read
    /// as untrusted (docs/stamp.md, "Format versions").
    public static let formatVersion = 2
    /// The absolute, symlink-free context root the build ran in; a stamp for another root is foreign.
    public var root: BytePath
    /// The file system's clock when the stamp was sealed (no output of the sealed build is newer,
    /// unless it was dated in the future).
    public var sealTime: Timestamp
    /// The files beside the stamp when it was sealed.
    public var outputs: OutputState
    /// Sorted by path bytes, no duplicates.
    public var entries: [Entry]

    public init(root: BytePath, sealTime: Timestamp, outputs: OutputState, entries: [Entry]) {
        self.root = root
        self.sealTime = sealTime
        self.outputs = outputs
        self.entries = entries.sorted { $0.path < $1.path }
    }

    /// Content ids by path, for comparing a manifest against what the last build consumed.
    public var objectIDsByPath: [BytePath: ObjectID] {
        Dictionary(entries.map { ($0.path, $0.objectID) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tracked paths the stamp records: git-mtime sets their times itself, so the output state
    /// leaves them out.
    public var trackedPaths: Set<BytePath> { Set(entries.lazy.filter { !$0.isUntracked }.map(\.path)) }
}

/// The files below the stamp's directory, summarised: how many, and a digest of each one's path,
/// type, size, mtime and inode (docs/stamp.md, "Trust rule"). Any change to any of them, a file
/// added or removed, changes the digest.
public struct OutputState: Equatable, Sendable, CustomStringConvertible {
    public var fileCount: Int
    public var digest: ObjectID

    public init(fileCount: Int, digest: ObjectID) {
        self.fileCount = fileCount
        self.digest = digest
    }

    public var description: String { "\(fileCount) \(digest)" }
}

public typealias StampError = FormatError

/// What `BuildStamp.load` found. Only a trusted stamp may spare files from being bumped.
public enum StampLoadResult: Equatable, Sendable {
    case trusted(BuildStamp)
    case absent
    /// Unreadable, corrupt, foreign, or outputs changed after sealing; `reason` is one line for a warning.
    case untrusted(reason: String)
}
