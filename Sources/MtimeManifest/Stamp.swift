import MtimeCore

/// What the last recorded build consumed: each path's content id and mtime, and the seal time
/// (taken from the file system's clock, see docs/stamp.md). Written by `git-mtime-guard seal` next
/// to the build outputs; `prepare` bumps exactly the files whose id differs from the stamp's.
public struct BuildStamp: Equatable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var path: BytePath
        public var objectID: ObjectID
        public var modificationTime: Timestamp

        public init(path: BytePath, objectID: ObjectID, modificationTime: Timestamp) {
            self.path = path
            self.objectID = objectID
            self.modificationTime = modificationTime
        }
    }

    public static let formatVersion = 1
    /// The absolute, symlink-free context root the build ran in; a stamp for another root is foreign.
    public var root: BytePath
    /// No file the sealed build wrote is newer than this (it is an mtime the kernel gave at sealing).
    public var sealTime: Timestamp
    /// Sorted by path bytes, no duplicates.
    public var entries: [Entry]

    public init(root: BytePath, sealTime: Timestamp, entries: [Entry]) {
        self.root = root
        self.sealTime = sealTime
        self.entries = entries.sorted { $0.path < $1.path }
    }

    /// Content ids by path, for comparing a manifest against what the last build consumed.
    public var objectIDsByPath: [BytePath: ObjectID] {
        Dictionary(entries.map { ($0.path, $0.objectID) }, uniquingKeysWith: { first, _ in first })
    }
}

public typealias StampError = FormatError

/// What `BuildStamp.load` found. Only a trusted stamp may spare files from being bumped.
public enum StampLoadResult: Equatable, Sendable {
    case trusted(BuildStamp)
    case absent
    /// Unreadable, corrupt, foreign, or outputs changed after sealing; `reason` is one line for a warning.
    case untrusted(reason: String)
}
