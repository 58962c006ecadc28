import Foundation
import MtimeCore
import MtimeManifest
import Testing
import TestSupport

/// A build context in a temp dir plus a manifest for it (kept outside the root), driven through
/// the built `git-mtime-guard` executable.
final class GuardProject: @unchecked Sendable {
    let directory = TemporaryDirectory("guard-project")
    let manifestDirectory = TemporaryDirectory("guard-manifest")
    var root: String { directory.path }
    var manifestPath: String { manifestDirectory.url("manifest") }
    /// The "commit" time every entry gets: old, as when sources arrive from git.
    var commitTime = Timestamp(seconds: 1_600_000_000)

    func write(_ relative: String, _ contents: String, executable: Bool = false) throws {
        let full = directory.url(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
    }

    func path(_ relative: String) -> String { directory.url(relative) }

    /// Writes a manifest of `files` as they are on disk now, each with the deterministic commit time,
    /// and of the `untracked` files that exist, each with its current time, as `git mtime manifest` does.
    @discardableResult
    func writeManifest(_ files: [String], untracked: [String] = []) throws -> Manifest {
        let present = untracked.filter { FileManager.default.fileExists(atPath: path($0)) }
        let entries = try (files + present).map { relative -> ManifestEntry in
            let full = BytePath(path(relative))
            let status = try FileSystem.status(full)
            let mode = status.gitMode ?? ManifestEntry.regularMode
            let id = try BlobHasher.hash(fileAt: full)
            let isUntracked = present.contains(relative)
            return ManifestEntry(
                path: BytePath(relative), objectID: id,
                modificationTime: isUntracked ? status.modificationTime : Timestamp(commitSeconds: commitTime.seconds, objectID: id),
                mode: mode, isUntracked: isUntracked)
        }
        let manifest = Manifest(headCommit: nil, dirtyCount: 0, entries: entries)
        try writeManifestBytes(manifest.serialized())
        return manifest
    }

    func writeManifestBytes(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: manifestPath))
    }

    /// Runs the guard in the root with `--manifest` added after the subcommand.
    func guardCommand(_ subcommand: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> ProcessResult {
        try run(
            [builtProduct("git-mtime-guard"), subcommand, "--manifest", manifestPath] + arguments,
            in: root, environment: toolEnvironment.merging(environment) { $1 })
    }

    /// Runs a build tool in the root with cargo on PATH.
    func tool(_ arguments: [String]) throws -> ProcessResult {
        try run(arguments, in: root, environment: toolEnvironment)
    }
}

/// PATH with rustup's cargo first (tests may run without a login shell's PATH).
let toolEnvironment: [String: String] = {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return ["PATH": "\(home)/.cargo/bin:\(path)", "CARGO_TERM_COLOR": "never"]
}()

/// Objects make compiled, from the `gcc -c -o OBJECT` commands it echoed, sorted.
func compiledObjects(_ stdout: String) -> [String] {
    stdout.split(separator: "\n").compactMap { line in
        line.hasPrefix("gcc -c -o ") ? String(line.split(separator: " ")[3]) : nil
    }.sorted()
}

/// mtimes of every regular file and symlink under `root`, by relative path.
func modificationTimes(under root: String) throws -> [String: Timestamp] {
    var times: [String: Timestamp] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        let status = try FileSystem.status(BytePath((root as NSString).appendingPathComponent(relative)))
        if status.kind != .directory { times[relative] = status.modificationTime }
    }
    return times
}

/// Loop-mounts a new ext4 with 128-byte inodes (whole seconds, and only up to 2038-01-19T03:14:07Z)
/// at `mountPoint`, its image in `image`; cancels the test where no loop mount can be made. The
/// caller unmounts (`umount -l`).
func mountWholeSecondExt4(at mountPoint: String, image: TemporaryDirectory) throws {
    try runChecked(["truncate", "-s", "32M", image.url("fs.img")])
    try runChecked(["mkfs.ext4", "-q", "-F", "-I", "128", "-O", "^has_journal", image.url("fs.img")])
    let mounted = try run(["mount", "-o", "loop", image.url("fs.img"), mountPoint])
    if !mounted.succeeded { try Test.cancel("cannot loop-mount an ext4 image here: \(mounted.stderr)") }
}
