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
/// filters may apply to counts as filtered (hashed: slower, never wrong). The same holds when an
/// attribute file has a line libgit2 1.5 reads unlike git 2.39 (`AttributeFileReading`): then git
/// alone decides every file's conversions.
///
/// Looked into only when first asked: a plain restore never asks.
final class CheckoutFilters {
    private let repository: Repository
    private let files: WorkingTreeFiles
    private let trackedPaths: () -> [BytePath]
    private let indexIsSplit: Bool
    private var knownMayApply: Bool?
    /// Whether only git reads the attribute files as git does (known with `knownMayApply`).
    private var onlyGitReadsAttributes = false

    /// `trackedPaths`: every tracked path (attribute files next to them count).
    init(repository: Repository, files: WorkingTreeFiles, trackedPaths: @escaping () -> [BytePath], indexIsSplit: Bool) {
        self.repository = repository
        self.files = files
        self.trackedPaths = trackedPaths
        self.indexIsSplit = indexIsSplit
    }

    private func mayApply() throws -> Bool {
        if let knownMayApply { return knownMayApply }
        let sources = try CheckoutFilters.attributeFiles(repository: repository, files: files, trackedPaths: trackedPaths())
        // With core.ignoreCase git matches attribute patterns ignoring case; libgit2 1.5 does not.
        onlyGitReadsAttributes =
            sources.contains { $0.libgit2ReadsItUnlikeGit }
            || (!sources.isEmpty && (try? repository.configBool("core.ignoreCase", default: false)) == true)
        let answer = try CheckoutFilters.autocrlf(repository) || !sources.isEmpty
        knownMayApply = answer
        return answer
    }

    /// Whether git, not libgit2, must decide the conversions (see the type's comment).
    private func gitDecides() -> Bool {
        indexIsSplit || ((try? mayApply()) == true && onlyGitReadsAttributes)
    }

    /// Whether checking out `path` with `mode` runs a filter (symlinks never do).
    func apply(to path: BytePath, mode: UInt32) throws -> Bool {
        guard mode != 0o120000, try mayApply() else { return false }
        if gitDecides() { return true }
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
        guard gitDecides() || (try? repository.hasConversionsOnlyGitRuns(path)) != false else {
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

    /// Every attribute file git may read for this working tree; a `core.attributesFile` that can't be
    /// found counts as one libgit2 may read unlike git.
    private static func attributeFiles(repository: Repository, files: WorkingTreeFiles, trackedPaths: [BytePath]) throws(SystemError)
        -> [AttributeFileReading]
    {
        let name = BytePath(".gitattributes")
        var directories: Set<BytePath> = [BytePath([])]
        var found: [AttributeFileReading] = []
        // A hostile tree can carry a path git would never check out (`../x`): nothing of it is on disk.
        for path in trackedPaths where ManifestEntry.unsafePathReason(path) == nil {
            directories.insert(path.parent)
        }
        // Untracked attribute files count too (git reads the working tree's).
        for directory in directories.sorted() {
            let path = directory.appending(name)
            guard let status = try files.status(path) else { continue }
            // git 2.39 never follows an in-tree .gitattributes that is a symlink; libgit2 1.5 does. One
            // that can't be read (git warns and goes on) leaves the decisions to git too.
            let contents = status.kind == .regular ? try? files.contents(path) : nil
            found.append(contents.map { AttributeFileReading(contents: $0) } ?? AttributeFileReading(misread: true))
        }
        var elsewhere = [repository.commonDirectory.appending("info/attributes"), BytePath("/etc/gitattributes")]
        if let config = Environment.path("XDG_CONFIG_HOME") { elsewhere.append(config.appending("git/attributes")) }
        if let home = Environment.path("HOME") { elsewhere.append(home.appending(".config/git/attributes")) }
        if let configured = repository.configString("core.attributesFile") {
            if configured.hasPrefix("~/"), let home = Environment.path("HOME") {
                elsewhere.append(home.appending(String(configured.dropFirst(2))))
            } else if configured.hasPrefix("/") {
                elsewhere.append(BytePath(configured))
            } else {
                found.append(AttributeFileReading(misread: true))
            }
        }
        for path in elsewhere where try FileSystem.statusIfPresent(path, followingSymlinks: true) != nil {
            let contents = try? FileSystem.readFile(path, limit: AttributeFileReading.largestFileGitReads + 1, followingSymlinks: true)
            found.append(contents.map { AttributeFileReading(contents: $0) } ?? AttributeFileReading(misread: true))
        }
        return found
    }
}

/// One attribute file, and whether libgit2 1.5 reads it unlike git 2.39 (attr.c): git unquotes a
/// pattern written in double quotes (libgit2 takes the quotes as part of the name, so the line names
/// another file); git ignores a whole line naming an attribute that isn't valid (`f.c -text #note`:
/// `#note`), a line of 2048 bytes or more (`ATTR_MAX_LINE_LENGTH`) and a file over 100 MiB
/// (`ATTR_MAX_FILE_SIZE`), which libgit2 applies. A file git would read differently makes libgit2's
/// conversions untrustworthy for every path: a file git calls modified could pass as clean.
struct AttributeFileReading {
    static let longestLineGitReads = 2047
    static let largestFileGitReads = 100 << 20
    let libgit2ReadsItUnlikeGit: Bool

    init(misread: Bool) { libgit2ReadsItUnlikeGit = misread }

    init(contents: [UInt8]) {
        guard contents.count <= AttributeFileReading.largestFileGitReads else {
            libgit2ReadsItUnlikeGit = true
            return
        }
        libgit2ReadsItUnlikeGit = contents.split(separator: UInt8(ascii: "\n")).contains(where: AttributeFileReading.readsUnlikeGit)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// git's `attr_name_valid`: letters, digits, `-`, `.`, `_`, not starting with `-`.
    private static func isValidName<C: Collection>(_ name: C) -> Bool where C.Element == UInt8 {
        guard let first = name.first, first != UInt8(ascii: "-") else { return false }
        return name.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
    }

    private static func readsUnlikeGit(_ line: ArraySlice<UInt8>) -> Bool {
        if line.count > longestLineGitReads { return true }
        let words = line.split(whereSeparator: isBlank)
        guard let pattern = words.first, pattern.first != UInt8(ascii: "#") else { return false }
        if pattern.first == UInt8(ascii: "\"") { return true }
        let macro = Array("[attr]".utf8)
        if pattern.starts(with: macro), !isValidName(pattern.dropFirst(macro.count)) { return true }
        return words.dropFirst().contains { word in
            var name = word[...]
            if name.first == UInt8(ascii: "-") || name.first == UInt8(ascii: "!") { name = name.dropFirst() }
            return !isValidName(name.prefix { $0 != UInt8(ascii: "=") })
        }
    }
}
