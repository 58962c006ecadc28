import Glibc

/// What `lstat` says about a path (never follows a final symlink).
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, symlink, directory, other }

    public let kind: Kind
    public let mode: UInt32
    public let size: Int64
    public let modificationTime: Timestamp
    public let changeTime: Timestamp
    public let device: UInt64
    public let inode: UInt64
    public let uid: UInt32
    public let gid: UInt32
    /// How many names the file has (hard links): setting one name's time sets the others'.
    public let linkCount: UInt64

    init(_ raw: stat) {
        switch raw.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFLNK: kind = .symlink
        case S_IFDIR: kind = .directory
        default: kind = .other
        }
        mode = UInt32(raw.st_mode)
        size = Int64(raw.st_size)
        modificationTime = Timestamp(seconds: Int64(raw.st_mtim.tv_sec), nanoseconds: Int32(clamping: raw.st_mtim.tv_nsec))
        changeTime = Timestamp(seconds: Int64(raw.st_ctim.tv_sec), nanoseconds: Int32(clamping: raw.st_ctim.tv_nsec))
        device = UInt64(raw.st_dev)
        inode = UInt64(raw.st_ino)
        uid = UInt32(raw.st_uid)
        gid = UInt32(raw.st_gid)
        linkCount = UInt64(raw.st_nlink)
    }

    /// Any execute bit, as git records it (100755 vs 100644).
    public var isExecutable: Bool { mode & 0o111 != 0 }

    /// What the file is, for messages: "a FIFO", "a character device", …
    public var kindDescription: String {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFREG): return "a regular file"
        case UInt32(S_IFDIR): return "a directory"
        case UInt32(S_IFLNK): return "a symlink"
        case UInt32(S_IFIFO): return "a FIFO"
        case UInt32(S_IFCHR): return "a character device"
        case UInt32(S_IFBLK): return "a block device"
        case UInt32(S_IFSOCK): return "a socket"
        default: return "not a file"
        }
    }

    /// The mode git records for this file: 0o100644, 0o100755 or 0o120000; nil for anything else.
    public var gitMode: UInt32? {
        switch kind {
        case .symlink: return 0o120000
        case .regular: return isExecutable ? 0o100755 : 0o100644
        case .directory, .other: return nil
        }
    }
}

/// A file descriptor owned by exactly one value; closed when that value goes away (except the
/// standard ones, which the process keeps).
public final class FileDescriptor {
    public let rawValue: Int32
    public let path: BytePath
    private var owned = true

    /// Opens read-only, never following a final symlink (we hash and never write contents), and
    /// never waiting for a writer should a FIFO have taken the file's place.
    public init(openForReading path: BytePath, relativeTo directory: FileDescriptor? = nil) throws(SystemError) {
        let fd: Int32
        fd = try path.withCString { name in
            openat(directory?.rawValue ?? AT_FDCWD, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)
        }
        guard fd >= 0 else { throw SystemError.last("open", path) }
        self.rawValue = fd
        self.path = path
    }

