import ArgumentParser
import MtimeCore
import MtimeHistory

/// `--cache-dir`, shared by every command that restores.
struct HistoryCacheOption: ParsableArguments {
    @Option(
        name: .customLong("cache-dir"),
        help: ArgumentHelp(
            "Keep the history cache in <dir>, shareable by any clone of the same history (e.g. a CI cache).",
            discussion:
                "Default: $\(HistoryCacheLocation.environmentVariable), else git config \(HistoryCacheLocation.configKey), else .git/git-mtime. "
                + "With a secret in $\(CacheKey.environmentVariable) (at least \(CacheKey.minimumLength) bytes), snapshots get a MAC and "
                + "those whose MAC verifies are used unchecked; others are checked against the object database.",
            valueName: "dir"))
    var cacheDir: String?

    func validate() throws {
        if cacheDir?.isEmpty == true { throw ValidationError("--cache-dir needs a directory") }
        // Ignoring it only costs time (snapshots are checked instead), so a warning, not an error.
        if CacheKey.environment.setting == .tooShort {
            printError(
                "git-mtime: warning: $\(CacheKey.environmentVariable) is shorter than \(CacheKey.minimumLength) bytes: ignored")
        }
    }

    /// The directory, a relative one taken relative to `base` (the `-C` directory, when given).
    func directory(relativeTo base: String? = nil) -> BytePath? {
        guard let cacheDir else { return nil }
        let path = BytePath(cacheDir)
        guard !path.isAbsolute, let base else { return path }
        return BytePath(base).appending(path)
    }
}
