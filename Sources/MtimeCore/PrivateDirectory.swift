import Glibc

/// A `mkdtemp` directory (mode 0700) that remembers every file and directory it was asked to make,
/// so removing it deletes exactly those and nothing a symlink might point at. The one way
/// git-mtime makes temporary files: the docker wrapper's injected files, `run`'s manifest.
/// Its path is bytes: a `TMPDIR` whose name isn't UTF-8 (or holds a newline) is the directory used.
public final class PrivateDirectory {
    public let path: BytePath
    private var files: [BytePath] = []
    private var directories: [BytePath] = []

    /// `$TMPDIR/<prefix>.XXXXXX` (`/tmp` without TMPDIR).
    public init(prefix: String) throws(SystemError) {
        let base = Environment.path("TMPDIR") ?? BytePath("/tmp")
        let template = base.appending("\(prefix).XXXXXX")
        var made: BytePath?
        try template.withCString { pattern in
            var buffer = Array(UnsafeBufferPointer(start: pattern, count: template.bytes.count + 1))
            made = buffer.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { BytePath(cString: $0) }
        }
        guard let made else { throw SystemError.last("create temporary directory", base) }
        path = made
    }

    /// A subdirectory other users may read (the build may run as a non-root user).
    public func makeDirectory(_ name: String) throws(SystemError) -> BytePath {
        let full = path.appending(name)
        guard try full.withCString({ mkdir($0, 0o755) }) == 0 else { throw SystemError.last("create directory", full) }
        _ = try full.withCString { chmod($0, 0o755) }
        directories.append(full)
        return full
    }

    /// Creates `name` (which must not exist) holding `contents`; its path.
    public func write(_ name: String, _ contents: [UInt8], permissions: mode_t) throws(SystemError) -> BytePath {
        let full = path.appending(name)
        let fd = try full.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions) }
        guard fd >= 0 else { throw SystemError.last("create", full) }
        files.append(full)
        let file = FileDescriptor(adopting: fd, path: full)
        try file.write(contents)
        // The umask may have dropped bits the container user needs.
        fchmod(file.rawValue, permissions)
        return full
    }

    public func remove() {
        for file in files.reversed() { _ = try? file.withCString { unlink($0) } }
        for directory in directories.reversed() { _ = try? directory.withCString { rmdir($0) } }
        _ = try? path.withCString { rmdir($0) }
    }
}
