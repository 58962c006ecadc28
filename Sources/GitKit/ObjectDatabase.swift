import CLibGit2
import MtimeCore

/// The object database of one repository: reads raw objects without libgit2's parsed object layer.
/// Not thread-safe; open one per thread (each on its own `Repository`).
public final class ObjectDatabase {
    let handle: OpaquePointer
    // The odb is reference-counted by libgit2, but our `Repository` must outlive it for its config and paths.
    private let repository: Repository

    public init(_ repository: Repository) throws(GitError) {
        var raw: OpaquePointer?
        try check("open object database", git_repository_odb(&raw, repository.handle))
        handle = raw!
        self.repository = repository
    }

    deinit { git_odb_free(handle) }

    /// Reads and parses a tree object.
    public func tree(_ id: ObjectID) throws(GitError) -> Tree {
        try withObject(id, expecting: GIT_OBJECT_TREE, "read tree") { bytes throws(GitError) in
            guard let tree = Tree(parsing: bytes) else {
                throw GitError(code: -1, operation: "read tree \(id)", message: "malformed tree object")
            }
            return tree
        }
    }

    /// Reads and parses a commit object's header (tree, parents, times).
    public func commit(_ id: ObjectID) throws(GitError) -> Commit {
        try withObject(id, expecting: GIT_OBJECT_COMMIT, "read commit") { bytes throws(GitError) in
            guard let commit = Commit(id: id, parsing: bytes) else {
                throw GitError(code: -1, operation: "read commit \(id)", message: "malformed commit object")
            }
            return commit
        }
    }

    private func withObject<R>(_ id: ObjectID, expecting type: git_object_t, _ operation: String,
                               _ body: (UnsafeRawBufferPointer) throws(GitError) -> R) throws(GitError) -> R {
        var oid = id.gitOID
        var raw: OpaquePointer?
        try check("\(operation) \(id)", git_odb_read(&raw, handle, &oid))
        let object = raw!
        defer { git_odb_object_free(object) }
        guard git_odb_object_type(object) == type else {
            throw GitError(code: -1, operation: "\(operation) \(id)", message: "object has the wrong type")
        }
        let bytes = UnsafeRawBufferPointer(start: git_odb_object_data(object), count: git_odb_object_size(object))
        return try body(bytes)
    }
}
