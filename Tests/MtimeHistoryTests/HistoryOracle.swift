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
func gitOutput(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> [UInt8] {
    let result = try run(["git", "-c", "core.quotepath=off"] + arguments, in: directory, environment: environment)
    guard result.succeeded else { throw GitCommandFailed(arguments: arguments, status: result.status) }
    return result.stdoutBytes
}

struct GitCommandFailed: Error {
    let arguments: [String]
    let status: Int32
}

/// For each path, the first commit in `git log <arguments> --raw --no-renames -z` output that lists it.
func firstListed(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> [BytePath: OracleChange] {
    let output = try gitOutput(
        ["log"] + arguments + [
            "--raw", "--no-renames", "-z", "--no-abbrev",
            "--format=%x01%H %ct %at",
        ], in: directory, environment: environment)
    var first: [BytePath: OracleChange] = [:]
    for chunk in output.split(separator: 0x01) {
        let fields = chunk.split(separator: 0, omittingEmptySubsequences: false)
        let header = String(decoding: fields[0], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        // A malformed identity (a hostile commit) has no `%ct`/`%at`: git's dates show the epoch.
        let change = OracleChange(commit: String(header[0]), committerTime: Int64(header[1]) ?? 0, authorTime: Int64(header[2]) ?? 0)
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
func firstParentOracle(_ directory: String, environment: [String: String] = [:]) throws -> [BytePath: OracleChange] {
    try firstListed(["--first-parent", "-m"], in: directory, environment: environment)
}

/// The oracle for `--history all`: the first non-merge commit listing the path in `git log`'s default
/// order; paths no non-merge commit lists take the first merge that differs from any parent (`-m`).
func allHistoryOracle(_ directory: String, environment: [String: String] = [:]) throws -> [BytePath: OracleChange] {
    var result = try firstListed(["--no-merges"], in: directory, environment: environment)
    for (path, change) in try firstListed(["--merges", "-m"], in: directory, environment: environment) where result[path] == nil {
        result[path] = change
    }
    return result
}

/// `git ls-tree -r HEAD`: every non-tree entry as (path, mode, id).
func headEntries(_ directory: String, environment: [String: String] = [:]) throws -> [BytePath: (mode: UInt32, id: String)] {
    let output = try gitOutput(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], in: directory, environment: environment)
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

func runEngine(
    _ directory: String, mode: HistoryMode = .firstParent, cache: String? = nil,
    only: [BytePath]? = nil, threads: Int? = nil, environment: [String: String] = [:]
) throws -> HistoryResult {
    var gitEnvironment = GitEnvironment.current()
    for (name, value) in environment { gitEnvironment[name] = Array(value.utf8) }
    let repository = try Repository(discoveringFrom: directory, environment: gitEnvironment)
    var engine = HistoryEngine(repository: repository, mode: mode, cacheDirectory: cache.map { BytePath($0) }, only: only)
    if let threads { engine.maximumThreads = threads }
    return try engine.run()
}
