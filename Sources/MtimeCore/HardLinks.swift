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
    /// `mounted`: something is mounted below the root (`MountTable.hasMount`), so a file with one
    /// link may have two names too (a file bind-mounted over another).
    public static func sharedTimes(_ names: [(status: FileStatus, wanted: Timestamp?)?], mounted: Bool) -> [Shared] {
        var newest: [FileIdentity: (time: Timestamp, position: Int, count: Int)] = [:]
        func mayShare(_ status: FileStatus) -> Bool { (mounted || status.linkCount > 1) && status.kind != .directory }
        for (position, name) in names.enumerated() {
            guard let name, mayShare(name.status) else { continue }
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
            guard mayShare(name.status), let shared = newest[FileIdentity(name.status)], shared.count > 1,
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

/// The mounts this process sees (`/proc/self/mountinfo`).
public enum MountTable {
    /// Whether anything is mounted strictly below `root`. A file bind-mounted over another name
    /// (`mount --bind src/b.c src/a.c`) makes two names one file with one link, which only a mount
    /// can do: without one below the root, only names of a file with more links can be one file.
    /// True when the table can't be read (a guess that only costs a lookup per file).
    public static func hasMount(below root: BytePath) -> Bool {
        guard let table = try? FileSystem.readFile(BytePath("/proc/self/mountinfo"), limit: 64 << 20, followingSymlinks: true) else {
            return true
        }
        let prefix = root.bytes.last == UInt8(ascii: "/") ? root.bytes : root.bytes + [UInt8(ascii: "/")]
        for line in table.split(separator: UInt8(ascii: "\n")) {
            // ID PARENT MAJOR:MINOR ROOT MOUNT-POINT …; spaces and the like in names are octal escapes (`\040`).
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count > 4 else { continue }
            if unescaped(fields[4]).starts(with: prefix) { return true }
        }
        return false
    }

    private static func unescaped(_ field: ArraySlice<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = field.startIndex
        while index < field.endIndex {
            if field[index] == UInt8(ascii: "\\"), field.endIndex - index >= 4,
                let value = UInt8(String(decoding: field[(index + 1)..<(index + 4)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(field[index])
                index += 1
            }
        }
        return bytes
    }
}
