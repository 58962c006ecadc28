/// The documented interface is one Dockerfile line:
///
///     RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release
///
/// BuildKit runs it as written. The classic builder has no `RUN --mount`, so for it the line becomes
///
///     COPY --from=<image holding guard and manifest> / /git-mtime/
///     RUN /git-mtime/guard run -- cargo build --release && rm -rf /git-mtime
///
/// in a temporary copy of the Dockerfile; the user's file is never changed.
public struct DockerfileGuardLines: Sendable {
    /// The build-context / image name the mount refers to (`from=git-mtime`).
    public static let sourceName = "git-mtime"

    /// One `RUN` instruction that mounts the guard.
    public struct GuardRun: Equatable, Sendable {
        /// 1-based line where the instruction starts.
        public let line: Int
        /// Where the mount puts guard and manifest (`target=`).
        public let target: String
        /// Other `--mount` flags on the same `RUN` (cache mounts and the like).
        public let otherMounts: [String]
        /// Byte range of the whole instruction, including continuation lines, without the final newline.
        let range: Range<Int>
        /// Byte range of the `--mount=…from=git-mtime…` flag inside it.
        let mountFlag: Range<Int>
        /// True for the JSON (exec) form, where no `&& rm` can be appended.
        let isExecForm: Bool
    }

    public let text: [UInt8]
    public let guardRuns: [GuardRun]

    public init(parsing text: [UInt8]) {
        self.text = text
        var runs: [GuardRun] = []
        let escape = DockerfileGuardLines.escapeCharacter(text)
        for instruction in DockerfileGuardLines.instructions(text, escape: escape) {
            if let run = DockerfileGuardLines.guardRun(in: text, instruction: instruction, escape: escape) { runs.append(run) }
        }
        guardRuns = runs
    }

    /// The Dockerfile for the classic builder: each guard mount becomes a `COPY --from=image` before its `RUN`.
    public func rewrittenForClassicBuilder(image: String) throws(DockerfileRewriteError) -> [UInt8] {
        var out: [UInt8] = []
        var cursor = 0
        for run in guardRuns {
            guard run.otherMounts.isEmpty else {
                throw DockerfileRewriteError(line: run.line, reason: "the classic builder has no RUN --mount, and only the git-mtime mount can be rewritten (also mounted: \(run.otherMounts.joined(separator: " "))); build with BuildKit (DOCKER_BUILDKIT=1)")
            }
            out += text[cursor..<run.range.lowerBound]
            out += Array("COPY --from=\(image) / \(run.target.hasSuffix("/") ? run.target : run.target + "/")\n".utf8)
            // The RUN without the mount flag (and the space after it), continuation lines kept as written.
            var flagEnd = run.mountFlag.upperBound
            while flagEnd < run.range.upperBound, text[flagEnd] == UInt8(ascii: " ") || text[flagEnd] == UInt8(ascii: "\t") { flagEnd += 1 }
            out += text[run.range.lowerBound..<run.mountFlag.lowerBound]
            out += text[flagEnd..<run.range.upperBound]
            if !run.isExecForm { out += Array(" && rm -rf \(run.target)".utf8) }
            cursor = run.range.upperBound
        }
        out += text[cursor...]
        return out
    }

    // MARK: - Reading the Dockerfile

    struct Instruction {
        var range: Range<Int>
        var line: Int
    }

