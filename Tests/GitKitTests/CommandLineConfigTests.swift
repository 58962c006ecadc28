import Foundation
import GitKit
import MtimeCore
import Testing
import TestSupport

/// `git -c` settings reach a command git runs only through its environment (GIT_CONFIG_PARAMETERS,
/// GIT_CONFIG_COUNT/KEY_n/VALUE_n), which libgit2 ignores. Checked against git itself: the
/// environment git exports for hostile values is parsed here into the entries `git config --list
/// --show-scope` reports for the command-line scope, and every read of a `Repository` gives what
/// `git config --get` gives under the same environment.
@Suite struct CommandLineConfigTests {
    /// Each a list of `-c` arguments: quotes, `!`, blanks, newlines, an empty value, an implicit
    /// bool, case in section, subsection and name, non-ASCII, a key given twice.
    static let settings: [[String]] = [
        ["mtime.stamp=plain"],
        ["mtime.stamp=it's", "mtime.cacheDir=~/cache"],
        ["mtime.stamp=a!b'!'c"],
        ["mtime.stamp= spaced  value ", "core.fileMode=off"],
        ["mtime.stamp=line1\nline2\ttab"],
        ["mtime.stamp="],
        ["core.filemode"],
        ["Remote.Up'Stream.URL=u", "remote.up'stream.url=v"],
        ["mtime.stamp=ünï/çødé", "MTIME.STAMP=last wins"],
        ["submodule.recurse=yes", "mtime.hookMode=commit"],
        ["mtime.stamp=q\"uote\\back#hash;semi", "remote.a\"b\\c.url=w"],
        ["mtime.stamp=mid\rreturn\u{8}backspace", "mtime.cacheDir=  "],
    ]

    /// GIT_CONFIG_PARAMETERS as git exports it to a command it runs for `arguments`.
    private func exported(_ arguments: [String], in directory: String) throws -> [UInt8] {
        let script = ["-c", "alias.exported=!printenv GIT_CONFIG_PARAMETERS"]
        let result = try runChecked(["git"] + script + arguments.flatMap { ["-c", $0] } + ["exported"], in: directory)
        return Array(result.stdoutBytes.dropLast())  // printenv's newline
    }

    /// The command-line entries as git lists them under `environment`, in order; nil when git refuses.
    private func gitCommandLineEntries(_ environment: [String: String], in directory: String) throws -> [CommandLineConfig.Entry]? {
        let result = try run(["git", "config", "--list", "--show-scope", "-z"], in: directory, environment: environment)
        guard result.status == 0 else { return nil }
        var entries: [CommandLineConfig.Entry] = []
        let fields = result.stdoutBytes.split(separator: 0, omittingEmptySubsequences: false)
        var index = 0
        while index + 1 < fields.count {
            let scope = String(decoding: fields[index], as: UTF8.self), item = fields[index + 1]
            index += 2
            guard scope == "command" else { continue }
            if let newline = item.firstIndex(of: 0x0A) {
                entries.append(.init(name: String(decoding: item[..<newline], as: UTF8.self), value: Array(item[(newline + 1)...])))
            } else {
                entries.append(.init(name: String(decoding: item, as: UTF8.self), value: nil))
            }
        }
        return entries
    }

