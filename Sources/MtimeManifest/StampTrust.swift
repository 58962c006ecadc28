import MtimeCore

/// What `BuildStamp.inspect` found: the verdict, and the newest mtime among the files beside the
/// stamp (what a bump must beat, trusted or not).
public struct StampInspection: Sendable {
    public var result: StampLoadResult
    public var newestOutput: Timestamp?
    /// Where `newestOutput` is, as the stamp's path was given (its directory joined with the file's path there).
    public var newestOutputPath: BytePath?
    /// The newest mtime beside the stamp not later than the inspection's horizon: leaves out outputs
    /// dated far ahead (an unpacked archive), which no wait for the clock could pass.
    public var newestOutputByHorizon: Timestamp?
}

extension BuildStamp {
    /// Reads the stamp at `location` and decides whether it still describes the build outputs beside it.
    ///
    /// Trusted only if it is a regular file that parses, its checksum holds, its root is
    /// `expectedRoot`, and the files beside it are exactly as they were when it was sealed (same
    /// count and digest of path, type, size, mtime and inode), leaving out the paths git-mtime sets
    /// times on itself: the tracked files the stamp records and `alsoExcluding` (the manifest's
    /// tracked files). Anything else about them changed means a build ran without sealing, or
    /// someone touched the outputs (docs/stamp.md, "Trust rule").
    public static func inspect(
        _ location: RootedLocation, expectedRoot: BytePath,
        alsoExcluding excluded: Set<BytePath> = [], horizon: Timestamp = .maximum
    ) -> StampInspection {
        guard let directory = location.directory else {
            return StampInspection(result: .absent, newestOutput: nil, newestOutputPath: nil, newestOutputByHorizon: nil)
        }
        var stamp: BuildStamp?
        var verdict = StampLoadResult.absent
        do throws(SystemError) {
            guard let bytes = try directory.readRegularFile(location.name, limit: maximumSize) else {
                throw SystemError(
                    operation: "read the build stamp (not a regular file)", path: location.displayPath, errno: .invalidArgument)
            }
            do {
                let found = try BuildStamp(parsing: bytes)
                if found.root == expectedRoot {
                    stamp = found
                } else {
                    verdict = .untrusted(reason: "\(location.displayPath) was sealed for root \(found.root), not \(expectedRoot)")
                }
            } catch {
                verdict = .untrusted(reason: "\(location.displayPath): \(error)")
            }
        } catch {
            if !error.isNotFound {
                verdict = .untrusted(reason: error.isSymlink ? "\(location.displayPath) is a symlink" : error.description)
            }
        }
        let scan = OutputState.scan(location, excluding: excluded.union(stamp?.trackedPaths ?? []), horizon: horizon)
        if let stamp {
            if let failure = scan.failure {
                verdict = .untrusted(
                    reason: "cannot read every file beside the stamp (\(failure)), so can't tell whether a build ran without sealing")
            } else if scan.state != stamp.outputs {
                // Only a digest was sealed, so the file that changed can't be named; the newest one usually is it.
                let newest = scan.newestPath.map { "; newest file there: \(location.displayPath.parent.appending($0))" } ?? ""
                verdict = .untrusted(
                    reason:
                        "the files beside \(location.displayPath) changed after the stamp was sealed (a build ran without sealing): \(stamp.outputs.fileCount) files then, \(scan.state.fileCount) now\(newest)"
                )
            } else {
                verdict = .trusted(stamp)
            }
        }
        return StampInspection(
            result: verdict, newestOutput: scan.newest, newestOutputPath: scan.newestPath.map { location.displayPath.parent.appending($0) },
            newestOutputByHorizon: scan.newestByHorizon)
    }

    /// `inspect` for a stamp path given the way `--stamp` takes it (hooks, `status`): resolved
    /// against `expectedRoot`; a path that can't hold a stamp, or leaves the root through a
    /// symlink inside it, is untrusted.
    public static func load(at path: BytePath, expectedRoot: BytePath) -> StampLoadResult {
        do {
            let tree = try DirectoryTree(root: expectedRoot)
            let location = try tree.locate(path, rootPath: expectedRoot, create: false)
            return inspect(location, expectedRoot: expectedRoot).result
        } catch let error as LocationError {
            return .untrusted(reason: "stamp location: \(error)")
        } catch {
            return .untrusted(reason: "\(error)")
        }
    }

    /// True for the stamp file itself and the siblings git-mtime writes next to it (temporaries,
    /// clock and granularity probes): `.<stamp name>.` followed by anything.
    public static func isStampOrTemporary(name: BytePath, stampName: BytePath) -> Bool {
        name == stampName || name.bytes.starts(with: [UInt8(ascii: ".")] + stampName.bytes + [UInt8(ascii: ".")])
    }
}

