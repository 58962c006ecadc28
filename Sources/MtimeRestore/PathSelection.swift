import GitKit
import MtimeCore

/// Which tracked paths a plan covers: a git pathspec typed in the directory the command ran in
/// (`Pathspec`, git's own parsing and matching), and/or exact root-relative paths from callers that
/// hold them (the hooks, a build context). Also tells the history walk where it may stop early and
/// which typed patterns matched nothing.
public struct PathSelection: Sendable {
    public let pathspec: Pathspec?
    /// Raw bytes, no pattern matching; a directory selects everything below it.
    public let exactPaths: [BytePath]?
    private let exactSet: Set<BytePath>

    /// `pathspec` as typed in `prefix` (relative to the working-tree root); `workTree` is the
    /// symlink-free root, for absolute patterns.
    public init(
        pathspec: [ProcessArgument], paths: [BytePath]?, prefix: BytePath, workTree: BytePath,
        settings: PathspecSettings
    ) throws(PathspecError) {
        self.pathspec = pathspec.isEmpty ? nil : try Pathspec(pathspec, prefix: prefix, workTree: workTree, settings: settings)
        exactPaths = paths
        exactSet = Set(paths ?? [])
    }

    /// False when every tracked path is selected.
    public var isRestricted: Bool { pathspec != nil || exactPaths != nil }

    /// The directories (or files) every selected path lies within, so the history walk can stop once
    /// they are resolved: the exact paths, else each positive pattern's literal part cut back to a
    /// whole component (only the typed directory for `icase`). Nil (all paths) when some pattern
    /// can match anywhere.
    public var historyScope: [BytePath]? {
        if let exactPaths { return exactPaths }
        guard let pathspec else { return nil }
        var scope: [BytePath] = []
        for item in pathspec.items where !item.magic.contains(.exclude) {
            let literal = item.magic.contains(.icase) ? item.prefixLength : item.literalLength
            var bytes = Array(item.match[..<literal])
            if literal < item.match.count {
                bytes = bytes.lastIndex(of: UInt8(ascii: "/")).map { Array(bytes[..<$0]) } ?? []
            }
            while bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
            guard !bytes.isEmpty else { return nil }
            scope.append(BytePath(bytes))
        }
        return scope
    }

    /// Selects paths one at a time, remembering which patterns matched something.
    public func matcher() -> Matcher { Matcher(selection: self) }

    public struct Matcher {
        let selection: PathSelection
        private var seen: [Pathspec.MatchKind?]

        init(selection: PathSelection) {
            self.selection = selection
            seen = Array(repeating: nil, count: selection.pathspec?.items.count ?? 0)
        }

        /// Whether the tracked `path` is selected (`isDirectory`: a gitlink, which `sub/` names).
        public mutating func isSelected(_ path: BytePath, isDirectory: Bool = false) -> Bool {
            if selection.exactPaths != nil {
                var candidate = path
                while !candidate.isEmpty && !selection.exactSet.contains(candidate) { candidate = candidate.parent }
                if candidate.isEmpty { return false }
            }
            guard let pathspec = selection.pathspec else { return true }
            return pathspec.matches(path, isDirectory: isDirectory, seen: &seen)
        }

        /// Typed patterns no path given to `isSelected` matched, as git reports them
        /// ("did not match any file(s) known to git"); exclusions only when nothing matched at all.
        public var unmatchedPatterns: [String] { selection.pathspec?.unmatched(seen) ?? [] }
    }

    /// A selection test without match bookkeeping, for untracked entries.
    public func isSelected(_ path: BytePath) -> Bool {
        var matcher = matcher()
        return matcher.isSelected(path)
    }
}
