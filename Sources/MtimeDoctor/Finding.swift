import MtimeCore

/// How bad a finding is. Only hazards make `doctor` exit 1.
public enum Severity: String, Sendable, CaseIterable, Comparable {
    /// A build can ship stale outputs, or will fail because of how git-mtime is set up.
    case hazard
    /// Works, at a cost: everything recompiles, the context carries what it should not, hooks don't run.
    case warning
    /// A workaround or a missing convenience worth knowing about.
    case info

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The checks `doctor` makes; the raw value is the stable id printed in JSON (docs/doctor.md lists them).
public enum Rule: String, Sendable, CaseIterable {
    case dockerfileSyntax = "dockerfile-syntax"
    case dockerfileNotChecked = "dockerfile-not-checked"
    case staleAfterCopy = "stale-after-copy"
    case unguardedCacheMount = "unguarded-cache-mount"
    case guardNotMounted = "guard-not-mounted"
    case guardMountedNotRun = "guard-mounted-not-run"
    case stampOutsideCache = "stamp-outside-cache"
    case classicBuilderMounts = "classic-builder-mounts"
    case guardMissingFiles = "guard-missing-files"
    case guardRoot = "guard-root"
    case guardReadOnlyMount = "guard-read-only-mount"
    case workaroundTouch = "workaround-touch"
    case workaroundRemove = "workaround-rm"
    case workaroundCargoClean = "workaround-cargo-clean"
    case workaroundNoCache = "workaround-no-cache"
    case unwrappedBuild = "unwrapped-build"
    case dockerignoreSyntax = "dockerignore-syntax"
    case dockerignoreOutputs = "dockerignore-outputs"
    case dockerignoreGit = "dockerignore-git"
    case shallowClone = "shallow-clone"
    case treelessClone = "treeless-clone"
    case hooksMissing = "hooks-missing"
    case hooksIncomplete = "hooks-incomplete"
    case hookModeInvalid = "hook-mode-invalid"
    case stampOutsideTree = "stamp-outside-tree"
    case stampUntrusted = "stamp-untrusted"
}

/// One change that fixes a finding: a line replaced (its new text), or a line added to a file.
public struct FixLine: Sendable, Equatable {
    public enum Action: String, Sendable { case replace, add, run }
    public var action: Action
    /// The file the line belongs to (for `run`: empty, the text is a command).
    public var file: String
    /// The line replaced (1-based); nil when the line is added at the end or is a command.
    public var line: Int?
    /// The last line replaced, when `text` replaces several (a continued instruction made one line).
    public var endLine: Int?
    public var text: String

    public init(_ action: Action, file: String, line: Int? = nil, endLine: Int? = nil, text: String) {
        self.action = action
        self.file = file
        self.line = line
        self.endLine = endLine
        self.text = text
    }

    var location: String {
        guard let line else { return file }
        guard let endLine, endLine != line else { return "\(file):\(line)" }
        return "\(file):\(line)-\(endLine)"
    }
}

public struct Fix: Sendable, Equatable {
    /// One sentence: what to do.
    public var summary: String
    /// The exact lines, when the fix is a change to a file (or a command to run).
    public var lines: [FixLine]

    public init(_ summary: String, lines: [FixLine] = []) {
        self.summary = summary
        self.lines = lines
    }
}

public struct Finding: Sendable, Equatable {
    public var file: String
    /// 1-based; 0 when the finding is about the file (or the repository) as a whole.
    public var line: Int
    public var severity: Severity
    public var rule: Rule
    /// One sentence: what is wrong and why it matters.
    public var cause: String
    public var fix: Fix

    public init(file: String, line: Int, severity: Severity, rule: Rule, cause: String, fix: Fix) {
        self.file = file
        self.line = line
        self.severity = severity
        self.rule = rule
        self.cause = cause
        self.fix = fix
    }

    /// `file:line: severity: cause`, then the fix indented.
    public var text: String {
        var out = "\(file)\(line > 0 ? ":\(line)" : ""): \(severity.rawValue): \(cause)\n  fix: \(fix.summary)\n"
        for change in fix.lines {
            switch change.action {
            case .replace: out += "    \(change.location): \(change.text)\n"
            case .add: out += "    add to \(change.file): \(change.text)\n"
            case .run: out += "    $ \(change.text)\n"
            }
        }
        return out
    }

    public var json: JSONValue {
        .object([
            ("file", .string(file)),
            ("line", .integer(Int64(line))),
            ("severity", .string(severity.rawValue)),
            ("rule", .string(rule.rawValue)),
            ("cause", .string(cause)),
            (
                "fix",
                .object([
                    ("summary", .string(fix.summary)),
                    (
                        "lines",
                        .array(
                            fix.lines.map { change in
                                .object([
                                    ("action", .string(change.action.rawValue)), ("file", .string(change.file)),
                                    ("line", change.line.map { .integer(Int64($0)) } ?? .null),
                                    ("endLine", .integer(Int64(change.endLine ?? change.line ?? 0))), ("text", .string(change.text)),
                                ])
                            })
                    ),
                ])
            ),
        ])
    }
}
