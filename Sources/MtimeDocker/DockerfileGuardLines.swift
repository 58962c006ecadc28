/// The documented interface is one Dockerfile line:
///
///     RUN --mount=type=bind,from=git-mtime,target=/git-mtime /git-mtime/guard run -- cargo build --release
///
/// Where the build can't be handed a build context named `git-mtime`, a temporary copy of the Dockerfile
/// names a per-build image instead (the user's file is never changed):
/// - BuildKit: only the mount's source changes, `from=git-mtime-inject:<random>`;
/// - the classic builder, which has no `RUN --mount`:
///
///       COPY --from=<image> ["/", "/git-mtime/"]
///       RUN /git-mtime/guard run -- cargo build --release
///       RUN rm -f '/git-mtime/guard' '/git-mtime/manifest' && rmdir '/git-mtime' 2>/dev/null || true
///
/// The Dockerfile is read as BuildKit's parser reads it (frontend/dockerfile/parser): parser directives
/// (`# escape=`), line continuations with comment and blank lines inside, heredocs, quoted flags.
public struct DockerfileGuardLines: Sendable {
    /// The build-context name the mount refers to (`from=git-mtime`).
    public static let sourceName = "git-mtime"

    /// One `RUN` instruction that mounts the guard.
    public struct GuardRun: Equatable, Sendable {
        /// 1-based line where the instruction starts.
        public let line: Int
        /// Where the mount puts guard and manifest (`target=`).
        public let target: String
        /// Other `--mount` flags on the same `RUN` (cache mounts and the like).
        public let otherMounts: [String]
        /// Byte range of the whole instruction: continuation lines and heredoc bodies, not the final newline.
        let range: Range<Int>
        /// Byte range of the `--mount=…from=git-mtime…` flag (quotes included).
        let mountFlag: Range<Int>
        /// The mount's `key=value` fields, unquoted, in order.
        let mountFields: [String]
        /// `source=` inside the image (`/` by default).
        let source: String
        /// True for the JSON (exec) form, which may run without a shell.
        let isExecForm: Bool
    }

    public let text: [UInt8]
    public let guardRuns: [GuardRun]

    public init(parsing text: [UInt8]) {
        self.text = text
        let parsed = DockerfileInstructions(text)
        guardRuns = parsed.instructions.compactMap { DockerfileGuardLines.guardRun($0, escape: parsed.escape) }
    }

    /// For BuildKit without `--build-context`: each guard mount reads `from=image` instead.
    public func rewritingMountSource(to image: String) throws(DockerfileRewriteError) -> [UInt8] {
        var out: [UInt8] = []
        var cursor = 0
        for run in guardRuns {
            let fields = run.mountFields.map { field in
                field.split(separator: "=", maxSplits: 1).first?.lowercased() == "from" ? "from=\(image)" : field
            }
            for field in fields where field.contains(where: { ",\"'\\` \t\n\r".contains($0) }) {
                throw DockerfileRewriteError(
                    line: run.line,
                    reason:
                        "cannot rewrite the git-mtime mount (its field \(field) needs quoting); write it plainly, e.g. --mount=type=bind,from=git-mtime,target=/git-mtime"
                )
            }
            out += text[cursor..<run.mountFlag.lowerBound]
            out += Array("--mount=\(fields.joined(separator: ","))".utf8)
            cursor = run.mountFlag.upperBound
        }
        out += text[cursor...]
        return out
    }

