import CLibGit2
import MtimeCore

extension Repository {
    /// A boolean setting (e.g. `core.filemode`) from a snapshot of the repository's configuration,
    /// or `defaultValue` when it is not set.
    public func configBool(_ name: String, default defaultValue: Bool) throws(GitError) -> Bool {
        var config: OpaquePointer?
        try check("read configuration", git_repository_config_snapshot(&config, handle))
        defer { git_config_free(config) }
        var value: Int32 = 0
        let result = git_config_get_bool(&value, config, name)
        if result == GIT_ENOTFOUND.rawValue { return defaultValue }
        try check("read configuration \(name)", result)
        return value != 0
    }
}
