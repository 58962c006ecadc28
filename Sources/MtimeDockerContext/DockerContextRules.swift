import Glibc
import MtimeCore

/// Which Dockerfile a build uses, as its client was told.
public enum DockerfileLocation: Sendable, Equatable {
    /// No `-f`: `CONTEXT/Dockerfile` (the classic client falls back to `CONTEXT/dockerfile`).
    case standard
    /// `-f PATH`: relative to the working directory, as docker resolves it (not to the context).
    case path(BytePath)
    /// `-f -`, or any Dockerfile the client reads from outside the context and adds itself.
    case standardInput
}

/// The builder that will receive the context, and which pattern code its client and daemon run.
public struct DockerBuilder: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// BuildKit: `docker buildx build`, `docker build` of docker 23+, `DOCKER_BUILDKIT=1` before.
        case buildKit = "buildkit"
        /// The classic builder: `DOCKER_BUILDKIT=0`.
        case classic
    }

    public var kind: Kind
    /// The client walks the context and applies the patterns (the BuildKit client through fsutil).
    public var client: DockerPatternEngine
    /// Classic builder only: the daemon re-reads `.dockerignore` from the context it received and
    /// removes `.dockerignore` and the Dockerfile if it excludes them.
    public var daemon: DockerPatternEngine

    public init(kind: Kind, client: DockerPatternEngine, daemon: DockerPatternEngine? = nil) {
        self.kind = kind
        self.client = client
        self.daemon = daemon ?? client
    }

    /// What a current docker (23 or later) does by default: BuildKit through buildx.
    public static let current = DockerBuilder(kind: .buildKit, client: .patternmatcher)

    public var description: String {
        "\(kind.rawValue) (client: \(client.rawValue)\(kind == .classic && daemon != client ? ", daemon: \(daemon.rawValue)" : ""))"
    }
}

/// Which files a Docker build context holds: the ignore file the builder reads, its patterns, and
/// how the builder's client walks the context with them (moby/patternmatcher or docker/docker's
/// pkg/fileutils, with tonistiigi/fsutil for BuildKit and the archive walker for the classic builder).
///
/// - BuildKit reads `<Dockerfile>.dockerignore` (next to the Dockerfile, named after `-f`'s last
///   component, `Dockerfile` without `-f`) if it is there, else `<context>/.dockerignore`; each
///   resolved as if its directory were `/` (a symlink cannot leave it; one that would reads nothing).
/// - The classic client reads `<context>/.dockerignore` only, following symlinks wherever they go;
///   it keeps `.dockerignore` and the Dockerfile in what it sends (`!` rules it appends) and the daemon
///   then removes them if they are excluded.
public struct DockerContextRules: Sendable {
    public let builder: DockerBuilder
    /// The ignore file the patterns come from, as a path to show; nil when there is none.
    public let ignoreFile: String?
    /// The client's patterns, in order, including the ones the classic client appends.
    let patterns: [DockerPattern]
    let hasExclusions: Bool
    /// BuildKit 23+ (fsutil's filter): an exception with a wildcard makes it walk into every
    /// excluded directory.
    let walksEveryExcludedDirectory: Bool
    /// Classic builder: what the daemon does with the context it receives.
    let daemonRemovals: DaemonRemovals?

    struct DaemonRemovals: Sendable {
        /// The Dockerfile inside the context: the daemon reads it from what it received, so a client
        /// whose walk left it out (its two pattern checks can disagree) makes the build fail.
        let dockerfile: BytePath?
        /// `.dockerignore` and the Dockerfile's path relative to the context (when it is inside), and
        /// what removing each deletes: the daemon resolves the name first, so for a symlinked
        /// `.dockerignore` it deletes the file the link points to and leaves the link.
        let candidates: [(name: BytePath, removes: BytePath)]
        let reading: DaemonReading
    }

    /// The classic daemon reads `.dockerignore` again from the context it received, resolving the name
    /// inside it (moby/sys symlink's FollowSymlinkInScope: a missing component is accepted, so the file
    /// is simply not found; a file where a directory should be, or a symlink loop, fails the build).
    struct DaemonReading: Sendable {
        enum Outcome: Sendable {
            case patterns([DockerPattern])
            /// Found nothing, or patterns its own `Matches` cannot use: it removes nothing.
            case nothing
            case failsBuild(String)
        }