    /// For the classic builder: each guard mount becomes a `COPY --from=image` before its `RUN`, and a
    /// `RUN` of its own removes the copied files afterwards (its own line, so no shell syntax on the
    /// guarded line — a trailing `# comment`, a heredoc — can swallow it).
    public func rewrittenForClassicBuilder(image: String) throws(DockerfileRewriteError) -> [UInt8] {
        var out: [UInt8] = []
        var cursor = 0
        for run in guardRuns {
            guard run.otherMounts.isEmpty else {
                throw DockerfileRewriteError(
                    line: run.line,
                    reason:
                        "the classic builder has no RUN --mount, and only the git-mtime mount can be rewritten (also mounted: \(run.otherMounts.joined(separator: " "))); build with BuildKit (DOCKER_BUILDKIT=1)"
                )
            }
            let target = run.target.hasSuffix("/") ? run.target : run.target + "/"
            out += text[cursor..<run.range.lowerBound]
            // JSON form: a target with blanks stays one argument.
            out += Array(
                "COPY --from=\(image) [\(DockerfileGuardLines.jsonString(run.source)), \(DockerfileGuardLines.jsonString(target))]\n".utf8)
            // The RUN without the mount flag (and the blanks after it), continuation lines kept as written.
            var flagEnd = run.mountFlag.upperBound
            while flagEnd < run.range.upperBound, text[flagEnd] == UInt8(ascii: " ") || text[flagEnd] == UInt8(ascii: "\t") { flagEnd += 1 }
            out += text[run.range.lowerBound..<run.mountFlag.lowerBound]
            out += text[flagEnd..<run.range.upperBound]
            if !run.isExecForm {
                // Only what the COPY brought: the target may be a directory the image already had.
                let files = ["guard", "manifest"].map { DockerfileGuardLines.shellQuoted(target + $0) }.joined(separator: " ")
                out += Array("\nRUN rm -f \(files) && rmdir \(DockerfileGuardLines.shellQuoted(run.target)) 2>/dev/null || true".utf8)
            }
            cursor = run.range.upperBound
        }
        out += text[cursor...]
        return out
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20:
                result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }

    /// The instruction's `RUN` flags, and whether one of them is a bind mount `from=git-mtime`.
    static func guardRun(_ instruction: DockerfileInstructions.Instruction, escape: UInt8) -> GuardRun? {
        guard instruction.keyword == "RUN" else { return nil }
        var guardMount: (flag: Range<Int>, fields: [String], target: String, source: String)?
        var otherMounts: [String] = []
        for flag in instruction.flags(escape: escape) where flag.text.hasPrefix("--mount=") {
            let fields = MountFields.split(String(flag.text.dropFirst("--mount=".count)))
            var type = "bind", from: String?, target: String?, source = "/"
            for field in fields {
                let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                let value = String(parts[1])
                switch parts[0].lowercased() {
                case "type": type = value.lowercased()
                case "from": from = value
                case "target", "dst", "destination": target = value
                case "source", "src": source = value
                default: break
                }
            }
            if type == "bind", from == sourceName, guardMount == nil {
                guardMount = (instruction.rawRange(of: flag.range), fields, target ?? "/" + sourceName, source)
            } else {
                otherMounts.append(flag.text)
            }
        }
        guard let guardMount else { return nil }
        return GuardRun(
            line: instruction.line, target: guardMount.target, otherMounts: otherMounts,
            range: instruction.range, mountFlag: guardMount.flag, mountFields: guardMount.fields,
            source: guardMount.source, isExecForm: instruction.arguments(escape: escape).first == UInt8(ascii: "["))
    }
}

/// A mount's value as BuildKit reads it: comma-separated fields, CSV quoting (`"a,b"`, `""`).
enum MountFields {
    static func split(_ value: String) -> [String] {
        let characters = Array(value)
        var fields: [String] = []
        var field = ""
        var quoted = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if quoted {
                if character != "\"" {
                    field.append(character)
                } else if index < characters.count, characters[index] == "\"" {
                    field.append("\"")
                    index += 1
                } else {
                    quoted = false
                }
            } else if character == "\"" && field.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }
}

/// A Dockerfile split into instructions the way BuildKit's parser does it.
struct DockerfileInstructions {
    struct Instruction {
        /// The instruction keyword, uppercased.
        let keyword: String
        /// 1-based line where it starts.
        let line: Int
        /// Raw bytes from its first character to its end (continuations, heredoc bodies), without the final newline.
        let range: Range<Int>
        /// The logical line: physical lines joined, continuation characters, comment and blank lines removed.
        let logical: [UInt8]
        /// For each byte of `logical`, its offset in the file.
        let origin: [Int]

        /// `logical[range]` as file offsets.
        func rawRange(of range: Range<Int>) -> Range<Int> {
            origin[range.lowerBound]..<(origin[range.upperBound - 1] + 1)
        }

