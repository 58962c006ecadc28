import CLibGit2
import Glibc
import MtimeCore

// Every configuration read of git-mtime goes through these: a snapshot of the files libgit2 reads
// (system, global, local, includes) and, above them, git's command-line scope (`git -c`,
// GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT), which the repository handed libgit2 as one more file
// (`CommandLineConfig.addLayer`).
extension Repository {
    /// A string setting; nil when unset (or set without a value) or unreadable.
    public func configString(_ name: String) -> String? {
        withConfigSnapshot { config in
            var value: UnsafePointer<CChar>?
            guard git_config_get_string(&value, config, name) == 0, let value else { return nil }
            return String(cString: value)
        } ?? nil
    }

    /// A boolean setting (e.g. `core.filemode`) in git's spellings, or `defaultValue` when it is not set.
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

    /// A path setting as git's `--type=path` reads it (a leading `~/` is the home directory); nil
    /// when unset or empty.
    public func configPath(_ name: String) throws(GitError) -> String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        var config: OpaquePointer?
        try check("read configuration", git_repository_config_snapshot(&config, handle))
        defer { git_config_free(config) }
        let result = git_config_get_path(&buffer, config, name)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try check("read configuration \(name)", result)
        guard let pointer = buffer.ptr, buffer.size > 0 else { return nil }
        return String(cString: pointer)
    }

    /// Every `name = value` whose name matches the extended regular expression `pattern` (git's
    /// `--get-regexp`; names are lower case, except a subsection's), the files' first, then `git -c`'s.
    public func configEntries(matching pattern: String) -> [(name: String, value: String)] {
        withConfigSnapshot { config in
            var iterator: OpaquePointer?
            guard git_config_iterator_glob_new(&iterator, config, pattern) == 0, let iterator else { return [] }
            defer { git_config_iterator_free(iterator) }
            var entries: [(String, String)] = []
            var entry: UnsafeMutablePointer<git_config_entry>?
            while git_config_next(&entry, iterator) == 0, let current = entry?.pointee {
                entries.append((String(cString: current.name), current.value.map { String(cString: $0) } ?? ""))
            }
            return entries
        } ?? []
    }

    private func withConfigSnapshot<R>(_ body: (OpaquePointer) -> R) -> R? {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, handle) == 0, let config else { return nil }
        defer { git_config_free(config) }
        return body(config)
    }
}
