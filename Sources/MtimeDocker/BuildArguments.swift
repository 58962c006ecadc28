/// The words after `git mtime docker`, read the way the clients' flag parser (Go's pflag) reads them, but
/// only as far as the wrapper needs: where the build command starts, the context, each `-f`/`--file`,
/// the names of `--build-context` options and `--help`. Every word is kept as typed and in order, so
/// the real client sees exactly what the user wrote, plus what the wrapper inserts.
///
/// Finding the context needs to know which options take a value (`--label ctx .`): `BuildFlags` lists
/// them for every client. An option it does not know, written without `=`, may or may not take the next
/// word; the rule: the context is the one positional argument, and when there are several, those right
/// after such an option are its values. If that still leaves no single context, parsing stops and asks
/// for `--option=VALUE`.
public struct BuildArguments: Equatable, Sendable {
    public enum Builder: Equatable, Sendable {
        /// `build` (also `image build`, `builder build`, buildah's `bud`)
        case build
        /// `buildx build` (or `buildx b`)
        case buildx
    }

    /// Client options before the command (`-H`, `--context`, podman's `--root`): every call the wrapper
    /// makes to the client carries them (`ClientCommand`), so they all reach the same engine. The
    /// command lines below are without them.
    public let globalOptions: [String]
    /// The words naming the build command (`build`, `buildx --builder b build`, …), as given.
    public let command: [String]
    public let builder: Builder
    /// Everything after `command`, unchanged.
    public let options: [String]
    /// `--help` or `-h` among the options: the client prints its help and nothing is built.
    public let wantsHelp: Bool
    /// The context argument as typed; nil when none is given (podman and buildah then build the
    /// working directory; docker refuses).
    public let context: String?
    /// Every `-f`/`--file` value, in order (docker reads the last one, podman and buildah all of them).
    public let dockerfiles: [String]
    /// The names of the user's own `--build-context NAME=SOURCE` options.
    public let buildContextNames: [String]
    let contextIndex: Int?
    let fileOptions: [FileOption]

    struct FileOption: Equatable, Sendable {
        var range: Range<Int>
        /// Short flags clustered before `f` (`-qf x` keeps `-q`).
        var clusteredPrefix: String?
    }

    /// The command line with the Dockerfile replaced by `path` (the last `-f`, which is the one docker
    /// reads; added before the context when none was given).
    public func replacingDockerfile(with path: String) -> [String] {
        var result = options
        if let fileOption = fileOptions.last {
            var replacement: [String] = []
            if let prefix = fileOption.clusteredPrefix { replacement.append(prefix) }
            replacement.append("--file=\(path)")
            result.replaceSubrange(fileOption.range, with: replacement)
            return command + result
        }
        return inserting(["--file=\(path)"], into: result)
    }

    /// The command line with `extra` options before the context (and before a `--` that ends the
    /// options; at the end when no context was given).
    public func inserting(_ extra: [String]) -> [String] {
        inserting(extra, into: options)
    }

    private func inserting(_ extra: [String], into options: [String]) -> [String] {
        var result = options
        var index = contextIndex ?? result.count
        if index > 0, result[index - 1] == "--" { index -= 1 }
        result.insert(contentsOf: extra, at: index)
        return command + result
    }

    /// Parses `[global options] build …`, `buildx build …`, `image build …`, `builder build …` or `bud …`.
    public init(parsing arguments: [String]) throws(BuildArgumentsError) {
        let (global, command, builder, optionsStart) = try BuildArguments.splitCommand(arguments)
        globalOptions = global
        self.command = command
        self.builder = builder
        let options = Array(arguments[optionsStart...])
        self.options = options

        var reader = OptionReader(options)
        try reader.read()
        wantsHelp = reader.wantsHelp
        dockerfiles = reader.files.map(\.value)
        fileOptions = reader.files.map(\.option)
        buildContextNames = reader.buildContextNames
        let contextIndex = reader.wantsHelp ? nil : try reader.contextIndex()
        self.contextIndex = contextIndex
        context = contextIndex.map { options[$0] }
    }

    static func splitCommand(_ arguments: [String]) throws(BuildArgumentsError)
        -> (global: [String], command: [String], builder: Builder, optionsStart: Int)
    {
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-") {
            index += BuildFlags.globalWithValue.contains(arguments[index]) ? 2 : 1
        }
        if index < arguments.count {
            let global = Array(arguments[..<index])
            let word = arguments[index]
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            if word == "build" || word == "bud" { return (global, [word], .build, index + 1) }
            if word == "image" || word == "builder", next == "build" { return (global, [word, "build"], .build, index + 2) }
            if word == "buildx" {
                var end = index + 1
                while end < arguments.count, arguments[end].hasPrefix("-") {
                    end += BuildFlags.buildxWithValue.contains(arguments[end]) ? 2 : 1
                }
                if end < arguments.count, arguments[end] == "build" || arguments[end] == "b" {
                    return (global, Array(arguments[index...end]), .buildx, end + 1)
                }
            }
        }
        throw BuildArgumentsError(
            "expected `build`, `buildx build`, `image build`, `builder build` or `bud` after `docker`, got: \(arguments.prefix(4).joined(separator: " "))"
        )
    }
}

