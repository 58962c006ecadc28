import CLibGit2
import Glibc
import MtimeCore

/// The configuration files git reads before the repository's own, in its order (`do_git_config_sequence`):
/// the system file unless `GIT_CONFIG_NOSYSTEM` (`GIT_CONFIG_SYSTEM` names another), then
/// `GIT_CONFIG_GLOBAL`, else `$XDG_CONFIG_HOME/git/config` (or `~/.config/git/config`) and
/// `~/.gitconfig`. An empty variable names no file, as for git. Only regular files (or links to
/// them) are listed. Without those variables they are the files libgit2's own search finds.
struct ConfigurationFiles {
    enum Level {
        case system, xdg, global

        var libgit2Level: git_config_level_t {
            switch self {
            case .system: GIT_CONFIG_LEVEL_SYSTEM
            case .xdg: GIT_CONFIG_LEVEL_XDG
            case .global: GIT_CONFIG_LEVEL_GLOBAL
            }
        }
    }

    let files: [(path: BytePath, level: Level)]
    /// libgit2 1.5 knows none of the three variables; when none is set, its own search finds these files.
    let overridesLibgit2: Bool

    init(environment: GitEnvironment) {
        let noSystem = (try? environment.flag("GIT_CONFIG_NOSYSTEM")) == true
        var files: [(BytePath, Level)] = []
        if !noSystem { files.append((environment.path("GIT_CONFIG_SYSTEM") ?? BytePath("/etc/gitconfig"), .system)) }
        if let global = environment.path("GIT_CONFIG_GLOBAL") {
            files.append((global, .global))
        } else {
            let home = getenv("HOME").map { BytePath(cString: $0) }
            if let xdg = Environment.path("XDG_CONFIG_HOME") {
                files.append((xdg.appending("git/config"), .xdg))
            } else if let home {
                files.append((home.appending(".config/git/config"), .xdg))
            }
            if let home { files.append((home.appending(".gitconfig"), .global)) }
        }
        // A FIFO or device named there would hang or flood libgit2's reader; git reads /dev/null as empty.
        self.files = files.filter {
            !$0.0.bytes.isEmpty && (try? FileSystem.statusIfPresent($0.0, followingSymlinks: true))??.kind == .regular
        }
        overridesLibgit2 =
            environment["GIT_CONFIG_NOSYSTEM"] != nil || environment["GIT_CONFIG_SYSTEM"] != nil
            || environment["GIT_CONFIG_GLOBAL"] != nil
    }

    /// The per-worktree file git reads above the repository's `config` when the common config turns
    /// on `extensions.worktreeConfig` (`git sparse-checkout`, `git config --worktree`): libgit2 1.5
    /// never reads it, so a `core.fileMode` or `core.autocrlf` set there was not seen (defect 22).
    static func worktreeFile(gitDirectory: BytePath, commonDirectory: BytePath) -> BytePath? {
        guard ConfigFile(commonDirectory.appending("config"))?.bool("extensions.worktreeConfig") == true else { return nil }
        let file = gitDirectory.appending("config.worktree")
        return (try? FileSystem.statusIfPresent(file, followingSymlinks: true))??.kind == .regular ? file : nil
    }

    /// libgit2 1.5 has no worktree level: the worktree file takes the application level, above the
    /// repository's `config`, and the command line one above it, as git orders them.
    static let worktreeLevel = GIT_CONFIG_LEVEL_APP
    static let commandLineLevel = git_config_level_t(rawValue: GIT_CONFIG_LEVEL_APP.rawValue + 1)

    /// Gives the repository these files, its own `config`, `config.worktree` and `commandLine`'s
    /// settings above them (`CommandLineConfig.addLayer`), when libgit2's own search would read other
    /// files or miss the worktree file or the command line. Returns the memory file holding the
    /// command line's: keep it open as long as the repository.
    static func apply(
        _ environment: GitEnvironment, commandLine: CommandLineConfig, to handle: OpaquePointer,
        gitDirectory: BytePath, commonDirectory: BytePath
    ) throws(GitError) -> FileDescriptor? {
        let configuration = ConfigurationFiles(environment: environment)
        let worktree = worktreeFile(gitDirectory: gitDirectory, commonDirectory: commonDirectory)
        guard configuration.overridesLibgit2 || !commandLine.entries.isEmpty || worktree != nil else { return nil }
        var config: OpaquePointer?
        try check("create the configuration", git_config_new(&config))
        defer { git_config_free(config) }
        let local = commonDirectory.appending("config")
        let repositoryFiles = [(local, GIT_CONFIG_LEVEL_LOCAL)] + (worktree.map { [($0, worktreeLevel)] } ?? [])
        for (path, level) in configuration.files.map({ ($0.path, $0.level.libgit2Level) }) + repositoryFiles {
            // The repository is passed for `includeIf "gitdir:…"`, as libgit2's own loading does.
            let result = (try? path.withCString { git_config_add_file_ondisk(config, $0, level, handle, 0) }) ?? -1
            try check("read the configuration file \(path)", result)
        }
        let layer = commandLine.entries.isEmpty ? nil : try commandLine.addLayer(to: config!, repository: handle)
        try check("use the configuration", git_repository_set_config(handle, config))
        return layer
    }
}
