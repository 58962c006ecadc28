/// The build commands `doctor` recognises in a RUN, and how each decides what to rebuild. Only the
/// ones that compare mtimes can be fooled by sources that arrive older than earlier outputs; the
/// others are listed so that it is clear they were considered (docs/doctor.md prints this table).
public struct BuildTool: Sendable {
    public enum Basis: String, Sendable {
        /// Rebuilds what is older than its inputs: stale when sources arrive with older mtimes.
        case modificationTimes = "mtimes"
        /// Hashes the inputs' content: mtimes cannot fool it.
        case contentHashes = "content hashes"
    }

    public let name: String
    /// What counts as a build, for the documentation.
    public let recognised: String
    public let basis: Basis
    /// Where its outputs go by default, relative to where it runs (nil: no fixed place).
    public let defaultOutputs: String?
    let matches: @Sendable ([String]) -> Bool

    /// Every tool, in the order of the documented table.
    public static let all: [BuildTool] = [
        BuildTool(
            name: "cargo",
            recognised:
                "`cargo build|b|test|t|run|r|bench|rustc|nextest`, `cargo install --path`, `cargo chef cook`, `cargo zigbuild`, `cargo auditable build`, `cargo leptos build`",
            basis: .modificationTimes, defaultOutputs: "target"
        ) { words in
            guard commandName(words) == "cargo" else { return false }
            let rest = subcommand(words.dropFirst(), optionsWithValue: ["-Z", "--config", "--color", "-C"])
            guard let sub = rest.first else { return false }
            switch sub {
            case "build", "b", "test", "t", "run", "r", "bench", "rustc", "zigbuild", "nextest": return true
            case "install": return rest.contains("--path") || rest.contains { $0.hasPrefix("--path=") }
            case "chef": return rest.dropFirst().first == "cook"
            case "auditable", "leptos": return rest.dropFirst().first == "build"
            default: return false
            }
        },
        BuildTool(
            name: "make", recognised: "`make`/`gmake` with any target but `clean`/`distclean` (not `-n`, `-q`)",
            basis: .modificationTimes, defaultOutputs: nil
        ) { words in
            guard ["make", "gmake"].contains(commandName(words)) else { return false }
            let arguments = words.dropFirst()
            if arguments.contains(where: {
                ["-n", "--dry-run", "--just-print", "-q", "--question", "-v", "--version", "-h", "--help"].contains($0)
            }) {
                return false
            }
            let targets = arguments.filter { !$0.hasPrefix("-") && !$0.contains("=") }
            return targets.isEmpty || targets.contains { !["clean", "distclean", "mrproper", "realclean"].contains($0) }
        },
        BuildTool(name: "ninja", recognised: "`ninja` (not `-t TOOL`)", basis: .modificationTimes, defaultOutputs: nil) { words in
            commandName(words) == "ninja" && !words.contains("-t") && !words.contains("--version")
        },
        BuildTool(name: "cmake", recognised: "`cmake --build DIR`", basis: .modificationTimes, defaultOutputs: nil) { words in
            commandName(words) == "cmake" && words.contains { $0 == "--build" || $0.hasPrefix("--build=") }
        },
        BuildTool(name: "meson", recognised: "`meson compile`", basis: .modificationTimes, defaultOutputs: nil) { words in
            commandName(words) == "meson" && words.dropFirst().first == "compile"
        },
        BuildTool(
            name: "maven", recognised: "`mvn`/`mvnw` with a phase from `compile` on (`package`, `install`, …); not `dependency:go-offline`",
            basis: .modificationTimes, defaultOutputs: "target"
        ) { words in
            guard ["mvn", "mvnw"].contains(commandName(words)) else { return false }
            let phases: Set<String> = ["compile", "test-compile", "test", "package", "integration-test", "verify", "install", "deploy"]
            return words.dropFirst().contains { phases.contains($0) }
        },
        BuildTool(
            name: "dotnet", recognised: "`dotnet build|publish|test|run|pack|msbuild`, `msbuild`", basis: .modificationTimes,
            defaultOutputs: nil
        ) { words in
            if commandName(words) == "msbuild" { return true }
            guard commandName(words) == "dotnet" else { return false }
            return ["build", "publish", "test", "run", "pack", "msbuild"].contains(
                subcommand(words.dropFirst(), optionsWithValue: []).first ?? "")
        },
        BuildTool(
            name: "npm/yarn/pnpm/bun", recognised: "`npm run build…`, `yarn [run] build…`, `pnpm [run] build…`, `bun run build…`",
            basis: .modificationTimes, defaultOutputs: nil
        ) { words in
            let tool = commandName(words)
            guard ["npm", "yarn", "pnpm", "bun"].contains(tool) else { return false }
            var rest = subcommand(words.dropFirst(), optionsWithValue: ["--filter", "-F", "--prefix", "-C", "--cwd", "-w", "--workspace"])
            if rest.first == "run" || rest.first == "run-script" {
                rest = Array(rest.dropFirst())
            } else if tool == "npm" || tool == "bun" {
                return false
            }
            return rest.first?.hasPrefix("build") == true
        },
        BuildTool(name: "go", recognised: "`go build|install|test|run`", basis: .contentHashes, defaultOutputs: nil) { words in
            commandName(words) == "go" && ["build", "install", "test", "run"].contains(words.dropFirst().first ?? "")
        },
        BuildTool(name: "gradle", recognised: "`gradle`/`gradlew` with a task", basis: .contentHashes, defaultOutputs: "build") { words in
            ["gradle", "gradlew"].contains(commandName(words)) && words.dropFirst().contains { !$0.hasPrefix("-") }
        },
    ]

