import MtimeCore

extension BuildStamp {
    /// Reads the stamp at `path` and decides whether it still describes the build outputs beside it.
    ///
    /// Trusted only if it parses, its checksum holds, its root is `expectedRoot` (when given), and no
    /// file or symlink below the stamp's directory (other than the stamp and its temporaries) is newer
    /// than the seal time: a newer one means a build ran without sealing (docs/stamp.md).
    public static func load(at path: BytePath, expectedRoot: BytePath? = nil) -> StampLoadResult {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: maximumSize) } catch {
            if error.code == 2 /* ENOENT */ || error.code == 20 /* ENOTDIR */ { return .absent }
            return .untrusted(reason: error.description)
        }
        let stamp: BuildStamp
        do { stamp = try BuildStamp(parsing: bytes) } catch {
            return .untrusted(reason: "\(path): \(error)")
        }
        if let expectedRoot, stamp.root != expectedRoot {
            return .untrusted(reason: "\(path) was sealed for root \(stamp.root), not \(expectedRoot)")
        }
        do {
            if let newer = try newestFile(besideStamp: path, newerThan: stamp.sealTime) {
                return .untrusted(reason: "\(newer.path) changed after the stamp was sealed (a build ran without sealing)")
            }
        } catch {
            return .untrusted(reason: error.description)
        }
        return .trusted(stamp)
    }

    /// The newest mtime of any file or symlink below the directory holding the stamp at `stamp`
    /// (the stamp and its temporaries excluded); nil when there is none or the directory is absent.
    /// Directories don't count: writing the stamp itself changes its directory's mtime.
    public static func newestModificationTime(besideStamp stamp: BytePath) throws(SystemError) -> Timestamp? {
        try newestFile(besideStamp: stamp, newerThan: nil)?.time
    }

    /// True for the stamp file itself and the siblings git-mtime writes next to it while sealing.
    public static func isStampOrTemporary(name: BytePath, stampName: BytePath) -> Bool {
        name == stampName || name.bytes.starts(with: [UInt8(ascii: ".")] + stampName.bytes + [UInt8(ascii: ".")])
    }

    /// Walks the stamp's directory; with `limit`, stops at the first file newer than it.
    private static func newestFile(besideStamp stamp: BytePath, newerThan limit: Timestamp?) throws(SystemError)
        -> (path: BytePath, time: Timestamp)? {
        let directory = stamp.parent.isEmpty ? BytePath(".") : stamp.parent
        guard let top = try FileSystem.statusIfPresent(directory), top.kind == .directory else { return nil }
        var newest: (path: BytePath, time: Timestamp)?
        var pending = [directory]
        while let current = pending.popLast() {
            for name in try FileSystem.listDirectory(current) {
                if current == directory, isStampOrTemporary(name: name, stampName: stamp.lastComponent) { continue }
                let child = current.appending(name)
                guard let status = try FileSystem.statusIfPresent(child) else { continue }
                if status.kind == .directory { pending.append(child); continue }
                if let limit {
                    if status.modificationTime > limit { return (child, status.modificationTime) }
                } else if newest == nil || status.modificationTime > newest!.time {
                    newest = (child, status.modificationTime)
                }
            }
        }
        return newest
    }
}