        /// The outcome holds only if the client sent these (the symlinks on the way, the file or the
        /// non-directory in the way); otherwise the daemon finds nothing there.
        let requiredEntries: [BytePath]
        let outcome: Outcome

        init(requiredEntries: [BytePath], outcome: Outcome) {
            self.requiredEntries = requiredEntries
            self.outcome = outcome
        }

        /// A regular file read: its patterns, unless the daemon's own `Matches` would fail on them.
        init(contents: [UInt8], requiredEntries: [BytePath], engine: DockerPatternEngine) {
            self.requiredEntries = requiredEntries
            if let entries = try? DockerIgnoreFile.readAll(contents, file: ".dockerignore"),
                let patterns = try? DockerPattern.compile(entries, engine: engine)
            {
                outcome = .patterns(patterns)
            } else {
                outcome = .nothing
            }
        }
    }

    /// A context without rules: every file is in it.
    public static let none = DockerContextRules(
        builder: .current, ignoreFile: nil, patterns: [], hasExclusions: false,
        walksEveryExcludedDirectory: false, daemonRemovals: nil)

    private init(
        builder: DockerBuilder, ignoreFile: String?, patterns: [DockerPattern], hasExclusions: Bool,
        walksEveryExcludedDirectory: Bool, daemonRemovals: DaemonRemovals?
    ) {
        self.builder = builder
        self.ignoreFile = ignoreFile
        self.patterns = patterns
        self.hasExclusions = hasExclusions
        self.walksEveryExcludedDirectory = walksEveryExcludedDirectory
        self.daemonRemovals = daemonRemovals
    }

    /// Largest ignore file read (Docker has no limit; a larger one is certainly not hand-written).
    public static let sizeLimit = 16 << 20
    static let ignoreName: [UInt8] = Array(".dockerignore".utf8)

    /// The rules a build of `contextDirectory` with this Dockerfile and builder applies (a relative
    /// path starts at the current directory, as docker's own arguments do).
    public init(contextDirectory: BytePath, dockerfile: DockerfileLocation, builder: DockerBuilder) throws {
        switch builder.kind {
        case .buildKit:
            let (file, contents) = try Self.readBuildKitIgnoreFile(
                context: contextDirectory, dockerfile: dockerfile, client: builder.client)
            try self.init(builder: builder, ignoreFile: file, contents: contents, classic: nil)
        case .classic:
            let path = contextDirectory.appending(BytePath(Self.ignoreName))
            let contents = try Self.readFollowingSymlinks(path)
            let located = try Self.classicDockerfile(context: contextDirectory, dockerfile: dockerfile)
            // The client adds a Dockerfile from outside the context (or stdin) itself and appends its
            // name to the `.dockerignore` it sends; a symlink there makes that fail.
            if located == .addedByClient, try FileSystem.statusIfPresent(path)?.kind == .symlink {
                throw DockerIgnoreError(
                    origin: .init(file: path.description, line: nil),
                    reason:
                        "is a symlink, and the classic builder's client cannot send it with a Dockerfile from outside the "
                        + "context or stdin (docker fails with \"archive/tar: write too long\"); make it a regular file or use BuildKit")
            }
            var inside: BytePath?
            if case .inside(let relative) = located { inside = relative }
            try self.init(
                builder: builder, ignoreFile: contents == nil ? nil : path.description, contents: contents,
                classic: (inside, try Self.daemonReading(context: contextDirectory, engine: builder.daemon)))
        }
    }

