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

extension Repository {
    /// Every `name = value` of the configuration whose name matches the regular expression `pattern`
    /// (git's `--get-regexp`; names are lower case, except a subsection's), from a snapshot.
    public func configEntries(matching pattern: String) -> [(name: String, value: String)] {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, handle) == 0, let config else { return [] }
        defer { git_config_free(config) }
        var iterator: OpaquePointer?
        guard git_config_iterator_glob_new(&iterator, config, pattern) == 0, let iterator else { return [] }
        defer { git_config_iterator_free(iterator) }
        var entries: [(String, String)] = []
        var entry: UnsafeMutablePointer<git_config_entry>?
        while git_config_next(&entry, iterator) == 0, let current = entry?.pointee {
            entries.append((String(cString: current.name), current.value.map { String(cString: $0) } ?? ""))
        }
        return entries
    }
}
