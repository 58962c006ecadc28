import MtimeCore

/// The text form of a manifest (docs/manifest.md):
///
///     git-mtime-manifest 3
///     object-format sha1
///     head <40 hex | ->
///     dirty <count>
///     untracked <count>
///     entries <count>
///     <tracked|untracked|submodule> <mode octal> <object id> <seconds.nanoseconds> <escaped path>
///     ...
///
/// Version 2 is the same without the `submodule` origin (and is what is written when no entry has
/// it); version 1 had no `untracked` header and no first field: every entry was tracked.
///
/// Lines end in `\n`; fields are separated by one space; paths use `PathEscaping.encodeField`,
/// so an entry line never holds a space, tab or newline inside a field.
extension Manifest {
    public static let magic = "git-mtime-manifest"
    /// A manifest larger than this is refused before parsing: no real build context comes close.
    public static let maximumSize = 1 << 30
    public static let maximumEntries = 10_000_000

    public func serialized() -> [UInt8] {
        var text = "\(Manifest.magic) \(writtenVersion)\n"
        text += "object-format \(objectFormat)\n"
        text += "head \(headCommit?.hex ?? "-")\n"
        text += "dirty \(dirtyCount)\n"
        text += "untracked \(untrackedCount)\n"
        text += "entries \(entries.count)\n"
        var out = Array(text.utf8)
        out.reserveCapacity(out.count + entries.count * 110)
        for entry in entries {
            LineFormat.appendEntry(
                [entry.origin, String(entry.mode, radix: 8)],
                entry.objectID, entry.modificationTime, entry.path, to: &out)
        }
        return out
    }

    /// Parses and validates; any deviation from the format is an error naming the line.
    public init(parsing bytes: [UInt8]) throws(ManifestError) {
        guard bytes.count <= Manifest.maximumSize else {
            throw ManifestError(line: 0, "manifest is larger than \(Manifest.maximumSize) bytes")
        }
        guard bytes.last == UInt8(ascii: "\n") else { throw ManifestError(line: 0, "manifest is truncated (no final newline)") }
        let lines = bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        func header(_ index: Int, _ key: String) throws(ManifestError) -> Substring {
            Substring(decoding: try LineFormat.header(lines, index, key), as: UTF8.self)
        }
        guard let version = LineFormat.number(try LineFormat.header(lines, 0, Manifest.magic)) else {
            throw ManifestError(line: 1, "not a git-mtime manifest")
        }
        guard (1...Manifest.formatVersion).contains(version) else {
            throw ManifestError(line: 1, "manifest format \(version) is not supported (this guard reads 1 to \(Manifest.formatVersion))")
        }
        let format = String(try header(1, "object-format"))
        guard format == "sha1" else { throw ManifestError(line: 2, "object format '\(format)' is not supported") }
        let headText = try header(2, "head")
        let head: ObjectID?
        if headText == "-" {
            head = nil
        } else {
            guard let id = ObjectID(lowercaseHex: headText) else { throw ManifestError(line: 3, "head is not 40 lowercase hex digits") }
            head = id
        }
        guard let dirty = LineFormat.number(try LineFormat.header(lines, 3, "dirty")) else {
            throw ManifestError(line: 4, "dirty count is not a number")
        }
        let hasOrigin = version >= 2
        var untracked = 0
        if hasOrigin {
            guard let count = LineFormat.number(try LineFormat.header(lines, 4, "untracked")) else {
                throw ManifestError(line: 5, "untracked count is not a number")
            }
            untracked = count
        }
        let entries = try LineFormat.entries(
            lines, headerCount: hasOrigin ? 6 : 5, maximum: Manifest.maximumEntries,
            fileKind: "manifest", path: \ManifestEntry.path
        ) { line, number throws(ManifestError) in
            try ManifestEntry(parsing: line, line: number, version: version)
        }
        self.init(objectFormat: format, headCommit: head, dirtyCount: dirty, entries: entries)
        guard untrackedCount == untracked else {
            throw ManifestError(line: 5, "header says \(untracked) untracked entries, found \(untrackedCount)")
        }
    }
}

extension ManifestEntry {
    /// The first field of a version 2 or 3 line.
    var origin: String { isUntracked ? "untracked" : isInSubmodule ? "submodule" : "tracked" }

    /// A line of a manifest of `version`: from version 2 on it starts with the origin (`submodule`
    /// only from version 3 on).
    init(parsing line: ArraySlice<UInt8>, line number: Int, version: Int) throws(ManifestError) {
        let all = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let expected = version >= 2 ? 5 : 4
        guard all.count == expected else { throw ManifestError(line: number, "expected \(expected) fields, found \(all.count)") }
        var untracked = false, inSubmodule = false
        if version >= 3, all[0].elementsEqual("submodule".utf8) {
            inSubmodule = true
        } else if version >= 2 {
            untracked = try LineFormat.origin(all[0], line: number, alsoAllowed: version >= 3 ? ["submodule"] : [])
        }
        let fields = all.suffix(4)
        let modeText = String(decoding: fields[fields.startIndex], as: UTF8.self)
        // Exactly as written, no other spelling of the same number (0100644, +100644).
        guard
            let mode = [ManifestEntry.regularMode, ManifestEntry.executableMode, ManifestEntry.symlinkMode]
                .first(where: { String($0, radix: 8) == modeText })
        else { throw ManifestError(line: number, "mode '\(modeText)' is not 100644, 100755 or 120000") }
        let id = try LineFormat.objectID(fields[fields.startIndex + 1], line: number)
        let time = try LineFormat.time(fields[fields.startIndex + 2], line: number)
        let path = try LineFormat.entryPath(fields[fields.startIndex + 3], line: number)
        self.init(path: path, objectID: id, modificationTime: time, mode: mode, isUntracked: untracked, isInSubmodule: inSubmodule)
    }

    /// Why a path can't be a context entry (nil if it can): it must stay inside the root by itself.
    public static func unsafePathReason(_ path: BytePath) -> String? {
        if path.isEmpty { return "empty path" }
        if path.isAbsolute { return "absolute path" }
        if path.bytes.contains(0) { return "contains a NUL byte" }
        for component in path.bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty component" }
            if component.elementsEqual([UInt8(ascii: ".")]) { return "contains '.'" }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return "contains '..'" }
        }
        return nil
    }
}
