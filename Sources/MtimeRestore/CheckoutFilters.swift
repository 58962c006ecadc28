import Glibc
import GitKit
import MtimeCore
import MtimeManifest

/// Whether git's checkout filters (`core.autocrlf`, the `text`/`eol`, `ident` and `filter`
/// attributes) may have made a clean file's bytes on disk differ from its blob: only those files
/// need hashing to describe the bytes on disk (docs/manifest.md).
///
/// Asking libgit2 costs an attribute lookup per file (it checks every `.gitattributes` on the way),
/// so a repository with no attribute file anywhere and no `core.autocrlf=true` is answered at once.
///
/// libgit2 can't read a split index, and its attribute lookup reads the index: with one, every file
/// filters may apply to counts as filtered (hashed: slower, never wrong).
///
/// Looked into only when first asked: a plain restore never asks.
final class CheckoutFilters {
    private let repository: Repository
    private let files: WorkingTreeFiles
    private let trackedPaths: () -> [BytePath]
    private let indexIsSplit: Bool
    private var knownMayApply: Bool?

    /// `trackedPaths`: every tracked path (attribute files next to them count).
    init(repository: Repository, files: WorkingTreeFiles, trackedPaths: @escaping () -> [BytePath], indexIsSplit: Bool) {
        self.repository = repository
        self.files = files
        self.trackedPaths = trackedPaths
        self.indexIsSplit = indexIsSplit
    }

    private func mayApply() throws -> Bool {
        if let knownMayApply { return knownMayApply }
        let answer =
            try CheckoutFilters.autocrlf(repository)
            || CheckoutFilters.hasAttributeFiles(repository: repository, files: files, trackedPaths: trackedPaths())
        knownMayApply = answer
        return answer
    }

    /// Whether checking out `path` with `mode` runs a filter (symlinks never do).
    func apply(to path: BytePath, mode: UInt32) throws -> Bool {
        guard mode != 0o120000, try mayApply() else { return false }
        if indexIsSplit { return true }
        return try repository.hasCheckoutFilters(path)
    }

    /// The blob id git would store for `bytes`, the working-tree content of `path`, with its filters
    /// (autocrlf, eol, ident, a `filter=` driver, working-tree-encoding) applied; nil when that can't
    /// be told: the caller treats the file as modified. libgit2 runs the first three; git hashes the
    /// bytes as `path` (`hash-object --path`, from a private copy: the working-tree file is never
    /// opened by path) for the conversions only git runs (as `git status` runs the driver's clean
    /// command, configured by the user, never by the repository's content), and for every file when
    /// the index is split or sparse (libgit2 can't read attributes then: it reads the index for them).
    func blobID(ofWorkingTreeBytes bytes: [UInt8], path: BytePath) -> ObjectID? {
        guard indexIsSplit || (try? repository.hasConversionsOnlyGitRuns(path)) != false else {
            return try? repository.blobID(ofWorkingTreeBytes: bytes, path: path)
        }
        let scratch = repository.gitDirectory.appending("git-mtime")
        let copy = BytePath(Array(".filter-input\(HeldDirectory.temporaryMarker)\(getpid())".utf8))
        let root = files.tree.root.path
        do throws(SystemError) {
            try FileSystem.createDirectory(scratch)
            let directory = try HeldDirectory(opening: scratch)
            try directory.remove(copy)
            defer { try? directory.remove(copy) }
            let file = try directory.createFile(copy, permissions: 0o600)
            try file.write(bytes)
            let result = try ChildProcess.captureBytes(
                [
                    "git", "-C", "\(root)", "--git-dir=\(repository.gitDirectory)", "--work-tree=\(root)", "hash-object",
                    "--path=\(path)", "--", "\(scratch.appending(copy))",
                ],
                includingStandardError: false)
            guard result.termination == .exited(0), let line = result.output.split(separator: UInt8(ascii: "\n")).first else { return nil }
            return ObjectID(hex: String(decoding: line, as: UTF8.self))
        } catch {
            return nil
        }
    }

    private static func autocrlf(_ repository: Repository) -> Bool {
        guard let value = repository.configString("core.autocrlf")?.lowercased() else { return false }
        return ["true", "yes", "on", "1"].contains(value)  // `input` only converts on the way in
    }

    private static func hasAttributeFiles(repository: Repository, files: WorkingTreeFiles, trackedPaths: [BytePath]) throws(SystemError)
        -> Bool
    {
        let name = BytePath(".gitattributes")
        var directories: Set<BytePath> = [BytePath([])]
        // A hostile tree can carry a path git would never check out (`../x`): nothing of it is on disk.
        for path in trackedPaths where ManifestEntry.unsafePathReason(path) == nil {
            if path.lastComponent == name { return true }
            directories.insert(path.parent)
        }
        // Untracked attribute files count too (git reads the working tree's).
        for directory in directories where try files.status(directory.appending(name)) != nil {
            return true
        }
        if repository.configString("core.attributesFile") != nil { return true }
        var elsewhere = [repository.commonDirectory.appending("info/attributes"), BytePath("/etc/gitattributes")]
        if let config = Environment.path("XDG_CONFIG_HOME") { elsewhere.append(config.appending("git/attributes")) }
        if let home = Environment.path("HOME") { elsewhere.append(home.appending(".config/git/attributes")) }
        for path in elsewhere where try FileSystem.statusIfPresent(path) != nil { return true }
        return false
    }
}
