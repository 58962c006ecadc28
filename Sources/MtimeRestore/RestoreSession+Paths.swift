import GitKit
import MtimeCore
import MtimeHistory

extension RestoreSession {
    /// A plan for just these tracked paths, each decided clean or not exactly as `plan` decides it
    /// (index stat data, the stat cache, then hashing), with no targets: the hooks must not pay for
    /// the whole tree or the history walk, and set the targets themselves before `apply`.
    public func plan(verifying tracked: [TrackedFile], head: ObjectID) throws -> RestorePlan {
        do {
            let checkedFrom = FileSystem.coarseNow()
            var indexByPath: [BytePath: IndexEntry] = [:]
            var conflicted: Set<BytePath> = []
            let index = try IndexReader(repository, workdir: workdir)
            for entry in index.entries {
                if entry.stage == 0 { indexByPath[entry.path] = entry } else { conflicted.insert(entry.path) }
            }
            let verifier = try workingTreeVerifier(trackedPaths: { index.entries.map(\.path) }, indexIsSplit: index.isSplit)
            let files = try tracked.map { file in
                try verifier.plan(
                    file, indexEntry: indexByPath[file.path], isConflicted: conflicted.contains(file.path),
                    identifying: true)
            }
            return RestorePlan(
                head: head, files: files, directories: [], untracked: [], ignored: [], commitsWalked: 0,
                shallowBoundaryFiles: 0, usedHistoryCache: false, coversWholeTree: false, checkedFrom: checkedFrom)
        } catch let error as SystemError {
            throw RestoreError.system(error)
        } catch let error as GitError {
            throw RestoreError.git(error)
        } catch let error as RepositoryError {
            throw RestoreError.repository(error)
        }
    }
}
