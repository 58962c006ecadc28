import Glibc
import MtimeCore

/// A secret only trusted writers of a shared history cache hold (`GIT_MTIME_CACHE_KEY`, e.g. a CI
/// secret that fork pull requests do not get). With it, every snapshot written gets a MAC beside it
/// (`HistoryCache`), and a snapshot whose MAC verifies is used without `SnapshotCheck`: its bytes are
/// exactly what a holder of the key wrote, and holders only write answers their own walk computed.
/// Without the key, or when the MAC is missing or wrong, snapshots are checked as ever, so a run
/// without the secret still gets exactly the cold answer, only slower.
///
/// From the environment only, never a command-line option: argv is public in /proc. Its value is
/// never printed (`description` hides it).
public struct CacheKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let environmentVariable = "GIT_MTIME_CACHE_KEY"
    /// Shorter keys are refused: guessable, and a key is compared with nothing a forger could time.
    public static let minimumLength = 16
    private let bytes: [UInt8]
    /// Separates these MACs from anything else the same key may authenticate.
    private static let label = Array("git-mtime history snapshot\n".utf8)

    /// The key's bytes as given; nil when shorter than `minimumLength`.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= CacheKey.minimumLength else { return nil }
        self.bytes = bytes
    }

    public enum Setting: Equatable, Sendable {
        case unset
        /// Set, but shorter than `minimumLength`: ignored (the caller warns once).
        case tooShort
        case key
    }

    /// What `$GIT_MTIME_CACHE_KEY` held, read as raw bytes (no UTF-8 repair); empty counts as unset.
    /// Read once, then removed from this process's environment, so that no command git-mtime starts
    /// (the build `run` runs, the docker client, git) inherits the secret. The executable reads it at
    /// start-up, before any thread or child exists (`unsetenv` is not thread-safe).
    public static let environment: (setting: Setting, key: CacheKey?) = {
        defer { unsetenv(environmentVariable) }
        guard let value = getenv(environmentVariable), value.pointee != 0 else { return (.unset, nil) }
        let raw = UnsafeRawBufferPointer(start: value, count: strlen(value))
        guard let key = CacheKey(Array(raw)) else { return (.tooShort, nil) }
        return (.key, key)
    }()

    /// The MAC of a whole snapshot file.
    func authenticationCode(of file: UnsafeRawBufferPointer) -> [UInt8] {
        var mac = HMACSHA1(key: bytes)
        mac.update(CacheKey.label)
        mac.update(file)
        return mac.finalize()
    }

    public var description: String { "CacheKey(\(bytes.count) bytes)" }
    public var debugDescription: String { description }
}