    @Test func gitsOwnEnvironmentParsesToTheEntriesGitLists() throws {
        let repository = try GitRepository(label: "config-parameters")
        for arguments in Self.settings {
            let parameters = try exported(arguments, in: repository.path)
            let environment = ["GIT_CONFIG_PARAMETERS": String(decoding: parameters, as: UTF8.self)]
            let expected = try #require(try gitCommandLineEntries(environment, in: repository.path), "git refused \(arguments)")
            var given = GitEnvironment()
            given["GIT_CONFIG_PARAMETERS"] = parameters
            let parsed = try CommandLineConfig(environment: given)
            // git lists its own alias too; drop it from both.
            #expect(
                parsed.entries.filter { $0.name != "alias.exported" } == expected.filter { $0.name != "alias.exported" },
                "\(arguments): GIT_CONFIG_PARAMETERS=\(String(decoding: parameters, as: UTF8.self))")
        }
    }

    /// Hand-written environments, old and new style, GIT_CONFIG_COUNT, and malformed ones: accepted
    /// or refused exactly where git accepts or refuses them, with git's entries.
    @Test func handWrittenEnvironmentsAsGitReadsThem() throws {
        let repository = try GitRepository(label: "config-parameters-raw")
        let environments: [[String: String]] = [
            ["GIT_CONFIG_PARAMETERS": "'mtime.stamp=old style'"],
            ["GIT_CONFIG_PARAMETERS": "'mtime.stamp'='new' 'core.filemode'= 'x.y=z'"],
            ["GIT_CONFIG_PARAMETERS": "  'a.b'='1'\t\n'a.b'='2'  "],
            ["GIT_CONFIG_PARAMETERS": "'a.b'='it'\\''s' 'c.d'='bang'\\!''"],
            ["GIT_CONFIG_PARAMETERS": "'a.b'='unterminated"],
            ["GIT_CONFIG_PARAMETERS": "'a.b'=unquoted"],
            ["GIT_CONFIG_PARAMETERS": "'a.b'='v'x"],
            ["GIT_CONFIG_PARAMETERS": "'nodot=1'"],
            ["GIT_CONFIG_PARAMETERS": "'a.1b=1'"],
            ["GIT_CONFIG_PARAMETERS": "' =1'"],
            ["GIT_CONFIG_PARAMETERS": "a.b=1"],
            ["GIT_CONFIG_PARAMETERS": ""],
            [
                "GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "Mtime.Stamp", "GIT_CONFIG_VALUE_0": "counted",
                "GIT_CONFIG_KEY_1": "core.filemode", "GIT_CONFIG_VALUE_1": "", "GIT_CONFIG_PARAMETERS": "'mtime.stamp'='after'",
            ],
            ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b"],
            ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_VALUE_0": "v"],
            ["GIT_CONFIG_COUNT": "x1"],
            ["GIT_CONFIG_COUNT": "0"],
            ["GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "", "GIT_CONFIG_VALUE_0": "v"],
        ]
        for environment in environments {
            let expected = try gitCommandLineEntries(environment, in: repository.path)
            let parsed = try? CommandLineConfig(environment: GitEnvironment(environment))
            #expect(parsed?.entries == expected, "\(environment)")
        }
    }

    /// Every read a command makes (string, bool, path, entries by pattern) gives what `git config`
    /// gives with the same `-c` settings over the repository's own file.
    @Test func repositoryReadsLayerGitDashCOverTheFilesAsGitDoes() throws {
        let repository = try GitRepository(label: "config-reads")
        try repository.git("config", "mtime.stamp", "from-file")
        try repository.git("config", "core.filemode", "true")
        try repository.git("config", "remote.origin.url", "file-url")
        for arguments in Self.settings {
            let parameters = try exported(arguments, in: repository.path)
            var environment = GitEnvironment()
            environment["GIT_CONFIG_PARAMETERS"] = parameters
            let opened = try Repository(
                RepositoryLocation.find(start: BytePath(repository.path), environment: environment), environment: environment)
            func git(_ options: [String]) throws -> ProcessResult {
                try run(["git"] + arguments.flatMap { ["-c", $0] } + ["config"] + options, in: repository.path)
            }
            for key in ["mtime.stamp", "mtime.hookmode", "Remote.Up'Stream.URL"] {
                let answer = try git(["--get", key])
                let expected = answer.status == 0 ? String(answer.stdout.dropLast()) : nil
                #expect(opened.configString(key) == expected, "\(arguments) \(key)")
            }
            for key in ["core.filemode", "submodule.recurse"] {
                let answer = try git(["--type=bool", "--get", key])
                let expected = answer.status == 0 ? answer.stdout == "true\n" : false
                #expect(try opened.configBool(key, default: false) == expected, "\(arguments) \(key)")
            }
            let path = try git(["--type=path", "--get", "mtime.cachedir"])
            #expect(try opened.configPath("mtime.cacheDir") == (path.status == 0 ? String(path.stdout.dropLast()) : nil), "\(arguments)")
            let listed = try git(["--get-regexp", "^remote\\..*\\.url$"]).stdout.split(separator: "\n").map(String.init)
            #expect(opened.configEntries(matching: "^remote\\..*\\.url$").map { "\($0.name) \($0.value)" } == listed, "\(arguments)")
        }
    }

    @Test func aMalformedEnvironmentIsRefusedLikeGitDoes() throws {
        let repository = try GitRepository(label: "config-bogus")
        try repository.write("a", "a\n")
        try repository.commit()
        let environment = ["GIT_CONFIG_PARAMETERS": "'mtime.stamp'='unterminated"]
        let git = try run(["git", "config", "--get", "mtime.stamp"], in: repository.path, environment: environment)
        #expect(git.status != 0 && git.stderr.contains("bogus format in GIT_CONFIG_PARAMETERS"))
        let ours = try run([builtProduct("git-mtime"), "restore"], in: repository.path, environment: environment)
        #expect(ours.status == 1)
        #expect(
            ours.stderr.contains("unable to parse command-line config") && ours.stderr.contains("bogus format in GIT_CONFIG_PARAMETERS"),
            "\(ours.stderr)")
    }

    /// libgit2's own reads see `git -c` too: its CRLF filter decides which files git calls clean.
    /// Every combination of the repository's `core.autocrlf`, attributes, a command-line setting
    /// (`-c`, `--config-env`), CRLF or LF bytes on disk, and an index that recorded the checkout's
    /// size or none (after `read-tree`: git then compares contents through the filters): restore
    /// gives the commit time exactly to the files `git status` under the same settings calls
    /// unmodified, and leaves the others.
    @Test func gitDashCReachesTheFiltersLibgit2Runs() throws {
        let tool = (builtProduct("git-mtime") as NSString).deletingLastPathComponent
        let path = tool + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let commandLines: [(arguments: [String], environment: [String: String])] = [
            (["-c", "core.autocrlf=true"], [:]), (["-c", "core.autocrlf=false"], [:]), (["-c", "core.autocrlf=input"], [:]),
            (["-c", "core.eol=crlf", "-c", "core.autocrlf=false"], [:]),
            (["--config-env=core.autocrlf=CRLF_SETTING"], ["CRLF_SETTING": "true"]),
        ]
        var cases = 0, clean = 0
        for repositorySetting in [nil, "true", "false", "input"] {
            for attributes in [nil, "* text=auto\n", "*.txt text eol=crlf\n", "*.txt -text\n"] {
                let repository = try GitRepository(label: "config-filters")
                try repository.write("f.txt", "a\nb\n")
                if let attributes { try repository.write(".gitattributes", attributes) }
                try repository.commit()
                let committed = try repository.commitTime("f.txt")
                if let repositorySetting { try repository.git("config", "core.autocrlf", repositorySetting) }
                for (arguments, extra) in commandLines {
                    for bytes in ["a\r\nb\r\n", "a\nb\n"] {
                        for forgetsStat in [false, true] {
                            // The index records the committed bytes' stat, then the file changes (or not).
                            try repository.write("f.txt", "a\nb\n")
                            try repository.git("read-tree", "HEAD")
                            try repository.git("update-index", "-q", "--refresh")
                            try repository.write("f.txt", bytes)
                            try runChecked(["touch", "-d", "@1500000000", "f.txt"], in: repository.path)
                            if forgetsStat { try repository.git("read-tree", "HEAD") }
                            var environment = extra
                            environment["GIT_OPTIONAL_LOCKS"] = "0"  // status must not refresh the index restore reads
                            let status = try runChecked(
                                ["git"] + arguments + ["status", "--porcelain", "--", "f.txt"], in: repository.path,
                                environment: environment)
                            environment["PATH"] = path
                            try runChecked(["git"] + arguments + ["mtime", "restore"], in: repository.path, environment: environment)
                            let expected = status.stdout.isEmpty ? committed : Timestamp(seconds: 1_500_000_000, nanoseconds: 0)
                            let label =
                                "autocrlf \(repositorySetting ?? "unset"), \(attributes ?? "no attributes"), \(arguments), "
                                + "\(bytes.debugDescription), \(forgetsStat ? "no stat" : "stat")"
                            #expect(
                                try modificationTime(repository.directory.url("f.txt")) == expected, "\(label): git status \(status.stdout)"
                            )
                            cases += 1
                            if status.stdout.isEmpty { clean += 1 }
                        }
                    }
                }
            }
        }
        // Both outcomes occur, so the comparison can fail either way.
        #expect(cases == 320 && clean > 0 && clean < cases, "\(clean) of \(cases) clean")
    }

    /// Defect 33: libgit2 1.5 reads some attribute files unlike git 2.39: a pattern in double quotes
    /// (git unquotes it, libgit2 takes the quotes as part of the name), a line of 2048 bytes or more
    /// (git ignores it), a line naming an invalid attribute (git ignores the whole line), an in-tree
    /// `.gitattributes` that is a symlink (git ignores it), a pattern that matches only ignoring case
    /// under `core.ignoreCase` (git matches it, defect 34). libgit2 then
    /// applied `text eol=crlf` to a file git leaves alone, so a file rewritten with CRLF line ends —
    /// modified for git — was called clean and given its commit time. Every shape, in every place an
    /// attribute file lives, against `GIT_OPTIONAL_LOCKS=0 git status`, with the stat kept and forgotten.
    @Test func attributeFilesAreReadAsGitReadsThem() throws {
        let tool = (builtProduct("git-mtime") as NSString).deletingLastPathComponent
        let path = tool + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // The line, then blanks up to `length` bytes (git counts them: `strlen(line)`).
        func padded(_ line: String, to length: Int) -> String { line + String(repeating: " ", count: length - line.utf8.count) }
        // The file, and attribute lines under which git leaves it alone where libgit2 converted it (and controls).
        let shapes: [(file: String, lines: String, ignoreCase: Bool)] = [
            ("sp ace.txt", "* text eol=crlf\n\"sp ace.txt\" -text\n", false),
            ("t\tb.txt", "* text eol=crlf\n\"t\\tb.txt\" -text\n", false),
            ("plain.txt", "* text eol=crlf\n  \"plain.txt\" -text\n", false),
            ("plain.txt", "* -text\n" + padded("*.txt text eol=crlf", to: 2048) + "\n", false),
            ("plain.txt", "* -text\n" + padded("*.txt text eol=crlf", to: 2047) + "\n", false),
            // git drops a whole line naming an invalid attribute; libgit2 applied the rest of it.
            ("plain.txt", "* -text\nplain.txt text eol=crlf #note\n", false),
            ("plain.txt", "* -text\n[attr]a#b text eol=crlf\nplain.txt a#b\n", false),
            // Names equal ignoring case: git matches them with core.ignoreCase, libgit2 1.5 never.
            ("plain.txt", "* text eol=crlf\nPLAIN.TXT -text\n", true),
            ("plain.txt", "* text eol=crlf\nplain.txt -text\n", false),
        ]
        var cases = 0, clean = 0
        for (shape, place) in shapes.flatMap({ shape in ["tree", "symlink", "info", "attributesFile"].map { (shape, $0) } }) {
            let repository = try GitRepository(label: "attribute-reading")
            try repository.write(shape.file, "a\nb\n")
            try repository.commit()
            let committed = try repository.commitTime(shape.file)
            if shape.ignoreCase { try repository.git("config", "core.ignoreCase", "true") }
            switch place {
            case "tree": try repository.write(".gitattributes", shape.lines)
            case "symlink":
                try repository.write("attrs", shape.lines)
                try FileManager.default.createSymbolicLink(atPath: repository.directory.url(".gitattributes"), withDestinationPath: "attrs")
            case "info": try repository.write(".git/info/attributes", shape.lines)
            default:
                try repository.write(".git/elsewhere-attributes", shape.lines)
                try repository.git("config", "core.attributesFile", repository.directory.url(".git/elsewhere-attributes"))
            }
            for bytes in ["a\r\nb\r\n", "a\nb\n"] {
                for forgetsStat in [false, true] {
                    try repository.write(shape.file, "a\nb\n")
                    try repository.git("read-tree", "HEAD")
                    try repository.git("update-index", "-q", "--refresh")
                    try repository.write(shape.file, bytes)
                    try runChecked(["touch", "-d", "@1500000000", shape.file], in: repository.path)
                    if forgetsStat { try repository.git("read-tree", "HEAD") }
                    let status = try runChecked(
                        ["git", "status", "--porcelain", "--", shape.file], in: repository.path, environment: ["GIT_OPTIONAL_LOCKS": "0"])
                    try runChecked(["git", "mtime", "restore"], in: repository.path, environment: ["PATH": path])
                    let expected = status.stdout.isEmpty ? committed : Timestamp(seconds: 1_500_000_000, nanoseconds: 0)
                    let label =
                        "\(place): \(shape.lines.prefix(60).debugDescription), \(bytes.debugDescription), \(forgetsStat ? "no stat" : "stat")"
                    #expect(try modificationTime(repository.directory.url(shape.file)) == expected, "\(label): git status \(status.stdout)")
                    cases += 1
                    if status.stdout.isEmpty { clean += 1 }
                }
            }
        }
        // Both outcomes occur, so the comparison can fail either way.
        #expect(cases == 144 && clean > 0 && clean < cases, "\(clean) of \(cases) clean")
    }

    /// Defect 22: with `extensions.worktreeConfig` (`git sparse-checkout` turns it on, `git config
    /// --worktree` needs it), git reads `config.worktree` of the worktree's git dir above the
    /// repository's `config`; libgit2 1.5 never does. A `core.fileMode` or `core.autocrlf` set there
    /// made restore call a file git calls clean modified, or the reverse. Every layout (the main
    /// worktree and a linked one; the extension on or off; the setting in either file or both; `-c`
    /// above them) against `GIT_OPTIONAL_LOCKS=0 git status`, with the file's stat forgotten so
    /// both decide by content.
    @Test func worktreeConfigReachesWhatLibgit2Reads() throws {
        let tool = (builtProduct("git-mtime") as NSString).deletingLastPathComponent
        let path = tool + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let settings: [(name: String, common: String?, worktree: String?, change: String)] = [
            ("core.fileMode", nil, "false", "chmod"), ("core.fileMode", "true", "false", "chmod"),
            ("core.fileMode", "false", "true", "chmod"), ("core.fileMode", "false", nil, "chmod"),
            ("core.autocrlf", nil, "true", "crlf"), ("core.autocrlf", "true", "false", "crlf"),
            ("core.autocrlf", "false", "true", "crlf"),
        ]
        var cases = 0, clean = 0
        for linked in [false, true] {
            let repository = try GitRepository(label: "worktree-config")
            try repository.write("f.txt", "a\nb\n")
            try repository.commit()
            let committed = try repository.commitTime("f.txt")
            var top = repository.path
            if linked {
                top = repository.directory.url("linked")
                try repository.git("worktree", "add", "-q", "--detach", top)
            }
            let gitDirectory = try runChecked(["git", "rev-parse", "--absolute-git-dir"], in: top).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for extensionOn in [false, true] {
                for setting in settings {
                    for commandLine in [[], ["-c", "\(setting.name)=\(setting.worktree ?? "true")"]]
                    where setting.name == "core.fileMode" || commandLine.isEmpty {
                        for file in [repository.directory.url(".git/config"), gitDirectory + "/config.worktree"] {
                            _ = try run(["git", "config", "-f", file, "--unset-all", setting.name], in: top)
                        }
                        try repository.git("config", "extensions.worktreeConfig", extensionOn ? "true" : "false")
                        if let value = setting.common { try repository.git("config", setting.name, value) }
                        if let value = setting.worktree {
                            try runChecked(["git", "config", "-f", gitDirectory + "/config.worktree", setting.name, value], in: top)
                        }
                        let file = (top as NSString).appendingPathComponent("f.txt")
                        try runChecked(["chmod", "-x", file])
                        try Data("a\nb\n".utf8).write(to: URL(fileURLWithPath: file))
                        if setting.change == "chmod" {
                            try runChecked(["chmod", "+x", file])
                        } else {
                            try Data("a\r\nb\r\n".utf8).write(to: URL(fileURLWithPath: file))
                        }
                        try runChecked(["touch", "-d", "@1500000000", file])
                        // No stat in the index: git and restore both decide by the bytes and mode.
                        try runChecked(["git", "read-tree", "HEAD"], in: top)
                        let status = try runChecked(
                            ["git"] + commandLine + ["status", "--porcelain", "--", "f.txt"], in: top,
                            environment: ["GIT_OPTIONAL_LOCKS": "0"])
                        try runChecked(["git"] + commandLine + ["mtime", "restore"], in: top, environment: ["PATH": path])
                        let expected = status.stdout.isEmpty ? committed : Timestamp(seconds: 1_500_000_000, nanoseconds: 0)
                        let label = "linked \(linked), extension \(extensionOn), \(setting), \(commandLine)"
                        #expect(try modificationTime(file) == expected, "\(label): git status \(status.stdout)")
                        cases += 1
                        if status.stdout.isEmpty { clean += 1 }
                    }
                }
            }
        }
        // Both outcomes occur, so the comparison can fail either way.
        #expect(cases == 2 * 2 * 11 && clean > 0 && clean < cases, "\(clean) of \(cases) clean")
    }
}
