import Foundation
import Glibc
import MtimeCore
import Testing
import TestSupport

/// Every file an executable reads by a name someone else chose (a Dockerfile, a manifest, a
/// `.dockerignore`, a stamp, a reflog) replaced by what is not a regular file, or by one too large:
/// each command refuses it with a clear message and its documented exit code, at once, never
/// blocking on a FIFO nor reading a device without end. Generated as a table: every reader × every
/// kind, each run under a timeout, so a hang fails the test instead of stalling it.
@Suite struct HostileInputFileTests {
    /// What is put where the file should be.
    enum Kind: String, CaseIterable {
        /// A FIFO nobody writes to: a blocking open waits forever.
        case fifo
        /// A FIFO with a writer that never writes: a blocking read waits forever.
        case fifoWithWriter
        /// /dev/zero's twin: reads never end.
        case characterDevice
        case directory
        case symlinkToDevZero
        /// A sparse regular file one byte over the reader's limit.
        case oversized
    }

    /// One reader: how to put a `kind` in its place, the command that reads it, and what it must say.
    struct Reader: Sendable {
        let name: String
        /// The reader's size limit, for `oversized`.
        let limit: Int
        /// Where the hostile file goes, relative to the repository.
        let place: String
        let command: @Sendable (_ repository: String, _ hostile: String) -> (arguments: [String], environment: [String: String])
        /// Exit code and a fragment of its output, per kind.
        let expected: @Sendable (Kind) -> (status: Int32, says: String)
    }

    static let readers: [Reader] = [
        Reader(
            name: "docker build -f", limit: 16 << 20, place: "hostile/Dockerfile",
            command: { _, hostile in ([builtProduct("git-mtime"), "docker", "--docker", "/bin/true", "build", "-f", hostile, "."], [:]) },
            expected: { kind in kind == .oversized ? (125, "larger than") : (125, "not a regular file") }),
        Reader(
            name: "guard --manifest", limit: 1 << 30, place: "hostile/manifest",
            command: { repository, hostile in
                ([builtProduct("git-mtime-guard"), "check", "--manifest", hostile, "--root", repository], [:])
            },
            expected: { kind in
                switch kind {
                case .oversized: return (64, "larger than")
                // The manifest is never read through a final symlink.
                case .symlinkToDevZero: return (74, "symbolic links")
                default: return (64, "not a regular file")
                }
            }),
        Reader(
            name: "manifest (classic .dockerignore)", limit: 16 << 20, place: ".dockerignore",
            command: { _, _ in ([builtProduct("git-mtime"), "manifest", "--builder", "classic", "-o", "/dev/null"], [:]) },
            expected: { kind in kind == .oversized ? (1, "larger than") : (1, "not a regular file") }),
        Reader(
            name: "status (mtime.stamp)", limit: 1 << 30, place: "hostile/stamp",
            command: { _, hostile in
                (
                    [builtProduct("git-mtime"), "status"],
                    [
                        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "mtime.stamp",
                        "GIT_CONFIG_VALUE_0": hostile,
                    ]
                )
            },
            expected: { kind in kind == .oversized ? (0, "larger than") : (0, "not trusted") }),
        Reader(
            name: "explain --stamp", limit: 1 << 30, place: "hostile/stamp",
            command: { _, hostile in ([builtProduct("git-mtime"), "explain", "--stamp", hostile, "README.md"], [:]) },
            expected: { _ in (0, "untrusted") }),
        // libgit2 opens the index blocking: checked first (git itself hangs on a FIFO there).
        Reader(
            name: "restore (GIT_INDEX_FILE)", limit: 64 << 20, place: "hostile/index",
            command: { _, hostile in ([builtProduct("git-mtime"), "restore"], ["GIT_INDEX_FILE": hostile]) },
            expected: { kind in kind == .oversized ? (1, "cannot read the index") : (1, "not a regular file") }),
        // A clone's first checkout decides from the reflog whether it is fresh; anything else is a rewrite.
        Reader(
            name: "post-checkout hook (logs/HEAD)", limit: 1 << 20, place: ".git/logs/HEAD",
            command: { repository, _ in
                let head = (try? runChecked(["git", "rev-parse", "HEAD"], in: repository).stdout) ?? ""
                return (
                    [
                        builtProduct("git-mtime"), "hooks", "run", "-v", "post-checkout",
                        String(repeating: "0", count: 40), head.trimmingCharacters(in: .whitespacesAndNewlines), "1",
                    ], [:]
                )
            },
            expected: { _ in (0, "changed path") }),
    ]

