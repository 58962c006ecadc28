/// A `docker build` / `docker buildx build` command line, parsed just enough to find the context and
/// the Dockerfile; every argument is kept as written so the real docker sees exactly what the user typed.
public struct BuildArguments: Equatable, Sendable {
    public enum Builder: Equatable, Sendable {
        /// `docker build`
        case build
        /// `docker buildx build` (or its alias `docker buildx b`)
        case buildx
    }

    public enum Context: Equatable, Sendable {
        case directory(String)
        /// A git or tarball URL: nothing on this machine to restore.
        case url(String)
        /// `-`: the context (or a lone Dockerfile) arrives on stdin.
        case standardInput
    }

    public enum Dockerfile: Equatable, Sendable {
        /// `CONTEXT/Dockerfile`
        case inContext
        /// `-f PATH` (relative to the working directory, as docker reads it)
        case path(String)
        /// `-f -`
        case standardInput
    }

    public let builder: Builder
    /// The words naming the builder (`build`, or `buildx build`), as given.
    public let command: [String]
    /// Everything after `command`, unchanged.
    public let options: [String]
    public let context: Context
    public let dockerfile: Dockerfile
    /// Where the last `-f`/`--file` sits in `options`, so it can be swapped for a rewritten Dockerfile.
    let fileOption: FileOption?
    let contextIndex: Int

    struct FileOption: Equatable, Sendable {
        var range: Range<Int>
        /// Short flags clustered before `f` (`-qf x` keeps `-q`).
        var clusteredPrefix: String?
    }

    /// The Dockerfile's path on this machine, when it is a file.
    public var dockerfilePath: String? {
        switch (dockerfile, context) {
        case (.path(let path), _): return path
        case (.inContext, .directory(let directory)): return directory.hasSuffix("/") ? directory + "Dockerfile" : directory + "/Dockerfile"
        default: return nil
        }
    }

    /// `options` with the Dockerfile replaced by `path` (added before the context when none was given).
    public func options(dockerfile path: String) -> [String] {
        var result = options
        if let fileOption {
            var replacement: [String] = []
            if let prefix = fileOption.clusteredPrefix { replacement.append(prefix) }
            replacement.append("--file=\(path)")
            result.replaceSubrange(fileOption.range, with: replacement)
        } else {
            result.insert("--file=\(path)", at: contextIndex)
        }
        return result
    }

    /// `options` with extra options inserted before the context (and before a `--`, where one ends the options).
    public func options(inserting extra: [String]) -> [String] {
        var result = options
        var index = contextIndex
        if index > 0, result[index - 1] == "--" { index -= 1 }
        result.insert(contentsOf: extra, at: index)
        return result
    }

