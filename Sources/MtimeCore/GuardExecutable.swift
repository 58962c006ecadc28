import Glibc

/// Finds the static `git-mtime-guard` that `git mtime run` runs and the docker wrapper injects:
/// `GIT_MTIME_GUARD`, else next to the running git-mtime executable (a release layout), else on PATH.
public enum GuardExecutable {
    public static let name = "git-mtime-guard"
    /// A file the docker wrapper puts beside the injected guard and manifest to switch the guard's
    /// `--explain` on (`git mtime docker --explain`): no Dockerfile has to change.
    public static let explainFileName = "explain"
    /// The largest guard executable read to inject it (the static release is a few MiB).
    public static let sizeLimit = 256 << 20

    public static func locate(environment: [String: String], runningExecutable: String?) throws(GuardExecutableError) -> String {
        if let explicit = environment["GIT_MTIME_GUARD"], !explicit.isEmpty {
            guard isExecutableFile(explicit) else {
                throw GuardExecutableError("GIT_MTIME_GUARD=\(explicit) is not an executable file")
            }
            return explicit
        }
        if let runningExecutable, let slash = runningExecutable.lastIndex(of: "/") {
            let sibling = String(runningExecutable[..<slash]) + "/" + name
            if isExecutableFile(sibling) { return sibling }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if isExecutableFile(candidate) { return candidate }
        }
        throw GuardExecutableError("cannot find \(name): set GIT_MTIME_GUARD, or install it next to git-mtime or on PATH")
    }

    /// `/proc/self/exe`, resolved.
    public static func runningExecutable() -> String? {
        (try? FileSystem.readSymlink(BytePath("/proc/self/exe"))).map { String(decoding: $0, as: UTF8.self) }
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
