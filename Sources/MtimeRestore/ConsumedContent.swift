import MtimeCore
import MtimeDockerContext
import MtimeManifest

/// What a trusted build stamp says about the working tree: which files hold exactly the bytes the
/// sealed build consumed. The stamp records the ids the guard hashed, of the bytes on disk, so a
/// file is compared by `PlannedFile.worktreeObjectID` (plan with `identifyWorkingTreeBytes`).
public struct ConsumedContent: Sendable {
    public let stamp: BuildStamp
    /// No output of the sealed build is later than this (the stamp's seal time).
    public let builtUntil: Timestamp
    /// Which files the sealed build was given: a file outside them was no input of it, so that the
    /// stamp doesn't record it says nothing about it.
    public let context: DockerContextRules
    private let entries: [BytePath: BuildStamp.Entry]

    /// `rootIgnoreRules`: the stamp root's `.dockerignore`, the context of a build sealed over a
    /// manifest of the root (`git mtime manifest`, the guard). A stamp that records a file those rules
    /// exclude was sealed over the whole tree (`git mtime run`): its context is everything.
    public init(_ stamp: BuildStamp, rootIgnoreRules: DockerContextRules) {
        self.stamp = stamp
        builtUntil = stamp.sealTime
        entries = Dictionary(stamp.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let evaluator = rootIgnoreRules.evaluator()
        let filtered = stamp.entries.allSatisfy { (try? evaluator.includes($0.path)) ?? true }
        context = filtered ? rootIgnoreRules : .none
    }

    /// The stamp's entry when `file` (a path relative to the stamp's root) holds exactly the bytes the build consumed.
    public func entry(for file: PlannedFile) -> BuildStamp.Entry? {
        guard let id = file.worktreeObjectID, let entry = entries[file.path], entry.objectID == id else { return nil }
        return entry
    }

    /// True when the build did not consume the bytes `file` holds now: it read other bytes at that
    /// path, or none, because the path was absent when it ran (deleted, or below a file replaced by a
    /// directory or a directory replaced by a symlink). An output built from an earlier version of it
    /// (`f3.o`, or a header recorded in make's dependency files) may still be there and newer than
    /// its commit time. A path outside the context (`evaluator` of `context`) was no input at all;
    /// if the ignore file can't be evaluated, every path counts as inside (a rebuild, never a stale one).
    /// `prefix`: where the repository `file` belongs to lies below the stamp's root (a submodule's path;
    /// empty for the root's own files): the stamp records a submodule's files by their superproject paths.
    public func consumedOtherContent(than file: PlannedFile, at prefix: BytePath, in evaluator: DockerContextEvaluator) -> Bool {
        let path = prefix.appending(file.path)
        if let entry = entries[path] { return entry.objectID != file.worktreeObjectID }
        return (try? evaluator.includes(path)) ?? true
    }
}

extension RestorePlan {
    /// `restore` after a sealed build (docs/restore.md, "After a sealed build"): a clean file in the
    /// build's context whose bytes the trusted stamp did not record was not built as it is now, so its commit time,
    /// usually older than the build's outputs, would hide the change from make and cargo. It keeps
    /// its mtime when that is already later than the last build (`builtUntil`, the seal time), and
    /// otherwise gets `now`, as the safe-mode hook gives a file git rewrote. Returns those paths.
    /// `prefix`: the plan's repository is the submodule there (empty: the stamp root's own repository);
    /// its files were inputs of the build too (the manifest lists them, the guard records them).
    mutating func keepUnbuiltContentNewer(than consumed: ConsumedContent, at prefix: BytePath, now: Timestamp) -> [BytePath] {
        let builtUntil = consumed.builtUntil
        let context = consumed.context.evaluator()
        var kept: [BytePath] = []
        // A file with a name the plan doesn't hold (an untracked source hard-linked to it) may be read
        // by the build under that name, with bytes the build did not consume there: never dated back.
        let names = HardLinks.namesFound(files.lazy.compactMap(\.current))
        for index in files.indices where files[index].state == .clean && files[index].commitTime != nil {
            guard let current = files[index].current else { continue }
            if consumed.consumedOtherContent(than: files[index], at: prefix, in: context) {
                files[index].target = current.modificationTime > builtUntil ? nil : max(now, builtUntil.nextNanosecond)
            } else if current.modificationTime > builtUntil, current.linkCount > names[FileIdentity(current), default: 1] {
                files[index].target = nil
            } else {
                continue
            }
            kept.append(files[index].path)
        }
        return kept
    }
}
