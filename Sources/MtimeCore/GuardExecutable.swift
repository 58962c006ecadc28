import Glibc

/// Finds the static `git-mtime-guard` that `git mtime run` runs and the docker wrapper injects:
/// `GIT_MTIME_GUARD`, else next to the running git-mtime executable (a release layout), else on PATH.
/// Every candidate is bytes, as the environment and `/proc/self/exe` hold it: an install directory
/// whose name isn't UTF-8 must not turn into another path.
public enum GuardExecutable {
    public static let name = "git-mtime-guard"
    /// A file the docker wrapper puts beside the injected guard and manifest to switch the guard's
    /// `--explain` on (`git mtime docker --explain`): no Dockerfile has to change.
    public static let explainFileName = "explain"
    /// The largest guard executable read to inject it (the static release is a few MiB).
    public static let sizeLimit = 256 << 20

    /// The guard this process would run: `GIT_MTIME_GUARD`, `PATH` and `/proc/self/exe` as they are.
    public static func locate() throws(GuardExecutableError) -> BytePath {
        try locate(
            explicit: Environment.path("GIT_MTIME_GUARD"), searchPath: Environment.path("PATH"),
            runningExecutable: runningExecutable())
    }

    public static func locate(explicit: BytePath?, searchPath: BytePath?, runningExecutable: BytePath?) throws(GuardExecutableError)
        -> BytePath
    {
        if let explicit, !explicit.isEmpty {
            guard isExecutableFile(explicit) else {
                throw GuardExecutableError("GIT_MTIME_GUARD=\(explicit) is not an executable file")
            }
            return explicit
        }
        if let runningExecutable, runningExecutable.bytes.contains(UInt8(ascii: "/")) {
            let sibling = BytePath(runningExecutable.parent.bytes + Array("/\(name)".utf8))
            if isExecutableFile(sibling) { return sibling }
        }
        for directory in (searchPath?.bytes ?? []).split(separator: UInt8(ascii: ":")) {
            let candidate = BytePath(Array(directory) + Array("/\(name)".utf8))
            if isExecutableFile(candidate) { return candidate }
        }
        throw GuardExecutableError("cannot find \(name): set GIT_MTIME_GUARD, or install it next to git-mtime or on PATH")
    }

    /// `/proc/self/exe`, resolved.
    public static func runningExecutable() -> BytePath? {
        (try? FileSystem.readSymlink(BytePath("/proc/self/exe"))).map(BytePath.init)
    }

    static func isExecutableFile(_ path: BytePath) -> Bool {
        (try? path.withCString { name -> Bool in
            var info = stat()
            guard stat(name, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
            return access(name, X_OK) == 0
        }) ?? false
    }
}
