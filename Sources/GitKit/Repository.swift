import CLibGit2
import MtimeCore

/// An open repository. Owns its `git_repository` handle; everything else in GitKit borrows it.
public final class Repository {
    let handle: OpaquePointer

    /// Opens the repository containing `path` (like `git -C path`), searching upwards.
    public init(discoveringFrom path: String) throws(GitError) {
        Library.ensureInitialized()
        var raw: OpaquePointer?
        try check("open repository at \(path)", git_repository_open_ext(&raw, path, 0, nil))
        handle = raw!
    }

    deinit { git_repository_free(handle) }

    public var isBare: Bool { git_repository_is_bare(handle) == 1 }
    public var isShallow: Bool { git_repository_is_shallow(handle) == 1 }
    public var isHeadUnborn: Bool { git_repository_head_unborn(handle) == 1 }
    public var isWorktree: Bool { git_repository_is_worktree(handle) == 1 }

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
}

extension ObjectID {
    init(_ oid: git_oid) {
        self = withUnsafeBytes(of: oid.id) { ObjectID(bytes: $0) }
    }

    var gitOID: git_oid {
        var oid = git_oid()
        let raw = bytes
        withUnsafeMutableBytes(of: &oid.id) { $0.copyBytes(from: raw) }
        return oid
    }
}