    private static func daemonReading(context: BytePath, engine: DockerPatternEngine) throws -> (DaemonReading, removes: BytePath) {
        let name = BytePath(ignoreName)
        let (result, symlinks) = try ConfinedPath.resolve(name, under: context)
        switch result {
        case .success(let found) where found.status.kind == .regular:
            return (
                DaemonReading(contents: try found.readContents(limit: sizeLimit), requiredEntries: symlinks + [found.path], engine: engine),
                found.path
            )
        case .success(let found):
            return (
                DaemonReading(
                    requiredEntries: symlinks + [found.path],
                    outcome: .failsBuild(
                        "the classic daemon fails reading \(found.path) (where .dockerignore leads inside the context): not a regular file")
                ), name
            )
        case .failure(.notADirectory(let blocking)):
            return (
                DaemonReading(
                    requiredEntries: symlinks + [blocking],
                    outcome: .failsBuild(
                        "the classic daemon fails resolving .dockerignore inside the context: \(blocking) is not a directory "
                            + "(docker: \"forbidden path outside the build context: .dockerignore\")")), name
            )
        case .failure(.tooManyLinks):
            return (
                DaemonReading(
                    requiredEntries: symlinks,
                    outcome: .failsBuild(
                        "the classic daemon fails resolving .dockerignore inside the context: too many symlinks")), name
            )
        case .failure(.missing):
            return (DaemonReading(requiredEntries: symlinks, outcome: .nothing), name)
        }
    }

    /// The rules of an ignore file the caller has read itself (`git mtime doctor`), as `builder`
    /// applies them to a build context sent through the build context (no classic-builder additions).
    public init(ignoreFile: String, contents: [UInt8], builder: DockerBuilder = .current) throws(DockerIgnoreError) {
        try self.init(builder: builder, ignoreFile: ignoreFile, contents: contents, classic: nil)
    }

    /// The rules of an ignore file's `contents` (nil: none). `classic`: the Dockerfile's path relative
    /// to the context (nil when the client adds it itself), and the daemon's reading of `.dockerignore`
    /// (with the path its removal deletes).
    init(
        builder: DockerBuilder, ignoreFile: String?, contents: [UInt8]?,
        classic: (dockerfile: BytePath?, daemon: (reading: DaemonReading, removes: BytePath))?
    ) throws(DockerIgnoreError) {
        self.builder = builder
        self.ignoreFile = ignoreFile
        var entries =
            try contents.map { (bytes) throws(DockerIgnoreError) in try DockerIgnoreFile.readAll(bytes, file: ignoreFile ?? ".dockerignore")
            } ?? []
        if let classic {
            // TrimBuildFilesFromExcludes: what the rules exclude of these two is sent anyway (the daemon
            // takes it out again).
            let userPatterns = try DockerPattern.compile(entries, engine: builder.client)
            var candidates = [(name: BytePath(Self.ignoreName), removes: classic.daemon.removes)]
            if Self.deprecatedMatches(Self.ignoreName, userPatterns, engine: builder.client) {
                entries.append(
                    ([UInt8(ascii: "!")] + Self.ignoreName, .init(file: "the `!.dockerignore` the classic client adds", line: nil)))
            }
            if let dockerfile = classic.dockerfile {
                if Self.deprecatedMatches(dockerfile.bytes, userPatterns, engine: builder.client) {
                    entries.append(
                        (
                            [UInt8(ascii: "!")] + dockerfile.bytes,
                            .init(file: "the `!` rule the classic client adds for the Dockerfile", line: nil)
                        ))
                }
                candidates.append((dockerfile, dockerfile))
            }
            daemonRemovals = DaemonRemovals(dockerfile: classic.dockerfile, candidates: candidates, reading: classic.daemon.reading)
        } else {
            daemonRemovals = nil
        }
        if builder.kind == .buildKit {
            // BuildKit's Dockerfile frontend reads the ignore file and hands the patterns to the local
            // source as a JSON attribute: encoding/json turns each invalid UTF-8 byte into U+FFFD.
            entries = entries.map { (GoStrings.coercedToValidUTF8($0.pattern), $0.origin) }
        }
        patterns = try DockerPattern.compile(entries, engine: builder.client)
        hasExclusions = patterns.contains(where: \.exclusion)
        let wildcards = Set("*[]?^\\".utf8)
        walksEveryExcludedDirectory =
            builder.kind == .buildKit && builder.client == .patternmatcher
            && patterns.contains { $0.exclusion && Self.withoutTrailingGlob($0.text).contains(where: wildcards.contains) }
    }

