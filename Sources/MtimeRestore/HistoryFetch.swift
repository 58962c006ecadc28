import GitKit
import MtimeCore

/// How much of its history a clone holds, as its files and configuration say: a shallow boundary, and
/// a partial clone's promisor remote and filter (docs/restore.md, "Shallow and partial clones").
public struct CloneHistory: Sendable, Equatable {
    /// The clone has a `shallow` file: history beyond its boundary commits is not here.
    public let isShallow: Bool
    /// The promisor remote of a partial clone (`remote.<name>.promisor`, `extensions.partialClone`).
    public let promisorRemote: String?
    /// That remote's `partialclonefilter` (`blob:none`, `tree:0`, ...).
    public let filter: String?
    /// Where missing history comes from: the promisor remote, else the current branch's remote, else
    /// `origin`, else the only remote; nil when none of those exists.
    public let remote: String?

    public init(_ repository: Repository) {
        isShallow = repository.isShallow
        let promisors = repository.configEntries(matching: #"^remote\..*\.promisor$"#)
            .filter { ["true", "yes", "on", "1"].contains($0.value.lowercased()) }
            .map { String($0.name.dropFirst("remote.".count).dropLast(".promisor".count)) }
        let promisor = repository.configString("extensions.partialclone") ?? promisors.first
        promisorRemote = promisor
        filter = promisor.flatMap { repository.configString("remote.\($0).partialclonefilter") }
        let remotes = repository.configEntries(matching: #"^remote\..*\.url$"#)
            .map { String($0.name.dropFirst("remote.".count).dropLast(".url".count)) }
        let upstream = repository.headBranch.flatMap { branch -> String? in
            guard branch.hasPrefix("refs/heads/") else { return nil }
            return repository.configString("branch.\(branch.dropFirst("refs/heads/".count)).remote")
        }
        remote =
            promisor ?? upstream.flatMap { remotes.contains($0) ? $0 : nil }
            ?? (remotes.contains("origin") ? "origin" : remotes.count == 1 ? remotes[0] : nil)
    }

    /// Whether the filter may leave trees out: `tree:<depth>`, or `object:type=` anything but
    /// `tree`, alone or inside `combine:`. Blob filters (`blob:none`, `blob:limit=…`, `sparse:…`)
    /// leave every tree, which is all restore reads.
    public var filterOmitsTrees: Bool {
        guard let filter else { return false }
        let parts = filter.hasPrefix("combine:") ? filter.dropFirst("combine:".count).split(separator: "+") : [Substring(filter)]
        return parts.contains { part in
            let part = part.lowercased()
            if part.hasPrefix("blob:") || part.hasPrefix("sparse:") || part == "object:type=tree" { return false }
            return true
        }
    }
}

/// Fetches, through `git fetch`, the history restore reads and a clone lacks — every commit and
/// tree of the remote's branches, never file contents (`--filter=blob:none`) — in one fetch with
/// git's own progress: `--unshallow` for a shallow clone, `--refetch` when a partial clone's filter
/// left trees out. A remote that does not support filters sends the blobs too (git warns).
public struct HistoryFetch {
    /// The git executable (looked up on PATH).
    public var git = "git"
    /// Told each command before it runs, as a line for the user.
    public var announce: (String) -> Void

    public init(announce: @escaping (String) -> Void) {
        self.announce = announce
    }

    /// Fetches what `history` says `session`'s clone lacks (`refetchingTrees`: trees a filter left
    /// out, which only the walk finds), then sets the promisor's filter to `blob:none` if it left
    /// trees out, so later fetches bring trees too. `path`: the submodule's, for the messages.
    func run(in session: RestoreSession, at path: BytePath, _ history: CloneHistory, refetchingTrees: Bool) throws {
        guard let remote = history.remote else { throw RestoreError.noRemoteForHistory(session.workdir) }
        var fetch = ["fetch"]
        if history.isShallow { fetch.append("--unshallow") }
        if refetchingTrees { fetch.append("--refetch") }
        fetch += ["--filter=blob:none", remote]
        try runGit(fetch, in: session, at: path)
        if let promisor = history.promisorRemote, history.filterOmitsTrees {
            try runGit(
                ["config", "remote.\(promisor).partialclonefilter", "blob:none"], in: session, at: path,
                note: " (was \(history.filter ?? "")): later fetches bring trees too")
        }
    }

    private func runGit(_ arguments: [String], in session: RestoreSession, at path: BytePath, note: String = "") throws {
        let command = (["git"] + arguments).joined(separator: " ")
        announce(command + (path.isEmpty ? "" : " (in submodule \(path))") + note)
        // --git-dir: the repository restore opened. The fetch's own maintenance runs to its end (no
        // detaching) before planning reads the packs it may replace.
        let invocation: [ProcessArgument] =
            [
                ProcessArgument(git), "--git-dir=\(session.repository.gitDirectory)",
                "-c", "gc.autoDetach=false", "-c", "maintenance.autoDetach=false",
            ] + ProcessArgument.words(arguments)
        let termination: Termination
        do {
            termination = try ChildProcess.run(invocation, environment: HistoryFetch.environment())
        } catch {
            throw RestoreError.historyFetchFailed(command: command, reason: error.description)
        }
        guard termination == .exited(0) else {
            throw RestoreError.historyFetchFailed(command: command, reason: "exited with status \(termination.shellStatus)")
        }
    }

    /// This process's environment without the variables that point git at a repository
    /// (git's `local_repo_env`): `--git-dir` names the one restore opened, a submodule's included.
    static func environment() -> [String: String] {
        return Environment.all().filter { !GitEnvironment.localRepositoryVariables.contains($0.key) }
    }
}

extension RestoreSession {
    /// `plan`, fetching first, when `fetch` is given, the history this clone lacks: a shallow clone's
    /// before planning; trees a partial clone's filter left out when planning finds them missing
    /// (a warm history cache may need none). Nothing is changed on disk but the repository's objects.
    public func plan(_ options: RestoreOptions, fetchingHistory fetch: HistoryFetch?) throws -> RestorePlan {
        guard let fetch else { return try plan(options) }
        let history = CloneHistory(repository)
        var treesFetched = false
        if history.isShallow {
            treesFetched = history.filterOmitsTrees
            try fetch.run(in: self, at: options.submodulePath, history, refetchingTrees: treesFetched)
        }
        do {
            return try plan(options)
        } catch RestoreError.missingTrees where !treesFetched {
            try fetch.run(in: self, at: options.submodulePath, CloneHistory(repository), refetchingTrees: true)
            return try plan(options)
        }
    }

    /// Planning's error for an object the walk could not read: in a partial clone, the trees its
    /// filter left out (the one line names the cause and the fix), otherwise git's own error.
    func missingObjectError(_ error: GitError) -> RestoreError {
        let history = CloneHistory(repository)
        guard error.isNotFound, let remote = history.promisorRemote else { return .git(error) }
        return .missingTrees(remote: remote, filter: history.filter)
    }
}
