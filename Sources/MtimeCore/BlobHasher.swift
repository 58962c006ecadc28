/// Git's blob id of content on disk: SHA-1 over `blob <size>\0` followed by the bytes.
/// A symlink's blob is its target path, as git stores it.
public enum BlobHasher {
    public static func hash(bytes: [UInt8]) -> ObjectID {
        var hasher = SHA1()
        hasher.update(Array("blob \(bytes.count)\0".utf8))
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Hashes the regular file or symlink at `path` without following a final symlink.
    public static func hash(fileAt path: BytePath) throws(SystemError) -> ObjectID {
        let status = try FileSystem.status(path)
        switch status.kind {
        case .symlink: return hash(bytes: try FileSystem.readSymlink(path))
        case .regular: return try hash(regularFile: FileDescriptor(openForReading: path))
        default: throw SystemError(operation: "hash (not a file or symlink)", path: path, errno: .isDirectory)
        }
    }

    /// Streams an open regular file through SHA-1 in large reads; the size in the header
    /// comes from `fstat`, and a file that grows or shrinks while we read is an error.
    public static func hash(regularFile file: FileDescriptor) throws(SystemError) -> ObjectID {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        return try hash(regularFile: file, size: file.requireRegularFile().size, buffer: buffer)
    }

    static func hash(regularFile file: FileDescriptor, size: Int64, buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ObjectID {
        var hasher = SHA1()
        hasher.update(Array("blob \(size)\0".utf8))
        var total: Int64 = 0
        while true {
            let count = try file.read(into: buffer)
            if count == 0 { break }
            total += Int64(count)
            // More than `fstat` said: growing, or a device swapped in that never ends; stop reading.
            guard total <= size else { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        guard total == size else { throw SystemError(operation: "hash (file changed while reading)", path: file.path, errno: .tryAgain) }
        return hasher.finalize()
    }
}
