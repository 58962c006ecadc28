import Glibc
import Dispatch
import MtimeCore
import MtimeManifest
import Synchronization

/// What the guard found on disk for one manifest entry.
public enum EntryFinding: Sendable, Equatable {
    /// Same type and content; `status` is the lstat the times are compared with.
    case matches(FileStatus)
    case missing
    case wrongType(found: String)
    /// Same type, other content: its id and lstat.
    case changed(found: ObjectID, status: FileStatus)
}

/// Hashes every manifest entry on all cores: file reads, not SHA-1, bound the guard.
public enum ContentCheck {
    public static func findings(for context: GuardContext) throws(GuardError) -> [EntryFinding] {
        let entries = context.manifest.entries
        let root = context.root
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Result<EntryFinding, SystemError>>.allocate(capacity: entries.count)
        results.initialize(repeating: .success(.missing))
        defer { results.deallocate() }
        let next = Atomic<Int>(0)
        let workers = min(max(1, Processors.onlineCount), max(1, entries.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let hasher = BufferedBlobHasher()
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                if index >= entries.count { return }
                results[index] = Result { () throws(SystemError) in
                    try finding(for: entries[index], at: root.appending(entries[index].path), hasher: hasher)
                }
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

    private static func finding(for entry: ManifestEntry, at path: BytePath, hasher: BufferedBlobHasher) throws(SystemError) -> EntryFinding {
        guard let status = try FileSystem.statusIfPresent(path) else { return .missing }
        let found: String
        switch status.kind {
        case .symlink: found = "symlink"
        case .regular: found = status.isExecutable ? "executable file" : "regular file"
        case .directory: found = "directory"
        case .other: found = "special file"
        }
        guard found == typeName(entry) else { return .wrongType(found: found) }
        let id: ObjectID
        if entry.isSymlink {
            id = BlobHasher.hash(bytes: try FileSystem.readSymlink(path))
        } else {
            let hashed = try hasher.hash(regularFileAt: path)
            guard hashed.status.inode == status.inode, hashed.status.device == status.device else {
                throw SystemError(operation: "hash (file replaced while reading)", path: path, code: 11 /* EAGAIN */)
            }
            id = hashed.id
        }
        return id == entry.objectID ? .matches(status) : .changed(found: id, status: status)
    }
}

enum Processors {
    static var onlineCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
