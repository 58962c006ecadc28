/// Hashes many files in a row with one reusable read buffer (one hasher per thread):
/// allocating a large buffer per file costs more than hashing a small one.
public final class BufferedBlobHasher {
    private let buffer: UnsafeMutableRawBufferPointer

    public init(bufferSize: Int = 1 << 20) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The blob id of the regular file at `path` (opened read-only, never following a final symlink)
    /// and what `fstat` says about the file that was read.
    public func hash(regularFileAt path: BytePath) throws(SystemError) -> (id: ObjectID, status: FileStatus) {
        try hash(regularFile: FileDescriptor(openForReading: path))
    }

    /// The blob id of an open regular file and what `fstat` says about it.
    public func hash(regularFile file: FileDescriptor) throws(SystemError) -> (id: ObjectID, status: FileStatus) {
        let status = try file.requireRegularFile()
        return (try BlobHasher.hash(regularFile: file, size: status.size, buffer: buffer), status)
    }
}
