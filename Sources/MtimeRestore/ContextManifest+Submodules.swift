import MtimeCore
import MtimeManifest

extension ContextManifestBuilder {
    /// The context's files inside submodules. A planned submodule's clean files are `submodule`
    /// entries with the times of its own history, its untracked files `untracked` ones; every file
    /// below a submodule left alone is `untracked` (Docker sends them all; the guard then watches
    /// them, so a changed one is still rebuilt from).
    func submoduleEntries(_ submodules: Submodules) throws -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        for submodule in submodules.planned where submodule.path.isWithin(contextPrefix) {
            for file in submodule.plan.files where file.state == .clean {
                let path = submodule.path.appending(file.path)
                // The commit time, as for the superproject's files, also where restore kept the file newer than
                // the host's last sealed build on disk: the guard applies it, then bumps by its own stamp.
                guard let time = file.commitTime, file.worktreeMode != nil, try !isExcluded(path) else { continue }
                entries.append(
                    ManifestEntry(
                        path: relativeToContext(path), objectID: file.worktreeObjectID ?? file.objectID,
                        modificationTime: time, mode: file.mode, isInSubmodule: true))
            }
            entries += try untrackedEntries(tracked: submodule.plan.files, in: submodule.session, at: submodule.path)
        }
        for submodule in submodules.leftAlone where submodule.path.isWithin(contextPrefix) {
            // A pattern that fails on a directory fails again on a file below it, unpruned.
            let pruned: (BytePath) -> Bool = { [self] in (try? isPrunedDirectory($0)) ?? false }
            for path in try Submodules.files(below: submodule.path, in: files, isPruned: pruned) {
                if try isExcluded(path) { continue }
                if let entry = try untrackedEntry(path) { entries.append(entry) }
            }
        }
        return entries
    }
}

extension Submodules {
    /// Every regular file and symlink at or below `path` in the working tree: symlinks are listed,
    /// never followed (nothing is listed when a directory on the way is one: every directory is read
    /// through a held descriptor); `.git` entries are skipped and directories `isPruned` names not
    /// entered. What Docker sends of a submodule left alone.
    static func files(below path: BytePath, in tree: WorkingTreeFiles, isPruned: (BytePath) -> Bool) throws -> [BytePath] {
        guard Submodules.unsafePathReason(path) == nil else { return [] }
        do throws(SystemError) {
            guard let status = try tree.status(path) else { return [] }
            guard status.kind == .directory else { return status.gitMode == nil ? [] : [path] }
            var files: [BytePath] = []
            var pending = [path]
            while let directory = pending.popLast() {
                // Gone, or swapped for a symlink, since it was listed: nothing to read there.
                guard let held = try tree.directory(directory) else { continue }
                for name in try held.names() where name.bytes != Array(".git".utf8) {
                    let child = directory.appending(name)
                    guard let status = try held.statusIfPresent(name) else { continue }
                    if status.kind == .directory {
                        if !isPruned(child) { pending.append(child) }
                    } else if status.gitMode != nil {
                        files.append(child)
                    }
                }
            }
            return files
        } catch {
            throw RestoreError.unreadable(error)
        }
    }
}
