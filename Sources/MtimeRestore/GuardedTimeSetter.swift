import Glibc
import MtimeCore

/// Sets one planned file's mtime so that a write racing restore is never recorded as clean content,
/// the way git handles its racy index: a file is recorded clean (in the stat cache) only when nothing
/// could have changed it after it was verified.
///
/// The window is between the last check (the file is as planned) and `utimensat`: a write there
/// leaves the new content with the commit time, and the ctime and mtime that would betray it are
/// overwritten by the set itself. So for a regular file:
///
/// 1. open it (never following a symlink, never blocking on a FIFO) and take a read *lease*
///    (`F_SETLEASE`): while it is held nobody has the file open for writing, and anyone who opens it
///    for writing or truncates it waits until it is released;
/// 2. `fstat` on that descriptor must equal the planned status (nothing changed since planning);
/// 3. `futimens` on the descriptor, `fstat` again (that status is recorded), close it: closing
///    releases the lease (`ReadLease.holding(closing:)`).
///
/// Without a lease (the file is open for writing elsewhere, the file system or the owner doesn't
/// allow one), the bytes are hashed through the same descriptor after the set instead: if they are
/// no longer the verified content, the file gets the current time (it is newer than any build) and
/// is reported, never recorded. Where the verified content is only known as HEAD's blob (a file
/// clean by its stat data, which a checkout filter may have rewritten), other bytes go back to the
/// caller to tell (`readBackDiffers`). A symlink can't be written in place, only replaced: its inode after
/// the set must be the planned one, else the replacement gets the current time and is reported.
///
/// Stateless: one file's outcome depends only on that file, so files may be set on several threads
/// at once (`RestoreSession.setFileTimes`), except names of one file (hard links), set in turn.
struct GuardedTimeSetter: Sendable {
    enum Outcome {
        /// The time is set; `status` is the file afterwards, `recordable` when the stat cache may vouch for it.
        case set(status: FileStatus, recordable: Bool)
        /// The file is not as planned (gone, replaced, written): left alone.
        case changedSincePlanned
        /// Written while its time was being set: it now carries the current time, and is not recorded.
        case changedWhileSetting
        /// An `IndexedFile` its entry does not describe (or that could not be opened): left alone, to
        /// be planned as usual.
        case notAsIndexed
        /// Set without a lease, and the bytes read back are not HEAD's blob as they are: the caller
        /// tells a checkout filter's rewrite (a clean file: `set`, unrecorded) from a write in the
        /// window (`changedWhileSetting`: the file gets the current time).
        case readBackDiffers(status: FileStatus)
    }

    /// Sets the mtime of `name` in `directory` (held: nothing on the way is resolved again) to
    /// `target` if it still is exactly `planned`. `expected`: the id its bytes had when verified,
    /// used only when no lease can be taken; nil when unknown, and not `expectedIsCertain` when it is
    /// HEAD's blob id for a file a checkout filter may have rewritten (other bytes then prove nothing).
    func set(
        _ name: BytePath, in directory: HeldDirectory, planned: FileStatus, to target: Timestamp, expected: ObjectID?,
        expectedIsCertain: Bool
    ) throws(SystemError) -> Outcome {
        if planned.kind == .symlink { return try setSymlink(name, in: directory, planned: planned, to: target) }
        let file: FileDescriptor
        do { file = try directory.openFile(name) } catch {
            if error.isAbsent || error.isSymlink { return .changedSincePlanned }
            // Not readable (a file of someone else's that we may still set the time of): by name, unrecorded.
            if error.kind == .permissionDenied { return try setByName(name, in: directory, planned: planned, to: target) }
            throw error
        }
        return try ReadLease.holding(closing: file) { (leased) throws(SystemError) in
            guard try file.status() == planned else { return .changedSincePlanned }
            return try set(file, leased: leased, planned: planned, to: target, expected: expected, expectedIsCertain: expectedIsCertain)
        }
    }

    /// Sets the mtime of `name`, a file planned clean on its index entry alone (`IndexedFile`), to
    /// `target` if the entry describes the status taken under the lease: the test planning makes of
    /// an `lstat`, made where nothing can change the file before its time is set. Without a lease,
    /// the bytes are read back as `set` does (`expected`: HEAD's blob id, as for any clean file).
    func set(
        _ name: BytePath, in directory: HeldDirectory, unverified: IndexedFile, mode: UInt32, to target: Timestamp, expected: ObjectID
    ) throws(SystemError) -> Outcome {
        // Gone, a symlink, unreadable, a socket, out of descriptors: whatever it is, planning it
        // as usual finds it (and fails there if it must, as it would have).
        guard let file = try? directory.openFile(name) else { return .notAsIndexed }
        return try ReadLease.holding(closing: file) { (leased) throws(SystemError) in
            let checked = try file.status()
            guard unverified.describes(checked, mode: mode) else { return .notAsIndexed }
            return try set(file, leased: leased, planned: checked, to: target, expected: expected, expectedIsCertain: false)
        }
    }

    /// Sets the time of `file`, whose status under the lease (or none) is `planned`.
    private func set(
        _ file: FileDescriptor, leased: Bool, planned: FileStatus, to target: Timestamp, expected: ObjectID?,
        expectedIsCertain: Bool
    ) throws(SystemError) -> Outcome {
        try file.setModificationTime(to: target)
        let after = try file.status()
        let untouched = after.isSameFile(as: planned) && after.size == planned.size && after.modificationTime == target
        if leased { return .set(status: after, recordable: untouched) }

        // No lease: read the bytes back through this descriptor.
        guard let expected else { return .set(status: after, recordable: false) }
        let id = try BlobHasher.hash(regularFile: file)
        let end = try file.status()
        if id != expected {
            // Other bytes than HEAD's blob: a checkout filter's doing, or a write in the window.
            guard expectedIsCertain else { return .readBackDiffers(status: after) }
            try file.setModificationTime(to: FileSystem.now())
            return .changedWhileSetting
        }
        // Written after the set (but back to the same bytes, or while we read): its own mtime is newer.
        return .set(status: end, recordable: untouched && end == after)
    }

    private func setSymlink(_ name: BytePath, in directory: HeldDirectory, planned: FileStatus, to target: Timestamp)
        throws(SystemError) -> Outcome
    {
        guard try directory.statusIfPresent(name) == planned else { return .changedSincePlanned }
        try directory.setModificationTime(of: name, to: target)
        guard let after = try directory.statusIfPresent(name) else { return .changedWhileSetting }
        // The inode tells a replacement; the time can't (a coarse file system stores it truncated).
        if after.isSameFile(as: planned) && after.kind == .symlink {
            return .set(status: after, recordable: true)
        }
        // Replaced between the check and the set: our time may have landed on the newcomer.
        try directory.setModificationTime(of: name, to: FileSystem.now())
        return .changedWhileSetting
    }

    private func setByName(_ name: BytePath, in directory: HeldDirectory, planned: FileStatus, to target: Timestamp)
        throws(SystemError) -> Outcome
    {
        guard try directory.statusIfPresent(name) == planned else { return .changedSincePlanned }
        try directory.setModificationTime(of: name, to: target)
        return .set(status: try directory.status(name), recordable: false)
    }
}