    /// BuildKit: `<Dockerfile>.dockerignore` in the Dockerfile's directory, else the context's `.dockerignore`.
    /// An unreadable, missing or non-regular file counts as absent, as BuildKit's `ReadFile` error does.
    private static func readBuildKitIgnoreFile(
        context: BytePath, dockerfile: DockerfileLocation,
        client: DockerPatternEngine
    ) throws -> (String?, [UInt8]?) {
        let located: (directory: BytePath, name: [UInt8])?
        switch dockerfile {
        case .standard: located = (context, Array("Dockerfile".utf8))
        case .path(let path): located = directoryAndName(path)
        case .standardInput: located = nil
        }
        if var (directory, name) = located {
            // buildx renames a missing `Dockerfile` to an existing `dockerfile` before BuildKit sees it
            // (handleLowercaseDockerfile); docker 20.10's BuildKit keeps the name and falls back itself.
            if client == .patternmatcher, name == Array("Dockerfile".utf8),
                let names = try? FileSystem.listDirectory(directory).map(\.bytes),
                !names.contains(name), names.contains(Array("dockerfile".utf8))
            {
                name = Array("dockerfile".utf8)
            }
            let ignore = BytePath(name + ignoreName)
            if let contents = try readConfined(ignore, under: directory) {
                return (directory.appending(ignore).description, contents)
            }
        }
        let ignore = BytePath(ignoreName)
        guard let contents = try readConfined(ignore, under: context) else { return (nil, nil) }
        return (context.appending(ignore).description, contents)
    }

    /// Go's `filepath.Dir` and `filepath.Base` of a Dockerfile path, as the client splits `-f`.
    private static func directoryAndName(_ path: BytePath) -> (directory: BytePath, name: [UInt8]) {
        let cleaned = BytePath(GoStrings.clean(path.bytes))
        let parent = cleaned.parent.isEmpty ? BytePath(cleaned.isAbsolute ? "/" : ".") : cleaned.parent
        return (parent, cleaned.lastComponent.bytes)
    }

    /// What BuildKit reads as `<Dockerfile>.dockerignore` for this Dockerfile (nil: nothing, it then
    /// reads the context's `.dockerignore`): for a wrapper that hands BuildKit a copy of the Dockerfile
    /// elsewhere and puts the same rules beside it.
    public static func buildKitIgnoreFile(besideDockerfile path: BytePath) throws -> [UInt8]? {
        let (directory, name) = directoryAndName(path)
        return try readConfined(BytePath(name + ignoreName), under: directory)
    }

    private static func readConfined(_ name: BytePath, under directory: BytePath) throws -> [UInt8]? {
        guard case .success(let resolved) = try ConfinedPath.resolve(name, under: directory).0, resolved.status.kind == .regular
        else { return nil }
        return try resolved.readContents(limit: sizeLimit)
    }

    /// The classic client's `os.Open`: symlinks followed anywhere; only a missing file means "no rules".
    private static func readFollowingSymlinks(_ path: BytePath) throws -> [UInt8]? {
        do { return try FileSystem.readFile(path, limit: sizeLimit, followingSymlinks: true) } catch {
            if error.isNotFound { return nil }
            if error.isNotRegularFile {
                throw DockerIgnoreError(
                    origin: .init(file: path.description, line: nil), reason: "not a regular file (Docker fails reading it)")
            }
            throw error
        }
    }

    /// Where the classic client finds the Dockerfile (`getDockerfileRelPath`: both paths symlink-resolved).
    enum ClassicDockerfile: Equatable {
        /// Relative to the context: the client keeps it in what it sends.
        case inside(BytePath)
        /// From stdin or outside the context: the client adds it itself, under a random name.
        case addedByClient
        /// Not there: docker fails ("Cannot locate Dockerfile"), nothing to describe for it.
        case missing
    }

    private static func classicDockerfile(context: BytePath, dockerfile: DockerfileLocation) throws -> ClassicDockerfile {
        let realContext = try FileSystem.resolve(context)
        let absolute: BytePath
        switch dockerfile {
        case .standardInput: return .addedByClient
        case .path(let path): absolute = path
        case .standard:
            let upper = realContext.appending("Dockerfile"), lower = realContext.appending("dockerfile")
            absolute = try FileSystem.statusIfPresent(upper) == nil && FileSystem.statusIfPresent(lower) != nil ? lower : upper
        }
        guard let real = try? FileSystem.resolve(absolute) else { return .missing }
        let relative = relativePath(real, from: realContext)
        return relative.bytes.starts(with: Array("../".utf8)) ? .addedByClient : .inside(relative)
    }

