import GitKit
import MtimeCore
import MtimeRestore
import MtimeHistory

/// The files whose content or mode differs between two commits, read straight from their trees:
/// only subtrees whose ids differ are opened, so the cost follows the change, not the repository.
struct HookTreeDiff {
    let objects: ObjectDatabase

    /// Every file (blob or symlink; not submodules) present in `new` whose entry is not the same in
    /// `old`, with `new`'s id and mode. `old` nil means everything in `new`.
    func changedFiles(from old: ObjectID?, to new: ObjectID) throws -> [TrackedFile] {
        let newTree = try objects.tree(try objects.commit(new).tree)
        let oldTree = try old.map { id throws(GitError) in try objects.tree(try objects.commit(id).tree) } ?? Tree.empty
        var changed: [TrackedFile] = []
        try compare(oldTree, newTree, prefix: BytePath([]), into: &changed)
        return changed
    }

    private func compare(_ old: Tree, _ new: Tree, prefix: BytePath, into changed: inout [TrackedFile]) throws {
        var i = 0, j = 0
        while j < new.entries.count {
            let entry = new.entries[j]
            let name = new.name(of: entry)
            if i < old.entries.count {
                let previous = old.entries[i]
                let order = compareTreeOrder(old.name(of: previous), aIsTree: previous.isTree, name, bIsTree: entry.isTree)
                if order < 0 { i += 1; continue }
                if order == 0 {
                    i += 1; j += 1
                    if previous.id == entry.id && previous.mode == entry.mode { continue }
                    let path = prefix.appending(BytePath(Array(name)))
                    if entry.isTree {
                        try compare(previous.isTree ? try objects.tree(previous.id) : Tree.empty,
                                    try objects.tree(entry.id), prefix: path, into: &changed)
                    } else if entry.mode != Tree.submoduleMode {
                        changed.append(TrackedFile(path: path, objectID: entry.id, mode: entry.mode, lastChange: nil))
                    }
                    continue
                }
            }
            // Only in `new`.
            j += 1
            let path = prefix.appending(BytePath(Array(name)))
            if entry.isTree {
                try compare(Tree.empty, try objects.tree(entry.id), prefix: path, into: &changed)
            } else if entry.mode != Tree.submoduleMode {
                changed.append(TrackedFile(path: path, objectID: entry.id, mode: entry.mode, lastChange: nil))
            }
        }
    }
}
