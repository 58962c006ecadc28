import MtimeCore

/// The settings git passes a command it runs (`git -c mtime.stamp=X mtime restore`): the
/// `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>` entries, then `GIT_CONFIG_PARAMETERS`
/// (`git -c`, `git --config-env`), parsed as git's `git_config_from_parameters` (config.c) does.
/// libgit2 reads neither, so `Repository`'s config reads layer these over its files: git's
/// command-line scope, above the system, global, local and worktree files; a later entry wins.
public struct CommandLineConfig: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Canonical: section and variable lower case, a subsection as given.
        public let name: String
        /// nil for `-c name` without `=` (an implicit `true`).
        public let value: [UInt8]?

        public init(name: String, value: [UInt8]?) {
            self.name = name
            self.value = value
        }
    }

    public let entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    public init(environment: GitEnvironment) throws(CommandLineConfigError) {
        var entries: [Entry] = []
        if let countText = environment["GIT_CONFIG_COUNT"] {
            // strtoul: leading blanks and a sign pass, trailing junk does not; more than INT_MAX is refused.
            var digits = countText.drop(while: CommandLineConfig.isSpace)
            if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            guard let count = digits.isEmpty ? 0 : UInt64(String(decoding: digits, as: UTF8.self)) else {
                throw .badCount(String(decoding: countText, as: UTF8.self))
            }
            guard count <= UInt64(Int32.max) else { throw .tooManyEntries }
            for index in 0..<Int(count) {
                guard let key = environment["GIT_CONFIG_KEY_\(index)"] else { throw .missingKey("GIT_CONFIG_KEY_\(index)") }
                guard let value = environment["GIT_CONFIG_VALUE_\(index)"] else { throw .missingValue("GIT_CONFIG_VALUE_\(index)") }
                entries.append(Entry(name: try CommandLineConfig.canonicalName(key), value: value))
            }
        }
        if let parameters = environment["GIT_CONFIG_PARAMETERS"] {
            entries += try CommandLineConfig.parseParameters(parameters)
        }
        self.entries = entries
    }

    // MARK: git's config.c

    /// `parse_config_env_list`: `'key'='value'`, `'key'=` (implicit bool), or the old `'key=value'`,
    /// separated by whitespace.
    static func parseParameters(_ text: [UInt8]) throws(CommandLineConfigError) -> [Entry] {
        var entries: [Entry] = []
        var rest = text[...]
        while !rest.isEmpty {
            guard let (key, afterKey) = dequoteStep(rest) else { throw .bogusFormat }
            if afterKey == nil || afterKey.map({ isSpace($0.first!) }) == true {
                entries.append(try parseOldStyle(key))
                rest = afterKey ?? []
            } else if var after = afterKey, after.first == UInt8(ascii: "=") {
                after = after.dropFirst()
                if after.first == UInt8(ascii: "'") {
                    guard let (value, afterValue) = dequoteStep(after) else { throw .bogusFormat }
                    if let afterValue, !isSpace(afterValue.first!) { throw .bogusFormat }
                    entries.append(Entry(name: try canonicalName(key), value: value))
                    rest = afterValue ?? []
                } else if after.isEmpty || isSpace(after.first!) {
                    entries.append(Entry(name: try canonicalName(key), value: nil))
                    rest = after
                } else {
                    throw .bogusFormat
                }
            } else {
                throw .bogusFormat
            }
            rest = rest.drop(while: isSpace)
        }
        return entries
    }

    /// `sq_dequote_step`: one single-quoted word (`'\''` and `'\!'` inside it stand for `'` and `!`);
    /// nil when `text` does not start with one or it is unterminated. The rest starts right after
    /// the closing quote; nil when nothing follows.
    static func dequoteStep(_ text: ArraySlice<UInt8>) -> ([UInt8], ArraySlice<UInt8>?)? {
        let quote = UInt8(ascii: "'")
        guard text.first == quote else { return nil }
        var word: [UInt8] = []
        var index = text.index(after: text.startIndex)
        while true {
            guard index < text.endIndex else { return nil }
            let c = text[index]
            index += 1
            if c != quote { word.append(c); continue }
            // Out of the quotes: the end, a backslashed ' or ! resuming the quotes, or the next thing.
            guard index < text.endIndex else { return (word, nil) }
            if text[index] == UInt8(ascii: "\\"), index + 2 < text.endIndex,
                text[index + 1] == quote || text[index + 1] == UInt8(ascii: "!"), text[index + 2] == quote
            {
                word.append(text[index + 1])
                index += 3
                continue
            }
            return (word, text[index...])
        }
    }

    /// `git_config_parse_parameter`: `key=value`, or `key` alone (an implicit bool); the key trimmed.
    private static func parseOldStyle(_ text: [UInt8]) throws(CommandLineConfigError) -> Entry {
        let key: ArraySlice<UInt8>
        let value: [UInt8]?
        if let equals = text.firstIndex(of: UInt8(ascii: "=")) {
            key = text[..<equals]
            value = Array(text[(equals + 1)...])
        } else {
            key = text[...]
            value = nil
        }
        let trimmed = key.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard !trimmed.isEmpty else { throw .bogusParameter(String(decoding: text, as: UTF8.self)) }
        return Entry(name: try canonicalName(Array(trimmed)), value: value)
    }

    /// `git_config_parse_key`: `section[.subsection].name`, section and name of letters, digits and
    /// `-` (the name starting with a letter) and lower-cased; the subsection kept as is (no newline).
    static func canonicalName(_ key: [UInt8]) throws(CommandLineConfigError) -> String {
        guard !key.isEmpty else { throw .emptyKey }
        guard let lastDot = key.lastIndex(of: UInt8(ascii: ".")), lastDot != 0, lastDot != key.count - 1 else {
            throw .invalidKey(String(decoding: key, as: UTF8.self))
        }
        var canonical: [UInt8] = []
        var seenDot = false
        for (index, c) in key.enumerated() {
            if c == UInt8(ascii: ".") { seenDot = true }
            if !seenDot || index > lastDot {
                let isKeyChar = (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == UInt8(ascii: "-")
                let isAlpha = c | 0x20 >= 0x61 && c | 0x20 <= 0x7A
                guard isKeyChar, index != lastDot + 1 || isAlpha else { throw .invalidKey(String(decoding: key, as: UTF8.self)) }
                canonical.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
            } else {
                guard c != 0x0A else { throw .invalidKey(String(decoding: key, as: UTF8.self)) }
                canonical.append(c)
            }
        }
        return String(decoding: canonical, as: UTF8.self)
    }

    /// C's `isspace` in the C locale.
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
}

/// `GIT_CONFIG_PARAMETERS` or `GIT_CONFIG_COUNT` as git itself would refuse them ("fatal: unable to
/// parse command-line config").
public enum CommandLineConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case bogusFormat
    case bogusParameter(String)
    case badCount(String)
    case tooManyEntries
    case missingKey(String)
    case missingValue(String)
    case emptyKey
    case invalidKey(String)

    public var description: String {
        let problem: String
        switch self {
        case .bogusFormat: problem = "bogus format in GIT_CONFIG_PARAMETERS"
        case .bogusParameter(let text): problem = "bogus config parameter: \(text)"
        case .badCount(let text): problem = "bogus count in GIT_CONFIG_COUNT: '\(text)'"
        case .tooManyEntries: problem = "too many entries in GIT_CONFIG_COUNT"
        case .missingKey(let name): problem = "missing config key \(name)"
        case .missingValue(let name): problem = "missing config value \(name)"
        case .emptyKey: problem = "empty config key"
        case .invalidKey(let key): problem = "invalid key: \(key)"
        }
        return "unable to parse command-line config (git -c, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT): \(problem)"
    }
}
