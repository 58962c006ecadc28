import MtimeCore

/// One file of a build context as the host saw it.
public struct ManifestEntry: Hashable, Sendable {
    /// Relative to the context root; never absolute, never containing `.` or `..` components.
    public var path: BytePath
    /// Git blob id of the content (of the link target, for a symlink).
    public var objectID: ObjectID
    /// The mtime the file must carry: its commit time, or its current mtime when dirty or untracked.
    public var modificationTime: Timestamp
    /// Git's file mode: 0o100644, 0o100755 or 0o120000.
    public var mode: UInt32
    /// Neither tracked nor ignored by git, yet part of the context (a new source not yet added, or an
    /// in-tree output git doesn't ignore). The guard watches such files without requiring them to match:
    /// docs/stamp.md, "Untracked files".
    public var isUntracked: Bool
    /// Tracked by a submodule's repository, not the superproject's (origin `submodule`, format 3): its
    /// time comes from the submodule's own history. The guard treats it exactly like a tracked file.
    public var isInSubmodule: Bool

    public init(
        path: BytePath, objectID: ObjectID, modificationTime: Timestamp, mode: UInt32, isUntracked: Bool = false,
        isInSubmodule: Bool = false
    ) {
        self.path = path
        self.objectID = objectID
        self.modificationTime = modificationTime
        self.mode = mode
        self.isUntracked = isUntracked
        self.isInSubmodule = isInSubmodule && !isUntracked
    }

    public var isSymlink: Bool { mode == ManifestEntry.symlinkMode }
    public var isExecutable: Bool { mode == ManifestEntry.executableMode }

    public static let regularMode: UInt32 = 0o100644
    public static let executableMode: UInt32 = 0o100755
    public static let symlinkMode: UInt32 = 0o120000
}

/// The list of files a build context holds, written by `git mtime manifest` on the host and read
/// by `git-mtime-guard` inside the build. Specified in docs/manifest.md.
public struct Manifest: Equatable, Sendable {
    /// The newest format this code reads and writes. Version 3 added the `submodule` origin, version 2
    /// the `tracked`/`untracked` field; versions 1 (all tracked) and 2 are still read.
    public static let formatVersion = 3
    /// What `serialized()` writes: version 2 unless some entry needs the `submodule` origin, so a guard
    /// older than version 3 still reads every manifest of a repository without submodules.
    public var writtenVersion: Int { entries.contains { $0.isInSubmodule } ? 3 : 2 }
    public var objectFormat: String
    /// HEAD when the manifest was made; nil in a repository with no commit yet.
    public var headCommit: ObjectID?
    /// How many tracked entries were dirty (their id is of the working-tree bytes).
    public var dirtyCount: Int
    /// Sorted by path bytes, no duplicates.
    public var entries: [ManifestEntry]

    public init(objectFormat: String = "sha1", headCommit: ObjectID?, dirtyCount: Int, entries: [ManifestEntry]) {
        self.objectFormat = objectFormat
        self.headCommit = headCommit
        self.dirtyCount = dirtyCount
        self.entries = entries.sorted { $0.path < $1.path }
    }

    public var untrackedCount: Int { entries.count { $0.isUntracked } }
    public var submoduleCount: Int { entries.count { $0.isInSubmodule } }
}