    /// Parses `build …` or `buildx build …` (the words after `git mtime docker`).
    public init(parsing arguments: [String]) throws(BuildArgumentsError) {
        let optionsStart: Int
        switch Array(arguments.prefix(2)) {
        case let words where words.first == "build":
            builder = .build
            optionsStart = 1
        case let words where words.count == 2 && words[0] == "buildx" && (words[1] == "build" || words[1] == "b"):
            builder = .buildx
            optionsStart = 2
        default:
            throw BuildArgumentsError("expected `build` or `buildx build` after `docker`, got: \(arguments.prefix(2).joined(separator: " "))")
        }
        command = Array(arguments[..<optionsStart])
        options = Array(arguments[optionsStart...])

        var positionals: [(index: Int, value: String)] = []
        var dockerfile = Dockerfile.inContext
        var fileOption: FileOption?
        var index = 0
        var optionsEnded = false
        while index < options.count {
            let argument = options[index]
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                positionals.append((index, argument))
                index += 1
                continue
            }
            if argument == "--" {
                optionsEnded = true
                index += 1
                continue
            }
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = String(body.prefix(while: { $0 != "=" }))
                let inlineValue: String? = body.contains("=") ? String(body.drop(while: { $0 != "=" }).dropFirst()) : nil
                let value: String?
                let consumed: Int
                if BuildArguments.longOptionsWithValue.contains(name) {
                    if let inlineValue {
                        value = inlineValue
                        consumed = 1
                    } else {
                        guard index + 1 < options.count else { throw BuildArgumentsError("option --\(name) needs a value") }
                        value = options[index + 1]
                        consumed = 2
                    }
                } else if BuildArguments.longFlags.contains(name) {
                    value = nil
                    consumed = 1
                } else {
                    throw BuildArgumentsError("unknown docker build option --\(name); if it takes a value, write it as --\(name)=VALUE")
                }
                if name == "file", let value {
                    dockerfile = value == "-" ? .standardInput : .path(value)
                    fileOption = FileOption(range: index..<index + consumed, clusteredPrefix: nil)
                }
                index += consumed
                continue
            }
            // A cluster of short flags: `-q`, `-t tag`, `-ttag`, `-qf Dockerfile`.
            let letters = Array(argument.dropFirst())
            var consumed = 1
            for (position, letter) in letters.enumerated() {
                if BuildArguments.shortFlags.contains(letter) { continue }
                guard BuildArguments.shortOptionsWithValue.contains(letter) else {
                    throw BuildArgumentsError("unknown docker build option -\(letter)")
                }
                let attached = String(letters[(position + 1)...])
                let value: String
                if attached.isEmpty {
                    guard index + 1 < options.count else { throw BuildArgumentsError("option -\(letter) needs a value") }
                    value = options[index + 1]
                    consumed = 2
                } else {
                    value = attached.hasPrefix("=") ? String(attached.dropFirst()) : attached
                }
                if letter == "f" {
                    dockerfile = value == "-" ? .standardInput : .path(value)
                    fileOption = FileOption(range: index..<index + consumed,
                                            clusteredPrefix: position > 0 ? "-" + String(letters[..<position]) : nil)
                }
                break
            }
            index += consumed
        }
        guard positionals.count == 1, let contextArgument = positionals.first else {
            throw BuildArgumentsError(positionals.isEmpty
                ? "no build context given (docker build [OPTIONS] PATH | URL | -)"
                : "expected exactly one build context, got: \(positionals.map(\.value).joined(separator: " "))")
        }
        contextIndex = contextArgument.index
        if contextArgument.value == "-" {
            context = .standardInput
        } else if BuildArguments.isURL(contextArgument.value) {
            context = .url(contextArgument.value)
        } else {
            context = .directory(contextArgument.value)
        }
        self.dockerfile = dockerfile
        self.fileOption = fileOption
    }

    /// The forms docker itself treats as remote contexts.
    static func isURL(_ argument: String) -> Bool {
        ["http://", "https://", "git://", "git@", "github.com/"].contains { argument.hasPrefix($0) }
    }

    // docker build (20.10 through 28) and buildx build options that take a value, and the common ones
    // of `buildah build` / `podman build`.
    static let longOptionsWithValue: Set<String> = [
        "add-host", "allow", "annotation", "attest", "build-arg", "build-context", "builder", "cache-from", "cache-to",
        "call", "cgroup-parent", "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus", "cpuset-mems", "file",
        "iidfile", "isolation", "label", "memory", "memory-swap", "metadata-file", "network", "no-cache-filter",
        "output", "platform", "progress", "provenance", "sbom", "secret", "security-opt", "shm-size", "ssh", "tag",
        "target", "ulimit",
        "format", "jobs", "runtime", "userns",
    ]
    static let longFlags: Set<String> = [
        "check", "compress", "debug", "disable-content-trust", "force-rm", "help", "load", "no-cache", "pull", "push",
        "quiet", "rm", "squash", "stream",
        "layers", "tls-verify",
    ]
    static let shortOptionsWithValue: Set<Character> = ["c", "f", "m", "o", "t"]
    static let shortFlags: Set<Character> = ["q", "D", "h"]
}

public struct BuildArgumentsError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
