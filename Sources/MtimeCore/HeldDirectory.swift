import Glibc

/// A directory held open by descriptor. Every operation takes one entry *name* (no `/`, not `.` or
/// `..`) relative to it and never follows a symlink in that name, so renaming a directory above it or
/// replacing one with a symlink can't redirect anything done here: the path is resolved once, when
/// the directory is opened, never again.
///
/// Held with `O_PATH`, like a path walk: only search permission is needed, not read permission.
/// Immutable and safe to share between threads; the descriptor closes with the last reference.
public final class HeldDirectory: Sendable {
    public let descriptor: Int32
    /// Where it was found, for messages: errors name `path/<name>`.
    public let path: BytePath

    /// Opens `path` itself, following symlinks in it: for a place the caller chose (a root given on
    /// the command line), not for anything below a root.
    public init(opening path: BytePath) throws(SystemError) {
        let fd = try path.withCString { open($0, openPathOnly | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError.last("open directory", path) }
        descriptor = fd
        self.path = path
    }

    /// Takes ownership of an open directory descriptor.
    init(adopting descriptor: Int32, path: BytePath) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// The path of `name` in this directory, for messages.
    public func pathOf(_ name: BytePath) -> BytePath { path.appending(name) }

    /// The subdirectory `name`; a symlink there is an error (`isSymlink`), never followed.
    public func subdirectory(_ name: BytePath) throws(SystemError) -> HeldDirectory {
        let fd = try withName(name, "open directory") { openat(descriptor, $0, openPathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else {
            let error = SystemError.last("open directory", pathOf(name))
            // O_PATH|O_NOFOLLOW opens a symlink as itself; O_DIRECTORY then says ENOTDIR: name it.
            if error.kind == .notDirectory, (try? status(name))?.kind == .symlink {
                throw SystemError(operation: "open directory (a symlink; not followed)", path: pathOf(name), errno: .symlinkLoop)
            }
            throw error
        }
        return HeldDirectory(adopting: fd, path: pathOf(name))
    }

    /// `fstat` of the directory itself.
    public func status() throws(SystemError) -> FileStatus {
        var raw = stat()
        guard fstat(descriptor, &raw) == 0 else { throw SystemError.last("stat", path) }
        return FileStatus(raw)
    }

    /// `fstatat(…, AT_SYMLINK_NOFOLLOW)`: a symlink's own status.
    public func status(_ name: BytePath) throws(SystemError) -> FileStatus {
        try name.bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try status(nameBytes: bytes) } }.get()
    }

    /// `status` of the name held in `name` (may be a slice of a longer path: no copy on the heap,
    /// for a loop over every tracked file).
    public func status(nameBytes name: UnsafeRawBufferPointer) throws(SystemError) -> FileStatus {
        var raw = stat()
        // The descriptor, not `self`, in the closure: capturing `self` retained and released it per file.
        let fd = descriptor
        let result = try withName(name, "stat") { fstatat(fd, $0, &raw, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw SystemError.last("stat", pathOf(BytePath(Array(name)))) }
        return FileStatus(raw)
    }

    /// `status(name)`, or nil when nothing is there.
    public func statusIfPresent(_ name: BytePath) throws(SystemError) -> FileStatus? {
        try name.bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try statusIfPresent(nameBytes: bytes) } }.get()
    }

    /// `status(nameBytes:)`, or nil when nothing is there.
    public func statusIfPresent(nameBytes name: UnsafeRawBufferPointer) throws(SystemError) -> FileStatus? {
        do { return try status(nameBytes: name) } catch {
            if error.isAbsent { return nil }
            throw error
        }
    }

