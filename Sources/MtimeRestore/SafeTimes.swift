import GitKit
import MtimeCore
import MtimeHistory

/// Which of a few tracked paths are clean, decided exactly as restore decides it (index stat data,
/// the stat cache, then hashing), but only for those paths: a hook must not pay for the whole tree.
enum SafeTimes {
    static func verify(_ tracked: [TrackedFile], in session: RestoreSession) throws -> [PlannedFile] {
        let repository = session.repository
        do {
            var indexByPath: [BytePath: IndexEntry] = [:]
            var conflicted: Set<BytePath> = []
            for entry in try repository.indexEntries() {
                if entry.stage == 0 { indexByPath[entry.path] = entry } else { conflicted.insert(entry.path) }
            }
            let verifier = try session.workingTreeVerifier()
            return try tracked.map { file in
                try verifier.plan(file, indexEntry: indexByPath[file.path], isConflicted: conflicted.contains(file.path),
                                  hashingDirty: false)
            }
        } catch let error as SystemError {
            throw RestoreError.system(error)
        } catch let error as GitError {
            throw RestoreError.git(error)
        }
    }
}
