import MtimeCore
import MtimeDockerContext
import MtimeManifest

/// What the build context sends: build outputs and `.git` that `.dockerignore` should keep out, and
/// a `.dockerignore` Docker would refuse.
public struct ContextRules {
    /// The context directory.
    public let context: BytePath
    /// How paths in the context are shown (the context directory as the user sees it, `""` for `.`).
    public let displayPrefix: String
    /// Directories (relative to the context) the Dockerfiles' builds write into.
    public let buildOutputs: [String]
    /// Whether git ignores a context-relative path (nil outside a repository).
    public let isIgnoredByGit: ((BytePath) -> Bool)?

    public init(context: BytePath, displayPrefix: String, buildOutputs: [String], isIgnoredByGit: ((BytePath) -> Bool)?) {
        self.context = context
        self.displayPrefix = displayPrefix
        self.buildOutputs = buildOutputs
        self.isIgnoredByGit = isIgnoredByGit
    }

    /// `ignoreFile` is the `.dockerignore` the build reads (BuildKit prefers `<Dockerfile>.dockerignore`),
    /// as the directory holding it and its name; nil: the context's own.
    public func findings(ignoreFile: (directory: HeldDirectory, name: BytePath)? = nil) -> [Finding] {
        let file = ignoreFile ?? (try? HeldDirectory(opening: context)).map { ($0, BytePath(".dockerignore")) }
        let shown = display(file.map { $0.directory.pathOf($0.name) } ?? context.appending(".dockerignore"))
        let notRegular = Finding(
            file: shown, line: 0, severity: .hazard, rule: .dockerignoreSyntax,
            cause: "It is not a regular file, and the build reads it as one.", fix: Fix("Make it a regular file."))
        let status = file.flatMap { try? $0.directory.statusIfPresent($0.name) }
        let exists = status != nil
        // A symlink is not followed and a FIFO not read (it would block).
        if let status, status.kind != .regular { return [notRegular] }
        let ignore: DockerContextEvaluator
        do {
            if let file, exists {
                guard let bytes = try file.directory.readRegularFile(file.name, limit: DockerContextRules.sizeLimit) else {
                    return [notRegular]
                }
                ignore = try DockerContextRules(ignoreFile: shown, contents: bytes).evaluator()
            } else {
                ignore = DockerContextRules.none.evaluator()
            }
        } catch let error as DockerIgnoreError {
            let line = error.origin?.line ?? 0
            return [
                Finding(
                    file: shown, line: line, severity: .hazard, rule: .dockerignoreSyntax,
                    cause: "Docker refuses this pattern (\(error.reason)), and so does `git mtime docker build`.",
                    fix: Fix(line > 0 ? "Fix or remove the pattern on line \(line)." : "Fix or remove the pattern."))
            ]
        } catch {
            return [
                Finding(
                    file: shown, line: 0, severity: .hazard, rule: .dockerignoreSyntax,
                    cause: "It cannot be read: \(error).", fix: Fix("Make it readable."))
            ]
        }
        // What Docker leaves out of the context (a pattern error here is one the parse above let through).
        let excludes = { (path: String) -> Bool in !((try? ignore.includes(BytePath(path))) ?? true) }
        var findings: [Finding] = []
        var candidates = buildOutputs
        // Output directories already on disk that git ignores: what a host build left there.
        let present = (try? FileSystem.listDirectory(context)) ?? []
        for name in present.map({ String(decoding: $0.bytes, as: UTF8.self) }).sorted() where ContextRules.outputNames.contains(name) {
            let status = try? FileSystem.statusIfPresent(context.appending(name))
            guard status?.kind == .directory, isIgnoredByGit?(BytePath(name)) ?? true else { continue }
            if !candidates.contains(name) { candidates.append(name) }
        }
        for output in candidates where !excludes(output) {
            findings.append(
                Finding(
                    file: shown, line: 0, severity: .warning, rule: .dockerignoreOutputs,
                    cause:
                        "\(output)/ is not excluded\(exists ? "" : " (there is no .dockerignore)"): build outputs from the host are sent with every build, and `COPY . .` puts them beside the sources, where they can look newer than a changed source.",
                    fix: Fix("Exclude it:", lines: [FixLine(.add, file: shown, text: output)])))
        }
        if (try? FileSystem.statusIfPresent(context.appending(".git"))) != nil, !excludes(".git") {
            findings.append(
                Finding(
                    file: shown, line: 0, severity: .warning, rule: .dockerignoreGit,
                    cause:
                        ".git is not excluded\(exists ? "" : " (there is no .dockerignore)"): the whole history is sent with every build and `COPY . .` changes with every commit; the manifest already carries what the guard needs from git.",
                    fix: Fix("Exclude it:", lines: [FixLine(.add, file: shown, text: ".git")])))
        }
        return findings
    }

    static let outputNames: Set<String> = ["target", "build", "builddir", "_build", ".build", "out", "dist", "obj", "node_modules"]

    private func display(_ path: BytePath) -> String {
        guard let below = path.relative(to: context) else { return path.description }
        let relative = String(decoding: below.bytes, as: UTF8.self)
        return displayPrefix.isEmpty ? relative : displayPrefix + "/" + relative
    }
}
