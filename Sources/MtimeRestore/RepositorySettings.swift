import GitKit
import MtimeCore
import MtimeDockerContext
import MtimeManifest

/// How the hooks treat paths that a branch switch, merge or rebase rewrote (`git config mtime.hookMode`).
public enum HookMode: String, Sendable, CaseIterable {
    /// Keep them at least as new as the moment the hook started, unless a trusted build stamp shows
    /// the build consumed exactly this content (then the stamp's mtime): the host build never goes stale.
    case safe
    /// Give them their commit time, for machines that build only through the guard.
    case commit
}

/// The `git config mtime.*` settings of one repository, which the hooks, `run`, `status` and
/// `explain` share.
public struct RepositorySettings: Sendable {
    public static let modeKey = "mtime.hookMode"
    public static let stampKey = "mtime.stamp"
    /// Relative to the working-tree root, like the guard's default.
    public static let defaultStamp = "target/.git-mtime-stamp"

    public let mode: HookMode
    /// Absolute path of the build stamp.
    public let stampPath: BytePath
    /// The symlink-free working-tree root, no trailing `/`: the root a stamp sealed here records.
    public let root: BytePath

    public init(repository: Repository, workdir: BytePath) throws {
        let modeText = repository.configString(RepositorySettings.modeKey) ?? HookMode.safe.rawValue
        guard let mode = HookMode(rawValue: modeText.lowercased()) else {
            throw RestoreError.invalidSetting(key: RepositorySettings.modeKey, value: modeText, expected: "'safe' or 'commit'")
        }
        self.mode = mode
        do { root = try FileSystem.resolve(workdir) } catch { throw RestoreError.system(error) }
        let stamp = BytePath(repository.configString(RepositorySettings.stampKey) ?? RepositorySettings.defaultStamp)
        stampPath = stamp.isAbsolute ? stamp : root.appending(stamp)
    }

    /// The stamp with the guard's own trust check (parses, its root is ours, no output newer than its seal).
    public func loadStamp() -> StampLoadResult {
        BuildStamp.load(at: stampPath, expectedRoot: root)
    }

    /// What a trusted stamp says the last sealed build consumed; nil without one. The root's
    /// `.dockerignore` is read as `git mtime manifest` reads it by default; one that can't be read or
    /// parsed excludes nothing (every unrecorded file counts as unbuilt: a rebuild, never a stale one).
    public func consumedContent(_ stamp: StampLoadResult) -> ConsumedContent? {
        guard case .trusted(let sealed) = stamp else { return nil }
        let rules = (try? DockerContextRules(contextDirectory: root, dockerfile: .standard, builder: .current)) ?? .none
        return ConsumedContent(sealed, rootIgnoreRules: rules)
    }
}
