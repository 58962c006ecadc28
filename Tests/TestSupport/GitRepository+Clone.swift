import Foundation

extension GitRepository {
    /// A new repository holding `origin`'s main branch, as a CI job's fresh clone has it (objects
    /// fetched into its own store, nothing in `.git/git-mtime`); `depth` makes it shallow.
    public static func freshClone(of origin: GitRepository, label: String, depth: Int? = nil) throws -> GitRepository {
        let clone = try GitRepository(label: label)
        try clone.gitArray(
            ["fetch", "-q", "--no-tags"] + (depth.map { ["--depth", "\($0)"] } ?? [])
                + ["file://\(origin.path)", "+refs/heads/main:refs/remotes/origin/main"])
        try clone.git("reset", "-q", "--hard", "origin/main")
        clone.clock = origin.clock
        return clone
    }
}
