import Foundation
import GitKit
import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// Pathspecs against real git: random trees with odd names (wildcard characters, spaces, case
/// twins, UTF-8, dot files, a gitlink) and random pathspecs in every magic form, typed at the top
/// and in a subdirectory, under the GIT_*_PATHSPECS settings. Selection must equal
/// `git ls-files --full-name -- PATHSPEC…`, a refused pathspec must be refused by both (and
/// `:(attr:…)` by us, on purpose), and the "did not match" patterns must equal those of
/// `git ls-files --error-unmatch`.
/// GIT_MTIME_PATHSPEC_SEED and GIT_MTIME_PATHSPEC_CASES replay or widen a run (the soak).
@Suite struct PathspecDifferentialTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["GIT_MTIME_PATHSPEC_SEED"] ?? "") ?? 20_261_130
    static let cases = Int(ProcessInfo.processInfo.environment["GIT_MTIME_PATHSPEC_CASES"] ?? "") ?? 240

    @Test(arguments: 0..<4)
    func randomPathspecsSelectWhatGitSelects(tree: Int) throws {
        var random = SeededGenerator(seed: Self.seed &+ UInt64(tree) &* 1_000_003)
        let fixture = try PathspecTree(random: &random)
        var failures: [String] = []
        var outcomes = PathspecTree.Outcomes()
        for number in 0..<(Self.cases / 4) {
            let directory = Bool.random(using: &random) ? "" : fixture.directories.randomElement(using: &random)!
            var patterns = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                fixture.randomPattern(from: directory, using: &random)
            }
            let environment = PathspecTree.randomEnvironment(using: &random)
            if let failure = try fixture.compare(patterns: &patterns, in: directory, environment: environment, outcomes: &outcomes) {
                failures.append("seed \(Self.seed) tree \(tree) case \(number): \(failure)")
                if failures.count > 5 { break }
            }
        }
        let report = failures.joined(separator: "\n") + "\ntree:\n" + fixture.paths.joined(separator: "\n")
        #expect(failures.isEmpty, "\(report)")
        // The cases must reach every outcome, or agreement proves little.
        #expect(
            outcomes.selectedSome > 0 && outcomes.selectedNone > 0 && outcomes.refused > 0 && outcomes.unmatched > 0,
            "\(outcomes)")
    }

    @Test func wildmatchAgreesWithGitOnItsOwnTable() throws {
        // Cases from git's t/t3070-wildmatch.sh (pattern, text, wildmatch, wildmatch with WM_PATHNAME).
        let table: [(String, String, Bool, Bool)] = [
            ("foo", "foo", true, true), ("bar", "foo", false, false), ("???", "foo", true, true),
            ("*f", "foo", false, false), ("*", "foo", true, true), ("**/foo", "foo", false, true),
            ("foo/*", "foo/bar/baz", true, false), ("foo/**", "foo/bar/baz", true, true),
            ("*/foo", "bar/foo", true, true), ("**/bar*", "foo/bar/baz", true, false),
            ("**/bar/*", "deep/foo/bar/baz", true, true), ("**/bar/**", "deep/foo/bar/baz/", true, true),
            ("**/bar/*", "deep/foo/bar", false, false), ("*/bar/**", "foo/bar/baz/x", true, true),
            ("**/foo", "XXX/foo", true, true), ("*/bar/**", "deep/foo/bar/baz/x", true, false),
            ("t[a-g]n", "ten", true, true), ("t[!a-g]n", "ten", false, false), ("t[!a-g]n", "ton", true, true),
            ("a[]]b", "a]b", true, true), ("a[]-]b", "a-b", true, true), ("a[]a-]b", "aab", true, true),
            ("]", "]", true, true), ("foo*bar", "foo/baz/bar", true, false), ("foo**bar", "foo/baz/bar", true, false),
            ("foo/**/bar", "foo/bar", false, true), ("foo/**/**/bar", "foo/b/a/z/bar", true, true),
            ("foo?bar", "foo/bar", true, false), ("foo[/]bar", "foo/bar", true, false),
            ("foo[^a-z]bar", "foo/bar", true, false), ("*/x", "a/x", true, true),
            ("[[:alpha:]][[:digit:]][[:upper:]]", "a1B", true, true), ("[[:digit:][:upper:][:space:]]", "a", false, false),
            ("[[:digit:][:upper:][:space:]]", " ", true, true), ("[[:digit:][:upper:][:spaci:]]", "1", false, false),
            ("[[:xdigit:]]", "5", true, true), ("[[:xdigit:]]", "f", true, true), ("[[:xdigit:]]", "D", true, true),
            ("[a-c[:digit:]x-z]", "5", true, true), ("[a-c[:digit:]x-z]", "q", false, false),
            ("\\*", "*", true, true), ("\\*", "\\*", false, false), ("*\\\\*", "\\", true, true),
            ("[\\-_]", "-", true, true), ("[\\]]", "]", true, true), ("[\\]]", "\\]", false, false),
            ("[!]-]", "]", false, false), ("[!]-]", "a", true, true), ("a[", "a[", false, false),
            ("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", true, true),
            ("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", true, true),
            ("*/*/*", "foo/bba/arr", true, true), ("*/*/*", "foo/bb/aa/rr", true, false),
            ("*X*i", "abcXdefXghi", true, true), ("XXX/*/*/*/\\*", "XXX/adobe/courier/bold/*", true, true),
        ]
        for (pattern, text, plain, pathname) in table {
            let p = Array(pattern.utf8)[...], t = Array(text.utf8)[...]
            #expect(Wildmatch(pathname: false, caseFold: false).matches(p, t) == plain, "\(pattern) ~ \(text)")
            #expect(Wildmatch(pathname: true, caseFold: false).matches(p, t) == pathname, "\(pattern) ~ \(text) (pathname)")
        }
        #expect(Wildmatch(pathname: false, caseFold: true).matches(Array("[A-Z]".utf8)[...], Array("a".utf8)[...]))
        #expect(Wildmatch(pathname: false, caseFold: true).matches(Array("a*".utf8)[...], Array("ABC".utf8)[...]))
    }
}

