import GitKit
import MtimeCore

/// Which commits decide a path's time.
public enum HistoryMode: String, Sendable, CaseIterable {
    /// The newest commit on HEAD's first-parent line whose entry for the path differs from its first
    /// parent's (`git log -1 --first-parent -- PATH`).
    case firstParent = "first-parent"
    /// git-restore-mtime's default rule over the whole history; see `HistoryEngine`.
    case all
}

/// The commit that last changed a path, with its times.
public struct LastChange: Sendable, Equatable {
    /// The commit that last changed the path (the boundary commit in a shallow clone).
    public var commit: ObjectID
    /// Seconds since the epoch.
    public var committerTime: Int64
    public var authorTime: Int64
    /// True when the real change lies beyond a shallow boundary.
    public var isShallowBoundary: Bool

    public init(commit: ObjectID, committerTime: Int64, authorTime: Int64, isShallowBoundary: Bool) {
        self.commit = commit
        self.committerTime = committerTime
        self.authorTime = authorTime
        self.isShallowBoundary = isShallowBoundary
    }
}

/// One non-tree entry of HEAD's tree.
public struct TrackedFile: Sendable, Equatable {
    /// Relative to the repository root, raw bytes.
    public var path: BytePath
    public var objectID: ObjectID
    /// 0o100644, 0o100755, 0o120000, or 0o160000 (submodule/gitlink).
    public var mode: UInt32
    /// Nil for submodules (mode 0o160000), never nil otherwise.
    public var lastChange: LastChange?

    public init(path: BytePath, objectID: ObjectID, mode: UInt32, lastChange: LastChange?) {
        self.path = path
        self.objectID = objectID
        self.mode = mode
        self.lastChange = lastChange
    }

    public var isSubmodule: Bool { mode == Tree.submoduleMode }
}

public struct HistoryResult: Sendable {
    public var head: ObjectID
    /// Every entry of HEAD's tree that is not a tree (within `only`, when given), sorted by path bytes.
    public var files: [TrackedFile]
    /// Commits whose trees this run read (0 on a full cache hit).
    public var commitsWalked: Int
    public var shallowBoundaryFiles: Int
    public var usedCache: Bool
}