extension OutputState {
    /// The state of the files below `location`'s directory, the newest mtime among them (and the
    /// newest not later than `horizon`), and the first error met (an unreadable directory: then the
    /// state is incomplete and can't be trusted).
    ///
    /// Walked from the held directory without following any symlink (a symlink is recorded as
    /// itself), names in byte order, so the same files always give the same digest. Left out:
    /// the stamp and its temporaries, every `.git` (restore's caches live there), directories
    /// themselves (writing the stamp changes its directory's mtime), and the paths in `excluded`,
    /// relative to the root (only when the directory lies inside the root).
    public static func scan(_ location: RootedLocation, excluding excluded: Set<BytePath>, horizon: Timestamp = .maximum)
        -> (state: OutputState, newest: Timestamp?, newestByHorizon: Timestamp?, newestPath: BytePath?, failure: SystemError?)
    {
        var walk = OutputWalk(excluded: excluded, stampName: location.name, rootPrefix: location.relativeToRoot, horizon: horizon)
        if let directory = location.directory { walk.visit(directory) }
        return (
            OutputState(fileCount: walk.count, digest: walk.digest.finalize()), walk.newest, walk.newestByHorizon, walk.newestPath,
            walk.failure
        )
    }
}

private struct OutputWalk {
    let excluded: Set<BytePath>
    let stampName: BytePath
    let rootPrefix: BytePath?
    let horizon: Timestamp
    var digest = SHA1()
    var count = 0
    var newest: Timestamp?
    var newestByHorizon: Timestamp?
    /// Relative to the stamp's directory.
    var newestPath: BytePath?
    var failure: SystemError?

    init(excluded: Set<BytePath>, stampName: BytePath, rootPrefix: BytePath?, horizon: Timestamp) {
        self.excluded = excluded
        self.stampName = stampName
        self.rootPrefix = rootPrefix
        self.horizon = horizon
    }

    /// One directory being listed: its name in its parent (none for the top), its names in byte
    /// order and the next one to look at.
    private struct Frame {
        let directory: HeldDirectory
        let name: BytePath?
        let names: [BytePath]
        var next = 0
    }

    /// Depth first, names in byte order, on an explicit stack rather than by recursion: a build (or
    /// anyone sharing a cache mount) can leave a directory chain as deep as the descriptor limit
    /// allows (2^20 in a default container), which would overflow the thread's stack. Frames keep
    /// only their own name, so memory grows with the depth, not with its square.
    mutating func visit(_ top: HeldDirectory) {
        var stack: [Frame] = []
        if let frame = frame(top, name: nil) { stack.append(frame) }
        while let last = stack.indices.last {
            guard stack[last].next < stack[last].names.count else {
                stack.removeLast()
                continue
            }
            let name = stack[last].names[stack[last].next]
            stack[last].next += 1
            let directory = stack[last].directory
            if last == 0, BuildStamp.isStampOrTemporary(name: name, stampName: stampName) { continue }
            if name.bytes == Array(".git".utf8) { continue }
            let status: FileStatus
            do {
                guard let found = try directory.statusIfPresent(name) else { continue }  // removed meanwhile
                status = found
            } catch {
                failure = failure ?? error
                continue
            }
            if status.kind == .directory {
                do {
                    if let frame = frame(try directory.subdirectory(name), name: name) { stack.append(frame) }
                } catch {
                    // Replaced by something else since the stat: a change the digest can't see, so say so.
                    if !error.isAbsent { failure = failure ?? error }
                }
                continue
            }
            let path = BytePath(Array(stack.compactMap(\.name).map(\.bytes).joined(separator: [UInt8(ascii: "/")]))).appending(name)
            if let rootPrefix, excluded.contains(rootPrefix.appending(path)) { continue }
            let kind =
                switch status.kind {
                case .regular: "f";
                case .symlink: "l";
                default: "o"
                }
            digest.update(
                Array("\(kind) \(status.size) \(status.modificationTime) \(status.inode) ".utf8)
                    + Array(PathEscaping.encodeField(path.bytes).utf8) + [0x0A])
            count += 1
            if newest == nil || status.modificationTime > newest! {
                newest = status.modificationTime
                newestPath = path
            }
            if status.modificationTime <= horizon, newestByHorizon.map({ status.modificationTime > $0 }) ?? true {
                newestByHorizon = status.modificationTime
            }
        }
    }

    private mutating func frame(_ directory: HeldDirectory, name: BytePath?) -> Frame? {
        do { return Frame(directory: directory, name: name, names: try directory.names().sorted()) } catch {
            failure = failure ?? error
            return nil
        }
    }
}
