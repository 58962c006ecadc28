import Foundation
import MtimeCore

/// A directory under the system temp dir, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "git-mtime-test") {
        let template = NSTemporaryDirectory() + "\(label).XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { fatalError("mkdtemp failed for \(template)") }
        path = String(cString: made)
    }

    deinit {
        // Read-only directories left by tests must not stop the cleanup.
        _ = try? run(["chmod", "-R", "u+rwx", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    public func url(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }
}

public struct ProcessResult: Sendable {
    public let status: Int32
    /// The raw outputs (paths in git's `-z` output need not be UTF-8).
    public let stdoutBytes: [UInt8]
    public let stderrBytes: [UInt8]
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
    public var succeeded: Bool { status == 0 }

    public init(status: Int32, stdoutBytes: [UInt8], stderrBytes: [UInt8]) {
        self.status = status
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
    }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public let arguments: [String]
    public let result: ProcessResult
    public var description: String {
        "\(arguments.joined(separator: " ")) exited \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
    }
}

/// A fixture that could not be set up or a check that failed outside `#expect` (TestSupport is an
/// ordinary target, built by `swift build -c release` too, where the Testing module is absent).
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The value, or a `TestFailure` naming what was missing.
public func unwrap<T>(_ value: T?, _ what: @autoclosure () -> String) throws -> T {
    guard let value else { throw TestFailure("missing: \(what())") }
    return value
}

/// The checkout these tests were built from (three levels above this file).
private let projectCheckout = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs a program (looked up on PATH) to completion, capturing its output.
@discardableResult
public func run(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
    input: String? = nil
) throws -> ProcessResult {
    // A test's git command must act on its own temp repository, never on the project's checkout
    // (`swift test` runs with the package root as the working directory).
    let effectiveDirectory = directory ?? FileManager.default.currentDirectoryPath
    if arguments.first == "git", (effectiveDirectory + "/").hasPrefix(projectCheckout + "/") {
        fatalError("refusing to run \(arguments.joined(separator: " ")) in the project checkout \(effectiveDirectory)")
    }
    guard FileManager.default.fileExists(atPath: effectiveDirectory) else {
        throw ProcessFailure(
            arguments: arguments,
            result: ProcessResult(status: -1, stdoutBytes: [], stderrBytes: Array("no such directory: \(effectiveDirectory)".utf8)))
    }
    let input = input.map { Array($0.utf8) }
    return try Subprocess(arguments, in: directory, environment: environment, input: input).wait()
}

/// Like `run`, but throws unless the program exits 0.
@discardableResult
public func runChecked(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
    input: String? = nil
) throws -> ProcessResult {
    let result = try run(arguments, in: directory, environment: environment, input: input)
    guard result.succeeded else { throw ProcessFailure(arguments: arguments, result: result) }
    return result
}

/// Path of an executable this package builds (`git-mtime`, `git-mtime-guard`), found next to the test bundle.
public func builtProduct(_ name: String) -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    fatalError("\(name) is not built next to the tests; run `swift build` first")
}

/// A real git repository in a temp dir, driven by the git CLI with fixed identities and dates.
public final class GitRepository: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }
    /// The next commit's time (seconds since the epoch); each commit advances it.
    public var clock: Int64 = 1_600_000_000

    public init(label: String = "repo", initialBranch: String = "main") throws {
        directory = TemporaryDirectory(label)
        try git("init", "-q", "-b", initialBranch)
        try git("config", "user.name", "Test")
        try git("config", "user.email", "test@example.com")
        try git("config", "commit.gpgsign", "false")
    }

    /// `git clone ARGUMENTS SOURCE` into a new temp dir (file:// URLs and local submodules allowed),
    /// with the same identity settings as a new repository.
    public init(cloning source: String, label: String = "clone", arguments: [String] = []) throws {
        directory = TemporaryDirectory(label)
        try runChecked(
            ["git", "-c", "protocol.file.allow=always", "clone", "-q"] + arguments + [source, directory.path], in: directory.path)
        try git("config", "user.name", "Test")
        try git("config", "user.email", "test@example.com")
        try git("config", "commit.gpgsign", "false")
    }

    /// Environment pinning author and committer dates (author one hour before the committer).
    public func dateEnvironment(_ time: Int64) -> [String: String] {
        ["GIT_COMMITTER_DATE": "@\(time) +0000", "GIT_AUTHOR_DATE": "@\(time - 3600) +0000"]
    }

    @discardableResult
    public func git(_ arguments: String..., environment: [String: String] = [:]) throws -> String {
        try runChecked(["git"] + arguments, in: path, environment: dateEnvironment(clock).merging(environment) { $1 }).stdout
    }

    @discardableResult
    public func gitArray(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        try runChecked(["git"] + arguments, in: path, environment: dateEnvironment(clock).merging(environment) { $1 }).stdout
    }

    public func write(_ relative: String, _ contents: String) throws {
        let full = directory.url(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
    }

    /// `git add -A && git commit` at the next clock tick; returns the new commit id.
    @discardableResult
    public func commit(_ message: String = "change", advancing seconds: Int64 = 100) throws -> String {
        clock += seconds
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Names after `Compiling` in cargo's stderr, sorted.
public func compiledCrates(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").compactMap { line -> String? in
        let words = line.split(separator: " ")
        guard words.first == "Compiling", words.count >= 2 else { return nil }
        return String(words[1])
    }.sorted()
}

/// Every regular file's bytes under `root` (skipping `.git`): compare before and after a command
/// to prove git-mtime never writes file contents.
public func contentSnapshot(of root: String) throws -> [String: Data] {
    var snapshot: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        if relative == ".git" || relative.hasPrefix(".git/") { enumerator?.skipDescendants(); continue }
        let full = (root as NSString).appendingPathComponent(relative)
        var info = stat()
        guard lstat(full, &info) == 0 else { continue }
        if info.st_mode & S_IFMT == S_IFREG {
            snapshot[relative] = FileManager.default.contents(atPath: full)
        } else if info.st_mode & S_IFMT == S_IFLNK {
            snapshot[relative] = Data(((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "").utf8)
        }
    }
    return snapshot
}

/// lstat's mtime of a path.
public func modificationTime(_ path: String) throws -> Timestamp {
    try FileSystem.status(BytePath(path)).modificationTime
}

/// Deterministic pseudo-random numbers (SplitMix64), so a failing random case can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// lstat mtimes of every entry below `root` (skipping `.git`), to prove a command changed nothing.
public func mtimeSnapshot(_ root: String) throws -> [String: Timestamp] {
    var snapshot: [String: Timestamp] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        if relative == ".git" { enumerator?.skipDescendants(); continue }
        snapshot[relative] = try modificationTime((root as NSString).appendingPathComponent(relative))
    }
    snapshot["."] = try modificationTime(root)
    return snapshot
}
