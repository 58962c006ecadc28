import MtimeCore
import MtimeManifest

/// What `prepare` does with one manifest entry, and why (docs/stamp.md).
public enum BumpDecision: Equatable, Sendable {
    /// A fresh mtime, later than every output of the last build.
    case bump(BumpReason)
    /// Its own mtime (the manifest's, when the content is still the manifest's).
    case keep(KeepReason)
}

public enum BumpReason: Equatable, Sendable {
    /// No stamp: every file counts as changed.
    case noStamp
    /// A stamp that cannot be trusted (its reason): every file counts as changed.
    case stampUntrusted(String)
    /// The trusted stamp does not record this path.
    case notInStamp
    /// The trusted stamp recorded other content for it.
    case contentDiffers(recorded: ObjectID)
    /// Unchanged itself, but the build reads it through this symlink, which changed (`LinkReach`).
    case readThroughChangedLink(BytePath)
    /// Unchanged itself, but another name of the same file (a hard link, a bind mount) is bumped: they share one mtime.
    case hardLinkOf(BytePath)

    public var description: String {
        switch self {
        case .noStamp: return "no build stamp"
        case .stampUntrusted(let reason): return "stamp untrusted: \(reason)"
        case .notInStamp: return "not in the stamp"
        case .contentDiffers(let recorded): return "content differs from the stamp's \(recorded.hex.prefix(12))"
        case .readThroughChangedLink(let link): return "read through \(link), a symlink that changed"
        case .hardLinkOf(let name): return "one file with \(name) (hard-linked or bind-mounted), which changed"
        }
    }
}

public enum KeepReason: Equatable, Sendable {
    /// The content is what the last sealed build consumed.
    case unchanged
    /// An untracked file in the stamp's directory: a build output.
    case untrackedOutput
    /// An untracked file already newer than the last build.
    case untrackedNewer

    public var description: String {
        switch self {
        case .unchanged: return "content is what the last sealed build consumed"
        case .untrackedOutput: return "untracked, in the stamp's directory (a build output)"
        case .untrackedNewer: return "untracked, already newer than the last build"
        }
    }
}

/// The stamp's verdict on each file: the one rule `prepare` applies and `git mtime explain` reports.
public struct BumpRule: Sendable {
    public let stamp: StampLoadResult
    /// What the trusted stamp recorded; empty without one.
    let consumed: [BytePath: ObjectID]
    /// Every output of the last build is at most this old: the trusted seal time, else the newest
    /// file beside the stamp (nil: nothing there).
    public let lastBuild: Timestamp?
    /// `lastBuild` without the outputs dated later than the horizon given to `init`: what the
    /// build's own writes must land after (nil: nothing there).
    public let lastBuildByHorizon: Timestamp?
    /// The stamp's directory relative to the root, when inside it: the build's output directory.
    let outputs: BytePath?
    /// The newest file beside the stamp now and its path (nil: nothing there): a bumped file must end
    /// up stored strictly later than it, whatever the stamp's seal time claims.
    public let newestOutput: (time: Timestamp, path: BytePath)?

    /// Inspects the stamp at `location` for a build in `root` (`alsoExcluding`: the manifest's tracked
    /// paths, whose times git-mtime sets itself). Every output of the last build is at most
    /// `lastBuild` old: the seal time, and the newest file beside the stamp now (one dated in the
    /// future, say); the stamp's directory inside the root holds the outputs.
    public init(_ location: RootedLocation, root: BytePath, alsoExcluding tracked: Set<BytePath> = [], horizon: Timestamp = .maximum) {
        let inspection = BuildStamp.inspect(location, expectedRoot: root, alsoExcluding: tracked, horizon: horizon)
        var lastBuild = inspection.newestOutput, lastBuildByHorizon = inspection.newestOutputByHorizon
        if case .trusted(let trusted) = inspection.result {
            lastBuild = max(lastBuild ?? trusted.sealTime, trusted.sealTime)
            lastBuildByHorizon = max(lastBuildByHorizon ?? trusted.sealTime, trusted.sealTime)
        }
        self.init(
            stamp: inspection.result, lastBuild: lastBuild, lastBuildByHorizon: lastBuildByHorizon, outputs: location.relativeToRoot,
            newestOutput: inspection.newestOutput.flatMap { time in inspection.newestOutputPath.map { (time, $0) } })
    }

    /// A verdict reached elsewhere (a stamp location that cannot hold a stamp: untrusted, nothing beside it).
    public init(
        stamp: StampLoadResult, lastBuild: Timestamp?, lastBuildByHorizon: Timestamp? = nil, outputs: BytePath?,
        newestOutput: (time: Timestamp, path: BytePath)? = nil
    ) {
        self.stamp = stamp
        if case .trusted(let trusted) = stamp { consumed = trusted.objectIDsByPath } else { consumed = [:] }
        self.lastBuild = lastBuild
        self.lastBuildByHorizon = lastBuildByHorizon ?? lastBuild
        self.outputs = outputs
        self.newestOutput = newestOutput
    }

    /// The decision `prepare` makes for each entry of `manifest`, in its order (nil: absent):
    /// `decide`, and an unchanged file that a changed symlink leads to (`LinkReach`) bumped with it.
    /// `files`, in manifest order: each file's id now and the mtime it keeps unless bumped (nil: absent).
    public func decisions(for manifest: Manifest, files: [(content: ObjectID, ownTime: Timestamp)?], root: BytePath)
        -> [BumpDecision?]
    {
        var decisions = zip(manifest.entries, files).map { entry, file in
            file.map { decide(entry, content: $0.content, ownTime: $0.ownTime) }
        }
        let changedLinks = zip(manifest.entries, decisions).compactMap { entry, decision -> BytePath? in
            guard entry.isSymlink, case .bump? = decision else { return nil }
            return entry.path
        }
        // Only a file kept as unchanged can be bumped for a link (never without a trusted stamp): spare the resolving.
        guard !changedLinks.isEmpty, decisions.contains(.keep(.unchanged)) else { return decisions }
        let reached = LinkReach.reached(through: changedLinks, in: manifest, root: root)
        for (index, entry) in manifest.entries.enumerated() where decisions[index] == .keep(.unchanged) {
            if let link = reached[entry.path] { decisions[index] = .bump(.readThroughChangedLink(link)) }
        }
        return decisions
    }

    /// `content` is the file's id now; `ownTime` the mtime it keeps unless bumped.
    public func decide(_ entry: ManifestEntry, content: ObjectID, ownTime: Timestamp) -> BumpDecision {
        let recorded = consumed[entry.path]
        if recorded == content { return .keep(.unchanged) }
        if entry.isUntracked {
            // An untracked file may be an output (an in-tree `.o` git doesn't ignore): bumping it with
            // its changed source would hide the change (docs/stamp.md, "Untracked files").
            if let outputs, entry.path.isWithin(outputs) { return .keep(.untrackedOutput) }
            if let lastBuild, ownTime > lastBuild { return .keep(.untrackedNewer) }
        }
        switch stamp {
        case .absent: return .bump(.noStamp)
        case .untrusted(let reason): return .bump(.stampUntrusted(reason))
        case .trusted: return .bump(recorded.map { .contentDiffers(recorded: $0) } ?? .notInStamp)
        }
    }
}