    /// Opens read-only following every symlink, as any other program reading `path` would (non-blocking,
    /// so a FIFO in its place can't hang the open).
    public init(openFollowingSymlinks path: BytePath) throws(SystemError) {
        let fd = try path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }
        guard fd >= 0 else { throw SystemError.last("open", path) }
        self.rawValue = fd
        self.path = path
    }

    /// Opens a directory (for `openat`-relative access and `fsync` after a rename).
    public init(openDirectory path: BytePath) throws(SystemError) {
        let fd: Int32
        fd = try path.withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError.last("open directory", path) }
        self.rawValue = fd
        self.path = path
    }

    /// Takes ownership of `fd` (opened by a call this type has no initializer for), named `path` in errors.
    public init(adopting fd: Int32, path: BytePath) {
        self.rawValue = fd
        self.path = path
    }

    /// Standard input (0), output (1) or error (2), named `<stdin>`, `<stdout>`, `<stderr>` in
    /// errors; never closed.
    public static func standard(_ fd: Int32) -> FileDescriptor {
        precondition((0...2).contains(fd), "not a standard descriptor")
        let descriptor = FileDescriptor(adopting: fd, path: BytePath(["<stdin>", "<stdout>", "<stderr>"][Int(fd)]))
        descriptor.owned = false
        return descriptor
    }

    deinit { if owned { Glibc.close(rawValue) } }

    /// Closes the descriptor now rather than when the last reference goes (a lease ends with the
    /// close: `ReadLease.holding(closing:)`); the value must not be used afterwards.
    public func close() {
        guard owned else { return }
        owned = false
        Glibc.close(rawValue)
    }

    public func status() throws(SystemError) -> FileStatus {
        var raw = stat()
        guard fstat(rawValue, &raw) == 0 else { throw SystemError.last("stat", path) }
        return FileStatus(raw)
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file. Retries on EINTR.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        while true {
            let count = Glibc.read(rawValue, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemError.last("read", path) }
        }
    }

    /// Writes all of `bytes`, retrying interrupted and partial writes: the one write loop.
    public func write(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("write", path)
            }
            offset += written
        }
    }

    public func sync() throws(SystemError) {
        guard fsync(rawValue) == 0 else { throw SystemError.last("fsync", path) }
    }

    /// The whole file, when it is a regular file; refusing more than `limit` bytes (`isTooLarge`).
    /// Anything else (a FIFO, a device, a socket, a directory) is refused before a byte is read
    /// (`isNotRegularFile`): a FIFO blocks or ends at once, a device such as /dev/zero never ends.
    /// Every file git-mtime reads by name goes through here (`FileSystem.readFile`,
    /// `HeldDirectory.readRegularFile`, `ConfinedPath.readContents`).
    public func readRegularFile(limit: Int) throws(SystemError) -> [UInt8] {
        try readToEnd(size: requireRegularFile().size, limit: limit)
    }

    /// `fstat`, refusing anything but a regular file (`isNotRegularFile`, the operation naming what
    /// it is): the one check before any read or map of a file whose name someone else chose.
    public func requireRegularFile() throws(SystemError) -> FileStatus {
        let status = try self.status()
        guard status.kind == .regular else {
            throw SystemError(operation: "read \(status.kindDescription)", path: path, errno: .notRegularFile)
        }
        return status
    }

    /// Everything from the current offset to the end of a regular file of `size` bytes (its `fstat`),
    /// refusing more than `limit` bytes (EFBIG).
    private func readToEnd(size: Int64, limit: Int) throws(SystemError) -> [UInt8] {
        let file = self
        guard size <= limit else { throw SystemError(operation: "read (larger than \(limit) bytes)", path: path, errno: .fileTooLarge) }
        // Straight into an array of the stat'ed size, plus one byte that tells whether the file grew
        // meanwhile; only then the chunked loop below reads the rest. A size the file system merely
        // claims (a sparse file of exabytes) is not allocated up front.
        let first = Int(min(max(size, 0), 64 << 20)) + 1
        var failure: SystemError?
        var contents = [UInt8](unsafeUninitializedCapacity: first) { buffer, initialized in
            while initialized < buffer.count {
                do throws(SystemError) {
                    let count = try file.read(
                        into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[initialized...]))
                    if count == 0 { return }
                    initialized += count
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
        if contents.count < first { return contents }
        guard contents.count <= limit else {
            throw SystemError(operation: "read (larger than \(limit) bytes)", path: path, errno: .fileTooLarge)
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try file.read(into: chunk)
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[..<count])
            guard contents.count <= limit else {
                throw SystemError(operation: "read (larger than \(limit) bytes)", path: path, errno: .fileTooLarge)
            }
        }
    }

    /// `futimens`: sets the modification time of exactly this open file; the access time stays.
    public func setModificationTime(to time: Timestamp) throws(SystemError) {
        var times = TimeSpecs(modification: time)
        guard times.withPointer({ futimens(rawValue, $0) }) == 0 else { throw SystemError.last("set modification time", path) }
    }
}

