import MtimeDockerfile

/// Where a word of a RUN's command is in the Dockerfile, so a fix can edit exactly there.
enum ScriptPlace: Equatable {
    /// A byte offset in the instruction's logical line.
    case logical(Int)
    /// A byte offset in heredoc number `index`'s body.
    case heredoc(index: Int, offset: Int)
    /// The JSON (exec) form: words are array elements.
    case exec
}

/// A build command a RUN runs.
struct BuildUse {
    let tool: BuildTool
    let words: [String]
    /// Where its program word is: a guard prefix goes there (inside `sh -c '…'`: before `sh`).
    let place: ScriptPlace
    /// Run by `guard run -- …`, or after `guard prepare` in the same RUN.
    let guarded: Bool
    /// Its working directory; nil when a `cd` to a path that can't be known came before.
    let workingDirectory: String?
    /// `NAME=value` words before the command.
    let assignments: [String]

    var commandLine: String { words.joined(separator: " ") }
}

/// A `guard run|prepare|check|seal …` call.
struct GuardUse {
    let words: [String]
    let subcommand: String
    /// Option values (`--stamp`, `--root`, `--manifest`) and flags (`--allow-missing`: empty value).
    let options: [String: String]
    let assignments: [String]
    let workingDirectory: String?
    /// Just after the subcommand word, where options can be inserted; nil when nested.
    let optionPlace: ScriptPlace?
    /// The `--stamp` word(s) or `GIT_MTIME_STAMP=` assignment as written, to replace.
    let stampWords: (place: ScriptPlace, end: ScriptPlace)?
}

/// Any simple command a RUN runs (for the workaround checks).
struct CommandUse {
    let words: [String]
    let guarded: Bool
}

/// What one RUN does: its mounts, and every command it runs, found through its shell form, heredoc
/// scripts, JSON form, `sh -c` scripts and `guard run -- …` commands.
struct RunAnalysis {
    static let guardSource = "git-mtime"
    let step: Step
    let mounts: [RunMount]
    private(set) var builds: [BuildUse] = []
    private(set) var guards: [GuardUse] = []
    private(set) var commands: [CommandUse] = []
    /// A `--mount` that could not be read (the build would refuse it too).
    private(set) var mountErrors: [(Flag, String)] = []
    /// `sh -c` and `guard run --` inside each other: followed this deep, no deeper (hostile input).
    private var depth = 0
    private static let maximumDepth = 16

    var instruction: Instruction { step.instruction }
    var guardMount: RunMount? { mounts.first { $0.from == RunAnalysis.guardSource } }
    var contextBinds: [RunMount] { mounts.filter(\.bindsContext) }
    /// A bind of the whole context (no `source`, or `.`): the guard sees every file there.
    var wholeContextBind: RunMount? {
        contextBinds.first { mount in mount.source.map { UnixPath.clean("/" + $0) == "/" } ?? true }
    }

    /// The Dockerfile's physical lines and name, for fixes.
    let dockerfileLines: [[UInt8]]
    let fileName: String

    init(_ step: Step, dockerfile: Dockerfile) {
        self.step = step
        dockerfileLines = dockerfile.lines
        fileName = dockerfile.name
        let escape = dockerfile.escape
        var mounts: [RunMount] = []
        for flag in step.instruction.flags where flag.name == "mount" {
            do {
                mounts.append(
                    try RunMount(flag, workdir: step.workdir, expand: { text throws(WordError) in try step.expand(text, escape: escape) }))
            } catch {
                mountErrors.append((flag, error.description))
            }
        }
        self.mounts = mounts
        var cwd: String? = step.workdir
        switch step.instruction.arguments {
        case .none:
            break
        case .exec(let words, _):
            handle(words: words, assignments: [], place: .exec, nestedPlace: false, guarded: false, cwd: &cwd)
        case .text(_, let range):
            let script = ShellScript(Array(step.instruction.logical.text[range]))
            let readsHeredoc = scan(script, place: { .logical(range.lowerBound + $0) }, nested: false, guarded: false, cwd: &cwd)
            let heredocs = step.instruction.heredocs
            // `RUN <<EOF` alone runs the body with the shell; `RUN bash <<EOF` feeds it to a shell.
            if script.commands.isEmpty || readsHeredoc != nil {
                for (index, heredoc) in heredocs.enumerated() where RunAnalysis.isShellScript(heredoc) {
                    var heredocCwd = cwd
                    _ = scan(
                        ShellScript(heredoc.content), place: { .heredoc(index: index, offset: $0) }, nested: false,
                        guarded: readsHeredoc ?? false, cwd: &heredocCwd)
                }
            }
        }
    }

