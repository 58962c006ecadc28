import Foundation
import GitKit
import MtimeCore
import MtimeHistory
import TestSupport

/// What git itself says about a path: the commit and its times.
struct OracleChange: Equatable, CustomStringConvertible {
    var commit: String
    var committerTime: Int64
    var authorTime: Int64
    var description: String { "\(commit.prefix(10)) ct=\(committerTime) at=\(authorTime)" }
}

/// Runs git and returns its raw stdout bytes (paths in `-z` output need not be UTF-8).
func gitOutput(_ arguments: [String], in directory: String) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-c", "core.quotepath=off"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw GitCommandFailed(arguments: arguments, status: process.terminationStatus)
    }
    return Array(data)
}

struct GitCommandFailed: Error {
    let arguments: [String]
    let status: Int32
}

/// For each path, the first commit in `git log <arguments> --raw --no-renames -z` output that lists it.
func firstListed(_ arguments: [String], in directory: String) throws -> [BytePath: OracleChange] {
    let output = try gitOutput(["log"] + arguments + ["--raw", "--no-renames", "-z", "--no-abbrev",
                                                      "--format=%x01%H %ct %at"], in: directory)
    var first: [BytePath: OracleChange] = [:]
    for chunk in output.split(separator: 0x01) {
        let fields = chunk.split(separator: 0, omittingEmptySubsequences: false)
        let header = String(decoding: fields[0], as: UTF8.self).split(separator: " ")
        let change = OracleChange(commit: String(header[0]), committerTime: Int64(header[1])!, authorTime: Int64(header[2])!)
        var index = 1
        while index + 1 < fields.count {
            let meta = fields[index].drop(while: { $0 == 0x0A })
            guard meta.first == UInt8(ascii: ":") else { index += 1; continue }
            let path = BytePath(Array(fields[index + 1]))
            if first[path] == nil { first[path] = change }
            index += 2
        }
    }
    return first
}

/// The oracle for `--history first-parent`: diffs against the first parent along the first-parent line.
func firstParentOracle(_ directory: String) throws -> [BytePath: OracleChange] {
    try firstListed(["--first-parent", "-m"], in: directory)
}

/// The oracle for `--history all`: the first non-merge commit listing the path in `git log`'s default
/// order; paths no non-merge commit lists take the first merge that differs from any parent (`-m`).
func allHistoryOracle(_ directory: String) throws -> [BytePath: OracleChange] {
    var result = try firstListed(["--no-merges"], in: directory)
    for (path, change) in try firstListed(["--merges", "-m"], in: directory) where result[path] == nil {
        result[path] = change
    }
    return result
}

/// `git ls-tree -r HEAD`: every non-tree entry as (path, mode, id).
func headEntries(_ directory: String) throws -> [BytePath: (mode: UInt32, id: String)] {
    let output = try gitOutput(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], in: directory)
    var entries: [BytePath: (mode: UInt32, id: String)] = [:]
    for record in output.split(separator: 0) {
        let tab = record.firstIndex(of: 0x09)!
        let meta = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ")
        entries[BytePath(Array(record[(tab + 1)...]))] = (UInt32(meta[0], radix: 8)!, String(meta[2]))
    }
    return entries
}

/// Differences between the engine's answer and git's, as readable lines (empty: they agree).
func mismatches(_ result: HistoryResult, _ oracle: [BytePath: OracleChange], entries: [BytePath: (mode: UInt32, id: String)]) -> [String] {
    var problems: [String] = []
    if Set(result.files.map(\.path)) != Set(entries.keys) {
        problems.append("file set differs: engine \(result.files.count), ls-tree \(entries.count)")
    }
    if result.files.map(\.path) != result.files.map(\.path).sorted() { problems.append("files not sorted by path bytes") }
    for file in result.files {
        if let entry = entries[file.path], entry.mode != file.mode || entry.id != file.objectID.hex {
            problems.append("\(file.path): entry \(file.mode) \(file.objectID) vs ls-tree \(entry.mode) \(entry.id)")
        }
        if file.mode == 0o160000 {
            if file.lastChange != nil { problems.append("\(file.path): submodule has a lastChange") }
            continue
        }
        guard let change = file.lastChange else { problems.append("\(file.path): no lastChange"); continue }
        let mine = OracleChange(commit: change.commit.hex, committerTime: change.committerTime, authorTime: change.authorTime)
        if oracle[file.path] != mine {
            problems.append("\(file.path): engine \(mine), git \(oracle[file.path].map(String.init(describing:)) ?? "none")")
        }
    }
    return problems
}

func runEngine(_ directory: String, mode: HistoryMode = .firstParent, cache: String? = nil,
               only: [BytePath]? = nil, threads: Int? = nil) throws -> HistoryResult {
    let repository = try Repository(discoveringFrom: directory)
    var engine = HistoryEngine(repository: repository, mode: mode, cacheDirectory: cache.map { BytePath($0) }, only: only)
    if let threads { engine.maximumThreads = threads }
    return try engine.run()
}

/// Builds a random history with `git fast-import`: a main branch, side branches that fork and merge
/// back (sometimes with an extra "evil" change in the merge), modifications, deletions, re-creations,
/// mode changes, symlinks, directory/file swaps, equal and out-of-order commit dates.
/// `extraFiles` adds that many more paths in nested directories (enough to split the walk across threads).
func makeRandomHistory(in repository: GitRepository, seed: UInt64, commits: Int, extraFiles: Int = 0) throws {
    var random = SeededGenerator(seed: seed)
    let paths = ["a", "b.txt", "d/x", "d/y", "d/e/z", "d/e/w", "f/g/h", "f/g/i", "f/j", "k/l", "swap", "swap/inner"]
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
            if Int.random(in: 0..<3, using: &random) == 0 { content += 1; merged["evil/m\(content)"] = Entry(mode: "100644", data: "evil\n") }
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
