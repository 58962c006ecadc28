import Glibc

extension FileSystem {
    /// The absolute path with every symlink, `.` and `..` resolved (`realpath`).
    public static func resolve(_ path: BytePath) throws(SystemError) -> BytePath {
        let resolved: UnsafeMutablePointer<CChar>?
        resolved = try path.withCString { realpath($0, nil) }
        guard let resolved else { throw SystemError.last("resolve path", path) }
        defer { free(resolved) }
        return BytePath(Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved))))
    }
}