/// Rules shared by the line-oriented formats (manifest, stamp).
enum LineFormat {
    /// Appends one entry line: the id, the time and the escaped path, after any `leading` fields.
    static func appendEntry(_ leading: [String], _ id: ObjectID, _ time: Timestamp, _ path: BytePath, to out: inout [UInt8]) {
        let fields = leading + [id.hex, time.description, PathEscaping.encodeField(path.bytes)]
        out.append(contentsOf: fields.joined(separator: " ").utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// The value of header line `index`, which must read `<key> <value>`.
    static func header(_ lines: [ArraySlice<UInt8>], _ index: Int, _ key: String) throws(FormatError) -> ArraySlice<UInt8> {
        try header(lines, index, key, fields: 1)[0]
    }

    /// The `fields` space-separated values of header line `index`, which must read `<key> <value>…`.
    static func header(_ lines: [ArraySlice<UInt8>], _ index: Int, _ key: String, fields: Int) throws(FormatError) -> [ArraySlice<UInt8>] {
        guard index < lines.count else { throw FormatError(line: index + 1, "missing '\(key)' header") }
        let parts = lines[index].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == fields + 1, parts[0].elementsEqual(key.utf8) else {
            throw FormatError(line: index + 1, "expected '\(key)\(String(repeating: " <value>", count: fields))'")
        }
        return Array(parts.dropFirst())
    }

    /// A count as the writers print it: decimal digits only, no sign, no leading zero (except `0`),
    /// at most 18 digits (so it can't overflow); nil for anything else.
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard !field.isEmpty, field.count <= 18, field.count == 1 || field.first != UInt8(ascii: "0") else { return nil }
        var value = 0
        for digit in field {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    static func objectID(_ field: ArraySlice<UInt8>, line: Int) throws(FormatError) -> ObjectID {
        guard let id = ObjectID(lowercaseHex: String(decoding: field, as: UTF8.self)) else {
            throw FormatError(line: line, "object id is not 40 lowercase hex digits")
        }
        return id
    }

    static func time(_ field: ArraySlice<UInt8>, line: Int) throws(FormatError) -> Timestamp {
        guard let time = Timestamp(parsing: String(decoding: field, as: UTF8.self)) else {
            throw FormatError(line: line, "time is not <seconds>.<9 digits> between \(Timestamp.minimum) and \(Timestamp.maximum)")
        }
        return time
    }

    /// `tracked` (false) or `untracked` (true); `alsoAllowed` only names other origins the caller
    /// handled itself, for the message.
    static func origin(_ field: ArraySlice<UInt8>, line: Int, alsoAllowed: [String] = []) throws(FormatError) -> Bool {
        if field.elementsEqual("untracked".utf8) { return true }
        if field.elementsEqual("tracked".utf8) { return false }
        let names = (["tracked", "untracked"] + alsoAllowed).map { "'\($0)'" }
        throw FormatError(line: line, "first field is not \(names.dropLast().joined(separator: ", ")) or \(names.last!)")
    }

    /// An escaped entry path that stays inside the root by itself.
    static func entryPath(_ field: ArraySlice<UInt8>, line: Int) throws(FormatError) -> BytePath {
        guard let bytes = PathEscaping.decodeField(field) else {
            throw FormatError(line: line, "path has a malformed escape or an unescaped control byte")
        }
        let path = BytePath(bytes)
        if let problem = ManifestEntry.unsafePathReason(path) { throw FormatError(line: line, "refusing path \(path): \(problem)") }
        return path
    }

    /// The entry lines that follow `headerCount` header lines, the last of which is `entries <count>`:
    /// exactly `count` of them, at most `maximum`, sorted by path bytes with each path once.
    static func entries<Entry>(
        _ lines: [ArraySlice<UInt8>], headerCount: Int, maximum: Int, fileKind: String,
        path: (Entry) -> BytePath,
        parse: (ArraySlice<UInt8>, Int) throws(FormatError) -> Entry
    ) throws(FormatError) -> [Entry] {
        guard let count = number(try header(lines, headerCount - 1, "entries")), count >= 0, count <= maximum else {
            throw FormatError(line: headerCount, "entry count is not a number in range")
        }
        guard lines.count - headerCount == count else {
            throw FormatError(
                line: 0, "\(fileKind) is truncated or padded: header says \(count) entries, found \(lines.count - headerCount)")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in headerCount..<lines.count {
            let entry = try parse(lines[index], index + 1)
            if let previous = entries.last.map(path), !(previous < path(entry)) {
                throw FormatError(line: index + 1, "entries are not sorted by path, or a path repeats: \(path(entry))")
            }
            entries.append(entry)
        }
        return entries
    }
}
