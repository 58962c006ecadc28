import CLibGit2
import MtimeCore

/// The kinds of object git stores (the numbers are git's pack and libgit2's `git_object_t`).
public enum ObjectKind: UInt8, Sendable {
    case commit = 1, tree = 2, blob = 3, tag = 4
}

/// One object's type and bytes, copied out of the database.
public struct RawObject: Sendable, Equatable {
    public let kind: ObjectKind
    public let bytes: [UInt8]

    public init(kind: ObjectKind, bytes: [UInt8]) {
        self.kind = kind
        self.bytes = bytes
    }
}

/// Packs one `ObjectDatabase` opened, handed to another thread's: pack files and their indexes are
/// mapped read-only and never change once opened, so sharing them is safe.
public struct SharedPacks: @unchecked Sendable {
    let packs: [PackFile]
    let rewrites: HistoryRewrites
}

/// The object database of one repository: reads raw objects without libgit2's parsed object layer.
/// Packed objects come from our own `PackReader` (no locks shared with other handles); loose
/// objects, alternates and packs written after opening go through `git_odb_read`. Objects and
/// commit parents are read as git reads them for `git log`: through replace refs and grafts
/// (`HistoryRewrites`). Not thread-safe; open one per thread (each on its own `Repository`).
public final class ObjectDatabase {
    let handle: OpaquePointer
    // The odb is reference-counted by libgit2, but our `Repository` must outlive it for its config and paths.
    private let repository: Repository
    private let packs: PackReader
    /// The replace refs and grafts every read goes through.
    public let rewrites: HistoryRewrites

    public convenience init(_ repository: Repository) throws(GitError) {
        try self.init(repository, packs: nil)
    }

    /// Another thread's database over the packs `packs` came from (its repository opened anew):
    /// each pack is mapped once per process. Every mapping of the same file pages counts again in
    /// the resident set and faults them in again.
    public convenience init(_ repository: Repository, sharing packs: SharedPacks) throws(GitError) {
        try self.init(repository, packs: packs.packs, rewrites: packs.rewrites)
    }

    /// The packs this database reads, for `init(_:sharing:)` on another thread.
    public var sharedPacks: SharedPacks { SharedPacks(packs: packs.packs, rewrites: rewrites) }

    /// Where the repository lies, to open another thread's database with `init(_:sharing:)`.
    public var location: RepositoryLocation { repository.location }

    private init(_ repository: Repository, packs shared: [PackFile]?, rewrites known: HistoryRewrites? = nil) throws(GitError) {
        if let known { rewrites = known } else { rewrites = try repository.historyRewrites() }
        var raw: OpaquePointer?
        try check("open object database", git_repository_odb(&raw, repository.handle))
        let handle = raw!
        do {
            if let shared {
                packs = try PackReader(sharing: shared)
            } else {
                let location = repository.location
                let objects = location.objects
                let directories = [objects] + ObjectDatabase.alternates(of: objects) + location.alternateObjectDirectories
                packs = try PackReader(packDirectories: directories.map { $0.appending("pack") })
            }
        } catch {
            git_odb_free(handle)
            throw error
        }
        self.handle = handle
        self.repository = repository
        // A REF_DELTA's base outside our packs (a thin pack completed by loose objects) comes from libgit2.
        packs.readElsewhere = { id throws(GitError) in
            try ObjectDatabase.readWithLibgit2(handle, id, "read delta base") { type, bytes throws(GitError) in
                (UInt8(type.rawValue), try ObjectBytes.make(copying: bytes))
            }
        }
    }

