import CLibGit2
import Glibc
import MtimeCore

/// git's ownership check for a repository it *discovered* (`ensure_valid_ownership`, git 2.39): the
/// `.git` file, the top of the working tree and the git dir must belong to the current user (root
/// also accepts root's, and with `SUDO_UID` that user's), unless `safe.directory` names the
/// repository (or is `*`). An explicit `GIT_DIR` is not checked, as git does not check it. libgit2
/// 1.5's own check compares `safe.directory` with the git dir instead of the working tree git names
/// in its message, and knows no `*`, so it is turned off and this one used instead.
struct RepositoryOwnership {
    let environment: GitEnvironment

    /// Throws `.dubiousOwnership` naming the repository (its working tree, else its git dir).
    func check(gitFile: BytePath?, workTree: BytePath?, gitDirectory: BytePath) throws(RepositoryError) {
        let assumeOther: Bool
        do { assumeOther = try environment.flag("GIT_TEST_ASSUME_DIFFERENT_OWNER") ?? false } catch { throw .badEnvironment(error) }
        var foreign: (path: BytePath, owner: UInt32?)?
        if assumeOther {
            foreign = (workTree ?? gitDirectory, nil)
        } else {
            for path in [gitFile, workTree, gitDirectory].compactMap({ $0 }) {
                guard let owner = RepositoryOwnership.owner(of: path), RepositoryOwnership.isCurrentUser(owner) else {
                    foreign = (path, RepositoryOwnership.owner(of: path))
                    break
                }
            }
        }
        guard let foreign else { return }
        let repository = workTree ?? gitDirectory
        if isSafe(repository) { return }
        throw .dubiousOwnership(repository, path: foreign.path, owner: foreign.owner)
    }

    private static func owner(of path: BytePath) -> UInt32? {
        var raw = stat()
        guard (try? path.withCString { lstat($0, &raw) }) == 0 else { return nil }
        return raw.st_uid
    }

    /// `is_path_owned_by_current_uid`: root owns what root owns; otherwise root stands for `SUDO_UID`.
    private static func isCurrentUser(_ owner: UInt32) -> Bool {
        var user = geteuid()
        if user == 0 {
            if owner == 0 { return true }
            if let sudo = getenv("SUDO_UID").map({ String(cString: $0) }), let id = UInt32(sudo) { user = id }
        }
        return owner == user
    }

    /// `safe.directory` from the system, global and command-line configuration, in git's order: `*`
    /// or the repository's path makes it safe, an empty value resets the list.
    private func isSafe(_ repository: BytePath) -> Bool {
        var safe = false
        for value in safeDirectoryValues() {
            guard let value, !value.isEmpty else { safe = false; continue }
            if value == Array("*".utf8) { safe = true; continue }
            if RepositoryOwnership.interpolated(value) == repository.bytes { safe = true }
        }
        return safe
    }

    /// `~/` and `~` at the start are the home directory (`interpolate_path`).
    private static func interpolated(_ value: [UInt8]) -> [UInt8] {
        guard value.first == UInt8(ascii: "~"), value.count == 1 || value[1] == UInt8(ascii: "/"),
              let home = getenv("HOME") else { return value }
        return Array(String(cString: home).utf8) + value.dropFirst()
    }

    /// Every `safe.directory` value git's "very early" configuration holds, in order; nil for a key
    /// given without a value.
    private func safeDirectoryValues() -> [[UInt8]?] {
        var values: [[UInt8]?] = []
        for file in configurationFiles() {
            guard let config = ConfigFile(file) else { continue }
            values += config.all("safe.directory").map { Optional($0) }
        }
        values += CommandLineConfiguration(environment).entries.filter { $0.key.lowercased() == "safe.directory" }.map(\.value)
        return values
    }

    /// The system file (unless `GIT_CONFIG_NOSYSTEM`), then the global ones: `GIT_CONFIG_SYSTEM`,
    /// `GIT_CONFIG_GLOBAL`, else `/etc/gitconfig`, `$XDG_CONFIG_HOME/git/config` (or
    /// `~/.config/git/config`) and `~/.gitconfig`.
    private func configurationFiles() -> [BytePath] {
        var files: [BytePath] = []
        if (try? environment.flag("GIT_CONFIG_NOSYSTEM")) != true {
            files.append(environment.path("GIT_CONFIG_SYSTEM") ?? BytePath("/etc/gitconfig"))
        }
        if let global = environment.path("GIT_CONFIG_GLOBAL") {
            files.append(global)
        } else {
            let home = getenv("HOME").map { String(cString: $0) }
            if let xdg = getenv("XDG_CONFIG_HOME").map({ String(cString: $0) }), !xdg.isEmpty {
                files.append(BytePath(xdg).appending("git/config"))
            } else if let home {
                files.append(BytePath(home).appending(".config/git/config"))
            }
            if let home { files.append(BytePath(home).appending(".gitconfig")) }
        }
        return files.filter { (try? FileSystem.statusIfPresent($0)) != nil }
    }
}

/// `git -c key=value` as git passes it to its children: `GIT_CONFIG_PARAMETERS` (sq-quoted
/// `'key'='value'` or older `'key=value'` words) and `GIT_CONFIG_COUNT` with `GIT_CONFIG_KEY_<n>`
/// and `GIT_CONFIG_VALUE_<n>`.
struct CommandLineConfiguration {
    var entries: [(key: String, value: [UInt8]?)] = []

    init(_ environment: GitEnvironment) {
        if let parameters = environment["GIT_CONFIG_PARAMETERS"] { parse(parameters) }
        if let count = environment["GIT_CONFIG_COUNT"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }), count > 0 {
            for index in 0..<min(count, 1 << 16) {
                guard let key = environment["GIT_CONFIG_KEY_\(index)"] else { break }
                entries.append((String(decoding: key, as: UTF8.self), environment["GIT_CONFIG_VALUE_\(index)"] ?? []))
            }
        }
    }

    private mutating func parse(_ text: [UInt8]) {
        var position = text.startIndex
        func skipSpaces() { while position < text.endIndex && text[position] == 0x20 { position += 1 } }
        /// One sq-quoted word (`'\''` inside stands for a quote); nil when malformed.
        func quoted() -> [UInt8]? {
            guard position < text.endIndex, text[position] == UInt8(ascii: "'") else { return nil }
            position += 1
            var word: [UInt8] = []
            while position < text.endIndex {
                let byte = text[position]
                position += 1
                if byte != UInt8(ascii: "'") { word.append(byte); continue }
                // `'\''`: close, escaped quote, reopen.
                if text[position...].starts(with: Array("\\''".utf8)) { word.append(UInt8(ascii: "'")); position += 3; continue }
                return word
            }
            return nil
        }
        skipSpaces()
        while position < text.endIndex {
            guard let first = quoted() else { return }
            if position < text.endIndex, text[position] == UInt8(ascii: "=") {
                position += 1
                guard let value = quoted() else { return }
                entries.append((String(decoding: first, as: UTF8.self), value))
            } else if let equals = first.firstIndex(of: UInt8(ascii: "=")) {
                entries.append((String(decoding: first[..<equals], as: UTF8.self), Array(first[(equals + 1)...])))
            } else {
                entries.append((String(decoding: first, as: UTF8.self), nil))
            }
            skipSpaces()
        }
    }
}
