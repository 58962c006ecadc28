import CLibGit2

/// libgit2's global state: initialised once per process, before any handle is created.
enum Library {
    /// `git_libgit2_init` is reference-counted and thread-safe; we take one reference for the
    /// process lifetime and never shut down, so handles may outlive any one caller.
    static let initialized: Bool = {
        git_libgit2_init()
        // Objects are addressed by their hash already; re-hashing every read doubles the walk cost.
        gitmtime_set_strict_hash_verification(0)
        // The history walk keeps the few trees it re-reads itself; libgit2's object cache only
        // costs locking, hashing and up to 256 MB of memory for objects read once.
        gitmtime_set_caching(0)
        // Ownership is checked as git checks it (RepositoryOwnership), before libgit2 is asked.
        gitmtime_set_owner_validation(0)
        return true
    }()

    static func ensureInitialized() { _ = initialized }
}
