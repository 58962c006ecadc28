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
    public let stat: IndexStatData
    /// `core.filemode` and `core.symlinks`.
    public let modeRules: ModeRules

    init(_ entry: IndexEntry, modeRules: ModeRules) {
        stat = entry.stat
        self.modeRules = modeRules
    }

    /// The index entry it was made from, for `file` (planned from it).
    func entry(of file: PlannedFile) -> IndexEntry {
        IndexEntry(
            path: file.path, objectID: file.objectID, mode: file.mode, stage: 0, stat: stat, isSkipWorktree: false)
    }

    /// The status under the lease is the one the entry describes: a regular file of the entry's
    /// type and stat data, with one name (a hard link's other name changes its ctime when set: such
    /// files are set in turn, after planning them as usual).
    func describes(_ status: FileStatus, mode: UInt32) -> Bool {
        status.linkCount == 1 && modeRules.hasExpectedType(status, mode: mode) && stat.matches(status)
    }
}
