import GitKit
import MtimeCore

/// A file planned clean on its index entry's word alone, before anything looked at it: apply takes
/// its status under the read lease and sets its time only if the entry describes that status exactly
/// as planning would have required of an `lstat` (`describes`); otherwise the file is planned again
/// as usual (`RestoreSession.apply`). A status seen under the lease vouches for the file as an
/// `lstat` taken at that moment would: git's test holds whenever the file is seen (the index's own
/// racy tick was ruled out while planning), and a writer can't get in before the time is set.
public struct IndexedFile: Sendable, Equatable {
    /// The entry's stat data (its path, id and mode are the planned file's: it matched HEAD's).
    public let modificationTime: Timestamp
    public let changeTime: Timestamp
    public let inode: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let fileSize: UInt32
    /// `core.filemode` and `core.symlinks`.
    public let modeRules: ModeRules

    init(_ entry: IndexEntry, modeRules: ModeRules) {
        modificationTime = entry.modificationTime
        changeTime = entry.changeTime
        inode = entry.inode
        uid = entry.uid
        gid = entry.gid
        fileSize = entry.fileSize
        self.modeRules = modeRules
    }

    /// The index entry it was made from, for `file` (planned from it).
    func entry(of file: PlannedFile) -> IndexEntry {
        IndexEntry(
            path: file.path, objectID: file.objectID, mode: file.mode, stage: 0, modificationTime: modificationTime,
            changeTime: changeTime, inode: inode, uid: uid, gid: gid, fileSize: fileSize, isSkipWorktree: false)
    }

    /// The status under the lease is the one the entry describes: a regular file of the entry's
    /// type and stat data, with one name (a hard link's other name changes its ctime when set: such
    /// files are set in turn, after planning them as usual).
    func describes(_ status: FileStatus, mode: UInt32) -> Bool {
        status.linkCount == 1 && modeRules.hasExpectedType(status, mode: mode)
            && IndexedFile.statMatches(
                status, modificationTime: modificationTime, changeTime: changeTime, inode: inode, fileSize: fileSize, uid: uid, gid: gid)
    }

    /// git's own stat comparison (`ie_match_stat`, without the racy test, which is the caller's).
    static func statMatches(
        _ status: FileStatus, modificationTime: Timestamp, changeTime: Timestamp, inode: UInt32, fileSize: UInt32, uid: UInt32,
        gid: UInt32
    ) -> Bool {
        status.modificationTime == modificationTime
            && status.changeTime == changeTime
            && UInt32(truncatingIfNeeded: status.inode) == inode
            && UInt32(truncatingIfNeeded: status.size) == fileSize
            && status.uid == uid && status.gid == gid
    }
}
