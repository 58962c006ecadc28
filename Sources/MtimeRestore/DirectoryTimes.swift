import MtimeCore
import MtimeHistory

/// `--dirs`: every directory holding a selected file (the working-tree root included) gets the newest
/// final mtime of the tracked files below it; tracked files outside the selection count with the
/// mtime they have now. Submodules and absent files don't count.
enum DirectoryTimes {
    static func plan(files: [PlannedFile], allTracked: [TrackedFile], in tree: WorkingTreeFiles) throws(SystemError) -> [PlannedDirectory] {
        var selectedDirectories: Set<BytePath> = []
        var planned: [BytePath: PlannedFile] = [:]
        for file in files where file.state != .submodule && file.current != nil {
            planned[file.path] = file
            forEachAncestor(of: file.path) { selectedDirectories.insert($0) }
        }
        var newest: [BytePath: Timestamp] = [:]
        func account(_ path: BytePath, _ time: Timestamp) {
            forEachAncestor(of: path) { directory in
                guard selectedDirectories.contains(directory) else { return }
                if let known = newest[directory], known >= time { return }
                newest[directory] = time
            }
        }
        for file in planned.values { if let time = file.finalModificationTime { account(file.path, time) } }
        for tracked in allTracked where tracked.mode != 0o160000 && planned[tracked.path] == nil {
            let parent = tracked.path.parent
            guard selectedDirectories.contains(parent),
                let status = try tree.status(tracked.path)
            else { continue }
            account(tracked.path, status.modificationTime)
        }
        var directories: [PlannedDirectory] = []
        for (path, time) in newest {
            guard let status = try path.isEmpty ? tree.directory(path)?.status() : tree.status(path),
                status.kind == .directory
            else { continue }
            directories.append(PlannedDirectory(path: path, current: status, target: time))
        }
        return directories.sorted { $0.path < $1.path }
    }

    /// Calls `body` with each enclosing directory of `path`, innermost first, ending with the root (empty).
    private static func forEachAncestor(of path: BytePath, _ body: (BytePath) -> Void) {
        var directory = path.parent
        while true {
            body(directory)
            if directory.isEmpty { return }
            directory = directory.parent
        }
    }
}
