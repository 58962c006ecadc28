import CLibGit2
import MtimeCore

/// An open repository. Owns its `git_repository` handle; everything else in GitKit borrows it.
/// Opened where `RepositoryLocation` says git would find it: libgit2 is told the git dir, working
/// tree, index and object directories, never left to discover them itself.
public final class Repository {
    let handle: OpaquePointer
    public let location: RepositoryLocation
    /// `git -c` settings, over the configuration files libgit2 reads (Repository+Config.swift).
    public let commandLineConfig: CommandLineConfig
    /// The memory file libgit2 reads `commandLineConfig` from (`CommandLineConfig.addLayer`).
    private let commandLineLayer: FileDescriptor?

    /// Opens the repository git would use in `path` (like `git -C path`), honouring git's environment.
    public convenience init(discoveringFrom path: String, environment: GitEnvironment = .current()) throws(RepositoryError) {
        try self.init(RepositoryLocation.find(start: BytePath(path), environment: environment), environment: environment)
    }

    /// A SHA-256 repository is refused with a clear error: libgit2 1.5 cannot read it. `environment`
    /// gives the `git -c` settings (as git would, a malformed one is an error).
    public init(_ location: RepositoryLocation, environment: GitEnvironment = .current()) throws(RepositoryError) {
        Library.ensureInitialized()
        do { commandLineConfig = try CommandLineConfig(environment: environment) } catch { throw .badCommandLineConfig(error) }
        if let format = ConfigFile(location.commonDirectory.appending("config"))?.string("extensions.objectformat"),
            String(decoding: format, as: UTF8.self).lowercased() != "sha1"
        {
            throw .unsupportedObjectFormat(location.workTree ?? location.gitDirectory)
        }
        var raw: OpaquePointer?
        // Open exactly this git dir, bare: libgit2 would otherwise pick its own working tree.
        let flags = GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue | GIT_REPOSITORY_OPEN_NO_DOTGIT.rawValue | GIT_REPOSITORY_OPEN_BARE.rawValue
        let result: Int32
        do { result = try location.gitDirectory.withCString { git_repository_open_ext(&raw, $0, flags, nil) } } catch {
            throw .inaccessible(location.gitDirectory, error)
        }
        if result < 0 { throw .git(GitError.last(result, "open repository at \(location.gitDirectory)")) }
        let handle = raw!
        var layer: FileDescriptor?
        do throws(RepositoryError) {
            // libgit2 reads the common dir from `<git dir>/commondir`; a different GIT_COMMON_DIR it cannot follow.
            let common = BytePath(cString: git_repository_commondir(handle))
            if (try? FileSystem.resolve(common)) != location.commonDirectory {
                throw .unsupportedCommonDirectory(given: location.commonDirectory, libgit2: common)
            }
            do {
                try Repository.configure(handle, location)
                layer = try ConfigurationFiles.apply(
                    environment, commandLine: commandLineConfig, to: handle, gitDirectory: location.gitDirectory,
                    commonDirectory: location.commonDirectory)
            } catch { throw .git(error) }
            // libgit2 opens the index blocking and reads what it is: a FIFO there would hang every command.
            if (try? FileSystem.statusIfPresent(location.indexFile)) != nil,
                case .notARegularFile = IndexFileProblem.diagnose(location.indexFile)
            {
                throw .invalidIndex(location.indexFile, .notARegularFile, fromEnvironment: !location.indexIsDefault)
            }
            if !location.indexIsDefault {
                let index = try Repository.openIndex(location)
                defer { git_index_free(index) }
                do { try check("use the index \(location.indexFile)", git_repository_set_index(handle, index)) } catch { throw .git(error) }
            }
        } catch {
            git_repository_free(handle)
            throw error
        }
        self.handle = handle
        self.location = location
        commandLineLayer = layer
    }

    /// Gives libgit2 the working tree, the index and the object directories git would use.
    private static func configure(_ handle: OpaquePointer, _ location: RepositoryLocation) throws(GitError) {
        if let workTree = location.workTree {
            try check("set the working tree \(workTree)", (try? workTree.withCString { git_repository_set_workdir(handle, $0, 0) }) ?? -1)
        }
        if location.objectDirectory != nil || !location.alternateObjectDirectories.isEmpty {
            if let objects = location.objectDirectory {
                var odb: OpaquePointer?
                try check("open the object directory \(objects)", (try? objects.withCString { git_odb_open(&odb, $0) }) ?? -1)
                defer { git_odb_free(odb) }
                try check("use the object directory \(objects)", git_repository_set_odb(handle, odb))
            }
            var odb: OpaquePointer?
            try check("open object database", git_repository_odb(&odb, handle))
            defer { git_odb_free(odb) }
            for alternate in location.alternateObjectDirectories {
                try check(
                    "add the alternate object directory \(alternate)",
                    (try? alternate.withCString { git_odb_add_disk_alternate(odb, $0) }) ?? -1)
            }
        }
    }