    /// A body with no `#!` line, or one naming a POSIX shell.
    static func isShellScript(_ heredoc: Heredoc) -> Bool {
        guard heredoc.content.starts(with: Array("#!".utf8)) else { return true }
        let first = String(decoding: heredoc.content.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        return ["sh", "bash", "dash", "ash"].contains {
            first.hasSuffix("/" + $0) || first.hasSuffix(" " + $0) || first.contains("/\($0) ")
        }
    }

    /// Scans a script; returns whether a command in it reads its script from standard input (and if
    /// so whether that command runs under the guard), nil when none does.
    private mutating func scan(
        _ script: ShellScript, place: @escaping (Int) -> ScriptPlace, nested: Bool, guarded: Bool, cwd: inout String?
    ) -> Bool? {
        var prepared = guarded
        var readsInput: Bool?
        for command in script.commands {
            let texts = command.words.map(\.text)
            let (words, skipped) = BuildTool.withoutWrappers(texts)
            guard !words.isEmpty else { continue }
            let wordPlace = place(command.words[skipped].range.lowerBound)
            let outcome = handle(
                words: words, assignments: command.assignments.map(\.text), place: wordPlace, nestedPlace: nested,
                guarded: prepared, cwd: &cwd, script: nested ? nil : (command, skipped, place))
            if outcome.prepared { prepared = true }
            if let reads = outcome.readsInput { readsInput = reads }
        }
        return readsInput
    }

    /// Classifies one command's words (wrappers removed).
    @discardableResult
    private mutating func handle(
        words: [String], assignments: [String], place: ScriptPlace, nestedPlace: Bool, guarded: Bool,
        cwd: inout String?,
        script: (command: SimpleCommand, skipped: Int, place: (Int) -> ScriptPlace)? = nil
    )
        -> (prepared: Bool, readsInput: Bool?)
    {
        depth += 1
        defer { depth -= 1 }
        guard depth <= RunAnalysis.maximumDepth else { return (false, nil) }
        commands.append(CommandUse(words: words, guarded: guarded))
        let name = BuildTool.commandName(words)
        if name == "cd" {
            if words.count > 1, !words[1].contains("$"), words[1] != "-" {
                cwd = cwd.map { UnixPath.resolve(words[1], against: $0) } ?? (words[1].hasPrefix("/") ? UnixPath.clean(words[1]) : nil)
            } else {
                cwd = nil
            }
            return (false, nil)
        }
        if let call = guardCall(words, assignments: assignments, place: place, nestedPlace: nestedPlace, cwd: cwd, script: script) {
            guards.append(call)
            if call.subcommand == "run", let separator = words.firstIndex(of: "--") {
                let (inner, _) = BuildTool.withoutWrappers(Array(words[(separator + 1)...]))
                var innerCwd = cwd
                let outcome = handle(words: inner, assignments: [], place: place, nestedPlace: true, guarded: true, cwd: &innerCwd)
                return (false, outcome.readsInput)
            }
            return (call.subcommand == "prepare", nil)
        }
        if let text = BuildTool.shellScript(words) {
            var innerCwd = cwd
            _ = scan(ShellScript(text), place: { _ in place }, nested: true, guarded: guarded, cwd: &innerCwd)
            return (false, nil)
        }
        if BuildTool.readsScriptFromInput(words) { return (false, guarded) }
        if let tool = BuildTool.recognise(words) {
            builds.append(
                BuildUse(tool: tool, words: words, place: place, guarded: guarded, workingDirectory: cwd, assignments: assignments))
        }
        return (false, nil)
    }

    /// `…/guard` or `git-mtime-guard` with a subcommand.
    private func guardCall(
        _ words: [String], assignments: [String], place: ScriptPlace, nestedPlace: Bool, cwd: String?,
        script: (command: SimpleCommand, skipped: Int, place: (Int) -> ScriptPlace)?
    ) -> GuardUse? {
        let name = BuildTool.commandName(words)
        let mountTarget = guardMount?.target
        let isGuard =
            name == "git-mtime-guard"
            || (name == "guard" && (mountTarget.map { words[0] == $0 + "/guard" } ?? words[0].contains("git-mtime")))
        guard isGuard, words.count > 1 else { return nil }
        var options: [String: String] = [:]
        var stampWordIndices: Range<Int>?
        var index = 2
        while index < words.count, words[index] != "--" {
            let word = words[index]
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                let key = String(word[..<equals])
                options[key] = String(word[word.index(after: equals)...])
                if key == "--stamp" { stampWordIndices = index..<index + 1 }
                index += 1
            } else if ["--stamp", "--root", "--manifest"].contains(word), index + 1 < words.count {
                options[word] = words[index + 1]
                if word == "--stamp" { stampWordIndices = index..<index + 2 }
                index += 2
            } else {
                options[word] = ""
                index += 1
            }
        }
        var optionPlace: ScriptPlace?
        var stampWords: (ScriptPlace, ScriptPlace)?
        if let (command, skipped, toPlace) = script {
            let subcommandWord = command.words[skipped + 1]
            optionPlace = toPlace(subcommandWord.range.upperBound)
            if let indices = stampWordIndices {
                stampWords = (
                    toPlace(command.words[skipped + indices.lowerBound].range.lowerBound),
                    toPlace(command.words[skipped + indices.upperBound - 1].range.upperBound)
                )
            } else if let assignment = command.assignments.first(where: { $0.text.hasPrefix("GIT_MTIME_STAMP=") }) {
                stampWords = (toPlace(assignment.range.lowerBound), toPlace(assignment.range.upperBound))
            }
        } else if place == .exec {
            optionPlace = .exec
        }
        return GuardUse(
            words: words, subcommand: words[1], options: options, assignments: assignments, workingDirectory: cwd,
            optionPlace: nestedPlace ? nil : optionPlace, stampWords: nestedPlace ? nil : stampWords)
    }
}
