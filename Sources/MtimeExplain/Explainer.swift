import GitKit
import MtimeCore
import MtimeGuard
import MtimeHistory
import MtimeManifest
import MtimeRestore

/// `git mtime explain`: for each path, the mtime it has, the one restore would give it and the
/// commit that decides it, its git state, whether the build context's manifest lists it, and what
/// the next guarded build would do with it given the build stamp — computed with the same plan,
/// manifest and stamp rule the commands themselves use, changing nothing.
public struct Explainer {
    public struct Options: Sendable {
        public var historyMode: HistoryMode
        public var useAuthorDate: Bool
        /// The Docker build context whose manifest is asked about (default: the top of the working tree).
        public var context: String?
        /// The build stamp (default: `git config mtime.stamp`, else target/.git-mtime-stamp).
        public var stamp: String?

        public init(historyMode: HistoryMode = .firstParent, useAuthorDate: Bool = false, context: String? = nil, stamp: String? = nil) {
            self.historyMode = historyMode
            self.useAuthorDate = useAuthorDate
            self.context = context
            self.stamp = stamp
        }
    }

    public let options: Options

    /// Explains paths relative to the current directory, in the repository git would use there
    /// (`-C` is entered first, as for every command).
    public init(options: Options = Options()) {
        self.options = options
    }

