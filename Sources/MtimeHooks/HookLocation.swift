import GitKit
import MtimeCore
import MtimeRestore

/// Where `git mtime hooks install/uninstall` works, found the way git itself finds hooks: asking
/// git (so core.hooksPath, `~`, linked worktrees and relative paths mean what they mean to git).
public enum HookTarget: Sendable, Equatable {
    /// The repository containing this directory (its core.hooksPath, else `<git dir>/hooks`).
    case repository(BytePath)
    /// A repository already located (under git's environment): asked about by its absolute paths,
    /// so a relative `GIT_DIR` is not read again from another directory.
    case located(RepositoryLocation)
    /// The global core.hooksPath; when unset, `~/.config/git-mtime/hooks`, which install then sets.
    case global
    /// `<DIR>/hooks`: every later `git clone --template DIR` (or init.templateDir=DIR) copies it.
    case template(BytePath)
}

public struct HookLocation: Sendable {
    public let directory: BytePath
    /// For `--global` when no core.hooksPath was set: install sets it, uninstall unsets it once empty.
    public let ownsGlobalHooksPath: Bool
    /// A file git tracks in `directory`, when the directory lies in the repository's own working
    /// tree (a team's committed `core.hooksPath`): installing there would change what everyone commits.
    public var trackedFile: BytePath? = nil

    /// Why installing here would hurt, with what to do instead; nil when it wouldn't.
    public var installRefusal: String? {
        guard let trackedFile else { return nil }
        return "\(directory) is core.hooksPath and git tracks files in it (\(trackedFile)): installing would rewrite "
            + "the team's hooks for everyone who commits them; nothing was changed. Instead use `git mtime hooks install "
            + "--global` or `--template DIR` on your machines, or add `git mtime hooks run NAME \"$@\"` (post-checkout, "
            + "post-merge; post-rewrite with its standard input) to the team's hooks"
    }

    public static func resolve(_ target: HookTarget) throws -> HookLocation {
        switch target {
        case .repository(let directory):
            return try resolveRepository(directory, gitOptions: [])
        case .located(let location):
            let top = location.workTree ?? location.gitDirectory
            return try resolveRepository(
                top, gitOptions: ["--git-dir=\(location.gitDirectory)"] + (location.workTree.map { ["--work-tree=\($0)"] } ?? []))
        case .global:
            if let configured = try globalHooksPath() {
                guard configured.isAbsolute else {
                    throw HookError(
                        "the global core.hooksPath '\(configured)' is relative (each repository would see "
                            + "a different directory); make it absolute first")
                }
                return HookLocation(directory: configured, ownsGlobalHooksPath: configured == defaultGlobalDirectory())
            }
            return HookLocation(directory: defaultGlobalDirectory(), ownsGlobalHooksPath: true)
        case .template(let directory):
            return HookLocation(directory: directory.appending("hooks"), ownsGlobalHooksPath: false)
        }
    }

    /// The hooks directory of the repository containing `directory`, as git names it: the bytes of
    /// its answer (a core.hooksPath may end in a space or be no UTF-8), never trimmed or decoded.
    private static func resolveRepository(_ directory: BytePath, gitOptions: [ProcessArgument]) throws -> HookLocation {
        try RestoreSession.requireDirectory(directory)
        let result = try gitBytes(gitOptions + ["rev-parse", "--git-path", "hooks"], in: directory)
        guard result.status == 0, let path = result.line else {
            throw HookError("\(directory): not a git repository: \(result.message)")
        }
        var location: HookLocation
        do {
            location = HookLocation(
                directory: path.isAbsolute ? path : try FileSystem.resolve(directory).appending(path), ownsGlobalHooksPath: false)
        } catch { throw RestoreError.system(error) }
        location.trackedFile = try trackedFile(in: location.directory, repository: directory, gitOptions: gitOptions)
        return location
    }

    /// The first file git tracks below `hooks` when it lies in the working tree of the repository
    /// containing `repository`; nil otherwise (bare, outside the tree, nothing tracked there).
    private static func trackedFile(in hooks: BytePath, repository: BytePath, gitOptions: [ProcessArgument]) throws -> BytePath? {
        let top = try gitBytes(gitOptions + ["rev-parse", "--show-toplevel"], in: repository)
        guard top.status == 0, let topLine = top.line, let root = try? FileSystem.resolve(topLine),
            let below = try? FileSystem.resolve(hooks).relative(to: root), !below.isEmpty
        else { return nil }
        let listed = try gitBytes(gitOptions + ["--literal-pathspecs", "ls-files", "-z", "--", "\(below)"], in: root)
        guard listed.status == 0 else { return nil }
        return listed.output.split(separator: 0).first.map { BytePath(Array($0)) }
    }

    /// Runs git (stdin from /dev/null, stderr shared); `line` is its answer without the newline git
    /// ends it with, byte for byte (a path may hold a newline: git prints it as it is).
    private static func gitBytes(_ arguments: [ProcessArgument], in directory: BytePath) throws -> (
        status: Int32, output: [UInt8], line: BytePath?, message: String
    ) {
        let result: (termination: Termination, output: [UInt8])
        do {
            result = try ChildProcess.captureBytes(["git", "-C", "\(directory)"] + arguments, includingStandardError: false)
        } catch {
            throw HookError("cannot run git: \(error.message)")
        }
        var line = result.output
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        let answer = line.isEmpty ? nil : BytePath(line)
        return (result.termination.shellStatus, result.output, answer, "exited with status \(result.termination.shellStatus)")
    }

    /// `$XDG_CONFIG_HOME/git-mtime/hooks`, else `~/.config/git-mtime/hooks`.
    /// The environment's bytes: a home directory whose name isn't UTF-8 is the one used.
    public static func defaultGlobalDirectory() -> BytePath {
        if let config = Environment.path("XDG_CONFIG_HOME"), config.isAbsolute { return config.appending("git-mtime/hooks") }
        return (Environment.path("HOME") ?? BytePath("/")).appending(".config/git-mtime/hooks")
    }

    /// `git config --global core.hooksPath`, with `~` expanded, as the bytes git printed (only its
    /// final newline dropped); nil when unset.
    public static func globalHooksPath() throws -> BytePath? {
        let result = try git(["config", "--global", "--type=path", "--get", "core.hooksPath"])
        switch result.status {
        case 0: return result.line
        case 1: return nil
        default: throw HookError("cannot read the global git configuration: \(result.message)")
        }
    }

    public static func setGlobalHooksPath(_ path: BytePath?) throws {
        let arguments: [ProcessArgument] =
            path.map { ["config", "--global", "core.hooksPath", "\($0)"] } ?? ["config", "--global", "--unset", "core.hooksPath"]
        let result = try git(arguments)
        guard result.status == 0 else {
            throw HookError("git \(arguments.map(\.description).joined(separator: " ")) failed: \(result.message)")
        }
    }

    /// Runs git on the global configuration (stdin from /dev/null); `line` is its answer, `message`
    /// its stdout and stderr for an error.
    private static func git(_ arguments: [ProcessArgument]) throws -> (status: Int32, line: BytePath?, message: String) {
        let result: (termination: Termination, output: [UInt8])
        do {
            result = try ChildProcess.captureBytes(["git"] + arguments, includingStandardError: true)
        } catch {
            throw HookError("cannot run git: \(error.message)")
        }
        var line = result.output
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        return (
            result.termination.shellStatus, line.isEmpty ? nil : BytePath(line),
            String(decoding: result.output, as: UTF8.self).trimmingWhitespace()
        )
    }
}