    /// Go's `filepath.Rel` for two absolute, clean paths.
    static func relativePath(_ target: BytePath, from base: BytePath) -> BytePath {
        let targetParts = target.components, baseParts = base.components
        var common = 0
        while common < min(targetParts.count, baseParts.count), targetParts[common].elementsEqual(baseParts[common]) { common += 1 }
        let up = [[UInt8]](repeating: Array("..".utf8), count: baseParts.count - common)
        let parts = up + targetParts[common...].map { Array($0) }
        return BytePath(parts.isEmpty ? [UInt8(ascii: ".")] : Array(parts.joined(separator: [UInt8(ascii: "/")])))
    }

    /// The deprecated `Matches(file, patterns)` both clients and the daemon call for single files: the
    /// last matching pattern wins, a parent is tested only at the pattern's own depth, and an error
    /// (a pattern Go's regexp rejects, once evaluated) is "no". patternmatcher skips a pattern that
    /// could not change the verdict, and so never evaluates it.
    static func deprecatedMatches(_ file: [UInt8], _ patterns: [DockerPattern], engine: DockerPatternEngine) -> Bool {
        let cleaned = GoStrings.clean(file)
        if cleaned == [UInt8(ascii: ".")] { return false }
        let parents = BytePath(cleaned).parent.components
        var matched = false
        for pattern in patterns {
            if engine == .patternmatcher, pattern.exclusion != matched { continue }
            guard var match = try? pattern.matches(cleaned[...]) else { return false }
            if !match, !parents.isEmpty, pattern.directoryCount <= parents.count {
                match =
                    (try? pattern.matches(Array(parents.prefix(pattern.directoryCount).joined(separator: [UInt8(ascii: "/")]))[...]))
                    ?? false
            }
            if match { matched = !pattern.exclusion }
        }
        return matched
    }

    /// fsutil's `patternWithoutTrailingGlob`.
    static func withoutTrailingGlob(_ text: [UInt8]) -> [UInt8] {
        var text = text[...]
        if text.hasSuffix("/**") { text = text.dropLast(3) }
        if text.hasSuffix("/*") { text = text.dropLast(2) }
        return Array(text)
    }

    /// Decides paths one walk at a time; it remembers each directory's state.
    public func evaluator() -> DockerContextEvaluator { DockerContextEvaluator(self) }
}

private extension ArraySlice where Element == UInt8 {
    func hasSuffix(_ suffix: String) -> Bool { count >= suffix.utf8.count && self.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
}

/// Walks the context as the builder's client does, one path at a time: a path is in the context when
/// every directory above it is entered and the patterns leave it in. Each directory's result is
/// remembered, so a whole context costs one pattern test per pattern and path.
public final class DockerContextEvaluator {
    let rules: DockerContextRules
    private var directories: [BytePath: Directory] = [:]
    private var daemonRemoved: Set<BytePath>?

    struct Directory {
        let entered: Bool
        /// Each pattern's answer for this directory: its own test (fileutils) or what
        /// `MatchesUsingParentResults` passes down (patternmatcher).
        let results: [Bool]
    }

    init(_ rules: DockerContextRules) { self.rules = rules }

    /// Whether the file (or symlink, or other non-directory) at `path`, relative to the context, is in it.
    public func includes(_ path: BytePath) throws(DockerIgnoreError) -> Bool {
        guard try includesBeforeDaemon(path) else { return false }
        return try !removedByDaemon().contains(path)
    }

    /// Whether the walk goes into the directory at `path` (nothing below it is in the context otherwise).
    public func entersDirectory(_ path: BytePath) throws(DockerIgnoreError) -> Bool {
        try directory(path).entered
    }