    /// `# escape=` parser directive (only before the first instruction or comment); `\` by default.
    static func escapeCharacter(_ text: [UInt8]) -> UInt8 {
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let trimmed = String(decoding: line, as: UTF8.self).trimmingWhitespace()
            guard trimmed.hasPrefix("#") else { break }
            let directive = trimmed.dropFirst().trimmingWhitespace()
            guard let equals = directive.firstIndex(of: "=") else { break }
            let key = directive[..<equals].trimmingWhitespace().lowercased()
            let value = directive[directive.index(after: equals)...].trimmingWhitespace()
            if key == "escape", value == "`" { return UInt8(ascii: "`") }
            if key == "escape" { return UInt8(ascii: "\\") }
        }
        return UInt8(ascii: "\\")
    }

    /// Logical instructions: physical lines joined while they end in the escape character; comment
    /// and blank lines inside a continuation are skipped, as Docker's parser does.
    static func instructions(_ text: [UInt8], escape: UInt8) -> [Instruction] {
        var lines: [(range: Range<Int>, number: Int)] = []
        var start = 0
        var number = 1
        for index in text.indices where text[index] == UInt8(ascii: "\n") {
            lines.append((start..<index, number))
            start = index + 1
            number += 1
        }
        if start < text.count { lines.append((start..<text.count, number)) }

        func isBlankOrComment(_ range: Range<Int>) -> Bool {
            guard let first = text[range].firstIndex(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) else { return true }
            return text[first] == UInt8(ascii: "#")
        }
        func continues(_ range: Range<Int>) -> Bool {
            let content = text[range].reversed().drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") })
            return content.first == escape
        }

        var result: [Instruction] = []
        var index = 0
        while index < lines.count {
            let first = lines[index]
            index += 1
            if isBlankOrComment(first.range) { continue }
            var end = first.range.upperBound
            var last = first.range
            while continues(last), index < lines.count {
                let next = lines[index]
                index += 1
                if isBlankOrComment(next.range) { continue }
                end = next.range.upperBound
                last = next.range
            }
            result.append(Instruction(range: first.range.lowerBound..<end, line: first.number))
        }
        return result
    }

    /// The `RUN` flags of an instruction, and whether one of them mounts `from=git-mtime`.
    static func guardRun(in text: [UInt8], instruction: Instruction, escape: UInt8) -> GuardRun? {
        var position = instruction.range.lowerBound
        let end = instruction.range.upperBound
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") }
        func skipSpace() {
            while position < end {
                let byte = text[position]
                if isSpace(byte) || byte == UInt8(ascii: "\n") {
                    position += 1
                } else if byte == escape, let newline = text[(position + 1)..<end].firstIndex(where: { !isSpace($0) }),
                          text[newline] == UInt8(ascii: "\n") {
                    // A line continuation between flags.
                    position = newline + 1
                } else if byte == UInt8(ascii: "#"), isIndentedLineStart(text, position) {
                    // A comment line inside the continuation.
                    while position < end, text[position] != UInt8(ascii: "\n") { position += 1 }
                } else {
                    return
                }
            }
        }
        func word() -> Range<Int> {
            let start = position
            while position < end, ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")].contains(text[position]) { position += 1 }
            return start..<position
        }
        skipSpace()
        let keyword = word()
        guard String(decoding: text[keyword], as: UTF8.self).uppercased() == "RUN" else { return nil }
        var guardMount: (flag: Range<Int>, target: String)?
        var otherMounts: [String] = []
        while true {
            skipSpace()
            guard position + 1 < end, text[position] == UInt8(ascii: "-"), text[position + 1] == UInt8(ascii: "-") else { break }
            let flag = word()
            let flagText = String(decoding: text[flag], as: UTF8.self)
            guard flagText.hasPrefix("--mount=") else { continue }
            let spec = MountSpec(flagText.dropFirst("--mount=".count))
            if spec.from == sourceName, guardMount == nil {
                guardMount = (flag, spec.target ?? "/" + sourceName)
            } else {
                otherMounts.append(flagText)
            }
        }
        guard let guardMount else { return nil }
        let isExecForm = position < end && text[position] == UInt8(ascii: "[")
        return GuardRun(line: instruction.line, target: guardMount.target, otherMounts: otherMounts,
                        range: instruction.range, mountFlag: guardMount.flag, isExecForm: isExecForm)
    }

    private static func isIndentedLineStart(_ text: [UInt8], _ position: Int) -> Bool {
        var index = position - 1
        while index >= 0, text[index] == UInt8(ascii: " ") || text[index] == UInt8(ascii: "\t") { index -= 1 }
        return index < 0 || text[index] == UInt8(ascii: "\n")
    }

    /// `type=bind,from=git-mtime,target=/git-mtime`: comma-separated `key=value` fields (BuildKit's syntax).
    struct MountSpec {
        var from: String?
        var target: String?

        init<S: StringProtocol>(_ spec: S) {
            for field in spec.split(separator: ",") {
                let parts = field.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let value = String(parts[1]).trimming("\"'")
                switch parts[0].lowercased() {
                case "from": from = value
                case "target", "dst", "destination": target = value
                default: break
                }
            }
        }
    }
}

public struct DockerfileRewriteError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}
