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
        if try isSafe(repository) { return }
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
    private func isSafe(_ repository: BytePath) throws(RepositoryError) -> Bool {
        var safe = false
        for value in try safeDirectoryValues() {
            guard let value, !value.isEmpty else { safe = false; continue }
            if value == Array("*".utf8) { safe = true; continue }
            if RepositoryOwnership.interpolated(value) == repository.bytes { safe = true }
        }
        return safe
    }

    /// `~/` and `~` at the start are the home directory (`interpolate_path`).
    private static func interpolated(_ value: [UInt8]) -> [UInt8] {
        guard value.first == UInt8(ascii: "~"), value.count == 1 || value[1] == UInt8(ascii: "/"),
            let home = getenv("HOME")
        else { return value }
        return BytePath(cString: home).bytes + value.dropFirst()
    }

    /// Every `safe.directory` value git's "very early" configuration holds, in order; nil for a key
    /// given without a value.
    private func safeDirectoryValues() throws(RepositoryError) -> [[UInt8]?] {
        var values: [[UInt8]?] = []
        for file in ConfigurationFiles(environment: environment).files.map(\.path) {
            guard let config = ConfigFile(file) else { continue }
            values += config.all("safe.directory").map { Optional($0) }
        }
        let commandLine: CommandLineConfig
        do { commandLine = try CommandLineConfig(environment: environment) } catch { throw .badCommandLineConfig(error) }
        values += commandLine.entries.filter { $0.name == "safe.directory" }.map(\.value)
        return values
    }
}
