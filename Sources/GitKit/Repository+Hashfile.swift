import CLibGit2
import MtimeCore

extension Repository {
    /// The blob id git would store for `bytes`, the working-tree content of `path` (relative to the
    /// working tree), after the filters its attributes and config ask for (`core.autocrlf`, `text`,
    /// `eol`, `ident`…). The caller reads the bytes (through its held directories); libgit2 only
    /// filters them, never opening the working-tree file by path.
    public func blobID(ofWorkingTreeBytes bytes: [UInt8], path: BytePath) throws(GitError) -> ObjectID {
        var filters: OpaquePointer?
        let loaded = path.bytes.withNulTerminatedBytes { name in
            git_filter_list_load(&filters, handle, nil, name, GIT_FILTER_TO_ODB, GIT_FILTER_ALLOW_UNSAFE.rawValue)
        }
        try check("read the attributes of \(path)", loaded)
        defer { git_filter_list_free(filters) }
        var oid = git_oid()
        guard let filters else {
            try check("hash \(path)", bytes.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) })
            return ObjectID(oid)
        }
        var filtered = git_buf()
        defer { git_buf_dispose(&filtered) }
        // An empty array may have no storage at all; libgit2 wants a pointer all the same.
        let source = bytes.isEmpty ? [UInt8(0)] : bytes
        let applied = source.withUnsafeBytes { raw in
            git_filter_list_apply_to_buffer(&filtered, filters, raw.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        try check("filter \(path)", applied)
        try check("hash \(path)", git_odb_hash(&oid, filtered.ptr, filtered.size, GIT_OBJECT_BLOB))
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
        if filters != nil { return true }
        return try hasConversionsOnlyGitRuns(path)
    }

    /// Whether `path` has a checkout conversion libgit2 leaves out of its filter lists: a `filter=`
    /// driver (git-lfs, any `filter.<name>.smudge` or `.process`) or `working-tree-encoding`. git
    /// rewrites such a file's bytes on checkout, and only git can map them back to the blob.
    public func hasConversionsOnlyGitRuns(_ path: BytePath) throws(GitError) -> Bool {
        var values: [UnsafePointer<CChar>?] = [nil, nil]
        let result = "filter".withCString { filter in
            "working-tree-encoding".withCString { encoding in
                var names: [UnsafePointer<CChar>?] = [filter, encoding]
                return path.bytes.withNulTerminatedBytes { name in
                    git_attr_get_many(&values, handle, UInt32(GIT_ATTR_CHECK_FILE_THEN_INDEX), name, names.count, &names)
                }
            }
        }
        try check("read the attributes of \(path)", result)
        return values.contains { git_attr_value($0) == GIT_ATTR_VALUE_STRING }
    }
}