    /// Puts a `kind` at `path`; the returned descriptor (a FIFO's writer) stays open until closed.
    private static func make(_ kind: Kind, at path: String, limit: Int) throws -> Int32? {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        switch kind {
        case .fifo, .fifoWithWriter:
            guard mkfifo(path, 0o644) == 0 else { throw TestFailure("mkfifo \(path): \(String(cString: strerror(errno)))") }
            // O_RDWR on a FIFO opens at once on Linux and counts as a writer.
            return kind == .fifoWithWriter ? open(path, O_RDWR | O_CLOEXEC) : nil
        case .characterDevice:
            guard mknod(path, S_IFCHR | 0o644, makedev(1, 5)) == 0 else {
                throw TestFailure("mknod \(path) (as /dev/zero): \(String(cString: strerror(errno)))")
            }
        case .directory:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .symlinkToDevZero:
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        case .oversized:
            guard FileManager.default.createFile(atPath: path, contents: nil), truncate(path, off_t(limit) + 1) == 0 else {
                throw TestFailure("sparse file \(path)")
            }
        }
        return nil
    }

    private static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        dev_t(major & 0xfff) << 8 | dev_t(minor & 0xff) | dev_t(major & ~0xfff) << 32 | dev_t(minor & ~0xff) << 12
    }

    static let cases: [(reader: Int, kind: Kind)] = readers.indices.flatMap { reader in Kind.allCases.map { (reader, $0) } }

    @Test(arguments: cases.indices)
    func aReaderRefusesWhatIsNotARegularFileAtOnce(_ index: Int) throws {
        let (reader, kind) = (Self.readers[Self.cases[index].reader], Self.cases[index].kind)
        if kind == .characterDevice && getuid() != 0 {
            print("skipped \(reader.name) × \(kind): mknod of a character device needs root")
            return
        }
        let repository = try GitRepository(label: "hostile-input")
        try repository.write("README.md", "readme\n")
        try repository.write("Dockerfile", "FROM scratch\n")
        try repository.commit("first")
        let hostile = repository.directory.url(reader.place)
        let writer = try Self.make(kind, at: hostile, limit: reader.limit)
        defer { if let writer { close(writer) } }
        let (arguments, environment) = reader.command(repository.path, hostile)

        let child = try Subprocess(arguments, in: repository.path, environment: environment)
        let finished = child.wait(timeout: 120)
        let result = try #require(finished, "\(reader.name) × \(kind.rawValue): still running after 120 s (a hang), killed")
        let expected = reader.expected(kind)
        let output = result.stdout + result.stderr
        #expect(result.status == expected.status, "\(reader.name) × \(kind.rawValue): \(output)")
        #expect(output.contains(expected.says), "\(reader.name) × \(kind.rawValue): expected \"\(expected.says)\" in: \(output)")
        // Nothing was read into a file and nothing replaced the hostile entry.
        var status = stat()
        #expect(lstat(hostile, &status) == 0, "\(hostile) is still there")
    }
}

extension HostileInputFileTests {
    /// A client that answers 0 to everything (a stub, a shim) says every fresh image name is taken:
    /// the wrapper gives up after a few names instead of drawing new ones for ever.
    @Test func aClientThatSaysEveryNameExistsEndsTheBuildInsteadOfLooping() throws {
        let repository = try GitRepository(label: "yes-client")
        try repository.write(
            "Dockerfile", "FROM scratch\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- true\n")
        try repository.commit("first")
        let child = try Subprocess([builtProduct("git-mtime"), "docker", "--docker", "/bin/true", "build", "."], in: repository.path)
        let result = try #require(child.wait(timeout: 120), "still drawing image names after 120 s, killed")
        #expect(result.status == 125, "\(result.stderr)")
        #expect(result.stderr.contains("says each of 4 fresh random image names already exists"), "\(result.stderr)")
    }
}

extension HostileInputFileTests {
    /// The other side of refusing what is not a regular file: a Dockerfile (`-f`) and a guard
    /// (`GIT_MTIME_GUARD`, an install that links it) that are symlinks to regular files are read
    /// through their links, as docker and any other program would read them.
    @Test func aSymlinkedDockerfileAndGuardAreReadThroughTheirLinks() throws {
        let repository = try GitRepository(label: "linked-inputs")
        try repository.write(
            "build/Dockerfile.real",
            "FROM scratch\nRUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- true\n")
        try repository.commit("first")
        try FileManager.default.createSymbolicLink(
            atPath: repository.directory.url("Dockerfile.link"), withDestinationPath: "build/Dockerfile.real")
        let tools = TemporaryDirectory("linked-inputs-tools")
        let guardLink = tools.url("guard-link")
        try FileManager.default.createSymbolicLink(atPath: guardLink, withDestinationPath: builtProduct("git-mtime-guard"))
        // A client that has no image by any name, imports with a fresh id and builds successfully.
        let client = tools.url("docker")
        try Data(
            "#!/bin/sh\ncase \"$1 $2\" in\n\"image inspect\") exit 1;;\n\"import --change\") echo sha256:0123; exit 0;;\nesac\nexit 0\n"
                .utf8
        )
        .write(to: URL(fileURLWithPath: client))
        #expect(chmod(client, 0o755) == 0)
        let child = try Subprocess(
            [builtProduct("git-mtime"), "docker", "--docker", client, "build", "-f", "Dockerfile.link", "."],
            in: repository.path, environment: ["GIT_MTIME_GUARD": guardLink])
        let result = try #require(child.wait(timeout: 120), "still running after 120 s, killed")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("guard and manifest reach the build through"), "\(result.stderr)")
    }
}
