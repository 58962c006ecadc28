import Glibc
import MtimeCore
import MtimeManifest

/// The manifest, the context root it describes (held open: every file operation is relative to it,
/// docs/stamp.md "Safety"), and where the build stamp lives, with the defaults that make
/// `RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build`
/// work as written (docs/stamp.md).
public struct GuardContext: Sendable {
    /// Absolute and free of symlinks: the identity recorded in stamps.
    public let root: BytePath
    /// The root, held; every entry is reached from it without following a symlink.
    public let tree: DirectoryTree
    public let manifestPath: BytePath
    public private(set) var manifest: Manifest
    /// Missing entries are skipped instead of being reported as a mismatch.
    public let allowMissing: Bool

    public static let defaultStampRelativePath = "target/.git-mtime-stamp"
    public static let stampEnvironmentVariable = "GIT_MTIME_STAMP"

    /// Reads and validates the manifest: no entry may lie below a symlinked directory (such a path
    /// is not a git path, and following it could leave the root). Nothing is touched here, so a
    /// refusal leaves every file as it was.
    public init(manifestPath: BytePath?, root: BytePath?, allowMissing: Bool) throws(GuardError) {
        let manifestPath = if let manifestPath { manifestPath } else { try GuardContext.defaultManifestPath() }
        let resolvedRoot: BytePath
        do { resolvedRoot = try FileSystem.resolve(root ?? BytePath(".")) } catch { throw .usage("root \(error)") }
        guard (try? FileSystem.status(resolvedRoot))?.kind == .directory else { throw .usage("root \(resolvedRoot) is not a directory") }
        let tree: DirectoryTree
        do { tree = try DirectoryTree(root: resolvedRoot) } catch { throw .io(error) }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(manifestPath, limit: Manifest.maximumSize) } catch {
            if error.isTooLarge { throw .usage("\(manifestPath): manifest is larger than \(Manifest.maximumSize) bytes") }
            if error.isNotRegularFile { throw .usage("\(error)") }
            throw .io(error)
        }
        let manifest: Manifest
        do { manifest = try Manifest(parsing: bytes) } catch { throw .usage("\(manifestPath): \(error)") }
        try GuardContext.refuseSymlinkedParents(manifest.entries, tree: tree)
        self.root = resolvedRoot
        self.tree = tree
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

    /// Without the stamp and its temporaries, when the stamp lies inside the root and the manifest
    /// lists them as untracked (a stamp at the root of an in-tree build, not ignored by git): the
    /// guard writes those itself, they are not the build's input. A *tracked* file by such a name
    /// (`..git-mtime-stamp.lock`, `.git-mtime-stamp` committed beside the stamp) is refused before
    /// anything is changed: the guard would replace or remove it (its lock, probe and temporaries
    /// take those names), and the promise is that it never changes a file's content.
    public func excludingStamp(_ stamp: RootedLocation) throws(GuardError) -> GuardContext {
        guard let directory = stamp.relativeToRoot else { return self }
        func isReserved(_ entry: ManifestEntry) -> Bool {
            entry.path.parent == directory && BuildStamp.isStampOrTemporary(name: entry.path.lastComponent, stampName: stamp.name)
        }
        if let tracked = manifest.entries.first(where: { !$0.isUntracked && isReserved($0) }) {
            throw .usage(
                "\(PathEscaping.display(tracked.path.bytes)) is tracked, and the guard keeps that name for the build stamp "
                    + "\(PathEscaping.display(stamp.displayPath.bytes)), its lock or its temporaries (it would replace or remove it): "
                    + "rename the file, or put the stamp elsewhere (--stamp); nothing was changed")
        }
        return restricted { !isReserved($0) }
    }

    /// The tracked paths: git-mtime sets their times, so the trust rule leaves them out.
    public var trackedPaths: Set<BytePath> { Set(manifest.entries.lazy.filter { !$0.isUntracked }.map(\.path)) }

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
        if let value = Environment.path(GuardContext.stampEnvironmentVariable) { return value }
        return root.appending(GuardContext.defaultStampRelativePath)
    }

    /// Where the stamp at `path` lives (RootedLocation): checked before any build command runs, and
    /// again, creating missing directories, when sealing.
    public func stampLocation(_ path: BytePath, create: Bool) throws(GuardError) -> RootedLocation {
        do { return try tree.locate(path, rootPath: root, create: create) } catch {
            switch error {
            case .invalid:
                throw .usage("--stamp \(error)")
            case .leavesRoot:
                // Resolved here only to word the advice; nothing is written through it.
                let place =
                    (try? FileSystem.resolve(path.parent.isEmpty ? BytePath(".") : path.parent))?.description ?? "<the real directory>"
                throw .usage(
                    "the build stamp \(path) would be written outside the root: \(error); nothing was changed. "
                        + "To keep the stamp there, name that place: --stamp (or \(GuardContext.stampEnvironmentVariable)) "
                        + "\(place)/\(path.lastComponent)")
            case .system(let error):
                throw .io(error)
            }
        }
    }

    /// Every parent directory of every entry is opened from the root without following symlinks; a
    /// symlink on the way is refused, naming its target.
    private static func refuseSymlinkedParents(_ entries: [ManifestEntry], tree: DirectoryTree) throws(GuardError) {
        var checked = Set<BytePath>()
        for entry in entries {
            let parent = entry.path.parent
            if parent.isEmpty || !checked.insert(parent).inserted { continue }
            do { _ = try tree.directory(parent) } catch {
                // Absent or not a directory: the entry is reported missing later; nothing below is reachable.
                if error.isAbsent { continue }
                guard error.isSymlink else { throw .io(error) }
                let symlink = firstSymlink(on: parent, tree: tree)
                let target = symlink.flatMap { try? tree.directory($0.parent).readLink($0.lastComponent) }.map { BytePath($0) }
                throw .usage(
                    "refusing manifest entry \(entry.path): its parent \(symlink ?? parent) is a symlink"
                        + (target.map { " to \($0)" } ?? "")
                        + "; the guard never follows symlinks below the root \(tree.root.path); nothing was changed")
            }
        }
    }

    /// The shortest prefix of `path` that is a symlink.
    private static func firstSymlink(on path: BytePath, tree: DirectoryTree) -> BytePath? {
        var prefix = BytePath([])
        for component in path.components {
            prefix = prefix.appending(BytePath(Array(component)))
            if (try? tree.statusIfPresent(prefix))??.kind == .symlink { return prefix }
        }
        return nil
    }
}
