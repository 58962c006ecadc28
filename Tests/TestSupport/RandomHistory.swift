import Foundation

/// Builds a random history with `git fast-import`: a main branch, side branches that fork and merge
/// back (sometimes with an extra "evil" change in the merge), modifications, deletions, re-creations,
/// mode changes, symlinks, directory/file swaps, equal and out-of-order commit dates.
/// `extraFiles` adds that many more paths in nested directories (enough to split the walk across threads).
public func makeRandomHistory(in repository: GitRepository, seed: UInt64, commits: Int, extraFiles: Int = 0) throws {
    var random = SeededGenerator(seed: seed)
    let paths =
        ["a", "b.txt", "d/x", "d/y", "d/e/z", "d/e/w", "f/g/h", "f/g/i", "f/j", "k/l", "swap", "swap/inner"]
        + (0..<extraFiles).map { "many/dir\($0 % 7)/sub\($0 % 3)/file\($0)" }
    struct Entry: Equatable { var mode: String; var data: String }
    typealias State = [String: Entry]
    var branches: [String: (mark: Int, state: State, base: State)] = [:]
    var stream = ""
    var mark = 0
    var time: Int64 = 1_600_000_000
    var content = 0

    func emitCommit(_ branch: String, parents: [Int], from old: State, to new: State) {
        mark += 1
        time += Int64.random(in: -3...4, using: &random)
        let author = time - Int64.random(in: 0...50, using: &random)
        stream += "commit refs/heads/\(branch)\nmark :\(mark)\n"
        stream += "author A <a@example.com> \(author) +0000\ncommitter C <c@example.com> \(time) +0000\n"
        stream += "data 1\nc\n"
        if let first = parents.first { stream += "from :\(first)\n" }
        for other in parents.dropFirst() { stream += "merge :\(other)\n" }
        // Deletions first: a path may turn from a file into a directory in the same commit.
        for path in old.keys.sorted() where new[path] == nil { stream += "D \(path)\n" }
        for path in new.keys.sorted() where old[path].map({ $0 != new[path]! }) ?? true {
            let entry = new[path]!
            stream += "M \(entry.mode) inline \(path)\ndata \(entry.data.utf8.count)\n\(entry.data)\n"
        }
    }

    func conflictsFree(_ state: State, adding path: String) -> Bool {
        // A file may not sit where a directory is, or inside a file.
        for other in state.keys where other != path {
            if other.hasPrefix(path + "/") || path.hasPrefix(other + "/") { return false }
        }
        return true
    }

    func mutate(_ state: State) -> State {
        var next = state
        for _ in 0..<Int.random(in: 1...(3 + paths.count / 50), using: &random) {
            let path = paths.randomElement(using: &random)!
            content += 1
            let action = Int.random(in: 0..<10, using: &random)
            if action < 2, next[path] != nil {
                next[path] = nil
            } else if action == 2, let entry = next[path], entry.mode != "120000" {
                next[path]!.mode = entry.mode == "100755" ? "100644" : "100755"
            } else if action == 3, conflictsFree(next, adding: path) {
                next[path] = Entry(mode: "120000", data: "target\(content)")
            } else if conflictsFree(next, adding: path) {
                let mode = next[path].map { $0.mode == "120000" ? "100644" : $0.mode } ?? "100644"
                next[path] = Entry(mode: mode, data: "content \(content)\n")
            }
        }
        return next == state ? mutate(state) : next
    }

    var initial: State = [:]
    for path in paths.prefix(6) + paths.dropFirst(12) { content += 1; initial[path] = Entry(mode: "100644", data: "initial \(content)\n") }
    emitCommit("main", parents: [], from: [:], to: initial)
    branches["main"] = (mark, initial, initial)
    var sideCount = 0
    while mark < commits {
        let choice = Int.random(in: 0..<10, using: &random)
        let sides = branches.keys.filter { $0 != "main" }.sorted()
        if choice == 0 || (choice == 1 && sides.isEmpty) {
            sideCount += 1
            let main = branches["main"]!
            branches["side\(sideCount)"] = main
            branches["side\(sideCount)"]!.base = main.state
        } else if choice == 1, let side = sides.randomElement(using: &random) {
            // Merge: the side's changes since its fork win; sometimes the merge adds its own change.
            let main = branches["main"]!, other = branches[side]!
            var merged = main.state
            for path in Set(other.state.keys).union(other.base.keys).sorted() where other.state[path] != other.base[path] {
                if let entry = other.state[path] {
                    if conflictsFree(merged, adding: path) { merged[path] = entry }
                } else {
                    merged[path] = nil
                }
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                content += 1; merged["evil/m\(content)"] = Entry(mode: "100644", data: "evil\n")
            }
            emitCommit("main", parents: [main.mark, other.mark], from: main.state, to: merged)
            branches["main"] = (mark, merged, merged)
            branches[side] = nil
        } else {
            let branch = choice < 4 && !sides.isEmpty ? sides.randomElement(using: &random)! : "main"
            let current = branches[branch]!
            let next = mutate(current.state)
            emitCommit(branch, parents: [current.mark], from: current.state, to: next)
            branches[branch] = (mark, next, current.base)
        }
    }
    try runChecked(["git", "fast-import", "--quiet"], in: repository.path, input: stream)
    try repository.git("checkout", "-q", "-f", "main")
}