/// One pass over the options, pflag's way: `--name=value`, `--name value`, `-x value`, `-xvalue`,
/// `-x=value`, clusters of short flags (`-qt tag`), `--` ends the options, `-` is a positional argument.
private struct OptionReader {
    let words: [String]
    var wantsHelp = false
    var files: [(value: String, option: BuildArguments.FileOption)] = []
    var buildContextNames: [String] = []
    /// Positional arguments, and whether each comes right after an option the table does not know.
    var positionals: [(index: Int, afterUnknownOption: Bool)] = []
    var unknownOptions: [String] = []

    init(_ words: [String]) { self.words = words }

    mutating func read() throws(BuildArgumentsError) {
        var index = 0
        var optionsEnded = false
        var afterUnknown = false
        while index < words.count {
            let word = words[index]
            let followsUnknown = afterUnknown
            afterUnknown = false
            if optionsEnded || word == "-" || !word.hasPrefix("-") {
                positionals.append((index, followsUnknown))
                index += 1
            } else if word == "--" {
                optionsEnded = true
                index += 1
            } else if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = String(body.prefix(while: { $0 != "=" }))
                let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
                if BuildFlags.longWithValue.contains(name) {
                    let value: String
                    if let inline {
                        value = inline
                    } else {
                        guard index + 1 < words.count else { throw BuildArgumentsError("option --\(name) needs a value") }
                        value = words[index + 1]
                    }
                    let consumed = inline == nil ? 2 : 1
                    record(name: name, value: value, option: .init(range: index..<index + consumed, clusteredPrefix: nil))
                    index += consumed
                } else {
                    if BuildFlags.longWithoutValue.contains(name) {
                        if name == "help", GoBoolean.parse(inline ?? "true") == true { wantsHelp = true }
                    } else if inline == nil {
                        afterUnknown = true
                        unknownOptions.append(word)
                    }
                    index += 1
                }
            } else {
                index += try readShortCluster(at: index, afterUnknown: &afterUnknown)
            }
        }
    }

    /// `-q`, `-t tag`, `-ttag`, `-t=tag`, `-qf Dockerfile`, `-q=false`. Returns the words consumed.
    private mutating func readShortCluster(at index: Int, afterUnknown: inout Bool) throws(BuildArgumentsError) -> Int {
        let word = words[index]
        let letters = Array(word.dropFirst())
        var position = 0
        while position < letters.count {
            let letter = letters[position]
            let rest = String(letters[(position + 1)...])
            if BuildFlags.shortWithValue.contains(letter) {
                let value: String
                var consumed = 1
                if rest.isEmpty {
                    guard index + 1 < words.count else { throw BuildArgumentsError("option -\(letter) needs a value") }
                    value = words[index + 1]
                    consumed = 2
                } else {
                    value = rest.hasPrefix("=") ? String(rest.dropFirst()) : rest
                }
                let prefix = position > 0 ? "-" + String(letters[..<position]) : nil
                record(name: String(letter), value: value, option: .init(range: index..<index + consumed, clusteredPrefix: prefix))
                return consumed
            }
            if BuildFlags.shortWithoutValue.contains(letter) {
                if rest.hasPrefix("=") {
                    if letter == "h", GoBoolean.parse(String(rest.dropFirst())) == true { wantsHelp = true }
                    return 1
                }
                if letter == "h" { wantsHelp = true }
                position += 1
                continue
            }
            // A letter no client has today: the rest of the word is either its value or more flags.
            if rest.isEmpty {
                afterUnknown = true
                unknownOptions.append("-\(letter)")
            } else if !rest.hasPrefix("="), rest.contains(where: { $0 == "f" || $0 == "h" }) {
                throw BuildArgumentsError(
                    "unknown option -\(letter) in \(word): write -\(letter)=VALUE or split the flags (-\(letter) -\(rest))")
            }
            return 1
        }
        return 1
    }

    private mutating func record(name: String, value: String, option: BuildArguments.FileOption) {
        switch name {
        case "file", "f":
            files.append((value, option))
        case "build-context":
            buildContextNames.append(String(value.prefix(while: { $0 != "=" })))
        default:
            break
        }
    }

    /// The context among the positional arguments (see `BuildArguments`); nil when there are none.
    func contextIndex() throws(BuildArgumentsError) -> Int? {
        guard !positionals.isEmpty else { return nil }
        if positionals.count == 1 { return positionals[0].index }
        let candidates = positionals.filter { !$0.afterUnknownOption }
        if candidates.count == 1 { return candidates[0].index }
        let listed = positionals.map { words[$0.index] }.joined(separator: " ")
        if unknownOptions.isEmpty {
            throw BuildArgumentsError("expected one build context (PATH | URL | -), got: \(listed)")
        }
        let unknown = unknownOptions.joined(separator: ", ")
        throw BuildArgumentsError(
            "cannot tell the build context among: \(listed) (git-mtime does not know whether \(unknown) take a value): write such options as --option=VALUE"
        )
    }
}

/// Go's strconv.ParseBool, which pflag and docker use for boolean values.
enum GoBoolean {
    static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }
}

public struct BuildArgumentsError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
