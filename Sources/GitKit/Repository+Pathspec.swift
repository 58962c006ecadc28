import Glibc
import CLibGit2
import MtimeCore

/// A compiled git pathspec: globs (`*` crosses `/`, as in git) and directory prefixes, relative to
/// the working-tree root. No `:(magic)`, and libgit2's `!pattern` does not exclude what lies below a
/// directory: match exclusions as a pathspec of their own. Owns its `git_pathspec`.
public final class Pathspec {
    private let handle: OpaquePointer

    public init(_ patterns: [String]) throws(GitError) {
        Library.ensureInitialized()
        var duplicated: [UnsafeMutablePointer<CChar>?] = patterns.map { strdup($0) }
        defer { duplicated.forEach { free($0) } }
        var raw: OpaquePointer?
        let result = duplicated.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_pathspec_new(&raw, &array)
        }
        try check("parse pathspec \(patterns.joined(separator: " "))", result)
        handle = raw!
    }

    deinit { git_pathspec_free(handle) }

    /// True when `path` (relative to the working-tree root) matches; an empty pathspec matches everything.
    public func matches(_ path: BytePath) -> Bool {
        path.bytes.withNulTerminatedBytes { git_pathspec_matches_path(handle, 0, $0) } == 1
    }
}