/// Thin, typed wrappers over the few syscalls git-mtime needs. Every error names the path.
public enum FileSystem {
    /// Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed, as git does at start-up.
    /// Started with one closed (a hostile or careless parent), the next `open` would take its number
    /// and a message meant for stderr would land in the stamp or the stat cache being written.
    public static func openClosedStandardDescriptors() {
        for standard: Int32 in 0...2 where fcntl(standard, F_GETFD) < 0 && errno == EBADF {
            // The lowest free number is taken, so this fills `standard`; without /dev/null (an empty
            // root) nothing can fill it, and the descriptor stays closed.
            _ = open("/dev/null", O_RDWR)
        }
    }

    public static func status(_ path: BytePath, followingSymlinks: Bool = false) throws(SystemError) -> FileStatus {
        var raw = stat()
        let result: Int32
        result = try path.withCString { followingSymlinks ? stat($0, &raw) : lstat($0, &raw) }
        guard result == 0 else { throw SystemError.last("stat", path) }
        return FileStatus(raw)
    }

    /// `lstat` (`stat` when `followingSymlinks`), or nil when the path does not exist (ENOENT / ENOTDIR).
    public static func statusIfPresent(_ path: BytePath, followingSymlinks: Bool = false) throws(SystemError) -> FileStatus? {
        do { return try status(path, followingSymlinks: followingSymlinks) } catch {
            if error.isAbsent { return nil }
            throw error
        }
    }

    /// Sets the modification time of `path` itself (a symlink keeps its target's time untouched);
    /// the access time is left as it is.
    public static func setModificationTime(_ path: BytePath, to time: Timestamp) throws(SystemError) {
        var times = TimeSpecs(modification: time)
        let result = try path.withCString { name in times.withPointer { utimensat(AT_FDCWD, name, $0, AT_SYMLINK_NOFOLLOW) } }
        guard result == 0 else { throw SystemError.last("set modification time", path) }
    }

