import Glibc

/// A `mkdtemp` directory (mode 0700) that remembers every file and directory it was asked to make,
/// so removing it deletes exactly those and nothing a symlink might point at. The one way
/// git-mtime makes temporary files: the docker wrapper's injected files, `run`'s manifest.
public final class PrivateDirectory {
    public let path: String
    private var files: [String] = []
    private var directories: [String] = []

    /// `$TMPDIR/<prefix>.XXXXXX` (`/tmp` without TMPDIR).
    public init(prefix: String) throws(SystemError) {
        let base = Environment.nonEmpty("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError.last("create temporary directory", BytePath(base))
        }
        path = String(cString: made)
    }

    /// A subdirectory other users may read (the build may run as a non-root user).
    public func makeDirectory(_ name: String) throws(SystemError) -> String {
        let full = "\(path)/\(name)"
        guard mkdir(full, 0o755) == 0 else { throw SystemError.last("create directory", BytePath(full)) }
        chmod(full, 0o755)
        directories.append(full)
        return full
    }

    /// Creates `name` (which must not exist) holding `contents`; its path.
    public func write(_ name: String, _ contents: [UInt8], permissions: mode_t) throws(SystemError) -> String {
        let full = "\(path)/\(name)"
        let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw SystemError.last("create", BytePath(full)) }
        files.append(full)
        let file = FileDescriptor(adopting: fd, path: BytePath(full))
        try file.write(contents)
        // The umask may have dropped bits the container user needs.
        fchmod(file.rawValue, permissions)
        return full
    }

    public func remove() {
        for file in files.reversed() { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
        rmdir(path)
    }
}
