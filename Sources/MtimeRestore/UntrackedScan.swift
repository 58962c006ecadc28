import GitKit
import MtimeCore

/// Finds untracked and ignored entries by reading only directories that hold tracked paths: an
/// untracked or ignored directory is reported once and never entered (it may be a huge `target/`),
/// unless `expandingDirectories` asks for every untracked file, as a build context holds them.
struct UntrackedScan {
    /// Nil for a directory in no repository: nothing is ignored.
    let repository: Repository?
    let workdir: BytePath
    let indexPaths: [BytePath]
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
            for name in try FileSystem.listDirectory(directory.isEmpty ? workdir : workdir.appending(directory)) {
                if name.bytes == Array(".git".utf8) { continue }
                let path = directory.appending(name)
                if tracked.contains(path) { continue }
                if trackedDirectories.contains(path) {
                    if (try FileSystem.statusIfPresent(workdir.appending(path)))?.kind == .directory { pending.append(path) }
                    continue
                }
                if !isSelected(path) { continue }
                if let repository, try repository.isIgnored(path) { ignored.append(path); continue }
                if expandingDirectories, try isEnterable(path) {
                    if !isPruned(path) { pending.append(path) }
                    continue
                }
                untracked.append(path)
            }
        }
        return (untracked.sorted(), ignored.sorted())
    }

    /// A real directory (not a symlink to one) that is not another repository's working tree.
    private func isEnterable(_ path: BytePath) throws -> Bool {
        let full = workdir.appending(path)
        guard try FileSystem.statusIfPresent(full)?.kind == .directory else { return false }
        return try FileSystem.statusIfPresent(full.appending(".git")) == nil
    }
}