    /// The tool `words` (a simple command, wrappers already removed) runs as a build, if any.
    public static func recognise(_ words: [String]) -> BuildTool? {
        guard !words.isEmpty else { return nil }
        return all.first { $0.matches(words) }
    }

    /// The program's file name (`./gradlew` → `gradlew`, `/usr/bin/make` → `make`).
    static func commandName(_ words: [String]) -> String {
        guard let first = words.first else { return "" }
        return String(first.split(separator: "/").last ?? Substring(first))
    }

    /// The words from the first one that is not an option (or a `+toolchain`), skipping option values.
    static func subcommand(_ words: ArraySlice<String>, optionsWithValue: Set<String>) -> [String] {
        var index = words.startIndex
        while index < words.endIndex {
            let word = words[index]
            if word.hasPrefix("+") || (word.hasPrefix("-") && word != "-") {
                index += optionsWithValue.contains(word) ? 2 : 1
                continue
            }
            return Array(words[index...])
        }
        return []
    }

    /// Wrappers that run the next words as the command: `env A=1 make` is `make`.
    static func withoutWrappers(_ words: [String]) -> (words: [String], skipped: Int) {
        var rest = words[...]
        var skipped = 0
        func drop(_ count: Int) { rest = rest.dropFirst(count); skipped += count }
        while let first = rest.first {
            switch commandName([first]) {
            case "env":
                drop(1)
                while let word = rest.first, word.hasPrefix("-") || word.contains("=") {
                    drop(["-u", "--unset", "-C", "--chdir", "-S"].contains(word) ? 2 : 1)
                }
            case "time", "nohup", "exec", "command", "builtin":
                drop(1)
                while let word = rest.first, word.hasPrefix("-") { drop(1) }
            case "nice", "ionice", "stdbuf", "sudo", "doas", "setpriv", "chronic":
                drop(1)
                while let word = rest.first, word.hasPrefix("-") {
                    drop(["-n", "-u", "-g", "-c", "-o", "-e", "-i"].contains(word) ? 2 : 1)
                }
            case "timeout":
                drop(1)
                while let word = rest.first, word.hasPrefix("-") { drop(["-s", "-k", "--signal", "--kill-after"].contains(word) ? 2 : 1) }
                if !rest.isEmpty { drop(1) }
            default:
                return (Array(rest), skipped)
            }
        }
        return ([], skipped)
    }

    /// `sh -c SCRIPT`, `bash -euxo pipefail -c SCRIPT`: the script, if `words` runs a shell on one.
    static func shellScript(_ words: [String]) -> String? {
        guard ["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"].contains(commandName(words)) else { return nil }
        var index = words.index(after: words.startIndex)
        if commandName(words) == "busybox" {
            guard index < words.endIndex, ["sh", "ash"].contains(words[index]) else { return nil }
            index += 1
        }
        var sawC = false
        while index < words.endIndex {
            let word = words[index]
            if word == "-o" || word == "+o" { index += 2; continue }
            if word.hasPrefix("-") || word.hasPrefix("+") {
                if !word.hasPrefix("--") && word.dropFirst().contains("c") { sawC = true }
                index += 1
                continue
            }
            return sawC ? word : nil
        }
        return nil
    }

    /// A shell reading its script from standard input (`bash`, `sh -e`): no script file, no `-c`.
    static func readsScriptFromInput(_ words: [String]) -> Bool {
        guard ["sh", "bash", "dash", "ash", "zsh", "ksh"].contains(commandName(words)) else { return false }
        var index = 1
        while index < words.count {
            let word = words[index]
            if word == "-o" || word == "+o" { index += 2; continue }
            guard word.hasPrefix("-") || word.hasPrefix("+") else { return false }
            if !word.hasPrefix("--") && word.dropFirst().contains("c") { return false }
            index += 1
        }
        return true
    }
}