        /// The leading `--flags` after the keyword (BuildKit's extractBuilderFlags): quotes and escapes
        /// removed from `text`, `range` in `logical`.
        func flags(escape: UInt8) -> [(text: String, range: Range<Int>)] {
            var result: [(text: String, range: Range<Int>)] = []
            var position = afterKeyword
            while true {
                while position < logical.count, isSpace(logical[position]) { position += 1 }
                guard position + 1 < logical.count, logical[position] == UInt8(ascii: "-"), logical[position + 1] == UInt8(ascii: "-")
                else { break }
                let start = position
                var word: [UInt8] = []
                var quote: UInt8? = nil
                while position < logical.count {
                    let byte = logical[position]
                    if let open = quote {
                        if byte == open {
                            quote = nil
                        } else if byte == escape, position + 1 < logical.count {
                            position += 1; word.append(logical[position])
                        } else if byte != escape {
                            word.append(byte)
                        }
                    } else if isSpace(byte) {
                        break
                    } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                        quote = byte
                    } else if byte == escape {
                        if position + 1 < logical.count { position += 1; word.append(logical[position]) }
                    } else {
                        word.append(byte)
                    }
                    position += 1
                }
                if word == Array("--".utf8) { break }
                result.append((String(decoding: word, as: UTF8.self), start..<position))
            }
            return result
        }

        /// What follows the flags: the command (shell or JSON form).
        func arguments(escape: UInt8) -> ArraySlice<UInt8> {
            var position = flags(escape: escape).last?.range.upperBound ?? afterKeyword
            while position < logical.count, isSpace(logical[position]) { position += 1 }
            if position + 2 <= logical.count, logical[position] == UInt8(ascii: "-"), logical[position + 1] == UInt8(ascii: "-"),
                position + 2 == logical.count || isSpace(logical[position + 2])
            {
                position += 2
                while position < logical.count, isSpace(logical[position]) { position += 1 }
            }
            return logical[position...]
        }

