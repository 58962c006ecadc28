import MtimeCore

/// One file of a build context as the host saw it.
public struct ManifestEntry: Hashable, Sendable {
    /// Relative to the context root; never absolute, never containing `.` or `..` components.
    public var path: BytePath
    /// Git blob id of the content (of the link target, for a symlink).
    public var objectID: ObjectID
    /// The mtime the file must carry: its commit time, or its current mtime when dirty.
    public var modificationTime: Timestamp
    /// Git's file mode: 0o100644, 0o100755 or 0o120000.
    public var mode: UInt32

    public init(path: BytePath, objectID: ObjectID, modificationTime: Timestamp, mode: UInt32) {
        self.path = path
        self.objectID = objectID
        self.modificationTime = modificationTime
        self.mode = mode
    }

    public var isSymlink: Bool { mode == ManifestEntry.symlinkMode }
    public var isExecutable: Bool { mode == ManifestEntry.executableMode }

    public static let regularMode: UInt32 = 0o100644
    public static let executableMode: UInt32 = 0o100755
    public static let symlinkMode: UInt32 = 0o120000
}

/// The list of files a build context holds, written by `git mtime manifest` on the host and read
/// by `git-mtime-guard` inside the build. Specified in docs/manifest.md.
public struct Manifest: Equatable, Sendable {
    public static let formatVersion = 1
    public var objectFormat: String
    /// HEAD when the manifest was made; nil in a repository with no commit yet.
    public var headCommit: ObjectID?
    /// How many entries were dirty (their id is of the working-tree bytes).
    public var dirtyCount: Int
    /// Sorted by path bytes, no duplicates.
    public var entries: [ManifestEntry]

    public init(objectFormat: String = "sha1", headCommit: ObjectID?, dirtyCount: Int, entries: [ManifestEntry]) {
        self.objectFormat = objectFormat
        self.headCommit = headCommit
        self.dirtyCount = dirtyCount
        self.entries = entries.sorted { $0.path < $1.path }
    }
}

public struct ManifestError: Error, Equatable, CustomStringConvertible {
    /// 1-based line number where the problem is, 0 for the file as a whole.
    public let line: Int
    public let reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}
