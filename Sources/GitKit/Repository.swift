import CLibGit2
import MtimeCore

/// An open repository. Owns its `git_repository` handle; everything else in GitKit borrows it.
public final class Repository {
    let handle: OpaquePointer

    /// Opens the repository containing `path` (like `git -C path`), searching upwards.
    /// A SHA-256 repository is refused with a clear error: libgit2 1.5 cannot read it.
    public init(discoveringFrom path: String) throws(GitError) {
        Library.ensureInitialized()
        var raw: OpaquePointer?
        let result = git_repository_open_ext(&raw, path, 0, nil)
        if result < 0 {
            let error = GitError.last(result, "open repository at \(path)")
            // libgit2 1.5 refuses the unknown `extensions.objectformat` of a SHA-256 repository.
            if error.message.lowercased().contains("objectformat") { throw Repository.sha256Unsupported(path) }
            throw error
        }
        handle = raw!
        guard objectFormatIsSupported else { throw Repository.sha256Unsupported(path) }
    }

    /// Opens the repository whose git dir is exactly `gitDirectory` (no discovery): a second,
    /// independent handle for another thread, since one libgit2 handle must not be shared.
    public init(gitDirectory: BytePath) throws(GitError) {
        Library.ensureInitialized()
        var raw: OpaquePointer?
        let path = gitDirectory.bytes.map { CChar(bitPattern: $0) } + [0]
        try check("open repository at \(gitDirectory)", git_repository_open(&raw, path))
        handle = raw!
    }

    deinit { git_repository_free(handle) }

    private static func sha256Unsupported(_ path: String) -> GitError {
        GitError(code: -1, operation: "open repository at \(path)",
                 message: "SHA-256 repositories are not supported by libgit2 1.5")
    }

    public var isBare: Bool { git_repository_is_bare(handle) == 1 }
    public var isShallow: Bool { git_repository_is_shallow(handle) == 1 }
    public var isHeadUnborn: Bool { git_repository_head_unborn(handle) == 1 }
    public var isWorktree: Bool { git_repository_is_worktree(handle) == 1 }

    /// False for a SHA-256 repository (`extensions.objectformat = sha256`), which libgit2 1.5 cannot read.
    public var objectFormatIsSupported: Bool {
        guard let format = configString("extensions.objectformat") else { return true }
        return format.lowercased() == "sha1"
    }

    /// A config value from a snapshot of the repository's configuration; nil when unset or unreadable.
    public func configString(_ name: String) -> String? {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, handle) == 0, let config else { return nil }
        defer { git_config_free(config) }
        var value: UnsafePointer<CChar>?
        guard git_config_get_string(&value, config, name) == 0, let value else { return nil }
        return String(cString: value)
    }

    /// The working tree root, with a trailing `/`; nil for a bare repository.
    public var workdir: BytePath? {
        git_repository_workdir(handle).map { BytePath(Array(String(cString: $0).utf8)) }
    }

    /// This worktree's private git dir (`.git`, or `.git/worktrees/NAME` for a linked worktree).
    public var gitDirectory: BytePath { BytePath(Array(String(cString: git_repository_path(handle)).utf8)) }

    /// The git dir shared by all worktrees (objects, refs, config).
    public var commonDirectory: BytePath { BytePath(Array(String(cString: git_repository_commondir(handle)).utf8)) }

    /// The commit HEAD points at.
    public func headCommitID() throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check("resolve HEAD", git_reference_name_to_id(&oid, handle, "HEAD"))
        return ObjectID(oid)
    }

    /// The branch HEAD is on (`refs/heads/main`); nil when HEAD is detached.
    public var headBranch: String? {
        var reference: OpaquePointer?
        guard git_reference_lookup(&reference, handle, "HEAD") == 0, let reference else { return nil }
        defer { git_reference_free(reference) }
        guard let target = git_reference_symbolic_target(reference) else { return nil }
        return String(cString: target)
    }

    /// Commits listed in `shallow` (a shallow clone's boundary): git treats them as having no parents.
    public func shallowBoundaryCommits() throws(SystemError) -> Set<ObjectID> {
        let file = commonDirectory.appending("shallow")
        guard try FileSystem.statusIfPresent(file) != nil else { return [] }
        let contents = try FileSystem.readFile(file)
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