    private func includesBeforeDaemon(_ path: BytePath) throws(DockerIgnoreError) -> Bool {
        if rules.patterns.isEmpty { return true }
        let parent = path.parent
        if !parent.isEmpty, try !directory(parent).entered { return false }
        return try !evaluate(path).matched
    }

    private func removedByDaemon() throws(DockerIgnoreError) -> Set<BytePath> {
        if let daemonRemoved { return daemonRemoved }
        var removed: Set<BytePath> = []
        if let daemon = rules.daemonRemovals {
            if let dockerfile = daemon.dockerfile, try !includesBeforeDaemon(dockerfile) {
                throw DockerIgnoreError(
                    origin: nil,
                    reason: "the classic client leaves the Dockerfile \(dockerfile) out of the context "
                        + "although it means to send it (its own two pattern checks disagree), and the daemon fails: "
                        + "\"Cannot locate specified Dockerfile\"")
            }
            var received = true
            for entry in daemon.reading.requiredEntries where try !includesBeforeDaemon(entry) { received = false }
            switch daemon.reading.outcome {
            case .patterns(let patterns) where received:
                removed = Set(
                    daemon.candidates.filter {
                        DockerContextRules.deprecatedMatches($0.name.bytes, patterns, engine: rules.builder.daemon)
                    }.map(\.removes))
            case .failsBuild(let reason) where received:
                throw DockerIgnoreError(origin: nil, reason: reason)
            default:
                break
            }
        }
        daemonRemoved = removed
        return removed
    }

    private func directory(_ path: BytePath) throws(DockerIgnoreError) -> Directory {
        if let known = directories[path] { return known }
        let parent = path.parent
        let state: Directory
        if !parent.isEmpty, !(try directory(parent).entered) {
            state = Directory(entered: false, results: [])
        } else {
            let (matched, results) = try evaluate(path)
            state = Directory(entered: !matched || walksInto(path), results: results)
        }
        directories[path] = state
        return state
    }

    /// An excluded directory is still walked when an exception could re-include something below it.
    private func walksInto(_ path: BytePath) -> Bool {
        if rules.walksEveryExcludedDirectory { return true }
        guard rules.hasExclusions else { return false }
        let prefix = path.bytes + [UInt8(ascii: "/")]
        let buildKit23 = rules.builder.kind == .buildKit && rules.builder.client == .patternmatcher
        return rules.patterns.contains { pattern in
            pattern.exclusion
                && ((buildKit23 ? DockerContextRules.withoutTrailingGlob(pattern.text) : pattern.text) + [UInt8(ascii: "/")]).starts(
                    with: prefix)
        }
    }

    /// The client's verdict on one path whose parent directory is walked.
    private func evaluate(_ path: BytePath) throws(DockerIgnoreError) -> (matched: Bool, results: [Bool]) {
        let patterns = rules.patterns
        var matched = false
        var results = [Bool](repeating: false, count: patterns.count)
        let parent = path.parent
        switch rules.builder.client {
        case .fileutils:
            // Matches: every pattern in order; a miss is retried on the one parent directory at the
            // pattern's own depth.
            let parentDepth = parent.isEmpty ? 0 : parent.components.count
            for (index, pattern) in patterns.enumerated() {
                var match = try pattern.matches(path.bytes[...])
                results[index] = match
                if !match, parentDepth > 0, pattern.directoryCount <= parentDepth {
                    match = try directory(ancestor(of: path, depth: pattern.directoryCount)).results[index]
                }
                if match { matched = !pattern.exclusion }
            }
        case .patternmatcher:
            // MatchesUsingParentResults: a pattern the parent matched still matches; otherwise it is
            // only tested when it could change the verdict so far.
            let inherited = parent.isEmpty ? [] : try directory(parent).results
            for (index, pattern) in patterns.enumerated() {
                var match = inherited.isEmpty ? false : inherited[index]
                if !match {
                    if pattern.exclusion != matched { continue }
                    match = try pattern.matches(path.bytes[...])
                }
                results[index] = match
                if match { matched = !pattern.exclusion }
            }
        }
        return (matched, results)
    }

    private func ancestor(of path: BytePath, depth: Int) -> BytePath {
        BytePath(Array(path.components.prefix(depth).joined(separator: [UInt8(ascii: "/")])))
    }
}
