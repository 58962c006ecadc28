import Glibc

/// How many threads parallel work may use.
public enum Processors {
    /// The online CPUs (at least 1).
    public static var onlineCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Threads for work that shares one repository's pack and directory caches: the online CPUs, at
    /// most 4 (beyond that the shared caches, not the CPUs, limit it).
    public static let workerThreads = min(4, onlineCount)
}