    public static func readSymlink(_ path: BytePath) throws(SystemError) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count: Int
            count = try path.withCString { name in
                buffer.withUnsafeMutableBufferPointer {
                    readlink(name, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), capacity)
                }
            }
            guard count >= 0 else { throw SystemError.last("read link", path) }
            if count < capacity { return Array(buffer[..<count]) }
            capacity *= 4
        }
    }

    /// The whole regular file at `path` (`FileDescriptor.readRegularFile`: a FIFO, device, socket or
    /// directory is refused with `isNotRegularFile`, never read; over `limit` bytes, `isTooLarge`).
    /// A final symlink is refused (`isSymlink`) unless `followingSymlinks`, for a file the user named
    /// (a Dockerfile, an executable), which any other program would read through its links.
    public static func readFile(_ path: BytePath, limit: Int = Int.max, followingSymlinks: Bool = false) throws(SystemError) -> [UInt8] {
        let file = followingSymlinks ? try FileDescriptor(openFollowingSymlinks: path) : try FileDescriptor(openForReading: path)
        return try file.readRegularFile(limit: limit)
    }

    /// `HeldDirectory.writeAtomically` in the directory holding `path` (its symlinks followed: the
    /// caller chose the path).
    public static func writeAtomically(
        _ path: BytePath, contents: [UInt8], permissions: mode_t = 0o644,
        durable: Bool = true
    ) throws(SystemError) {
        let directory = try HeldDirectory(opening: path.parent.isEmpty ? BytePath(".") : path.parent)
        try directory.writeAtomically(path.lastComponent, contents: contents, permissions: permissions, durable: durable)
    }

    /// Writes a file a user named (`-o PATH`) as a shell's `>` would, except that a regular file is
    /// replaced atomically: a symlink is followed to the file it names, and a device, FIFO or socket
    /// (/dev/null, /dev/stdout's target) is written in place, never replaced by a regular file.
    public static func writeOutput(_ path: BytePath, contents: [UInt8]) throws(SystemError) {
        var target = path
        if try statusIfPresent(path)?.kind == .symlink { target = try resolve(path) }
        if let existing = try statusIfPresent(target), existing.kind != .regular {
            let fd = try target.withCString { open($0, O_WRONLY | O_NOCTTY | O_CLOEXEC) }
            guard fd >= 0 else { throw SystemError.last("open for writing", target) }
            try FileDescriptor(adopting: fd, path: target).write(contents)
            return
        }
        try writeAtomically(target, contents: contents)
    }

    /// Removes the temporaries `writeAtomically` left in `directory` when its writer was killed
    /// (their pid no longer runs). Call it while holding the lock that serialises the writers.
    /// `minimumAge` (seconds) is for a directory whose writers share no lock and perhaps no pid
    /// namespace (a shared cache): a temporary is removed only once it is that old, whatever its pid.
    public static func removeAbandonedTemporaries(in directory: BytePath, minimumAge: Int64? = nil) {
        guard let names = try? listDirectory(directory) else { return }
        let marker = Array(HeldDirectory.temporaryMarker.utf8)
        let now = FileSystem.now()
        for name in names where name.bytes.first == UInt8(ascii: ".") {
            guard let range = name.bytes.ranges(of: marker).last,
                let pid = Int32(String(decoding: name.bytes[range.upperBound...], as: UTF8.self))
            else { continue }
            let path = directory.appending(name)
            if let minimumAge {
                if let status = try? status(path), status.modificationTime.seconds + minimumAge < now.seconds { try? remove(path) }
            } else if kill(pid, 0) != 0 && errno == ESRCH {
                try? remove(path)
            }
        }
    }

    public static func rename(_ source: BytePath, to destination: BytePath) throws(SystemError) {
        let from = source.bytes.map { CChar(bitPattern: $0) } + [0]
        let result = try destination.withCString { to in Glibc.rename(from, to) }
        guard result == 0 else { throw SystemError.last("rename into place", destination) }
    }

    /// Everything left to read on an open descriptor this process does not own (standard input,
    /// a pipe end), retrying interrupted reads; more than `limit` bytes is `isTooLarge`.
    public static func readToEnd(descriptor: Int32, name: String, limit: Int = Int.max) throws(SystemError) -> [UInt8] {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                contents += buffer[..<count]
                guard contents.count <= limit else {
                    throw SystemError(operation: "read (larger than \(limit) bytes)", path: BytePath(name), errno: .fileTooLarge)
                }
                continue
            }
            if count == 0 { return contents }
            if errno != EINTR { throw SystemError.last("read", BytePath(name)) }
        }
    }

    public static func createDirectory(_ path: BytePath, permissions: mode_t = 0o755) throws(SystemError) {
        let result: Int32
        result = try path.withCString { mkdir($0, permissions) }
        guard result == 0 || errno == EEXIST else { throw SystemError.last("create directory", path) }
    }

    public static func remove(_ path: BytePath) throws(SystemError) {
        let result: Int32
        result = try path.withCString { unlink($0) }
        guard result == 0 || errno == ENOENT else { throw SystemError.last("remove", path) }
    }

    /// Names in a directory, without `.` and `..`.
    public static func listDirectory(_ path: BytePath) throws(SystemError) -> [BytePath] {
        let handle: OpaquePointer?
        handle = try path.withCString { opendir($0) }
        guard let handle else { throw SystemError.last("list directory", path) }
        defer { closedir(handle) }
        var names: [BytePath] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(BytePath(name))
        }
        return names
    }

    /// `CLOCK_REALTIME_COARSE`, the tick the kernel stamps file times from: a file changed at or
    /// after this moment gets a ctime not older than it (a fine reading could run ahead of the tick).
    public static func coarseNow() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// The current time from the real-time clock.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(clamping: spec.tv_nsec))
    }
}