    /// Opens `name` read-only without following a symlink (`isSymlink` if it is one) and without
    /// blocking on a FIFO someone put there.
    public func openFile(_ name: BytePath) throws(SystemError) -> FileDescriptor {
        let fd = try withName(name, "open") { openat(descriptor, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError.last("open", pathOf(name)) }
        return FileDescriptor(adopting: fd, path: pathOf(name))
    }

    /// The contents of `name` when it is a regular file; nil when it is anything else (a FIFO, a
    /// device, a socket, a directory), which is never read: a FIFO would block and a device need
    /// not end. A symlink is an error (`isSymlink`), never followed; over `limit` bytes, `isTooLarge`.
    public func readRegularFile(_ name: BytePath, limit: Int) throws(SystemError) -> [UInt8]? {
        do { return try openFile(name).readRegularFile(limit: limit) } catch {
            if error.isNotRegularFile { return nil }
            throw error
        }
    }

    /// The target of the symlink `name`, as stored.
    public func readLink(_ name: BytePath) throws(SystemError) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = try withName(name, "read link") { cName in
                buffer.withUnsafeMutableBytes {
                    readlinkat(descriptor, cName, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity)
                }
            }
            guard count >= 0 else { throw SystemError.last("read link", pathOf(name)) }
            if count < capacity { return Array(buffer[..<count]) }
            capacity *= 4
        }
    }

    /// Sets the modification time of `name` itself (a symlink's own time; its target is untouched);
    /// the access time stays.
    public func setModificationTime(of name: BytePath, to time: Timestamp) throws(SystemError) {
        var times = TimeSpecs(modification: time)
        let result = try withName(name, "set modification time") { cName in
            times.withPointer { utimensat(descriptor, cName, $0, AT_SYMLINK_NOFOLLOW) }
        }
        guard result == 0 else { throw SystemError.last("set modification time", pathOf(name)) }
    }

    /// The names in this directory, without `.` and `..`, in the order the file system lists them.
    public func names() throws(SystemError) -> [BytePath] {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("list directory", path) }
        guard let handle = fdopendir(fd) else {
            let error = SystemError.last("list directory", path)
            close(fd)
            throw error
        }
        defer { closedir(handle) }
        var names: [BytePath] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw SystemError.last("list directory", path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(BytePath(name))
        }
    }

    /// `mkdirat`; an existing entry of that name is no error (whatever it is: opening it with
    /// `subdirectory` tells).
    public func createDirectory(_ name: BytePath, permissions: mode_t = 0o755) throws(SystemError) {
        let result = try withName(name, "create directory") { mkdirat(descriptor, $0, permissions) }
        guard result == 0 || errno == EEXIST else { throw SystemError.last("create directory", pathOf(name)) }
    }

    /// Creates `name`, which must not exist (`O_EXCL`: never writes through a symlink or into
    /// someone else's file), for writing.
    public func createFile(_ name: BytePath, permissions: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
        let fd = try withName(name, "create") { openat(descriptor, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions) }
        guard fd >= 0 else { throw SystemError.last("create", pathOf(name)) }
        return FileDescriptor(adopting: fd, path: pathOf(name))
    }

    /// Removes the file or symlink `name`; nothing there is no error.
    public func remove(_ name: BytePath) throws(SystemError) {
        let result = try withName(name, "remove") { unlinkat(descriptor, $0, 0) }
        guard result == 0 || errno == ENOENT else { throw SystemError.last("remove", pathOf(name)) }
    }

    /// Renames `source` over `destination`, both in this directory (a symlink at `destination` is
    /// replaced, not followed).
    public func rename(_ source: BytePath, to destination: BytePath) throws(SystemError) {
        try checkName(source, "rename")
        let from = source.bytes.map { CChar(bitPattern: $0) } + [0]
        let result = try withName(destination, "rename into place") { renameat(descriptor, from, descriptor, $0) }
        guard result == 0 else { throw SystemError.last("rename into place", pathOf(destination)) }
    }

    /// Replaces `name` with `contents` so that a reader sees the old file or the new one, never a
    /// mix: write a temporary sibling, rename it over. `durable` also fsyncs the file and the
    /// directory, so the new version survives a crash; caches that carry their own checksum skip
    /// that, since losing their newest version is harmless and an fsync costs more than they save.
    public func writeAtomically(
        _ name: BytePath, contents: [UInt8], permissions: mode_t = 0o644,
        durable: Bool = true
    ) throws(SystemError) {
        // Only a regular file (or a symlink, replaced itself) is ever replaced: a device, FIFO or
        // socket by that name (/dev/null named as an output) is refused, never turned into a file.
        if let existing = try statusIfPresent(name), existing.kind == .other || existing.kind == .directory {
            throw SystemError(operation: "replace (it is not a regular file)", path: pathOf(name), errno: .exists)
        }
        let temporary = HeldDirectory.temporaryName(for: name)
        try remove(temporary)
        let file = try createFile(temporary, permissions: permissions)
        do throws(SystemError) {
            // O_EXCL created it with `permissions` minus the umask; the caller asked for exactly these.
            guard fchmod(file.rawValue, permissions) == 0 else { throw SystemError.last("set permissions of", file.path) }
            try file.write(contents)
            if durable { try file.sync() }
            try rename(temporary, to: name)
        } catch {
            try? remove(temporary)
            throw error
        }
        // The rename is durable only once the directory entry is on disk.
        if durable { try sync() }
    }

    /// `fsync` of the directory itself (after a rename in it).
    public func sync() throws(SystemError) {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("open directory", path) }
        try FileDescriptor(adopting: fd, path: path).sync()
    }

    /// What `writeAtomically` puts between a temporary's name and its writer's pid.
    public static let temporaryMarker = ".tmp-"

    /// `.<name>.tmp-<pid>`: hidden, and recognisable as `name`'s by its prefix.
    static func temporaryName(for name: BytePath) -> BytePath {
        BytePath([UInt8(ascii: ".")] + name.bytes + Array("\(temporaryMarker)\(getpid())".utf8))
    }

    /// Runs `body` with `name` as a C string, once `checkName` accepts it.
    private func withName<R>(_ name: BytePath, _ operation: String, _ body: (UnsafePointer<CChar>) -> R) throws(SystemError) -> R {
        try name.bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try withName(bytes, operation, body) } }.get()
    }

    private func withName<R>(
        _ name: UnsafeRawBufferPointer, _ operation: String, _ body: (UnsafePointer<CChar>) -> R
    ) throws(SystemError) -> R {
        try checkName(name, operation)
        // On the stack: restore stats every tracked file through here, and a heap copy per name showed.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: name.count + 1) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: name)
            buffer[name.count] = 0
            return body(UnsafePointer(buffer.baseAddress!))
        }
    }

    private func checkName(_ name: BytePath, _ operation: String) throws(SystemError) {
        try name.bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try checkName(bytes, operation) } }.get()
    }

    /// A name that is empty, `.`, `..` or holds `/` or NUL would leave this directory or name it
    /// itself: refused (EINVAL).
    private func checkName(_ name: UnsafeRawBufferPointer, _ operation: String) throws(SystemError) {
        let dot = UInt8(ascii: ".")
        if name.isEmpty || (name.count <= 2 && name.allSatisfy { $0 == dot })
            || memchr(name.baseAddress!, Int32(UInt8(ascii: "/")), name.count) != nil
            || memchr(name.baseAddress!, 0, name.count) != nil
        {
            throw SystemError(operation: "\(operation) (not a single name)", path: pathOf(BytePath(Array(name))), errno: .invalidArgument)
        }
    }
}

/// Linux's `O_PATH` (Glibc's module map leaves it out: it is behind `_GNU_SOURCE`): a descriptor
/// that names a directory for `*at` calls without needing read permission on it.
let openPathOnly: Int32 = 0o10_000_000

/// The `times[2]` argument of `utimensat`/`futimens`: access time left alone, modification time set.
struct TimeSpecs {
    var pair: (timespec, timespec)

    init(modification time: Timestamp) {
        pair = (
            timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2 /* UTIME_OMIT */),
            timespec(tv_sec: time_t(time.seconds), tv_nsec: Int(time.nanoseconds))
        )
    }

    mutating func withPointer<R>(_ body: (UnsafePointer<timespec>) -> R) -> R {
        withUnsafePointer(to: &pair) { $0.withMemoryRebound(to: timespec.self, capacity: 2, body) }
    }
}
