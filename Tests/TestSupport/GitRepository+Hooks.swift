import Foundation
import MtimeCore

/// PATH with the built git-mtime and git-mtime-guard first (so `git mtime` resolves inside hooks)
/// and rustup's cargo after them.
public let hookEnvironment: [String: String] = {
    let products = (builtProduct("git-mtime") as NSString).deletingLastPathComponent
    let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return ["PATH": "\(products):\(home)/.cargo/bin:\(path)", "CARGO_TERM_COLOR": "never"]
}()

extension GitRepository {
    /// `main` with a.txt "a2\n" on top of branch `other`'s "a1\n" (checked out: main).
    public static func withBranchOther() throws -> GitRepository {
        let repo = try GitRepository()
        try repo.write("a.txt", "a1\n")
        try repo.commit("a1")
        try repo.git("branch", "other")
        try repo.write("a.txt", "a2\n")
        try repo.commit("a2")
        return repo
    }

    /// git with the built products on PATH: the hooks it fires find `git mtime`.
    @discardableResult
    public func hookGit(_ arguments: String...) throws -> ProcessResult {
        try runChecked(["git"] + arguments, in: path, environment: dateEnvironment(clock).merging(hookEnvironment) { $1 })
    }

    /// Like `hookGit`, but returns a failing status instead of throwing.
    public func hookGitStatus(_ arguments: String...) throws -> ProcessResult {
        try run(["git"] + arguments, in: path, environment: dateEnvironment(clock).merging(hookEnvironment) { $1 })
    }

    /// `git mtime ARGS` in the repository, through git, as a user types it.
    @discardableResult
    public func mtime(_ arguments: String...) throws -> ProcessResult {
        try runChecked(["git", "mtime"] + arguments, in: path, environment: hookEnvironment)
    }

    /// A program (make, cargo, a built binary) in the repository.
    public func tool(_ arguments: String...) throws -> ProcessResult {
        try run(arguments, in: path, environment: hookEnvironment)
    }

    public func time(_ relative: String) throws -> Timestamp { try modificationTime(directory.url(relative)) }

    /// The oracle: seconds of `git log -1 --first-parent --format=%ct -- PATH`, nanoseconds from HEAD's blob id.
    public func commitTime(_ relative: String) throws -> Timestamp {
        let seconds = try git("log", "-1", "--first-parent", "--format=%ct", "--", relative)
        let blob = try git("rev-parse", "HEAD:\(relative)")
        return Timestamp(
            commitSeconds: try unwrap(Int64(seconds.trimmingCharacters(in: .whitespacesAndNewlines)), "commit time of \(relative)"),
            objectID: try unwrap(ObjectID(hex: blob.trimmingCharacters(in: .whitespacesAndNewlines)), "blob id of \(relative)"))
    }

    /// Git's own proof that git-mtime wrote no contents: nothing modified, staged or deleted (throws,
    /// naming the changes, otherwise).
    public func expectWorkingTreeMatchesHead(_ comment: String? = nil) throws {
        let changes = try git("status", "--porcelain", "--untracked-files=no")
        if !changes.isEmpty { throw TestFailure("working tree differs from HEAD\(comment.map { " (\($0))" } ?? ""):\n\(changes)") }
    }
}

/// The hook installed in `repository`'s hooks directory, as text.
public func hookFile(_ repository: GitRepository, _ name: String) -> String? {
    FileManager.default.contents(atPath: repository.directory.url(".git/hooks/\(name)")).map { String(decoding: $0, as: UTF8.self) }
}

/// File bytes and permission bits, to prove a hook comes back byte-for-byte.
public func fileIdentity(_ path: String) throws -> (Data, Int) {
    let data = try unwrap(FileManager.default.contents(atPath: path), "contents of \(path)")
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (data, try unwrap(attributes[.posixPermissions] as? Int, "permissions of \(path)"))
}