    deinit { git_repository_free(handle) }

    /// A standalone `git_index` read from the location's index file (the caller frees it); a missing
    /// file is an empty index, as for git. A file libgit2 cannot read is diagnosed in git's words.
    static func openIndex(_ location: RepositoryLocation) throws(RepositoryError) -> OpaquePointer {
        var raw: OpaquePointer?
        let result = (try? location.indexFile.withCString { git_index_open(&raw, $0) }) ?? -1
        guard result == 0, let raw else {
            throw .invalidIndex(
                location.indexFile, IndexFileProblem.diagnose(location.indexFile), fromEnvironment: !location.indexIsDefault)
        }
        return raw
    }

    /// No working tree (a bare repository, or `core.bare`, or `git --bare`).
    public var isBare: Bool { location.workTree == nil }
    /// A shallow file (`location.shallowFile`) that lists a commit, as git decides it.
    public var isShallow: Bool { !((try? shallowBoundaryCommits()) ?? []).isEmpty }
    public var isHeadUnborn: Bool { git_repository_head_unborn(handle) == 1 }
    public var isWorktree: Bool { git_repository_is_worktree(handle) == 1 }

    /// The working tree root, with a trailing `/`; nil for a bare repository.
    public var workdir: BytePath? { location.workTree.map { BytePath($0.bytes + [UInt8(ascii: "/")]) } }

    /// This worktree's private git dir (`.git`, or `.git/worktrees/NAME` for a linked worktree),
    /// with a trailing `/` as libgit2 writes it (the history cache's identity is made from these bytes).
    public var gitDirectory: BytePath { BytePath(location.gitDirectory.bytes + [UInt8(ascii: "/")]) }

    /// The git dir shared by all worktrees (objects, refs, config), with a trailing `/`.
    public var commonDirectory: BytePath { BytePath(location.commonDirectory.bytes + [UInt8(ascii: "/")]) }

    /// The commit HEAD points at. A HEAD naming an annotated tag (written by hand: `git checkout TAG`
    /// detaches at the commit) is peeled to its commit, as git does.
    public func headCommitID() throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check("resolve HEAD", git_reference_name_to_id(&oid, handle, "HEAD"))
        var tag: OpaquePointer?
        guard git_object_lookup(&tag, handle, &oid, GIT_OBJECT_TAG) == 0, let tag else {
            git_error_clear()
            return ObjectID(oid)
        }
        defer { git_object_free(tag) }
        var commit: OpaquePointer?
        try check("peel HEAD's tag \(ObjectID(oid)) to a commit", git_object_peel(&commit, tag, GIT_OBJECT_COMMIT))
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit).pointee)
    }

    /// The branch HEAD is on (`refs/heads/main`); nil when HEAD is detached.
    public var headBranch: String? {
        var reference: OpaquePointer?
        guard git_reference_lookup(&reference, handle, "HEAD") == 0, let reference else { return nil }
        defer { git_reference_free(reference) }
        guard let target = git_reference_symbolic_target(reference) else { return nil }
        return String(cString: target)
    }

    /// Commits listed in `shallow` (a shallow clone's boundary), or the file `GIT_SHALLOW_FILE`
    /// names: git treats them as having no parents.
    public func shallowBoundaryCommits() throws(SystemError) -> Set<ObjectID> {
        let file = location.shallowFile
        guard try FileSystem.statusIfPresent(file) != nil else { return [] }
        // One line per boundary commit; a larger file is no shallow file git wrote.
        let contents = try FileSystem.readFile(file, limit: 1 << 30)
        var commits = Set<ObjectID>()
        for line in contents.split(separator: 0x0A) {
            if let id = ObjectID(hex: String(decoding: line, as: UTF8.self)) { commits.insert(id) }
        }
        return commits
    }
}

extension ObjectID {
    init(_ oid: git_oid) {
        self = withUnsafeBytes(of: oid.id) { ObjectID(loading: $0.baseAddress!) }
    }

    var gitOID: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: middle.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 16, as: UInt32.self)
        }
        return oid
    }
}
