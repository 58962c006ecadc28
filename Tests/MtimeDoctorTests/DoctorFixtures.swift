import Foundation
import MtimeDockerfile
import MtimeDoctor
import Testing
import TestSupport

/// The Dockerfile rules' findings for `text` (named `Dockerfile`).
func dockerfileFindings(_ text: String, classicBuilder: Bool = false) throws -> [Finding] {
    let stages = try BuildStages(try Dockerfile(parsing: Array(text.utf8), name: "Dockerfile"))
    return DockerfileRules(stages: stages, usesClassicBuilder: { classicBuilder }).findings()
}

/// `text` with a finding's line replacements made, as a user would make them.
func applying(_ fix: Fix, to text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for change in fix.lines.filter({ $0.action == .replace }).sorted(by: { ($0.line ?? 0) > ($1.line ?? 0) }) {
        guard let line = change.line else { continue }
        lines.replaceSubrange((line - 1)...((change.endLine ?? line) - 1), with: [change.text])
    }
    return lines.joined(separator: "\n")
}

/// Asserts exactly one finding of `rule` (at `line`, with `severity`), that its fix makes it go
/// away without leaving any other hazard, and returns it.
@discardableResult
func expectFixed(
    _ text: String, rule: Rule, line: Int, severity: Severity = .hazard, classicBuilder: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Finding {
    let found = try dockerfileFindings(text, classicBuilder: classicBuilder).filter { $0.rule == rule }
    try #require(found.count == 1, "expected one \(rule.rawValue), got \(found.map(\.text))", sourceLocation: sourceLocation)
    let finding = found[0]
    #expect(finding.line == line, sourceLocation: sourceLocation)
    #expect(finding.severity == severity, sourceLocation: sourceLocation)
    #expect(finding.file == "Dockerfile", sourceLocation: sourceLocation)
    #expect(!finding.cause.isEmpty && !finding.fix.summary.isEmpty, sourceLocation: sourceLocation)
    let fixed = applying(finding.fix, to: text)
    #expect(fixed != text, "the fix changes nothing", sourceLocation: sourceLocation)
    let after = try dockerfileFindings(fixed, classicBuilder: classicBuilder)
    #expect(
        after.allSatisfy { $0.severity != .hazard && $0.rule != rule }, "after the fix: \(after.map(\.text))\n\(fixed)",
        sourceLocation: sourceLocation)
    return finding
}

/// The fenced ```dockerfile blocks of a Markdown file (indented ones too), with the heading above each.
func dockerfileBlocks(in markdown: String) -> [(heading: String, text: String)] {
    var blocks: [(String, String)] = []
    var heading = ""
    var current: [String]?
    var indent = 0
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        let trimmed = line.drop { $0 == " " }
        if var body = current {
            if trimmed.hasPrefix("```") {
                blocks.append((heading, body.joined(separator: "\n") + "\n"))
                current = nil
            } else {
                body.append(String(line.dropFirst(min(indent, line.prefix { $0 == " " }.count))))
                current = body
            }
            continue
        }
        if line.hasPrefix("#") { heading = line }
        if trimmed.hasPrefix("```dockerfile") {
            current = []
            indent = line.count - trimmed.count
        }
    }
    return blocks
}

/// This checkout's README.md or docs file.
func projectFile(_ relative: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
}

/// Runs the built `git mtime doctor` in `directory`.
func doctor(_ arguments: [String], in directory: String, environment: [String: String] = ["DOCKER_BUILDKIT": "1"]) throws -> ProcessResult {
    try run([builtProduct("git-mtime"), "doctor"] + arguments, in: directory, environment: environment)
}

/// The findings of `doctor --format json`, as dictionaries.
func doctorJSON(
    _ arguments: [String] = [], in directory: String, environment: [String: String] = ["DOCKER_BUILDKIT": "1"],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (status: Int32, findings: [[String: Any]]) {
    let result = try doctor(arguments + ["--format", "json"], in: directory, environment: environment)
    let object = try #require(
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
        "not JSON: \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
    return (result.status, object["findings"] as? [[String: Any]] ?? [])
}

func rules(_ findings: [[String: Any]]) -> [String] { findings.compactMap { $0["rule"] as? String } }