    /// `givenPaths` as given, bytes (a name need not be UTF-8).
    public func explain(_ givenPaths: [BytePath]) throws -> [Explanation] {
        let session = try RestoreSession(discoveringFrom: ".")
        let root = try FileSystem.resolve(session.workdir)
        // As git takes pathspecs: from the current directory inside the working tree, from its top when
        // started outside it (GIT_WORK_TREE elsewhere).
        let base = session.startsInsideWorkTree ? try FileSystem.resolve(BytePath(".")) : root

        // Each path lexically against the working directory: the last component is not followed.
        var relatives: [BytePath?] = []
        for given in givenPaths {
            let absolute = Explainer.clean(given.isAbsolute ? given : base.appending(given))
            let parent = (try? FileSystem.resolve(absolute.parent)) ?? absolute.parent
            let full = absolute.lastComponent.isEmpty ? parent : parent.appending(absolute.lastComponent)
            relatives.append(full.relative(to: root))
        }
        let restoreOptions = RestoreOptions(historyMode: options.historyMode, useAuthorDate: options.useAuthorDate)
        let contextDirectory = options.context.map { BytePath($0) } ?? root
        let contextBuilder = try ContextManifestBuilder(contextDirectory: contextDirectory, options: restoreOptions)
        let contextManifest = Dictionary(
            try contextBuilder.build().manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        // `git mtime run` guards the whole working tree, without .dockerignore.
        let wholeTree = try ContextManifestBuilder(
            contextDirectory: root, options: restoreOptions, docker: nil
        ).build().manifest
        // The configured stamp only when none is given (reading the settings also checks mtime.hookMode).
        let settings = try RepositorySettings(repository: session.repository, workdir: session.workdir)
        let stampPath = options.stamp.map { $0.hasPrefix("/") ? BytePath($0) : base.appending($0) } ?? settings.stampPath
        // The stamp as `git mtime run`'s guard inspects it: its location below the root, the run
        // manifest's tracked files left out of the files beside it.
        let tracked = Set(wholeTree.entries.lazy.filter { !$0.isUntracked }.map(\.path))
        let rule: BumpRule
        do {
            rule = BumpRule(
                try DirectoryTree(root: root).locate(stampPath, rootPath: root, create: false), root: root, alsoExcluding: tracked)
        } catch {
            rule = BumpRule(stamp: .untrusted(reason: "stamp location: \(error)"), lastBuild: nil, outputs: nil)
        }
        // The manifest was written just now: each entry's id and time are its file's.
        let decided = rule.decisions(for: wholeTree, files: wholeTree.entries.map { ($0.objectID, $0.modificationTime) }, root: root)
        let decisions = Dictionary(zip(wholeTree.entries.map(\.path), decided), uniquingKeysWith: { first, _ in first })
        // Restore gives a file the newest time any of its names needs: plan the other names too.
        let given = relatives.compactMap { $0 }.filter { !$0.isEmpty }
        let otherNames = try Self.otherNames(of: given, in: wholeTree, root: root)
        var planOptions = restoreOptions
        planOptions.paths = given + otherNames.values.flatMap { $0 }
        // As `git mtime restore` plans: after a sealed build at the configured stamp, what it did not consume stays newer.
        planOptions.sealedBuild = settings.consumedContent(settings.loadStamp())
        let plan = given.isEmpty ? nil : try session.plan(planOptions)
        let planned = Dictionary((plan?.files ?? []).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let submodules = try session.indexEntries().filter { $0.mode == 0o160000 }.map(\.path)
        let objects = try ObjectDatabase(session.repository)

        return try zip(givenPaths, relatives).map { given, relative in
            var explanation = Explanation(given: given.description, path: relative)
            explanation.historyMode = options.historyMode
            guard let relative else { explanation.state = .outsideWorkingTree; return explanation }
            let full = relative.isEmpty ? root : root.appending(relative)
            explanation.current = try FileSystem.statusIfPresent(full)?.modificationTime
            let stampBelowRoot = stampPath.relative(to: root).flatMap { $0.isEmpty ? nil : String(decoding: $0.bytes, as: UTF8.self) }
            explanation.stampPath = stampBelowRoot ?? stampPath.description
            explanation.stamp = rule.stamp
            explanation.sharesTimeWith = otherNames[relative] ?? []
            if let file = planned[relative] {
                explanation.state = Explanation.State(file.state)
                explanation.restoreTime = file.target
                if let change = file.lastChange {
                    explanation.commit = Explanation.Commit(
                        id: change.commit, time: options.useAuthorDate ? change.authorTime : change.committerTime,
                        subject: (try? objects.commitSubject(change.commit)) ?? "", isShallowBoundary: change.isShallowBoundary)
                }
            } else if relative.components.first.map({ $0.elementsEqual(".git".utf8) }) == true {
                explanation.state = .gitDirectory
            } else if let submodule = submodules.first(where: { relative.isWithin($0) }) {
                explanation.state = .insideSubmodule(submodule)
            } else if explanation.current == nil {
                explanation.state = .absent
            } else if try FileSystem.status(full).kind == .directory {
                explanation.state = .directory
            } else {
                explanation.state = try session.repository.isIgnored(relative) ? .ignored : .untracked
            }

            let contextPrefix = contextBuilder.contextPrefix
            if let inContext = relative.relative(to: contextPrefix) {
                if let entry = contextManifest[inContext] {
                    explanation.manifest = .listed(entry)
                } else if (try? contextBuilder.isExcluded(relative)) == true {
                    explanation.manifest = .excludedByDockerignore
                } else {
                    explanation.manifest = .notListed
                }
            } else {
                explanation.manifest = .outsideContext
            }
            explanation.guardDecision = decisions[relative] ?? nil
            // The guard bumps every name of a file one of whose names it bumps (`HardLinks.sharedTimes`).
            if case .keep? = explanation.guardDecision,
                let name = explanation.sharesTimeWith.first(where: { if case .bump? = decisions[$0] ?? nil { true } else { false } })
            {
                explanation.guardDecision = .bump(.hardLinkOf(name))
            }
            return explanation
        }
    }

    /// For each of `paths` that is one file with other entries of `manifest` (hard links, or a bind
    /// mount below the root: `MountTable.hasMount`), those other names; nothing is stat'ed when no
    /// given file has a second link and nothing is mounted below the root.
    private static func otherNames(of paths: [BytePath], in manifest: Manifest, root: BytePath) throws -> [BytePath: [BytePath]] {
        let statuses = try paths.map { try FileSystem.statusIfPresent(root.appending($0)) }
        let mounted = MountTable.hasMount(below: root)
        guard mounted || statuses.contains(where: { $0.map { $0.kind != .directory && $0.linkCount > 1 } ?? false }) else { return [:] }
        var names: [BytePath: [BytePath]] = [:]
        for entry in manifest.entries {
            guard let other = try FileSystem.statusIfPresent(root.appending(entry.path)) else { continue }
            for (path, status) in zip(paths, statuses) where path != entry.path {
                guard let status, status.kind != .directory, other.isSameFile(as: status) else { continue }
                names[path, default: []].append(entry.path)
            }
        }
        return names
    }

    /// `.` and `..` removed lexically (no symlink is followed).
    static func clean(_ path: BytePath) -> BytePath {
        BytePath([UInt8(ascii: "/")] + Array(path.lexicalComponents.joined(separator: [UInt8(ascii: "/")])))
    }
}
