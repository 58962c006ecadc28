import CLibGit2
import Glibc
import MtimeCore

/// What git substitutes when it reads history (`git log`), so the walk sees the history git shows:
/// replace refs (`git replace`, `git replace --graft`: `refs/replace/<id>` names the object read in
/// place of `<id>`) and the graft file (`info/grafts`: `COMMIT PARENT…` lines give a commit other
/// parents). libgit2 1.5 knows neither; reading the raw objects instead gave a file the time of a
/// commit git's history no longer holds, older than git's (RELIABILITY.md defect 20).
public struct HistoryRewrites: Sendable, Equatable {
    /// Original id → the id git reads instead (one step; chains are followed on lookup).
    public let replacements: [ObjectID: ObjectID]
    /// Commit → the parents git gives it.
    public let grafts: [ObjectID: [ObjectID]]

    public static let none = HistoryRewrites(replacements: [:], grafts: [:])

    public init(replacements: [ObjectID: ObjectID], grafts: [ObjectID: [ObjectID]]) {
        self.replacements = replacements
        self.grafts = grafts
    }

    public var isEmpty: Bool { replacements.isEmpty && grafts.isEmpty }

    /// git's `MAXREPLACEDEPTH`: a chain needing more lookups than this is an error, as for git.
    static let maximumReplaceDepth = 5

    /// The object git reads for `id` (`lookup_replace_object`).
    @inline(__always)
    func replacement(of id: ObjectID) throws(GitError) -> ObjectID {
        if replacements.isEmpty { return id }
        var current = id
        for _ in 0..<HistoryRewrites.maximumReplaceDepth {
            guard let next = replacements[current] else { return current }
            current = next
        }
        throw GitError(code: -1, operation: "read object \(id)", message: "replace depth too high (refs/replace/ chain or loop)")
    }

    /// A digest of every substitution, for keys of answers computed under them (the history cache).
    public var digest: [UInt8] {
        var bytes = Array("rewrites\n".utf8)
        for (original, replacement) in replacements.sorted(by: { $0.key < $1.key }) {
            bytes += Array("r".utf8) + original.bytes + replacement.bytes
        }
        for (commit, parents) in grafts.sorted(by: { $0.key < $1.key }) {
            bytes += Array("g".utf8) + commit.bytes + parents.flatMap(\.bytes) + Array("\n".utf8)
        }
        return bytes
    }

    /// The graft file's lines as git's `read_graft_line` reads them: trailing whitespace trimmed,
    /// empty and `#` lines skipped, ids (either case) separated by one whitespace character; a
    /// malformed line is skipped ("bad graft data"), and of two lines for one commit the first wins.
    public static func grafts(parsing contents: [UInt8]) -> [ObjectID: [ObjectID]] {
        var grafts: [ObjectID: [ObjectID]] = [:]
        for rawLine in contents.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var line = Array(rawLine)
            while let last = line.last, isGitSpace(last) { line.removeLast() }
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            let width = 2 * ObjectID.byteCount
            var ids: [ObjectID] = []
            var index = 0
            var valid = true
            while valid {
                guard index + width <= line.count, let id = ObjectID(hex: String(decoding: line[index..<(index + width)], as: UTF8.self))
                else { valid = false; break }
                ids.append(id)
                index += width
                if index == line.count { break }
                guard isGitSpace(line[index]) else { valid = false; break }
                index += 1
            }
            guard valid, let commit = ids.first, grafts[commit] == nil else { continue }
            grafts[commit] = Array(ids.dropFirst())
        }
        return grafts
    }

    /// git's `isspace` (sane_ctype): space, tab, newline, carriage return; not vertical tab or form feed.
    private static func isGitSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension Repository {
    /// The substitutions `git log` makes in this repository. Replace refs are read unless
    /// `core.useReplaceRefs` says no, or, when it is unset, `GIT_NO_REPLACE_OBJECTS` is set (to any
    /// value: git tests presence; `git --no-replace-objects` sets it), under `GIT_REPLACE_REF_BASE`
    /// (default `refs/replace/`); the graft file is `GIT_GRAFT_FILE` or `<common dir>/info/grafts`,
    /// read whatever the replace settings say, as git 2.39 does.
    public func historyRewrites() throws(GitError) -> HistoryRewrites {
        var replacements: [ObjectID: ObjectID] = [:]
        let useReplaceRefs = try configBool("core.useReplaceRefs", default: !location.replaceObjectsOffInEnvironment)
        if useReplaceRefs, Repository.mayHaveReferences(under: location.replaceRefBase, commonDirectory: location.commonDirectory) {
            let base = location.replaceRefBase
            var iterator: OpaquePointer?
            try check("list \(base)", git_reference_iterator_glob_new(&iterator, handle, base + "*"))
            defer { git_reference_iterator_free(iterator) }
            var name: UnsafePointer<CChar>?
            while true {
                let result = git_reference_next_name(&name, iterator)
                if result == GIT_ITEROVER.rawValue { break }
                try check("list \(base)", result)
                let full = String(cString: name!)
                guard full.hasPrefix(base) else { continue }
                // git takes the first 40 hex digits after the base as the original ("bad replace ref
                // name" otherwise, and skips it).
                let rest = full.utf8.dropFirst(base.utf8.count)
                guard rest.count >= 2 * ObjectID.byteCount,
                    let original = ObjectID(hex: String(decoding: rest.prefix(2 * ObjectID.byteCount), as: UTF8.self))
                else { continue }
                var oid = git_oid()
                // A dangling or broken ref replaces nothing (git warns and reads the original).
                guard git_reference_name_to_id(&oid, handle, full) == 0 else { continue }
                replacements[original] = ObjectID(oid)
            }
        }
        let graftFile = location.graftFile ?? location.commonDirectory.appending("info/grafts")
        var grafts: [ObjectID: [ObjectID]] = [:]
        if let contents = try? FileSystem.readFile(graftFile, limit: 1 << 30, followingSymlinks: true) {
            grafts = HistoryRewrites.grafts(parsing: contents)
        }
        return HistoryRewrites(replacements: replacements, grafts: grafts)
    }

    /// False only when no ref can lie under `base` (ending in `/`): no loose ref in its directory and
    /// no line of `packed-refs` naming one. libgit2's iterator parses the whole `packed-refs`
    /// first, about 0.3 s for 200,000 tags, where this search costs a read of the file.
    static func mayHaveReferences(under base: String, commonDirectory: BytePath) -> Bool {
        guard base.hasSuffix("/"), !base.hasPrefix("/") else { return true }
        // Deleting the last replace ref leaves its directory behind, empty.
        do {
            if !(try FileSystem.listDirectory(commonDirectory.appending(BytePath(base)))).isEmpty { return true }
        } catch {
            if !error.isNotFound { return true }
        }
        let packed: [UInt8]
        do { packed = try FileSystem.readFile(commonDirectory.appending("packed-refs")) } catch {
            return !error.isNotFound
        }
        let needle = Array((" " + base).utf8)
        return packed.withUnsafeBytes { haystack in
            var offset = 0
            while offset + needle.count <= haystack.count,
                let found = memchr(haystack.baseAddress! + offset, 0x20, haystack.count - offset)
            {
                let at = haystack.baseAddress!.distance(to: UnsafeRawPointer(found))
                if at + needle.count <= haystack.count, memcmp(haystack.baseAddress! + at, needle, needle.count) == 0 { return true }
                offset = at + 1
            }
            return false
        }
    }
}
