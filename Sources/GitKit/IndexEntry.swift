import Glibc
import CLibGit2
import MtimeCore

/// One entry of the index (`.git/index`), copied out of libgit2 so it outlives the index handle.
/// The stat fields are what git recorded when it last saw the file clean; sizes and inode numbers
/// are truncated to 32 bits, as the index format stores them.
public struct IndexEntry: Sendable, Equatable {
    public let path: BytePath
    public let objectID: ObjectID
    public let mode: UInt32
    /// 0 for a normal entry; 1–3 for the sides of an unresolved merge conflict.
    public let stage: Int
    public let stat: IndexStatData
    /// Set by sparse checkout and `git update-index --skip-worktree`.
    public let isSkipWorktree: Bool

    public init(
        path: BytePath, objectID: ObjectID, mode: UInt32, stage: Int, modificationTime: Timestamp, changeTime: Timestamp,
        inode: UInt32, uid: UInt32, gid: UInt32, fileSize: UInt32, isSkipWorktree: Bool
    ) {
        self.init(
            path: path, objectID: objectID, mode: mode, stage: stage,
            stat: IndexStatData(
                modificationTime: modificationTime, changeTime: changeTime, inode: inode, uid: uid, gid: gid, fileSize: fileSize),
            isSkipWorktree: isSkipWorktree)
    }

    public init(path: BytePath, objectID: ObjectID, mode: UInt32, stage: Int, stat: IndexStatData, isSkipWorktree: Bool) {
        self.path = path
        self.objectID = objectID
        self.mode = mode
        self.stage = stage
        self.stat = stat
        self.isSkipWorktree = isSkipWorktree
    }

    init(_ raw: git_index_entry) {
        path = BytePath(
            Array(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(raw.path).assumingMemoryBound(to: UInt8.self),
                    count: strlen(raw.path))))
        objectID = ObjectID(raw.id)
        mode = raw.mode
        stage = Int((raw.flags & UInt16(GIT_INDEX_ENTRY_STAGEMASK)) >> UInt16(GIT_INDEX_ENTRY_STAGESHIFT))
        stat = IndexStatData(
            modificationTime: Timestamp(seconds: Int64(raw.mtime.seconds), nanoseconds: Int32(bitPattern: raw.mtime.nanoseconds)),
            changeTime: Timestamp(seconds: Int64(raw.ctime.seconds), nanoseconds: Int32(bitPattern: raw.ctime.nanoseconds)),
            inode: raw.ino, uid: raw.uid, gid: raw.gid, fileSize: raw.file_size)
        isSkipWorktree = raw.flags_extended & UInt16(GIT_INDEX_ENTRY_SKIP_WORKTREE.rawValue) != 0
    }
}

/// What git recorded of a file when it last saw it clean (an index entry's stat data); sizes and
/// inode numbers truncated to 32 bits, as the index format stores them.
public struct IndexStatData: Sendable, Equatable {
    public let modificationTime: Timestamp
    public let changeTime: Timestamp
    public let inode: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let fileSize: UInt32

    public init(modificationTime: Timestamp, changeTime: Timestamp, inode: UInt32, uid: UInt32, gid: UInt32, fileSize: UInt32) {
        self.modificationTime = modificationTime
        self.changeTime = changeTime
        self.inode = inode
        self.uid = uid
        self.gid = gid
        self.fileSize = fileSize
    }

    /// git's own comparison (`ie_match_stat`), without the racy test, which is the caller's.
    public func matches(_ status: FileStatus) -> Bool {
        status.modificationTime == modificationTime
            && status.changeTime == changeTime
            && UInt32(truncatingIfNeeded: status.inode) == inode
            && UInt32(truncatingIfNeeded: status.size) == fileSize
            && status.uid == uid && status.gid == gid
    }
}
