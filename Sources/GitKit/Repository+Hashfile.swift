import CLibGit2
import MtimeCore

extension Repository {
    /// The blob id git would store for the working-tree file `path` (relative to the working tree),
    /// after the filters its attributes and config ask for (`core.autocrlf`, `text`, `eol`, `ident`…).
    public func hashWorkingTreeFile(_ path: BytePath) throws(GitError) -> ObjectID {
        guard let workdir else { throw GitError(code: -1, operation: "hash \(path)", message: "bare repository") }
        let full = workdir.appending(path)
        var oid = git_oid()
        let result = full.bytes.withNulTerminatedBytes { fullName in
            path.bytes.withNulTerminatedBytes { relativeName in
                git_repository_hashfile(&oid, handle, fullName, GIT_OBJECT_BLOB, relativeName)
            }
        }
        try check("hash \(path)", result)
        return ObjectID(oid)
    }

    /// Whether the untracked path (relative to the working tree) is ignored by `.gitignore`,
    /// `info/exclude` or `core.excludesFile`.
    public func isIgnored(_ path: BytePath) throws(GitError) -> Bool {
        var ignored: Int32 = 0
        let result = path.bytes.withNulTerminatedBytes { git_ignore_path_is_ignored(&ignored, handle, $0) }
        try check("check ignore rules for \(path)", result)
        return ignored != 0
    }
}

extension Array where Element == UInt8 {
    /// A NUL-terminated copy for C; callers pass paths that come from git or the file system (no NULs).
    func withNulTerminatedBytes<R>(_ body: (UnsafePointer<CChar>) -> R) -> R {
        var terminated = map { CChar(bitPattern: $0) }
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

extension Repository {
    /// Whether checking out `path` (relative to the working tree) runs any of git's filters
    /// (`core.autocrlf`, `text`/`eol`, `ident`, a `filter=` driver): only then can a clean file's
    /// bytes on disk differ from its blob.
    public func hasCheckoutFilters(_ path: BytePath) throws(GitError) -> Bool {
        var filters: OpaquePointer?
        let result = path.bytes.withNulTerminatedBytes { name in
            git_filter_list_load(&filters, handle, nil, name, GIT_FILTER_TO_WORKTREE, GIT_FILTER_DEFAULT.rawValue)
        }
        try check("read the attributes of \(path)", result)
        defer { git_filter_list_free(filters) }
        return filters != nil
    }
}
