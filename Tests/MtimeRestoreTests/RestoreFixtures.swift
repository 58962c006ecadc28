import Foundation
import MtimeCore
import Testing
import TestSupport

/// Runs the built `git-mtime` with `arguments` in `directory`, and checks that no file's bytes under
/// `root` (default: `directory`; nothing for `/`) changed: git-mtime never writes contents.
func gitMtime(
    _ arguments: [String], in directory: String, contentsOf root: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ProcessResult {
    let watched = root ?? directory
    let before = watched == "/" ? nil : try contentSnapshot(of: watched)
    let result = try run([builtProduct("git-mtime")] + arguments, in: directory)
    if let before {
        #expect(try contentSnapshot(of: watched) == before, "file contents changed", sourceLocation: sourceLocation)
    }
    return result
}

/// A command that failed as git-mtime fails: `status`, one line on stderr containing `text`, nothing on stdout.
func expectFailure(
    _ result: ProcessResult, status: Int32 = 1, containing text: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == status, sourceLocation: sourceLocation)
    #expect(result.stderr.contains(text), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
}

/// Tracked paths of HEAD (`git ls-tree -r -z`), with their modes and blob ids.
struct TrackedPath {
    let path: String
    let mode: String
    let objectID: ObjectID
}

/// `environment` names the repository when `repository` alone does not (GIT_DIR, GIT_WORK_TREE).
func trackedPaths(_ repository: String, environment: [String: String] = [:]) throws -> [TrackedPath] {
    let listing = try runChecked(["git", "ls-tree", "-r", "-z", "--full-tree", "HEAD"], in: repository, environment: environment).stdout
    return listing.split(separator: "\0").map { line in
        let tab = line.firstIndex(of: "\t")!
        let fields = line[..<tab].split(separator: " ")
        return TrackedPath(
            path: String(line[line.index(after: tab)...]), mode: String(fields[0]),
            objectID: ObjectID(hex: fields[2])!)
    }
}

/// The oracle: `git log -1 --first-parent` for the path's seconds, the blob id for the nanoseconds.
func expectedTime(
    _ repository: String, _ tracked: TrackedPath, authorDate: Bool = false,
    environment: [String: String] = [:]
) throws -> Timestamp {
    let format = authorDate ? "%at" : "%ct"
    let output = try runChecked(
        [
            "git", "--literal-pathspecs", "log", "-1", "--first-parent", "--format=\(format)",
            "--", tracked.path,
        ], in: repository, environment: environment
    ).stdout
    let seconds = try #require(Int64(output.trimmingCharacters(in: .whitespacesAndNewlines)), "no commit for \(tracked.path)")
    return Timestamp(commitSeconds: seconds, objectID: tracked.objectID)
}

/// Asserts every tracked non-submodule path outside `except` has exactly the oracle's mtime.
func expectRestored(
    _ repository: String, except: Set<String> = [], authorDate: Bool = false,
    environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var checked = 0
    for tracked in try trackedPaths(repository, environment: environment) where tracked.mode != "160000" && !except.contains(tracked.path) {
        let actual = try modificationTime((repository as NSString).appendingPathComponent(tracked.path))
        let expected = try expectedTime(repository, tracked, authorDate: authorDate, environment: environment)
        #expect(actual == expected, "\(tracked.path)", sourceLocation: sourceLocation)
        checked += 1
    }
    #expect(checked > 0, sourceLocation: sourceLocation)
}

/// The value of a `name: value` summary line printed by `restore -v`.
func summaryValue(_ output: String, _ name: String) -> String? {
    for line in output.split(separator: "\n") where line.hasPrefix("\(name): ") {
        return String(line.dropFirst(name.count + 2))
    }
    return nil
}

/// Sets a path's mtime (not following symlinks) to an arbitrary value.
func setTime(_ path: String, _ time: Timestamp) throws {
    try FileSystem.setModificationTime(BytePath(path), to: time)
}

extension GitRepository {
    /// A small repository with two commits and files in subdirectories.
    static func basic() throws -> GitRepository {
        let repository = try GitRepository()
        try repository.write("README.md", "hello\n")
        try repository.write("src/main.c", "int main(void) { return 0; }\n")
        try repository.write("src/util/helper.c", "void helper(void) {}\n")
        try repository.write("docs/guide.md", "guide\n")
        try repository.commit("first")
        try repository.write("src/main.c", "int main(void) { return 1; }\n")
        try repository.write("docs/notes.txt", "notes\n")
        try repository.commit("second")
        return repository
    }
}