        private var afterKeyword: Int {
            var position = 0
            while position < logical.count, isSpace(logical[position]) { position += 1 }
            while position < logical.count, !isSpace(logical[position]) { position += 1 }
            return position
        }
    }

    let escape: UInt8
    let instructions: [Instruction]

    init(_ text: [UInt8]) {
        var lines: [Range<Int>] = []
        var start = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        for index in start..<text.count where text[index] == UInt8(ascii: "\n") {
            lines.append(start..<index)
            start = index + 1
        }
        if start < text.count { lines.append(start..<text.count) }

        func content(_ line: Range<Int>) -> Range<Int> {
            var end = line.upperBound
            while end > line.lowerBound, text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return line.lowerBound..<end
        }
        func leftTrimmed(_ range: Range<Int>) -> Range<Int> {
            var start = range.lowerBound
            while start < range.upperBound, isSpace(text[start]) { start += 1 }
            return start..<range.upperBound
        }
        func isComment(_ range: Range<Int>) -> Bool {
            let trimmed = leftTrimmed(range)
            return !trimmed.isEmpty && text[trimmed.lowerBound] == UInt8(ascii: "#")
        }

        var escape = UInt8(ascii: "\\")
        /// BuildKit's lineContinuationRegex: the escape character last on the line (blanks after it
        /// allowed), not itself escaped. Returns the line without it.
        func continuation(_ range: Range<Int>) -> (continues: Bool, content: Range<Int>) {
            var end = range.upperBound
            while end > range.lowerBound, text[end - 1] == UInt8(ascii: " ") || text[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            guard end > range.lowerBound, text[end - 1] == escape else { return (false, range) }
            if end - 1 > range.lowerBound, text[end - 2] == escape { return (false, range) }
            return (true, range.lowerBound..<(end - 1))
        }

        var directivesDone = false
        var instructions: [Instruction] = []
        var index = 0
        while index < lines.count {
            let first = leftTrimmed(content(lines[index]))
            let number = index + 1
            index += 1
            if !directivesDone {
                if let (key, value) = DockerfileInstructions.directive(text[first]) {
                    if key == "escape", value == "`" || value == "\\" { escape = UInt8(ascii: value == "`" ? "`" : "\\") }
                    continue
                }
                directivesDone = true
            }
            if isComment(first) { continue }
            var (continues, piece) = continuation(first)
            if !continues && piece.isEmpty { continue }
            var logical = Array(text[piece])
            var origin = Array(piece)
            // The raw end of the last line that belongs to the instruction (a carriage return included).
            var end = lines[index - 1].upperBound
            while continues, index < lines.count {
                let line = content(lines[index])
                index += 1
                if isComment(line) || leftTrimmed(line).isEmpty { continue }
                (continues, piece) = continuation(line)
                logical += text[piece]
                origin += Array(piece)
                end = lines[index - 1].upperBound
            }
            let keyword = String(decoding: logical.prefix(while: { !isSpace($0) }), as: UTF8.self).uppercased()
            if ["RUN", "COPY", "ADD", "ONBUILD"].contains(keyword), logical.contains(UInt8(ascii: "<")) {
                for terminator in DockerfileInstructions.heredocTerminators(logical) {
                    while index < lines.count {
                        let line = content(lines[index])
                        index += 1
                        end = lines[index - 1].upperBound
                        var candidate = line
                        if terminator.chomp {
                            while !candidate.isEmpty, text[candidate.lowerBound] == UInt8(ascii: "\t") { candidate = candidate.dropFirst() }
                        }
                        if Array(text[candidate]) == terminator.word { break }
                    }
                }
            }
            if origin.isEmpty { continue }
            instructions.append(
                Instruction(keyword: keyword, line: number, range: first.lowerBound..<end, logical: logical, origin: origin))
        }
        self.escape = escape
        self.instructions = instructions
    }

    /// `# key=value` with a key BuildKit knows (syntax, escape, check).
    static func directive(_ line: ArraySlice<UInt8>) -> (key: String, value: String)? {
        guard line.first == UInt8(ascii: "#") else { return nil }
        let body = String(decoding: line.dropFirst(), as: UTF8.self).trimmingWhitespace()
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let key = body[..<equals].trimmingWhitespace()
        guard let first = key.first, first.isASCII, first.isLetter,
            key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
            ["syntax", "escape", "check"].contains(key.lowercased())
        else { return nil }
        let value = body[body.index(after: equals)...].trimmingWhitespace()
        guard !value.isEmpty else { return nil }
        return (key.lowercased(), value)
    }

    /// The heredocs a line opens (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<'EOF'`), as BuildKit finds them:
    /// each shell word of the line matching `^(\d*)<<(-?)\s*([^<]*)$`, quotes removed from the name.
    static func heredocTerminators(_ logical: [UInt8]) -> [(word: [UInt8], chomp: Bool)] {
        var result: [(word: [UInt8], chomp: Bool)] = []
        for word in shellWords(logical) {
            var position = word.startIndex
            while position < word.endIndex, word[position] >= UInt8(ascii: "0"), word[position] <= UInt8(ascii: "9") { position += 1 }
            guard word[position...].starts(with: Array("<<".utf8)) else { continue }
            position += 2
            let chomp = position < word.endIndex && word[position] == UInt8(ascii: "-")
            if chomp { position += 1 }
            let rest = word[position...]
            guard !rest.isEmpty, !rest.contains(UInt8(ascii: "<")) else { continue }
            var name: [UInt8] = []
            var quote: UInt8? = nil
            var iterator = rest.makeIterator()
            while let byte = iterator.next() {
                if let open = quote {
                    if byte == open { quote = nil } else { name.append(byte) }
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                } else if byte == UInt8(ascii: "\\") {
                    if let next = iterator.next() { name.append(next) }
                } else {
                    name.append(byte)
                }
            }
            if !name.isEmpty { result.append((name, chomp)) }
        }
        return result
    }

    /// Words split at unquoted blanks, quotes and backslashes kept as written.
    static func shellWords(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        var words: [ArraySlice<UInt8>] = []
        var start: Int? = nil
        var quote: UInt8? = nil
        var index = 0
        while index < text.count {
            let byte = text[index]
            if let open = quote {
                if byte == open {
                    quote = nil
                } else if byte == UInt8(ascii: "\\"), open == UInt8(ascii: "\""), index + 1 < text.count {
                    index += 1
                }
            } else if isSpace(byte) {
                if let begun = start { words.append(text[begun..<index]); start = nil }
            } else {
                if start == nil { start = index }
                if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                } else if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                    index += 1
                }
            }
            index += 1
        }
        if let begun = start { words.append(text[begun...]) }
        return words
    }
}

private func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        || byte == 0x0B || byte == 0x0C
}

public struct DockerfileRewriteError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}
