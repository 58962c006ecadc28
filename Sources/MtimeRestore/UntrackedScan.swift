import GitKit
import MtimeCore

/// Finds untracked and ignored entries by reading only directories that hold tracked paths: an
/// untracked or ignored directory is reported once and never entered (it may be a huge `target/`),
/// unless `expandingDirectories` asks for every untracked file, as a build context holds them.
///
/// What is on disk decides, as for `git status`: a tracked file replaced by a directory leaves that
/// directory untracked (`src/gen/main.c` where `src/gen` was a file), and a tracked directory
/// replaced by a file or a symlink leaves that entry untracked (`d -> elsewhere` where `d/x` was).
///
/// Directories are read through held descriptors (`WorkingTreeFiles`), never through a symlink: a
/// directory swapped for one while the scan runs is skipped, not followed.
struct UntrackedScan {
    /// Nil for a directory in no repository: nothing is ignored.
    let repository: Repository?
    let files: WorkingTreeFiles
    let indexPaths: [BytePath]
    /// Submodules among `indexPaths`: their directories are theirs, never untracked.
    var gitlinks: Set<BytePath> = []
    let isSelected: (BytePath) -> Bool
    /// Enter untracked directories and report the files in them instead of the directory; ignored
    /// directories, nested repositories and directories `isPruned` names are still not entered.
    var expandingDirectories = false
    var isPruned: (BytePath) -> Bool = { _ in false }

    func run() throws -> (untracked: [BytePath], ignored: [BytePath]) {
        let tracked = Set(indexPaths)
        var trackedDirectories: Set<BytePath> = [BytePath([])]
        for path in indexPaths {
            var directory = path.parent
            while !directory.isEmpty, trackedDirectories.insert(directory).inserted { directory = directory.parent }
        }
        var untracked: [BytePath] = [], ignored: [BytePath] = []
        var pending = [BytePath([])]
        while let directory = pending.popLast() {
            // Gone, or swapped for a symlink, since it was listed: nothing to read there.
            guard let held = try files.directory(directory) else { continue }
            for name in try held.names() {
                if name.bytes == Array(".git".utf8) { continue }
                let path = directory.appending(name)
                let isTrackedFile = tracked.contains(path), isTrackedDirectory = trackedDirectories.contains(path)
                if isTrackedFile || isTrackedDirectory {
                    if gitlinks.contains(path) { continue }
                    let kind = try held.statusIfPresent(name)?.kind
                    if kind == .directory {
                        if isTrackedDirectory { pending.append(path); continue }
                    } else if isTrackedFile || kind == nil {
                        continue  // the tracked file itself (whatever it holds now), or gone meanwhile
                    }
                    // Replaced: a directory where a file was tracked, or a file or symlink where a
                    // directory was. What is there now is untracked.
                }
                if !isSelected(path) { continue }
                if let repository, try repository.isIgnored(path) { ignored.append(path); continue }
                if expandingDirectories, try isEnterable(name, in: held) {
                    if !isPruned(path) { pending.append(path) }
                    continue
                }
                untracked.append(path)
            }
        }
        return (untracked.sorted(), ignored.sorted())
    }

    /// A real directory (not a symlink to one) that is not another repository's working tree.
    private func isEnterable(_ name: BytePath, in parent: HeldDirectory) throws(SystemError) -> Bool {
        guard try parent.statusIfPresent(name)?.kind == .directory else { return false }
        do { return try parent.subdirectory(name).statusIfPresent(BytePath(".git")) == nil } catch {
            if error.isAbsent || error.isSymlink { return false }  // replaced since the stat
            throw error
        }
    }
}
