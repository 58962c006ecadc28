import Glibc

/// A regular file's whole contents, read-only: mapped (`MAP_PRIVATE`, the page cache's own pages:
/// no copy, and no fresh memory to fault in page by page), else read.
///
/// Only for files that are replaced by renaming a whole new file over them, never rewritten in
/// place: git's index (git writes `index.lock` and renames it) and restore's stat cache. A file
/// truncated in place while mapped would make reading its lost pages fail with SIGBUS, and a
/// checksum checked over the mapping would not vouch for bytes read later. Files anyone else may
/// write (a shared cache directory) are read into memory of our own (`FileSystem.readFile`).
/// Reading the 7.5 MB index and the 4 MB stat cache of a 64,000-file tree into fresh arrays cost
/// a warm restore ~2,800 page faults and the copy.
public final class FileBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    private init(_ bytes: UnsafeRawBufferPointer, isMapped: Bool) {
        self.bytes = bytes
        self.isMapped = isMapped
    }

    /// The bytes of the open regular file `file` (`requireRegularFile`), refusing more than `limit`
    /// (`isTooLarge`): mapped at the size `fstat` gives, or read (`readRegularFile`) where the file
    /// system can't map it. `file` must not have been read from.
    public convenience init(_ file: FileDescriptor, limit: Int) throws(SystemError) {
        let size = try file.requireRegularFile().size
        guard size <= limit else {
            throw SystemError(operation: "read (larger than \(limit) bytes)", path: file.path, errno: .fileTooLarge)
        }
        if size > 0, let mapped = FileBytes.map(file, size: Int(size)) {
            self.init(mapped, isMapped: true)
            return
        }
        // Empty (nothing to map), or not mappable.
        self.init(copying: try file.readRegularFile(limit: limit))
    }

    /// The open regular file `file` mapped whole, never read into memory of our own: for callers
    /// that drop the mapping's pages (`MADV_DONTNEED`, which would zero a copy). Fails on an empty
    /// file (`EINVAL`, as `mmap` does) and where the file system can't map it.
    public convenience init(mapping file: FileDescriptor) throws(SystemError) {
        let size = Int(try file.requireRegularFile().size)
        guard size > 0 else { throw SystemError(operation: "map (empty file)", path: file.path, errno: .invalidArgument) }
        guard let mapped = FileBytes.map(file, size: size) else { throw SystemError.last("map", file.path) }
        self.init(mapped, isMapped: true)
    }

    private static func map(_ file: FileDescriptor, size: Int) -> UnsafeRawBufferPointer? {
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.rawValue, 0), mapped != MAP_FAILED else { return nil }
        return UnsafeRawBufferPointer(start: mapped, count: size)
    }

    /// A copy of `contents` (tests; a file that could not be mapped).
    public convenience init(copying contents: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: contents.count, alignment: 16)
        contents.withUnsafeBytes { copy.copyMemory(from: $0) }
        self.init(UnsafeRawBufferPointer(copy), isMapped: false)
    }

    /// The regular file at `path` (symlinks not followed), as `init(_:limit:)` takes it.
    public convenience init(contentsOf path: BytePath, limit: Int) throws(SystemError) {
        try self.init(FileDescriptor(openForReading: path), limit: limit)
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        } else {
            bytes.deallocate()
        }
    }

    public var count: Int { bytes.count }

    /// `body` with the bytes, which stay valid while it runs.
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(self) {} }
        return try body(bytes)
    }
}
