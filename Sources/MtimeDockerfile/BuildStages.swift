/// The build stages of a Dockerfile (`FROM … AS name`), with what each instruction sees when it
/// runs: the working directory and the variables (ARG and ENV; ENV wins) as BuildKit scopes them.
/// Variables the base image sets and `--build-arg` values not given here are unknown: an ARG
/// without a value then expands to nothing, as it does in a build without that `--build-arg`.
public struct BuildStages: Sendable {
    public let dockerfile: Dockerfile
    public let stages: [BuildStage]
    /// ARGs declared before the first FROM, with their values.
    public let globalArguments: [String: String]

    public init(_ dockerfile: Dockerfile, buildArguments: [String: String] = [:]) throws(DockerfileError) {
        self.dockerfile = dockerfile
        let lexer = WordLexer(escape: dockerfile.escape)
        var global: [String: String] = [:]
        var stages: [BuildStage] = []
        do throws(DockerfileSyntaxError) {
            for instruction in dockerfile.instructions {
                func expand(_ text: String, _ variables: [String: String]) throws(DockerfileSyntaxError) -> String {
                    do { return try lexer.expand(text, { variables[$0] }) } catch {
                        throw DockerfileSyntaxError(line: instruction.line, "\(instruction.keyword): \(error)")
                    }
                }
                if instruction.keyword == "FROM" {
                    let words = instruction.words
                    guard let image = words.first, words.count == 1 || (words.count == 3 && words[1].uppercased() == "AS") else {
                        throw DockerfileSyntaxError(
                            line: instruction.line, "FROM requires either one or three arguments (FROM image [AS name])")
                    }
                    let base = try expand(image, global)
                    let name = words.count == 3 ? words[2].lowercased() : nil
                    let parent = stages.lastIndex { $0.name != nil && $0.name == base.lowercased() }
                    var stage = BuildStage(index: stages.count, name: name, base: base, parent: parent, from: instruction, steps: [])
                    if let parent {
                        stage.workdir = stages[parent].workdir
                        stage.environment = stages[parent].environment
                    }
                    stages.append(stage)
                    continue
                }
                guard var stage = stages.popLast() else {
                    // Before the first FROM only ARG (global arguments) may appear.
                    guard instruction.keyword == "ARG" else {
                        throw DockerfileSyntaxError(
                            line: instruction.line, "no build stage in current context: \(instruction.keyword) before FROM")
                    }
                    for (name, value) in try BuildStages.assignments(instruction, lexer: lexer, line: instruction.line) {
                        if let given = buildArguments[name] {
                            global[name] = given
                        } else if let value {
                            global[name] = try expand(value, global)
                        } else {
                            global[name] = ""
                        }
                    }
                    continue
                }
                stage.steps.append(Step(instruction: instruction, workdir: stage.workdir, variables: stage.variables))
                switch instruction.keyword {
                case "ARG":
                    for (name, value) in try BuildStages.assignments(instruction, lexer: lexer, line: instruction.line) {
                        if let given = buildArguments[name] {
                            stage.arguments[name] = given
                        } else if let value {
                            stage.arguments[name] = try expand(value, stage.variables)
                        } else {
                            stage.arguments[name] = global[name] ?? ""
                        }
                    }
                case "ENV":
                    for (name, value) in try BuildStages.environmentAssignments(instruction, lexer: lexer) {
                        stage.environment[name] = try expand(value, stage.variables)
                    }
                case "WORKDIR":
                    stage.workdir = UnixPath.resolve(try expand(instruction.text, stage.variables), against: stage.workdir)
                default:
                    break
                }
                stages.append(stage)
            }
        } catch {
            throw DockerfileError(file: dockerfile.name, line: error.line, message: error.message)
        }
        guard !stages.isEmpty else {
            throw DockerfileError(file: dockerfile.name, line: dockerfile.instructions.last?.line ?? 1, message: "no FROM instruction")
        }
        self.stages = stages
        globalArguments = global
    }

    /// The words of ARG (`NAME` or `NAME=value`), quotes kept for the later expansion.
    static func assignments(_ instruction: Instruction, lexer: WordLexer, line: Int) throws(DockerfileSyntaxError) -> [(String, String?)] {
        let words = try rawWords(instruction.text, lexer: lexer, line: line)
        return words.map { word in
            guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    /// ENV's `NAME=value …`, or the old `NAME value` form (the value is the rest of the line).
    static func environmentAssignments(_ instruction: Instruction, lexer: WordLexer) throws(DockerfileSyntaxError) -> [(String, String)] {
        let words = try rawWords(instruction.text, lexer: lexer, line: instruction.line)
        guard let first = words.first else {
            throw DockerfileSyntaxError(line: instruction.line, "ENV requires at least one argument")
        }
        if !first.contains("=") {
            let text = instruction.text
            guard let space = text.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                throw DockerfileSyntaxError(line: instruction.line, "ENV must have two arguments")
            }
            return [(String(text[..<space]), String(text[space...]).trimmingBlanks())]
        }
        return try words.map { word throws(DockerfileSyntaxError) in
            guard let equals = word.firstIndex(of: "=") else {
                throw DockerfileSyntaxError(
                    line: instruction.line, "Syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
            }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    /// Words split at unquoted white space with quotes, escapes and `$` references kept as written.
    private static func rawWords(_ text: String, lexer: WordLexer, line: Int) throws(DockerfileSyntaxError) -> [String] {
        var raw = lexer
        raw.rawQuotes = true
        raw.rawEscapes = true
        raw.skipUnsetVariables = true
        do { return try raw.words(text, { _ in nil }) } catch { throw DockerfileSyntaxError(line: line, "\(error)") }
    }
}

/// One `FROM` and the instructions after it.
public struct BuildStage: Sendable {
    public let index: Int
    /// The `AS` name, lower case.
    public let name: String?
    /// The image or stage it starts from (variables expanded).
    public let base: String
    /// The earlier stage it builds on, when `base` names one.
    public let parent: Int?
    public let from: Instruction
    public internal(set) var steps: [Step]

    var workdir = "/"
    var arguments: [String: String] = [:]
    var environment: [String: String] = [:]
    var variables: [String: String] { arguments.merging(environment) { $1 } }

    /// How the stage is referred to in messages: its name, else its index.
    public var label: String { name ?? "stage \(index)" }
}

/// An instruction in its stage, with what it sees.
public struct Step: Sendable {
    public let instruction: Instruction
    /// The working directory it runs in (for WORKDIR itself: the one before it).
    public let workdir: String
    /// ARG and ENV values in scope (ENV wins), as a RUN's processes see them too.
    public let variables: [String: String]

    /// `text` with the variables in scope expanded, quotes removed.
    public func expand(_ text: String, escape: UInt8) throws(WordError) -> String {
        try WordLexer(escape: escape).expand(text, { variables[$0] })
    }
}

/// Absolute `/`-separated paths inside an image.
public enum UnixPath {
    /// `path` made absolute against `directory` and cleaned (`.`, `..`, repeated `/`).
    public static func resolve(_ path: String, against directory: String) -> String {
        clean(path.hasPrefix("/") ? path : directory + "/" + path)
    }

    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// True when `path` is `directory` or lies below it (both absolute and clean).
    public static func isWithin(_ path: String, _ directory: String) -> Bool {
        directory == "/" || path == directory || path.hasPrefix(directory + "/")
    }
}

extension String {
    func trimmingBlanks() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
