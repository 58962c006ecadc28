import ArgumentParser
import Glibc
import MtimeCore
import MtimeHooks
import MtimeRestore

struct HooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Install or remove the post-checkout, post-merge and post-rewrite hooks.",
        discussion: """
            After a clone the hooks restore every clean file to its commit time. After a branch switch, \
            merge, pull, rebase or amend they look only at the paths that differ between the old and the \
            new HEAD. In the default safe mode (git config mtime.hookMode safe) a file git just rewrote \
            stays newer than your last build, unless the trusted build stamp (git config mtime.stamp PATH, \
            default target/.git-mtime-stamp) shows that build consumed exactly this content: then it gets \
            the mtime the stamp recorded, so switching away and back recompiles nothing. \
            `git config mtime.hookMode commit` gives rewritten files their commit times instead. Dirty \
            files are never touched, and the hooks never fail the git operation. A hook acts on the \
            repository git ran it for (git sets GIT_DIR, and GIT_WORK_TREE when given one); without \
            --repo, install and uninstall ask git where that repository's hooks directory is.
            """,
        subcommands: [HooksInstallCommand.self, HooksUninstallCommand.self, HooksRunCommand.self])
}

struct HookTargetOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The repository containing <directory> (default: the current one); core.hooksPath is honoured.",
            valueName: "directory"))
    var repo: String?

    @Flag(
        help:
            "The global hooks directory: the global core.hooksPath if set, else ~/.config/git-mtime/hooks, which becomes the global core.hooksPath."
    )
    var global = false

    @Option(
        help: ArgumentHelp(
            "A git template directory: <directory>/hooks; every later `git clone --template <directory>` gets the hooks.",
            valueName: "directory"))
    var template: String?

    func validate() throws {
        if [repo != nil, global, template != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --repo, --global and --template")
        }
    }

    /// The paths as typed, byte for byte (`RawCommandLine.path`).
    var target: HookTarget {
        get throws {
            if global { return .global }
            if let template { return .template(try RawCommandLine.path(template)) }
            return .repository(try repo.map(RawCommandLine.path) ?? BytePath("."))
        }
    }
}

struct HooksInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the hooks; a hook already there is kept and runs first, and its exit status is what git sees.",
        discussion: """
            Installing again changes nothing. `git mtime hooks uninstall` puts a kept hook back byte-for-byte. \
            A hook script of git-mtime's that someone edited is never replaced (install refuses, naming it), \
            and a core.hooksPath inside the working tree that git tracks (a team's committed hooks) is refused: \
            use --global or --template there, or call `git mtime hooks run NAME "$@"` from the team's hooks.
            """)

    @OptionGroup var target: HookTargetOptions

    func run() throws {
        try reportingErrors(as: "git-mtime hooks install") {
            let location = try HookLocation.resolve(try target.target)
            if let refusal = location.installRefusal { throw HookError(refusal) }
            let changes = try HookInstaller(directory: location.directory).install()
            report(changes, in: location.directory)
            if target.global, location.ownsGlobalHooksPath, try HookLocation.globalHooksPath() == nil {
                try HookLocation.setGlobalHooksPath(location.directory)
                print("set the global core.hooksPath to \(location.directory)")
                print("note: with core.hooksPath set, git runs hooks from there only, not from each repository's .git/hooks")
            }
        }
    }
}

struct HooksUninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove the hooks git-mtime installed and put back the hooks they kept; other hooks are left alone.",
        discussion: "A git-mtime script with edits of yours is left in place and named; the exit status is then 1.")

    @OptionGroup var target: HookTargetOptions

    func run() throws {
        try reportingErrors(as: "git-mtime hooks uninstall") {
            let location = try HookLocation.resolve(try target.target)
            let installer = HookInstaller(directory: location.directory)
            let changes = try installer.uninstall()
            report(changes, in: location.directory)
            if let (edited, _) = changes.first(where: { $0.1 == .leftEdited }) {
                throw HookError("\(location.directory.appending(edited.rawValue)) was left in place: it holds edits to git-mtime's script")
            }
            if target.global, location.ownsGlobalHooksPath, try installer.isEmpty() {
                if try HookLocation.globalHooksPath() != nil {
                    try HookLocation.setGlobalHooksPath(nil)
                    print("unset the global core.hooksPath")
                }
                if (try? location.directory.withCString({ rmdir($0) })) == 0 {
                    print("removed the empty directory \(location.directory)")
                }
            }
        }
    }
}

/// What git's hook scripts call; not meant to be typed.
struct HooksRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one hook's logic (called by the installed hook scripts).",
        shouldDisplay: false)

    @Flag(name: .shortAndLong, help: "Print what the hook did.")
    var verbose = false

    @Argument(help: ArgumentHelp("post-checkout, post-merge or post-rewrite.", valueName: "hook"))
    var hook: String

    @Argument(parsing: .captureForPassthrough, help: "The arguments git gave the hook.")
    var arguments: [String] = []

    func run() throws {
        let startedAt = FileSystem.now()
        try reportingErrors(as: "git-mtime hooks run") {
            guard let name = HookName(rawValue: hook) else {
                throw HookError("unknown hook '\(hook)' (expected post-checkout, post-merge or post-rewrite)")
            }
            // Only post-rewrite gets input (the rewritten commits); the others must not wait on stdin.
            let input =
                name == .postRewrite
                ? String(decoding: try FileSystem.readToEnd(descriptor: 0, name: "<stdin>"), as: UTF8.self) : ""
            let outcome = try HookRunner(startedAt: startedAt).run(try HookEvent(hook: name, arguments: arguments, input: input))
            if case .untrusted(let reason) = outcome.stamp {
                printError("git-mtime: build stamp not trusted, changed files stay newer than the last build: \(reason)")
            }
            if verbose || getenv("GIT_MTIME_HOOK_VERBOSE") != nil { printError(outcome.summary) }
        }
    }
}

private func report(_ changes: [(HookName, HookChange)], in directory: BytePath) {
    for (hook, change) in changes { print("\(directory.appending(hook.rawValue)): \(change.rawValue)") }
}
