import CLibGit2
import Glibc
import MtimeCore

/// Where git finds the repository, its working tree and index, decided by git's own rules
/// (setup.c): `GIT_DIR` (no discovery; without `GIT_WORK_TREE` or `core.worktree` the current
/// directory is the top of the working tree), `GIT_WORK_TREE`, `core.worktree` (relative to the git
/// dir), `core.bare`, `GIT_COMMON_DIR`, `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY`,
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`, and for discovery `.git` directories and files, bare
/// repositories, `GIT_CEILING_DIRECTORIES` and `GIT_DISCOVERY_ACROSS_FILESYSTEM`. libgit2 1.5 reads
/// only some of these (and refuses `GIT_WORK_TREE`), so every command resolves them here and opens
/// libgit2 on the result (`Repository(_:)`).
public struct RepositoryLocation: Sendable, Equatable {
    /// This worktree's git dir, symlink-free.
    public let gitDirectory: BytePath
    /// The git dir holding objects, refs and config (differs for a linked worktree).
    public let commonDirectory: BytePath
    /// The top of the working tree, symlink-free, no trailing `/`; nil for a bare repository.
    public let workTree: BytePath?
    public let indexFile: BytePath
    /// `GIT_OBJECT_DIRECTORY`, when set.
    public let objectDirectory: BytePath?
    /// `GIT_ALTERNATE_OBJECT_DIRECTORIES`.
    public let alternateObjectDirectories: [BytePath]
    /// The start directory relative to the working tree (empty at its top); nil when it lies outside
    /// it (possible with `GIT_WORK_TREE`), where git takes pathspecs relative to the top.
    public let prefix: BytePath?
    /// The shallow boundary's file: `GIT_SHALLOW_FILE`, else `shallow` in the common dir.
    public let shallowFile: BytePath
    /// `GIT_GRAFT_FILE`, when set (else git reads `<common dir>/info/grafts`).
    public let graftFile: BytePath?
    /// `GIT_REPLACE_REF_BASE`, or `refs/replace/`: where git finds replace refs.
    public let replaceRefBase: String
    /// `GIT_NO_REPLACE_OBJECTS` is set (to anything): git reads no replace refs unless
    /// `core.useReplaceRefs` says otherwise.
    public let replaceObjectsOffInEnvironment: Bool

    /// Whether the index is the git dir's own (no `GIT_INDEX_FILE` naming another).
    public var indexIsDefault: Bool { indexFile == gitDirectory.appending("index") }

    /// The objects directory git reads.
    public var objects: BytePath { objectDirectory ?? commonDirectory.appending("objects") }

    /// Finds the repository for `start` (default: `workingDirectory`). Relative paths in the
    /// environment are relative to `workingDirectory` (the process's current directory by default),
    /// as they are for git; the index, object and alternate directories to the top of the working
    /// tree, where git runs working-tree commands.
    public static func find(
        start: BytePath? = nil, workingDirectory: BytePath? = nil,
        environment: GitEnvironment = .current()
    ) throws(RepositoryError) -> RepositoryLocation {
        try Finder(workingDirectory: workingDirectory, environment: environment).find(start: start)
    }
}

private struct Finder {
    let environment: GitEnvironment
    /// The physical current directory, as `getcwd` gives it to git.
    let cwd: BytePath

    init(workingDirectory: BytePath?, environment: GitEnvironment) throws(RepositoryError) {
        self.environment = environment
        let directory = workingDirectory ?? BytePath(".")
        do { cwd = try FileSystem.resolve(directory) } catch { throw .inaccessible(directory, error) }
    }

    /// `path` if absolute, else below `base`.
    private func absolute(_ path: BytePath, from base: BytePath) -> BytePath {
        path.isAbsolute ? path : base.appending(path)
    }

    func find(start: BytePath?) throws(RepositoryError) -> RepositoryLocation {
        var startDirectory = cwd
        if let start {
            do { startDirectory = try FileSystem.resolve(absolute(start, from: cwd)) } catch { throw .inaccessible(start, error) }
        }
        if let explicit = environment.path("GIT_DIR") {
            return try explicitSetup(explicit, start: startDirectory, implicitWorkTree: try flag("GIT_IMPLICIT_WORK_TREE") ?? true)
        }
        let discovered = try discover(from: startDirectory)
        switch discovered {
        case .dotGit(let gitDirectory, let top, let gitFile):
            try RepositoryOwnership(environment: environment).check(gitFile: gitFile, workTree: top, gitDirectory: gitDirectory)
            let configuration = settings(of: gitDirectory)
            if environment.path("GIT_WORK_TREE") != nil || configuration.workTree != nil {
                return try explicitSetup(gitDirectory, start: startDirectory, implicitWorkTree: true)
            }
            if configuration.isBare == true { return try location(gitDirectory, workTree: nil, start: startDirectory) }
            return try location(gitDirectory, workTree: top, start: startDirectory)
        case .bare(let gitDirectory):
            try RepositoryOwnership(environment: environment).check(gitFile: nil, workTree: nil, gitDirectory: gitDirectory)
            let configuration = settings(of: gitDirectory)
            // Git sets GIT_IMPLICIT_WORK_TREE=0 here: a bare repository's parent is no working tree.
            if environment.path("GIT_WORK_TREE") != nil || configuration.workTree != nil {
                return try explicitSetup(gitDirectory, start: startDirectory, implicitWorkTree: false)
            }
            return try location(gitDirectory, workTree: nil, start: startDirectory)
        }
    }

    private func settings(of gitDirectory: BytePath) -> RepositoryConfiguration {
        RepositoryConfiguration(gitDirectory: gitDirectory, commonDirectory: commonDirectory(of: gitDirectory), environment: environment)
    }

    private func flag(_ name: String) throws(RepositoryError) -> Bool? {
        do { return try environment.flag(name) } catch { throw .badEnvironment(error) }
    }

    /// `setup_explicit_git_dir`.
    private func explicitSetup(_ given: BytePath, start: BytePath, implicitWorkTree: Bool) throws(RepositoryError) -> RepositoryLocation {
        var gitDirectory = absolute(given, from: cwd)
        if let followed = try readGitFile(gitDirectory) { gitDirectory = followed }
        guard isGitDirectory(gitDirectory) else { throw .notAGitDirectory(given) }
        gitDirectory = try resolved(gitDirectory)
        let configuration = settings(of: gitDirectory)
        let workTree: BytePath?
        if let fromEnvironment = environment.path("GIT_WORK_TREE") {
            workTree = try resolvedWorkTree(absolute(fromEnvironment, from: cwd), given: fromEnvironment)
        } else if configuration.isBare == true {
            if configuration.workTree != nil { throw .bareWithWorkTree(gitDirectory) }
            workTree = nil
        } else if let configured = configuration.workTree {
            workTree = try resolvedWorkTree(absolute(configured, from: gitDirectory), given: configured)
        } else if !implicitWorkTree {
            workTree = nil
        } else {
            workTree = cwd
        }
        return try location(gitDirectory, workTree: workTree, start: start)
    }

    private func resolvedWorkTree(_ path: BytePath, given: BytePath) throws(RepositoryError) -> BytePath {
        do { return try FileSystem.resolve(path) } catch { throw .invalidWorkTree(given, error) }
    }

    private func resolved(_ path: BytePath) throws(RepositoryError) -> BytePath {
        do { return try FileSystem.resolve(path) } catch { throw .inaccessible(path, error) }
    }

    private func location(_ gitDirectory: BytePath, workTree: BytePath?, start: BytePath) throws(RepositoryError) -> RepositoryLocation {
        let gitDirectory = try resolved(gitDirectory)
        // Git runs working-tree commands at the top of the working tree; relative index and object
        // paths are read from there.
        let base = workTree ?? cwd
        let indexFile = environment.path("GIT_INDEX_FILE").map { absolute($0, from: base) } ?? gitDirectory.appending("index")
        let alternates = (environment["GIT_ALTERNATE_OBJECT_DIRECTORIES"] ?? [])
            .split(separator: UInt8(ascii: ":")).map { absolute(BytePath(Array($0)), from: base) }
        let prefix = workTree.flatMap { start.relative(to: $0) }
        let common = try resolved(commonDirectory(of: gitDirectory))
        return RepositoryLocation(
            gitDirectory: gitDirectory, commonDirectory: common,
            workTree: workTree, indexFile: indexFile,
            objectDirectory: environment.path("GIT_OBJECT_DIRECTORY").map { absolute($0, from: base) },
            alternateObjectDirectories: alternates, prefix: prefix,
            shallowFile: environment.path("GIT_SHALLOW_FILE").map { absolute($0, from: base) } ?? common.appending("shallow"),
            graftFile: environment.path("GIT_GRAFT_FILE").map { absolute($0, from: base) },
            replaceRefBase: environment["GIT_REPLACE_REF_BASE"].map { String(decoding: $0, as: UTF8.self) } ?? "refs/replace/",
            replaceObjectsOffInEnvironment: environment["GIT_NO_REPLACE_OBJECTS"] != nil)
    }

    // MARK: Discovery (setup_git_directory_gently_1)

    private enum Discovered {
        /// `<top>/.git`, a directory or a file naming one.
        case dotGit(BytePath, top: BytePath, gitFile: BytePath?)
        case bare(BytePath)
    }

    private func discover(from start: BytePath) throws(RepositoryError) -> Discovered {
        let ceiling = ceilingLength(for: start)
        let acrossFileSystems = try flag("GIT_DISCOVERY_ACROSS_FILESYSTEM") ?? false
        let device = try deviceOf(start)
        var directory = start.bytes
        while true {
            let candidate = BytePath(directory).appending(".git")
            if let followed = try readGitFile(candidate) {
                return .dotGit(followed, top: BytePath(directory), gitFile: candidate)
            }
            if isGitDirectory(candidate) { return .dotGit(candidate, top: BytePath(directory), gitFile: nil) }
            if isGitDirectory(BytePath(directory)) { return .bare(BytePath(directory)) }
            if directory.count <= 1 { throw .notFound(start, reason: .reachedTop) }
            var offset = directory.count
            repeat { offset -= 1 } while offset > ceiling && directory[offset] != UInt8(ascii: "/")
            if offset <= ceiling { throw .notFound(start, reason: .ceiling) }
            directory = Array(directory[..<max(offset, 1)])
            if !acrossFileSystems, try deviceOf(BytePath(directory)) != device {
                throw .notFound(start, reason: .fileSystemBoundary(BytePath(directory)))
            }
        }
    }

    /// `GIT_CEILING_DIRECTORIES`: the length of the longest listed proper ancestor of `directory`,
    /// -1 for none. Absolute entries only; real paths, except after an empty entry.
    private func ceilingLength(for directory: BytePath) -> Int {
        guard let list = environment["GIT_CEILING_DIRECTORIES"] else { return -1 }
        var canonicalize = true
        var longest = -1
        if directory.bytes == [UInt8(ascii: "/")] { return -1 }
        for entry in list.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            if entry.isEmpty { canonicalize = false; continue }
            guard entry.first == UInt8(ascii: "/") else { continue }
            var ceiling = Array(entry)
            if canonicalize {
                guard let real = try? FileSystem.resolve(BytePath(ceiling)) else { continue }
                ceiling = real.bytes
            }
            var length = ceiling.count
            if length > 0 && ceiling[length - 1] == UInt8(ascii: "/") { length -= 1 }
            let path = directory.bytes
            guard path.count > length + 1, path.starts(with: ceiling[..<length]), path[length] == UInt8(ascii: "/") else { continue }
            longest = max(longest, length)
        }
        return longest
    }

    private func deviceOf(_ path: BytePath) throws(RepositoryError) -> UInt64 {
        var raw = stat()
        let result: Int32
        do { result = try path.withCString { stat($0, &raw) } } catch { throw .inaccessible(path, error) }
        guard result == 0 else { throw .inaccessible(path, SystemError.last("stat", path)) }
        return UInt64(raw.st_dev)
    }

    // MARK: What counts as a repository

    /// `is_git_directory`: a valid HEAD, and objects (or `GIT_OBJECT_DIRECTORY`) and refs in the
    /// common dir.
    func isGitDirectory(_ path: BytePath) -> Bool {
        guard Finder.isValidHead(path.appending("HEAD")) else { return false }
        let common = commonDirectory(of: path)
        let objects = environment.path("GIT_OBJECT_DIRECTORY").map { absolute($0, from: cwd) } ?? common.appending("objects")
        return Finder.isSearchable(objects) && Finder.isSearchable(common.appending("refs"))
    }

    private static func isSearchable(_ path: BytePath) -> Bool {
        (try? path.withCString { access($0, X_OK) }) == 0
    }

    /// `validate_headref`: a symlink into `refs/`, `ref: refs/…`, or an object id.
    private static func isValidHead(_ path: BytePath) -> Bool {
        guard let status = try? FileSystem.statusIfPresent(path) else { return false }
        if status.kind == .symlink {
            return (try? FileSystem.readSymlink(path))?.starts(with: Array("refs/".utf8)) ?? false
        }
        guard let contents = try? FileSystem.readFile(path, limit: 255) else { return false }
        if contents.starts(with: Array("ref:".utf8)) {
            let target = contents.dropFirst(4).drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
            if target.starts(with: Array("refs/".utf8)) { return true }
        }
        let hex = contents.prefix(while: { GitHex.isDigit($0) }).count
        return hex >= 40
    }

    /// `get_common_dir`: `GIT_COMMON_DIR`, else what `<git dir>/commondir` names, else the git dir.
    func commonDirectory(of gitDirectory: BytePath) -> BytePath {
        if let fromEnvironment = environment.path("GIT_COMMON_DIR") { return absolute(fromEnvironment, from: cwd) }
        guard var contents = try? FileSystem.readFile(gitDirectory.appending("commondir"), limit: 1 << 20, followingSymlinks: true)
        else { return gitDirectory }
        while let last = contents.last, last == 0x0A || last == 0x0D { contents.removeLast() }
        let named = absolute(BytePath(contents), from: gitDirectory)
        return (try? FileSystem.resolve(named)) ?? named
    }

    /// `read_gitfile_gently`: the git dir a `.git` file names; nil when `path` is missing or not a
    /// regular file. A file that is there but unusable is an error, as it is for git.
    private func readGitFile(_ path: BytePath) throws(RepositoryError) -> BytePath? {
        var raw = stat()
        guard (try? path.withCString({ stat($0, &raw) })) == 0, raw.st_mode & S_IFMT == S_IFREG else { return nil }
        guard raw.st_size <= 1 << 20 else { throw .invalidGitFile(path, .tooLarge) }
        var contents: [UInt8]
        do { contents = try FileSystem.readFile(path, limit: 1 << 20, followingSymlinks: true) } catch { throw .inaccessible(path, error) }
        guard contents.starts(with: Array("gitdir: ".utf8)) else { throw .invalidGitFile(path, .format) }
        while let last = contents.last, last == 0x0A || last == 0x0D { contents.removeLast() }
        guard contents.count >= 9 else { throw .invalidGitFile(path, .noPath) }
        let named = BytePath(Array(contents.dropFirst(8)))
        let target = absolute(named, from: path.parent)
        guard isGitDirectory(target) else { throw .invalidGitFile(path, .notARepository(named)) }
        return try resolved(target)
    }
}

/// The few settings git reads while finding the working tree (`check_repository_format_gently`):
/// `core.bare` and `core.worktree` from the common config, overridden by `config.worktree` with
/// `extensions.worktreeConfig`; ignored unless `core.repositoryformatversion` is set, and ignored for
/// a git dir with a separate common dir (a linked worktree) unless `extensions.worktreeConfig` is on.
private struct RepositoryConfiguration {
    var isBare: Bool?
    var workTree: BytePath?

    init(gitDirectory: BytePath, commonDirectory: BytePath, environment: GitEnvironment) {
        guard let common = ConfigFile(commonDirectory.appending("config")),
            common.integer("core.repositoryformatversion") != nil
        else { return }
        var hasCommon =
            environment.path("GIT_COMMON_DIR") != nil
            || (try? FileSystem.statusIfPresent(gitDirectory.appending("commondir"))) != nil
        isBare = common.bool("core.bare")
        workTree = common.string("core.worktree").map(BytePath.init)
        if common.bool("extensions.worktreeConfig") == true {
            hasCommon = false
            if let worktree = ConfigFile(gitDirectory.appending("config.worktree")) {
                isBare = worktree.bool("core.bare") ?? isBare
                workTree = worktree.string("core.worktree").map(BytePath.init) ?? workTree
            }
        }
        if hasCommon {
            isBare = nil
            workTree = nil
        }
    }
}

/// One config file, read on its own (no system or global levels), as git reads a repository's
/// format settings. Owns its `git_config`.
final class ConfigFile {
    private let handle: OpaquePointer

    /// Nil when the file cannot be parsed (a missing file reads as empty).
    init?(_ path: BytePath) {
        Library.ensureInitialized()
        var raw: OpaquePointer?
        let result = (try? path.withCString { git_config_open_ondisk(&raw, $0) }) ?? -1
        guard result == 0, let raw else { return nil }
        handle = raw
    }

    deinit { git_config_free(handle) }

    func string(_ name: String) -> [UInt8]? {
        var entry: UnsafeMutablePointer<git_config_entry>?
        guard git_config_get_entry(&entry, handle, name) == 0, let entry else { return nil }
        defer { git_config_entry_free(entry) }
        guard let value = entry.pointee.value else { return nil }
        return Array(UnsafeRawBufferPointer(start: value, count: strlen(value)))
    }

    /// Every value of a multivar, in file order (a key without a value reads as empty).
    func all(_ name: String) -> [[UInt8]] {
        var iterator: OpaquePointer?
        guard git_config_multivar_iterator_new(&iterator, handle, name, nil) == 0, let iterator else { return [] }
        defer { git_config_iterator_free(iterator) }
        var values: [[UInt8]] = []
        var entry: UnsafeMutablePointer<git_config_entry>?
        while git_config_next(&entry, iterator) == 0, let entry {
            values.append(entry.pointee.value.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? [])
        }
        return values
    }

    func bool(_ name: String) -> Bool? {
        var value: Int32 = 0
        return git_config_get_bool(&value, handle, name) == 0 ? value != 0 : nil
    }

    func integer(_ name: String) -> Int32? {
        var value: Int32 = 0
        return git_config_get_int32(&value, handle, name) == 0 ? value : nil
    }
}

enum GitHex {
    static func isDigit(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }
}
