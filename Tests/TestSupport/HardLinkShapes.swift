import Foundation
import Glibc
import MtimeCore

/// Names of one file (hard links) in a make project, after a sealed build: `cp -al`, `tar`, BuildKit's
/// context transfer and dedup tools (`hardlink`, `rdfind`) keep or make them. Every name holds the
/// same bytes now; each had, when the build was sealed, either those bytes (unchanged) or others
/// (changed), and is tracked or untracked. Names are `src/n0.c`, `src/n1.c`, … in path order, so a
/// changed name comes before or after an unchanged one; `src/z.c` is an ordinary source.
public struct HardLinkShape: CustomStringConvertible, Sendable {
    public enum Role: String, CaseIterable, Sendable { case trackedChanged, trackedUnchanged, untrackedChanged, untrackedUnchanged }

    public var roles: [Role]
    /// The tracked changed names are committed (clean, with a commit time) rather than dirty.
    public var committed: Bool

    public var description: String { roles.map(\.rawValue).joined(separator: "+") + (committed ? " committed" : " dirty") }
    public var names: [String] { roles.indices.map { "src/n\($0).c" } }
    public var hasChange: Bool { roles.contains { $0 == .trackedChanged || $0 == .untrackedChanged } }

    /// Every pair of roles, committed and dirty, then `triples` groups of three drawn from `seed`.
    public static func generated(triples: Int, seed: UInt64) -> [HardLinkShape] {
        var shapes: [HardLinkShape] = []
        for committed in [false, true] {
            for first in Role.allCases {
                for second in Role.allCases { shapes.append(.init(roles: [first, second], committed: committed)) }
            }
        }
        var random = SeededGenerator(seed: seed)
        for _ in 0..<triples {
            shapes.append(
                .init(roles: (0..<3).map { _ in Role.allCases.randomElement(using: &random)! }, committed: Bool.random(using: &random)))
        }
        return shapes
    }

    public init(roles: [Role], committed: Bool) {
        self.roles = roles
        self.committed = committed
    }

    /// The project at its sealed build: each object `build/X.o` is a copy of `src/X.c`, `build/out`
    /// their concatenation. Names unchanged since hold `shared`, changed ones their own old bytes.
    /// `seal` runs the sealed build (in `repo`, or wherever the caller builds).
    public func makeProject(seal: (GitRepository) throws -> Void) throws -> GitRepository {
        let repo = try GitRepository()
        try repo.write(".gitignore", "build/\n")
        try repo.write(
            "Makefile",
            """
            SOURCES := $(sort $(wildcard src/*.c))
            OBJECTS := $(SOURCES:src/%.c=build/%.o)
            build/out: $(OBJECTS)
            \tcat $(OBJECTS) > build/out
            build/%.o: src/%.c
            \t@mkdir -p build
            \tcp $< $@

            """)
        try repo.write("src/z.c", "z\n")
        for (name, role) in zip(names, roles) {
            try repo.write(name, role == .trackedUnchanged || role == .untrackedUnchanged ? "shared\n" : "old \(name)\n")
        }
        let tracked = zip(names, roles).filter { $0.1 == .trackedChanged || $0.1 == .trackedUnchanged }.map(\.0)
        try repo.gitArray(["add", ".gitignore", "Makefile", "src/z.c"] + tracked)
        repo.clock += 100
        try repo.git("commit", "-q", "-m", "first")
        try seal(repo)
        return repo
    }

    /// Makes every name one file holding `shared` (the first unchanged name's, else a new one), dated
    /// `time` (nil: now, as an edit is), and commits the tracked changed names when `committed`.
    public func link(_ repo: GitRepository, at time: Timestamp?) throws {
        let origin = zip(names, roles).first { $0.1 == .trackedUnchanged || $0.1 == .untrackedUnchanged }?.0
        let source = repo.directory.url(origin ?? "src/.origin")
        if origin == nil { try repo.write("src/.origin", "shared\n") }
        for name in names where name != origin {
            let path = repo.directory.url(name)
            guard unlink(path) == 0, Glibc.link(source, path) == 0 else { throw TestFailure("link \(name): errno \(errno)") }
        }
        if origin == nil { unlink(source) }
        try FileSystem.setModificationTime(BytePath(repo.directory.url(names[0])), to: time ?? FileSystem.now())
        if committed {
            let changed = zip(names, roles).filter { $0.1 == .trackedChanged }.map(\.0)
            if !changed.isEmpty {
                repo.clock += 100
                try repo.gitArray(["commit", "-q", "-m", "changed", "--"] + changed)
            }
        }
    }

    /// What `build/out` holds when built from the sources on disk.
    public func expectedOutput() -> String {
        (0..<roles.count).map { _ in "shared\n" }.joined() + "z\n"
    }

    /// The names whose bytes differ from what the sealed build consumed, each with its mtime when
    /// not later than every file in `build/` (the promise: they must all be later).
    public func changedNamesNotNewer(in root: String) throws -> [String] {
        let outputs = try FileManager.default.contentsOfDirectory(atPath: (root as NSString).appendingPathComponent("build"))
            .filter { !$0.hasPrefix(".") }
            .map { try modificationTime((root as NSString).appendingPathComponent("build/\($0)")) }
        guard let newest = outputs.max() else { return [] }
        return try zip(names, roles).compactMap { name, role in
            guard role == .trackedChanged || role == .untrackedChanged else { return nil }
            let time = try modificationTime((root as NSString).appendingPathComponent(name))
            return time > newest ? nil : "\(name) at \(time), outputs up to \(newest)"
        }
    }
}
