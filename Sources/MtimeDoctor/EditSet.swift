import MtimeCore
import MtimeDockerfile

/// Changes to one RUN instruction, rendered as the exact lines to write: insertions and
/// replacements in its logical line (mapped back to the physical lines they fall on) and in its
/// heredoc bodies.
struct EditSet {
    let analysis: RunAnalysis
    private var logicalEdits: [(range: Range<Int>, text: String, after: Bool)] = []
    private var heredocEdits: [(index: Int, offset: Int, length: Int, text: String)] = []

    init(_ analysis: RunAnalysis) { self.analysis = analysis }

    private var instruction: Instruction { analysis.instruction }
    static let mountFlag = "--mount=type=bind,from=git-mtime,target=/git-mtime"

    /// The guard's mount flag, before the command.
    mutating func insertMount() {
        guard let start = instruction.arguments.start else { return }
        logicalEdits.append((start..<start, EditSet.mountFlag + " ", false))
    }

    /// `PATH run [OPTIONS] -- ` before the build command at `place`.
    mutating func insertGuard(before place: ScriptPlace, path: String, options: [String]) {
        let words = [path, "run"] + options + ["--"]
        switch place {
        case .logical(let offset):
            logicalEdits.append((offset..<offset, words.map(EditSet.shellQuoted).joined(separator: " ") + " ", false))
        case .heredoc(let index, let offset):
            heredocEdits.append((index, offset, 0, words.map(EditSet.shellQuoted).joined(separator: " ") + " "))
        case .exec:
            guard case .exec(let strings, let range) = instruction.arguments else { return }
            logicalEdits.append((range, EditSet.jsonArray(words + strings), false))
        }
    }

    /// Options right after the guard's subcommand word.
    mutating func insertGuardOptions(_ call: GuardUse, _ options: [String]) {
        switch call.optionPlace {
        case .logical(let offset)?:
            logicalEdits.append((offset..<offset, " " + options.map(EditSet.shellQuoted).joined(separator: " "), true))
        case .heredoc(let index, let offset)?:
            heredocEdits.append((index, offset, 0, " " + options.map(EditSet.shellQuoted).joined(separator: " ")))
        case .exec?:
            guard case .exec(let strings, let range) = instruction.arguments, strings.count >= 2 else { return }
            logicalEdits.append((range, EditSet.jsonArray(Array(strings.prefix(2)) + options + strings.dropFirst(2)), false))
        case nil:
            break
        }
    }

    /// `--stamp PATH` in place of the guard's stamp setting (or added).
    mutating func setStamp(_ call: GuardUse, to path: String) {
        guard let (start, end) = call.stampWords else { insertGuardOptions(call, ["--stamp", path]); return }
        let isAssignment = call.options["--stamp"] == nil
        let text = isAssignment ? "GIT_MTIME_STAMP=" + EditSet.shellQuoted(path) : "--stamp " + EditSet.shellQuoted(path)
        switch (start, end) {
        case (.logical(let from), .logical(let to)):
            logicalEdits.append((from..<to, text, false))
        case (.heredoc(let index, let from), .heredoc(_, let to)):
            heredocEdits.append((index, from, to - from, text))
        default:
            insertGuardOptions(call, ["--stamp", path])
        }
    }

    /// `,rw` at the end of a read-only context bind mount.
    mutating func makeWritable(_ mount: RunMount) {
        let end = mount.flag.range.upperBound
        logicalEdits.append((end..<end, ",rw", true))
    }

    /// The changed physical lines; when an edit spans a continuation, the whole instruction becomes one line.
    func lines() -> [FixLine] {
        let dockerfile = analysis.dockerfileLines
        var perLine: [Int: [(column: Int, length: Int, text: String)]] = [:]
        var spansLines = false
        for edit in logicalEdits {
            let start = instruction.logical.position(of: edit.range.lowerBound, after: edit.after)
            let end = instruction.logical.position(of: edit.range.upperBound, after: true)
            if edit.range.isEmpty || start.line == end.line {
                perLine[start.line, default: []].append((start.column, edit.range.isEmpty ? 0 : end.column - start.column, edit.text))
            } else {
                spansLines = true
            }
        }
        var result: [FixLine] = []
        if spansLines {
            var text = instruction.logical.text
            for edit in logicalEdits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
                text.replaceSubrange(edit.range, with: Array(edit.text.utf8))
            }
            let lastLine = instruction.heredocs.first.map { $0.firstContentLine - 1 } ?? instruction.endLine
            result.append(
                FixLine(
                    .replace, file: analysis.fileName, line: instruction.line, endLine: lastLine,
                    text: String(decoding: text, as: UTF8.self)))
            perLine = [:]
        }
        for edit in heredocEdits {
            let heredoc = instruction.heredocs[edit.index]
            let before = heredoc.content[..<min(edit.offset, heredoc.content.count)]
            let line = heredoc.firstContentLine + before.count { $0 == UInt8(ascii: "\n") }
            let column = edit.offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
            perLine[line, default: []].append((column, edit.length, edit.text))
        }
        for (line, edits) in perLine.sorted(by: { $0.key < $1.key }) {
            guard line >= 1, line <= dockerfile.count else { continue }
            var bytes = dockerfile[line - 1]
            // Right to left; at one column the edit made first ends up first.
            for edit in edits.enumerated().sorted(by: { ($0.element.column, $0.offset) > ($1.element.column, $1.offset) }).map(\.element) {
                let start = min(edit.column, bytes.count)
                bytes.replaceSubrange(start..<min(start + edit.length, bytes.count), with: Array(edit.text.utf8))
            }
            result.append(FixLine(.replace, file: analysis.fileName, line: line, text: String(decoding: bytes, as: UTF8.self)))
        }
        return result.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }

    /// A word as the shell reads it back: plain when it can be, else single-quoted.
    static func shellQuoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-=:+,@%".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences("'", with: "'\\''") + "'"
    }

    static func jsonArray(_ words: [String]) -> String {
        "[" + words.map { JSONValue.string($0).serialized() }.joined(separator: ", ") + "]"
    }
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
