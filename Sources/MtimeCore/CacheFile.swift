#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension FileSystem {
    /// Replaces `path` by renaming a fully written temporary sibling over it, without fsync: for
    /// caches that carry their own checksum, where losing the newest version in a crash is harmless
    /// and an fsync would cost more than the work the cache saves.
    public static func replaceCacheFile(_ path: BytePath, contents: [UInt8]) throws(SystemError) {
        let directory = path.parent.isEmpty ? BytePath(".") : path.parent
        let temporary = directory.appending(BytePath([UInt8(ascii: ".")] + path.lastComponent.bytes + Array(".tmp-\(getpid())".utf8)))
        let fd = try temporary.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        guard fd >= 0 else { throw SystemError.last("create", temporary) }
        let file = FileDescriptor(adopting: fd, path: temporary)
        do throws(SystemError) {
            try file.write(contents)
            try rename(temporary, to: path)
        } catch {
            try? remove(temporary)
            throw error
        }
    }
}