    /// The object directories `objects/info/alternates` names (one level: git's nested alternates
    /// and quoted paths are left to libgit2, which reads everything our packs lack).
    private static func alternates(of objects: BytePath) -> [BytePath] {
        guard let contents = try? FileSystem.readFile(objects.appending("info/alternates"), limit: 1 << 20) else { return [] }
        return contents.split(separator: 0x0A).compactMap { line in
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "\"") else { return nil }
            let path = BytePath(Array(line))
            return path.isAbsolute ? path : objects.appending(path)
        }
    }

    deinit {
        packs.readElsewhere = nil
        git_odb_free(handle)
    }

    /// Reads and parses a tree object.
    public func tree(_ id: ObjectID) throws(GitError) -> Tree {
        try withObject(id, expecting: .tree, "read tree") { bytes throws(GitError) in
            guard let tree = Tree(parsing: bytes) else {
                throw GitError(code: -1, operation: "read tree \(id)", message: "malformed tree object")
            }
            return tree
        }
    }

    /// Reads and parses a commit object's header (tree, parents, times).
    public func commit(_ id: ObjectID) throws(GitError) -> Commit {
        try withObject(id, expecting: .commit, "read commit") { bytes throws(GitError) in
            guard let commit = Commit(id: id, parsing: bytes) else {
                throw GitError(code: -1, operation: "read commit \(id)", message: "malformed commit object")
            }
            guard let parents = rewrites.grafts[id] else { return commit }
            return commit.withParents(parents)
        }
    }

    /// A commit's subject as `git log --format=%s` shows it: the message's first paragraph, its lines
    /// joined with spaces.
    public func commitSubject(_ id: ObjectID) throws(GitError) -> String {
        try withObject(id, expecting: .commit, "read commit") { bytes throws(GitError) in
            let text = Array(bytes)
            let separator = Array("\n\n".utf8)
            guard let start = text.indices.first(where: { text[$0...].starts(with: separator) }) else { return "" }
            var lines: [String] = []
            for line in text[(start + 2)...].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                let trimmed = String(decoding: line, as: UTF8.self).trimmingWhitespace()
                if trimmed.isEmpty { if lines.isEmpty { continue } else { break } }
                lines.append(trimmed)
            }
            return lines.joined(separator: " ")
        }
    }

    /// Any object's type and bytes, read the same way the history walk reads them.
    public func object(_ id: ObjectID) throws(GitError) -> RawObject {
        try withAnyObject(id, "read object") { kind, bytes throws(GitError) in RawObject(kind: kind, bytes: Array(bytes)) }
    }

    /// True when one of the packs present at opening holds `id` (so our pack reader serves it).
    public func isPacked(_ id: ObjectID) throws(GitError) -> Bool { try packs.locate(id) != nil }

    /// The object's kind and bytes in memory the caller may keep.
    func ownedObject(_ original: ObjectID, _ operation: String) throws(GitError) -> (ObjectKind, ObjectBytes) {
        let id = try rewrites.replacement(of: original)
        if let location = try packs.locate(id) {
            let (type, bytes) = try packs.objectBytes(at: location)
            guard let kind = ObjectKind(rawValue: type) else {
                throw GitError(code: -1, operation: "\(operation) \(id)", message: "unknown object type \(type)")
            }
            return (kind, bytes)
        }
        return try ObjectDatabase.readWithLibgit2(handle, id, operation) { kind, bytes throws(GitError) in
            (kind, try ObjectBytes.make(copying: bytes))
        }
    }

    private func withObject<R>(
        _ id: ObjectID, expecting kind: ObjectKind, _ operation: String,
        _ body: (UnsafeRawBufferPointer) throws(GitError) -> R
    ) throws(GitError) -> R {
        try withAnyObject(id, operation) { found, bytes throws(GitError) in
            guard found == kind else {
                throw GitError(code: -1, operation: "\(operation) \(id)", message: "object has the wrong type")
            }
            return try body(bytes)
        }
    }

    private func withAnyObject<R>(
        _ original: ObjectID, _ operation: String,
        _ body: (ObjectKind, UnsafeRawBufferPointer) throws(GitError) -> R
    ) throws(GitError) -> R {
        let id = try rewrites.replacement(of: original)
        if let location = try packs.locate(id) {
            return try packs.withObject(at: location) { type, bytes throws(GitError) in
                guard let kind = ObjectKind(rawValue: type) else {
                    throw GitError(code: -1, operation: "\(operation) \(id)", message: "unknown object type \(type)")
                }
                return try body(kind, bytes)
            }
        }
        return try ObjectDatabase.readWithLibgit2(handle, id, operation, body)
    }

    private static func readWithLibgit2<R>(
        _ handle: OpaquePointer, _ id: ObjectID, _ operation: String,
        _ body: (ObjectKind, UnsafeRawBufferPointer) throws(GitError) -> R
    ) throws(GitError) -> R {
        var oid = id.gitOID
        var raw: OpaquePointer?
        let result = git_odb_read(&raw, handle, &oid)
        if result == GIT_ENOTFOUND.rawValue {
            // libgit2's "no match for id" does not say where it looked.
            throw GitError(
                code: result, operation: "\(operation) \(id)",
                message: "not in the object database (objects/ and its alternates, or GIT_OBJECT_DIRECTORY and "
                    + "GIT_ALTERNATE_OBJECT_DIRECTORIES when set)")
        }
        try check("\(operation) \(id)", result)
        let object = raw!
        defer { git_odb_object_free(object) }
        let type = git_odb_object_type(object)
        guard type.rawValue >= 0, let kind = ObjectKind(rawValue: UInt8(type.rawValue)) else {
            throw GitError(code: -1, operation: "\(operation) \(id)", message: "unknown object type \(type.rawValue)")
        }
        return try body(kind, UnsafeRawBufferPointer(start: git_odb_object_data(object), count: git_odb_object_size(object)))
    }
}
