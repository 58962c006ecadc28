import Glibc
import MtimeCore

/// A `mkdtemp` directory (mode 0700) that remembers every file and directory it was asked to make,
/// so removing it deletes exactly those and nothing a symlink might point at.
final class PrivateDirectory {
    let path: String
    private var files: [String] = []
    private var directories: [String] = []

    init() throws(SystemError) {
        let base = Environment.nonEmpty("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/git-mtime-docker.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SystemError.last("create temporary directory", BytePath(base))
        }
        path = String(cString: made)
    }

    /// A subdirectory other users may read (the build may run as a non-root user).
    func makeDirectory(_ name: String) throws(SystemError) -> String {
        let full = "\(path)/\(name)"
        guard mkdir(full, 0o755) == 0 else { throw SystemError.last("create directory", BytePath(full)) }
        chmod(full, 0o755)
        directories.append(full)
        return full
    }

    func write(_ name: String, _ contents: [UInt8], permissions: mode_t) throws(SystemError) -> String {
        let full = "\(path)/\(name)"
        let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw SystemError.last("create", BytePath(full)) }
        files.append(full)
        defer { close(fd) }
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("write", BytePath(full))
            }
            offset += written
        }
        // The umask may have dropped bits the container user needs.
        fchmod(fd, permissions)
        return full
    }

    func remove() {
        for file in files.reversed() { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
        rmdir(path)
    }
}
