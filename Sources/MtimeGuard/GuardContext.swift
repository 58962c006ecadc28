import Glibc
import MtimeCore
import MtimeManifest

/// The manifest, the context root it describes, and where the build stamp lives, with the defaults
/// that make `RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build`
/// work as written (docs/stamp.md).
public struct GuardContext: Sendable {
    /// Absolute and free of symlinks: the identity recorded in stamps.
    public let root: BytePath
    public let manifestPath: BytePath
    public private(set) var manifest: Manifest
    /// Missing entries are skipped instead of being reported as a mismatch.
    public let allowMissing: Bool

    public static let defaultStampRelativePath = "target/.git-mtime-stamp"
    public static let stampEnvironmentVariable = "GIT_MTIME_STAMP"

    /// Reads and validates the manifest: every entry must stay inside `root` even through symlinked
    /// parent directories. Nothing is touched here, so a refusal leaves every file as it was.
    public init(manifestPath: BytePath?, root: BytePath?, allowMissing: Bool) throws(GuardError) {
        let manifestPath = if let manifestPath { manifestPath } else { try GuardContext.defaultManifestPath() }
        let resolvedRoot: BytePath
        do { resolvedRoot = try FileSystem.resolve(root ?? BytePath(".")) } catch { throw .usage("root \(error)") }
        guard (try? FileSystem.status(resolvedRoot))?.kind == .directory else { throw .usage("root \(resolvedRoot) is not a directory") }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(manifestPath, limit: Manifest.maximumSize) } catch {
            if error.code == EFBIG { throw .usage("\(manifestPath): manifest is larger than \(Manifest.maximumSize) bytes") }
            throw .io(error)
        }
        let manifest: Manifest
        do { manifest = try Manifest(parsing: bytes) } catch { throw .usage("\(manifestPath): \(error)") }
        try GuardContext.refuseEscapes(manifest.entries, root: resolvedRoot)
        self.root = resolvedRoot
        self.manifestPath = manifestPath
        self.manifest = manifest
        self.allowMissing = allowMissing
    }

    /// The same context describing only the entries `isIncluded` selects.
    func restricted(to isIncluded: (ManifestEntry) -> Bool) -> GuardContext {
        var copy = self
        copy.manifest.entries = manifest.entries.filter(isIncluded)
        return copy
    }

    /// The file named `manifest` next to the running executable (`/git-mtime/guard` → `/git-mtime/manifest`).
    public static func defaultManifestPath() throws(GuardError) -> BytePath {
        let executable: [UInt8]
        do { executable = try FileSystem.readSymlink(BytePath("/proc/self/exe")) } catch { throw .io(error) }
        return BytePath(executable).parent.appending("manifest")
    }

    /// Whether `git mtime docker --explain` put its file beside the running executable.
    public static func explainRequestedBesideExecutable() -> Bool {
        guard let executable = try? FileSystem.readSymlink(BytePath("/proc/self/exe")) else { return false }
        return (try? FileSystem.statusIfPresent(BytePath(executable).parent.appending(GuardExecutable.explainFileName))) != nil
    }

    /// `--stamp` if given, else `$GIT_MTIME_STAMP` if set and non-empty, else `target/.git-mtime-stamp` under the root.
    public func stampPath(explicit: BytePath?) -> BytePath {
        if let explicit { return explicit }
        if let value = getenv(GuardContext.stampEnvironmentVariable), value.pointee != 0 {
            return BytePath(Array(String(cString: value).utf8))
        }
        return root.appending(GuardContext.defaultStampRelativePath)
    }

    /// The absolute path of `relative` under the root.
    public func path(of relative: BytePath) -> BytePath { root.appending(relative) }

    /// Every parent directory of every entry that is a symlink must resolve inside `root`.
    private static func refuseEscapes(_ entries: [ManifestEntry], root: BytePath) throws(GuardError) {
        var checked = Set<BytePath>()
        for entry in entries {
            var prefix = BytePath([])
            for component in entry.path.components.dropLast() {
                prefix = prefix.appending(BytePath(Array(component)))
                if !checked.insert(prefix).inserted { continue }
                let full = root.appending(prefix)
                let status: FileStatus?
                do { status = try FileSystem.statusIfPresent(full) } catch { throw .io(error) }
                // Absent or not a directory: the entry is reported missing later; nothing below is reachable.
                guard let status, status.kind == .symlink else { continue }
                guard let target = try? FileSystem.resolve(full) else { continue }
                if !target.isWithin(root) {
                    throw .usage("refusing manifest entry \(entry.path): its parent \(prefix) is a symlink to \(target), outside the root \(root); nothing was changed")
                }
            }
        }
    }
}
