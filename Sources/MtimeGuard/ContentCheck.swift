import Glibc
import Dispatch
import MtimeCore
import MtimeManifest
import Synchronization

/// What the guard found on disk for one manifest entry.
public enum EntryFinding: Sendable, Equatable {
    /// Same type and content; `status` is what `fstat` said about the file that was hashed (for a
    /// symlink, its `lstat`): later steps check the file is still exactly that one.
    case matches(FileStatus)
    case missing
    case wrongType(found: String)
    /// Same type, other content: its id and status.
    case changed(found: ObjectID, status: FileStatus)

    /// The status of the file found, when present with the manifest's type.
    public var status: FileStatus? {
        switch self {
        case .matches(let status), .changed(_, let status): return status
        case .missing, .wrongType: return nil
        }
    }
}

/// Hashes every manifest entry on all cores: file reads, not SHA-1, bound the guard. Every file is
/// reached through the context's `DirectoryTree`: opened relative to its held parent, no symlink followed.
public enum ContentCheck {
    public static func findings(for context: GuardContext) throws(GuardError) -> [EntryFinding] {
        let entries = context.manifest.entries
        let tree = context.tree
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Result<EntryFinding, SystemError>>.allocate(capacity: entries.count)
        results.initialize(repeating: .success(.missing))
        defer { results.deallocate() }
        let next = Atomic<Int>(0)
        let workers = min(Processors.onlineCount, max(1, entries.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let hasher = BufferedBlobHasher()
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                if index >= entries.count { return }
                results[index] = Result { () throws(SystemError) in try finding(for: entries[index], in: tree, hasher: hasher) }
            }
        }
        var findings: [EntryFinding] = []
        findings.reserveCapacity(entries.count)
        for result in results {
            switch result {
            case .success(let finding): findings.append(finding)
            case .failure(let error): throw .io(error)
            }
        }
        return findings
    }

    /// The problem lines for every tracked entry that isn't a match (missing entries skipped when
    /// allowed). Untracked entries are watched, not required to match: they may change at any time.
    public static func problems(_ findings: [EntryFinding], context: GuardContext) -> [String] {
        var lines: [String] = []
        for (entry, finding) in zip(context.manifest.entries, findings) where !entry.isUntracked {
            switch finding {
            case .matches: continue
            case .missing:
                if !context.allowMissing { lines.append("missing: \(entry.path)") }
            case .wrongType(let found):
                lines.append("wrong type: \(entry.path) (manifest: \(typeName(entry)), found: \(found))")
            case .changed(let found, _):
                lines.append("changed: \(entry.path) (manifest: \(entry.objectID), found: \(found))")
            }
        }
        return lines
    }

    static func typeName(_ entry: ManifestEntry) -> String {
        entry.isSymlink ? "symlink" : entry.isExecutable ? "executable file" : "regular file"
    }

    /// One entry, hashed through its held parent directory.
    static func finding(for entry: ManifestEntry, in tree: DirectoryTree, hasher: BufferedBlobHasher) throws(SystemError) -> EntryFinding {
        let directory: HeldDirectory
        do { directory = try tree.directory(entry.path.parent) } catch {
            if error.isAbsent { return .missing }
            throw error
        }
        let name = entry.path.lastComponent
        guard let status = try directory.statusIfPresent(name) else { return .missing }
        let found: String
        switch status.kind {
        case .symlink: found = "symlink"
        case .regular: found = status.isExecutable ? "executable file" : "regular file"
        case .directory: found = "directory"
        case .other: found = "special file"
        }
        guard found == typeName(entry) else { return .wrongType(found: found) }
        let id: ObjectID
        let hashedStatus: FileStatus
        if entry.isSymlink {
            id = BlobHasher.hash(bytes: try directory.readLink(name))
            hashedStatus = try directory.status(name)
            guard hashedStatus.isUnchanged(since: status) else {
                throw SystemError(operation: "hash (symlink replaced while reading)", path: tree.pathOf(entry.path), errno: .tryAgain)
            }
        } else {
            let hashed = try hasher.hash(regularFile: directory.openFile(name))
            guard hashed.status.isSameFile(as: status) else {
                throw SystemError(operation: "hash (file replaced while reading)", path: tree.pathOf(entry.path), errno: .tryAgain)
            }
            (id, hashedStatus) = hashed
        }
        return id == entry.objectID ? .matches(hashedStatus) : .changed(found: id, status: hashedStatus)
    }
}
