import Glibc

/// An errno value by name: callers branch on these, never on numbers or message text.
public struct Errno: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let notFound = Errno(rawValue: ENOENT)
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// `O_NOFOLLOW` met a symlink, or too many levels of symlinks.
    public static let symlinkLoop = Errno(rawValue: ELOOP)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let exists = Errno(rawValue: EEXIST)
    public static let fileTooLarge = Errno(rawValue: EFBIG)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let interrupted = Errno(rawValue: EINTR)
    /// Used for "the file changed while we worked on it": try again.
    public static let tryAgain = Errno(rawValue: EAGAIN)
    public static let crossDevice = Errno(rawValue: EXDEV)
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// Not a kernel errno (Linux has none for it): a FIFO, device, socket or directory where only a
    /// regular file will do (`FileDescriptor.readRegularFile`). Outside the kernel's range.
    public static let notRegularFile = Errno(rawValue: 0x4E52_4547)
}

/// A failed syscall: what we tried, on which path, and the errno it gave.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: BytePath?
    public let code: Int32

    public init(operation: String, path: BytePath?, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public init(operation: String, path: BytePath?, errno named: Errno) {
        self.init(operation: operation, path: path, code: named.rawValue)
    }

    /// Captures the current `errno`.
    public static func last(_ operation: String, _ path: BytePath?) -> SystemError {
        SystemError(operation: operation, path: path, code: errno)
    }

    /// The errno by name.
    public var kind: Errno { Errno(rawValue: code) }

    /// ENOENT: nothing by that name.
    public var isNotFound: Bool { kind == .notFound }
    /// ENOENT or ENOTDIR: the path does not lead to anything (a component is missing or a file).
    public var isAbsent: Bool { kind == .notFound || kind == .notDirectory }
    /// ELOOP: a symlink where a descriptor walk refuses to follow one.
    public var isSymlink: Bool { kind == .symlinkLoop }
    /// EACCES or EPERM.
    public var isPermissionDenied: Bool { kind == .permissionDenied || kind == .notPermitted }
    public var isTooLarge: Bool { kind == .fileTooLarge }
    /// EROFS: nothing there can be created or changed.
    public var isReadOnlyFileSystem: Bool { kind == .readOnlyFileSystem }
    /// A FIFO, device, socket or directory where a regular file was to be read (`operation` says which).
    public var isNotRegularFile: Bool { kind == .notRegularFile }
    public var isInterrupted: Bool { kind == .interrupted }
    /// EAGAIN, as the file layer uses it: the file changed while it was being read or checked.
    public var isChangedMeanwhile: Bool { kind == .tryAgain }

    public var message: String { kind == .notRegularFile ? "not a regular file" : String(cString: strerror(code)) }

    public var description: String {
        if let path { return "\(path): cannot \(operation): \(message)" }
        return "cannot \(operation): \(message)"
    }
}
