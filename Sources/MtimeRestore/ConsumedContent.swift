import MtimeCore
import MtimeManifest

/// What a trusted build stamp says about the working tree: which files hold exactly the bytes the
/// sealed build consumed. The stamp records the ids the guard hashed, of the bytes on disk, so a
/// file is compared by `PlannedFile.worktreeObjectID` (plan with `identifyWorkingTreeBytes`).
public struct ConsumedContent: Sendable {
    public let stamp: BuildStamp
    /// No output of the sealed build is later than this (the stamp's seal time).
    public let builtUntil: Timestamp
    private let entries: [BytePath: BuildStamp.Entry]

    public init(_ stamp: BuildStamp) {
        self.stamp = stamp
        builtUntil = stamp.sealTime
        entries = Dictionary(stamp.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The stamp's entry when `file` (a path relative to the stamp's root) holds exactly the bytes the build consumed.
    public func entry(for file: PlannedFile) -> BuildStamp.Entry? {
        guard let id = file.worktreeObjectID, let entry = entries[file.path], entry.objectID == id else { return nil }
        return entry
    }

    /// True when the build consumed other bytes at `file`'s path than the file holds now. A path the
    /// stamp doesn't record is not an input of that build as far as anyone can tell (outside its
    /// context, or new since: make and cargo see a new file through the target it adds).
    public func consumedOtherContent(than file: PlannedFile) -> Bool {
        guard let entry = entries[file.path] else { return false }
        return entry.objectID != file.worktreeObjectID
    }
}

extension RestorePlan {
    /// `restore` after a sealed build (docs/restore.md, "After a sealed build"): a clean file whose path
    /// the trusted stamp records with other content was not built as it is now, so its commit time,
    /// usually older than the build's outputs, would hide the change from make and cargo. It keeps
    /// its mtime when that is already later than the last build (`builtUntil`, the seal time), and
    /// otherwise gets `now`, as the safe-mode hook gives a file git rewrote. Returns those paths.
    mutating func keepUnbuiltContentNewer(than consumed: ConsumedContent, now: Timestamp) -> [BytePath] {
        let builtUntil = consumed.builtUntil
        var kept: [BytePath] = []
        for index in files.indices where files[index].state == .clean && files[index].commitTime != nil {
            guard let current = files[index].current, consumed.consumedOtherContent(than: files[index]) else { continue }
            files[index].target = current.modificationTime > builtUntil ? nil : max(now, oneNanosecond(after: builtUntil))
            kept.append(files[index].path)
        }
        return kept
    }
}

// TODO(merge guard): Timestamp.nextNanosecond moves into MtimeCore with the checked time type.
private func oneNanosecond(after time: Timestamp) -> Timestamp {
    time.nanoseconds >= 999_999_999 ? Timestamp(seconds: time.seconds &+ 1, nanoseconds: 0)
                                    : Timestamp(seconds: time.seconds, nanoseconds: time.nanoseconds + 1)
}
