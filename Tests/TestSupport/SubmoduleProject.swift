import Foundation
import MtimeCore

/// A superproject whose submodule `vendor/library` has a nested submodule `deps/inner`, each with a
/// history of its own (at clearly different times; the inner one with a merge, so first-parent
/// matters), added by file:// URLs that serve filters, and a fresh `git clone --recurse-submodules` of it: every file there has its checkout
/// time until something restores it.
public final class SubmoduleProject: @unchecked Sendable {
    public let inner: GitRepository
    public let library: GitRepository
    public let top: GitRepository
    /// The clone the tests work in.
    public let clone: GitRepository
    public var path: String { clone.path }

    /// Where the submodules are in the clone, outermost first.
    public static let submodules = ["vendor/library", "vendor/library/deps/inner"]

    public init(cloneArguments: [String] = ["--recurse-submodules"]) throws {
        inner = try GitRepository(label: "inner")
        inner.clock = 1_500_000_000
        try inner.write("a.c", "int a;\n")
        try inner.write("src/x.c", "int x;\n")
        try inner.write("src/y.c", "int y;\n")
        try inner.commit("inner first")
        try inner.git("checkout", "-q", "-b", "side")
        try inner.write("src/y.c", "int y = 2;\n")
        try inner.commit("side: y")
        try inner.git("checkout", "-q", "main")
        try inner.write("a.c", "int a = 1;\n")
        try inner.commit("inner a")
        inner.clock += 100
        try inner.git("merge", "-q", "--no-ff", "-m", "merge side", "side")

        library = try GitRepository(label: "library")
        library.clock = 1_550_000_000
        try library.write("lib.c", "int lib(void) { return 1; }\n")
        try library.write("include/lib.h", "int lib(void);\n")
        try library.commit("library first")
        try library.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "file://\(inner.path)", "deps/inner")
        try library.commit("add inner")
        try library.write("lib.c", "int lib(void) { return 2; }\n")
        try library.commit("library second")

        top = try GitRepository(label: "top")
        try top.write("main.c", "int main(void) { return 0; }\n")
        try top.commit("top first")
        try top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", "file://\(library.path)", "vendor/library")
        try top.commit("add library")
        try top.write("README", "top\n")
        try top.commit("top second")

        for origin in [inner, library, top] { try origin.git("config", "uploadpack.allowFilter", "true") }
        clone = try GitRepository(cloning: top.path, label: "superproject", arguments: cloneArguments)
    }

    /// git in the clone's submodule at `path` (`.` for the clone itself).
    @discardableResult
    public func git(in path: String, _ arguments: String...) throws -> String {
        try runChecked(["git", "-c", "protocol.file.allow=always"] + arguments, in: clone.directory.url(path)).stdout
    }

    /// The oracle: `git -C SUB log -1 --first-parent --format=%ct -- PATH` for the seconds, the blob
    /// id for the nanoseconds (`path` relative to the submodule `repository`, `.` for the clone).
    public func commitTime(_ path: String, in repository: String) throws -> Timestamp {
        let seconds = try git(in: repository, "log", "-1", "--first-parent", "--format=%ct", "--", path)
        let blob = try git(in: repository, "rev-parse", "HEAD:\(path)")
        return Timestamp(
            commitSeconds: try unwrap(Int64(seconds.trimmingCharacters(in: .whitespacesAndNewlines)), "time of \(path)"),
            objectID: try unwrap(ObjectID(hex: blob.trimmingCharacters(in: .whitespacesAndNewlines)), "id of \(path)"))
    }

    /// Every file a repository of the clone tracks (gitlinks left out), relative to it.
    public func trackedFiles(in repository: String) throws -> [String] {
        try git(in: repository, "ls-files", "-s", "-z").split(separator: "\0").compactMap { line in
            line.hasPrefix("160000 ") ? nil : String(line[line.index(after: line.firstIndex(of: "\t")!)...])
        }
    }

    /// Paths of the clone (relative to it) whose mtime differs from the oracle's, in `repositories`.
    public func filesWithoutTheirCommitTime(in repositories: [String]) throws -> [String] {
        var wrong: [String] = []
        for repository in repositories {
            for file in try trackedFiles(in: repository) {
                let full = repository == "." ? file : "\(repository)/\(file)"
                if try clone.time(full) != commitTime(file, in: repository) { wrong.append(full) }
            }
        }
        return wrong
    }
}
