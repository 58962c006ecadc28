/// A file's identity among its names: device and inode. Names of one file (hard links) share it.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public init(_ status: FileStatus) { device = status.device; inode = status.inode }
}

/// Names of one file (hard links: `cp -al`, BuildKit's context transfer and `tar` keep them, dedup
/// tools make them) have one mtime: setting it through one name sets it for all, so whichever name is
/// set last would win, and a changed file could be left with an unchanged name's older commit time.
/// The one rule (restore's `apply`, the guard's `check` and `prepare`): a file gets the newest time
/// any of its names wants, a name that keeps its time wanting the time the file has. A later time
/// never hides a change from make or cargo; an earlier one can.
public enum HardLinks {
    /// What one name gets.
    public struct Shared: Equatable, Sendable {
        /// The time to give the name (nil: the one it has).
        public let time: Timestamp?
        /// The position of the name whose wish this is, when it is another name's later time.
        public let raisedFor: Int?

        public init(time: Timestamp?, raisedFor: Int?) {
            self.time = time
            self.raisedFor = raisedFor
        }
    }

    /// `names[i]`: the status of the i-th name as found (nil: absent, or not the caller's to set)
    /// and the time the caller wants for it (nil: the one it has). Each name of a file that has
    /// another name among `names` gets the newest time any of them wants; every other name, its own wish.
    public static func sharedTimes(_ names: [(status: FileStatus, wanted: Timestamp?)?]) -> [Shared] {
        var newest: [FileIdentity: (time: Timestamp, position: Int, count: Int)] = [:]
        for (position, name) in names.enumerated() {
            guard let name, name.status.linkCount > 1, name.status.kind != .directory else { continue }
            let time = name.wanted ?? name.status.modificationTime
            let identity = FileIdentity(name.status)
            if let found = newest[identity] {
                newest[identity] = found.time >= time ? (found.time, found.position, found.count + 1) : (time, position, found.count + 1)
            } else {
                newest[identity] = (time, position, 1)
            }
        }
        return names.enumerated().map { position, name in
            guard let name else { return Shared(time: nil, raisedFor: nil) }
            guard name.status.linkCount > 1, let shared = newest[FileIdentity(name.status)], shared.count > 1,
                shared.time > (name.wanted ?? name.status.modificationTime)
            else { return Shared(time: name.wanted, raisedFor: nil) }
            return Shared(time: shared.time == name.status.modificationTime ? nil : shared.time, raisedFor: shared.position)
        }
    }

    /// How many of each file's names `statuses` holds, for the files with more than one name.
    public static func namesFound(_ statuses: some Sequence<FileStatus>) -> [FileIdentity: UInt64] {
        var found: [FileIdentity: UInt64] = [:]
        for status in statuses where status.linkCount > 1 && status.kind != .directory { found[FileIdentity(status), default: 0] += 1 }
        return found
    }
}