/// A random committed tree and the oracle runs against it.
struct PathspecTree {
    let repository: GitRepository
    /// Tracked paths (git's order).
    let paths: [String]
    /// Directories holding tracked files, relative to the top ("" excluded).
    let directories: [String]
    /// The symlink-free top of the working tree.
    let top: String

    static let alphabet: [String] = [
        "a", "b", "c", "A", "B", "x", "X", "é", "ü", ".", "-", "_", " ", "*", "?", "[", "]",
        "\\", "!", "^", ":", "(", ")", ",", "#", "'", "{", "}", "~", "1",
    ]

    init(random: inout SeededGenerator) throws {
        repository = try GitRepository(label: "pathspec")
        top = try FileSystem.resolve(BytePath(repository.path)).description
        var files: Set<String> = []
        var directories: Set<String> = []
        func name() -> String {
            while true {
                let candidate = (0..<Int.random(in: 1...4, using: &random)).map { _ in Self.alphabet.randomElement(using: &random)! }
                    .joined()
                if candidate != "." && candidate != ".." && !candidate.lowercased().hasPrefix(".g") { return candidate }
            }
        }
        var pool = ["", "", ""]
        for _ in 0..<Int.random(in: 4...8, using: &random) {
            let parent = pool.randomElement(using: &random)!
            let directory = parent.isEmpty ? name() : parent + "/" + name()
            pool.append(directory)
            // A twin differing only in case: `:(icase)` typed inside one must not reach into the other.
            if Bool.random(using: &random), directory.uppercased() != directory {
                pool.append(directory.uppercased())
            }
        }
        for _ in 0..<Int.random(in: 20...45, using: &random) {
            let parent = pool.randomElement(using: &random)!
            let path = parent.isEmpty ? name() : parent + "/" + name()
            // No file where a directory is, or inside a file.
            if pool.contains(path) || files.contains(where: { path.hasPrefix($0 + "/") }) { continue }
            files.insert(path)
        }
        for path in files.sorted() {
            try repository.write(path, "\(path)\n")
            var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            while !parts.isEmpty { directories.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        try repository.git("add", "-A")
        // A gitlink: `sub/` names it as a directory.
        let parent = pool.randomElement(using: &random)!
        let gitlinkPath = parent.isEmpty ? "mod" : parent + "/mod"
        if !files.contains(where: { $0 == gitlinkPath || $0.hasPrefix(gitlinkPath + "/") || gitlinkPath.hasPrefix($0 + "/") }) {
            try repository.git("update-index", "--add", "--cacheinfo", "160000,\(String(repeating: "1", count: 40)),\(gitlinkPath)")
        }
        try repository.commit("tree")
        paths = try runChecked(["git", "ls-files", "-z"], in: repository.path).stdout.split(separator: "\0").map(String.init)
        self.directories = directories.sorted()
    }

    /// One pattern as a user might type it in `directory`: a tracked path (or one of its directories,
    /// or nothing that exists), made relative, absolute or top-relative, with wildcards, case changes
    /// and magic mixed in; sometimes one git refuses.
    func randomPattern(from directory: String, using random: inout SeededGenerator) -> String {
        let broken = [
            ":(unknown)x", ":(top", ":#x", "", ":(literal,glob)x", ":(prefix:2)ab", ":(attr:)x", ":(attr:-bad name)",
            ":(attr:a=b c=d\\)", ":(attr:x,attr:y)z", ":!", ":", ":/", "..", "../..", ":(exclude)",
        ]
        if Int.random(in: 0..<25, using: &random) == 0 { return broken.randomElement(using: &random)! }
        var path = paths.randomElement(using: &random)!
        switch Int.random(in: 0..<10, using: &random) {
        case 0: path = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        case 1: path = "nomatch/" + path
        case 2: path += "/"
        default: break
        }
        var characters = Array(path)
        for _ in 0..<Int.random(in: 0...2, using: &random) where !characters.isEmpty {
            let index = Int.random(in: 0..<characters.count, using: &random)
            switch Int.random(in: 0..<9, using: &random) {
            case 0: characters[index] = "*"
            case 1: characters[index] = "?"
            case 2: characters.replaceSubrange(index...index, with: Array("[\(characters[index])x]"))
            case 3: characters.replaceSubrange(index...index, with: Array("[!\(characters[index])]"))
            case 4: characters.replaceSubrange(index...index, with: Array("**/"))
            case 5: characters.replaceSubrange(index...index, with: Array("[[:alpha:]]"))
            case 6:
                let original = String(characters[index])
                let flipped = original == original.uppercased() ? original.lowercased() : original.uppercased()
                if flipped.count == 1 { characters[index] = Character(flipped) }
            case 7: characters.replaceSubrange(index...index, with: Array("\\\(characters[index])"))
            default:
                characters.removeSubrange(index...)
                characters.append("*")
            }
        }
        path = String(characters)
        let magic = [
            "", "", "", "", ":(exclude)", ":!", ":^", ":(glob)", ":(icase)", ":(literal)", ":(top,icase)",
            ":(glob,exclude)", ":(exclude,top,glob)", ":!/", ":(attr:foo)", ":(attr:-foo)", ":(attr:bar=x1)",
            ":(attr:!foo)", ":(icase,attr:foo bar=y_2)", ":(glob,icase)", ":^:", ":(literal,icase)",
        ]
        .randomElement(using: &random)!
        let fromTop = magic.contains("top") || magic.hasPrefix(":!/") || Int.random(in: 0..<6, using: &random) == 0
        if fromTop {
            return (magic.isEmpty ? ":/" : magic) + path
        }
        switch Int.random(in: 0..<8, using: &random) {
        case 0 where !magic.hasPrefix(":("): return magic + top + "/" + path
        case 1: return magic + "./" + relative(path, from: directory)
        default: return magic + relative(path, from: directory)
        }
    }

    /// `path` written relative to `directory` with `..` as needed.
    private func relative(_ path: String, from directory: String) -> String {
        guard !directory.isEmpty else { return path }
        if path.hasPrefix(directory + "/") { return String(path.dropFirst(directory.count + 1)) }
        return String(repeating: "../", count: directory.split(separator: "/").count) + path
    }

    static func randomEnvironment(using random: inout SeededGenerator) -> [String: String] {
        let settings: [[String: String]] = [
            [:], [:], [:], [:], [:], ["GIT_GLOB_PATHSPECS": "1"], ["GIT_NOGLOB_PATHSPECS": "1"], ["GIT_ICASE_PATHSPECS": "yes"],
            ["GIT_LITERAL_PATHSPECS": "1"], ["GIT_GLOB_PATHSPECS": "1", "GIT_ICASE_PATHSPECS": "1"],
            ["GIT_LITERAL_PATHSPECS": "1", "GIT_ICASE_PATHSPECS": "1"], ["GIT_GLOB_PATHSPECS": "1", "GIT_NOGLOB_PATHSPECS": "1"],
            ["GIT_NOGLOB_PATHSPECS": "true", "GIT_ICASE_PATHSPECS": "1"], ["GIT_GLOB_PATHSPECS": "0"],
        ]
        return settings.randomElement(using: &random)!
    }

    struct Outcomes { var selectedSome = 0, selectedNone = 0, refused = 0, unmatched = 0 }

    /// Nil when git and we agree; else what differs.
    func compare(
        patterns: inout [String], in directory: String, environment: [String: String],
        outcomes: inout Outcomes
    ) throws -> String? {
        // `git ls-files` takes exclusions alone relative to its directory, `git restore`/`checkout`
        // (and we) to the whole tree: name the whole tree for both.
        if !directory.isEmpty, patterns.allSatisfy({ Self.isExclusion($0, environment) }) { patterns.append(":/") }
        let workingDirectory = directory.isEmpty ? repository.path : repository.directory.url(directory)
        let described = "in '\(directory)' with \(environment) patterns \(patterns.map { "'\($0)'" }.joined(separator: " "))"
        // --recurse-submodules turns off ls-files' common-prefix shortcut, which matches exclusions
        // shorter than that prefix against bytes past their end (git 2.39; `git checkout` does not).
        let listed = try run(
            ["git", "ls-files", "-z", "--full-name", "--recurse-submodules", "--"] + patterns,
            in: workingDirectory, environment: environment)

        let session = try RestoreSession(discoveringFrom: workingDirectory, environment: GitEnvironment(environment))
        let selection: PathSelection
        do {
            selection = try session.pathSelection(RestoreOptions(pathspec: ProcessArgument.words(patterns)))
        } catch {
            outcomes.refused += 1
            // `:(attr:…)` is refused on purpose (libgit2's attributes differ from git's).
            if case .invalidPathspec(.unsupportedMagic(_, "attr")) = error as? RestoreError, !Self.literal(environment) { return nil }
            return listed.status == 0 ? "we refused (\(error)), git listed \(listed.stdout.split(separator: "\0"))\n\(described)" : nil
        }
        guard listed.status == 0 else {
            return "git refused (\(listed.stderr.trimmingCharacters(in: .newlines))), we accepted\n\(described)"
        }
        let modes = try runChecked(["git", "ls-files", "-s", "-z"], in: repository.path).stdout.split(separator: "\0")
        var matcher = selection.matcher()
        var ours: [String] = []
        for line in modes {
            let tab = line.firstIndex(of: "\t")!
            let path = String(line[line.index(after: tab)...])
            if matcher.isSelected(BytePath(path), isDirectory: line.hasPrefix("160000")) { ours.append(path) }
        }
        let theirs = listed.stdout.split(separator: "\0").map(String.init)
        if theirs.isEmpty { outcomes.selectedNone += 1 } else { outcomes.selectedSome += 1 }
        if ours != theirs {
            return
                "selection differs: only ours \(Set(ours).subtracting(theirs).sorted()), only git's \(Set(theirs).subtracting(ours).sorted())\n\(described)"
        }
        let unmatched = try run(
            ["git", "ls-files", "-z", "--error-unmatch", "--"] + patterns, in: workingDirectory,
            environment: environment)
        let prefix = "error: pathspec '", suffix = "' did not match any file(s) known to git"
        let reported = unmatched.stderr.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix(prefix), line.hasSuffix(suffix) else { return nil }
            return String(line.dropFirst(prefix.count).dropLast(suffix.count))
        }
        if !reported.isEmpty { outcomes.unmatched += 1 }
        if matcher.unmatchedPatterns != reported {
            return "unmatched differ: ours \(matcher.unmatchedPatterns), git's \(reported)\n\(described)"
        }
        return nil
    }

    private static func literal(_ environment: [String: String]) -> Bool { environment["GIT_LITERAL_PATHSPECS"] == "1" }

    private static func isExclusion(_ pattern: String, _ environment: [String: String]) -> Bool {
        guard !literal(environment) else { return false }
        if pattern.hasPrefix(":(") { return pattern.prefix(while: { $0 != ")" }).contains("exclude") }
        return pattern.hasPrefix(":") && pattern.dropFirst().prefix(while: { "!^/".contains($0) }).contains(where: { $0 != "/" })
    }
}
