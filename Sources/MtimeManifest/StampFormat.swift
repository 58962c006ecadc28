import MtimeCore

/// The text form of a build stamp (docs/stamp.md):
///
///     git-mtime-stamp 2
///     root <escaped absolute path>
///     sealed <seconds.nanoseconds>
///     outputs <file count> <40 hex digits>
///     entries <count>
///     <tracked|untracked> <object id> <seconds.nanoseconds> <escaped path>
///     ...
///     checksum <git blob id of every byte above this line>
///
/// The checksum line comes last, so a truncated or edited stamp fails it.
extension BuildStamp {
    public static let magic = "git-mtime-stamp"
    /// Larger stamps are refused unread: no real build context comes close.
    public static let maximumSize = 1 << 30
    public static let maximumEntries = Manifest.maximumEntries

    public func serialized() -> [UInt8] {
        var out = Array("\(BuildStamp.magic) \(BuildStamp.formatVersion)\n".utf8)
        out.append(contentsOf: "root \(PathEscaping.encodeField(root.bytes))\n".utf8)
        out.append(contentsOf: "sealed \(sealTime)\n".utf8)
        out.append(contentsOf: "outputs \(outputs.fileCount) \(outputs.digest.hex)\n".utf8)
        out.append(contentsOf: "entries \(entries.count)\n".utf8)
        out.reserveCapacity(out.count + entries.count * 110 + 50)
        for entry in entries {
            LineFormat.appendEntry(
                [entry.isUntracked ? "untracked" : "tracked"], entry.objectID, entry.modificationTime, entry.path, to: &out)
        }
        out.append(contentsOf: "checksum \(BlobHasher.hash(bytes: out).hex)\n".utf8)
        return out
    }

    /// Parses and validates; any deviation from the format, or a checksum mismatch, is an error.
    /// A version 1 stamp is an error too: it has no output state to trust it by.
    public init(parsing bytes: [UInt8]) throws(StampError) {
        guard bytes.count <= BuildStamp.maximumSize else {
            throw StampError(line: 0, "stamp is larger than \(BuildStamp.maximumSize) bytes")
        }
        guard bytes.last == UInt8(ascii: "\n") else { throw StampError(line: 0, "stamp is truncated (no final newline)") }
        let body = bytes.dropLast()
        let checksumStart = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
        let checksumLine = String(decoding: body[checksumStart...], as: UTF8.self)
        let checked = Array(bytes[..<checksumStart])
        guard checksumLine.hasPrefix("checksum "), let recorded = ObjectID(lowercaseHex: checksumLine.dropFirst("checksum ".count)) else {
            throw StampError(line: 0, "stamp is truncated (no checksum line)")
        }
        guard BlobHasher.hash(bytes: checked) == recorded else { throw StampError(line: 0, "stamp checksum does not match its contents") }

        let lines = checked.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        func header(_ index: Int, _ key: String) throws(StampError) -> ArraySlice<UInt8> {
            try LineFormat.header(lines, index, key)
        }
        guard let version = LineFormat.number(try header(0, BuildStamp.magic)) else {
            throw StampError(line: 1, "not a git-mtime build stamp")
        }
        guard version == BuildStamp.formatVersion else {
            let why =
                version < BuildStamp.formatVersion
                ? " (it records no output state; the next seal writes format \(BuildStamp.formatVersion))" : ""
            throw StampError(line: 1, "stamp format \(version) is not supported (this guard reads \(BuildStamp.formatVersion))\(why)")
        }
        guard let rootBytes = PathEscaping.decodeField(try header(1, "root")), rootBytes.first == UInt8(ascii: "/") else {
            throw StampError(line: 2, "root is not an escaped absolute path")
        }
        let sealed = try LineFormat.time(try header(2, "sealed"), line: 3)
        let outputFields = try LineFormat.header(lines, 3, "outputs", fields: 2)
        guard let fileCount = LineFormat.number(outputFields[0]) else { throw StampError(line: 4, "output file count is not a number") }
        let digest = try LineFormat.objectID(outputFields[1], line: 4)
        let entries = try LineFormat.entries(
            lines, headerCount: 5, maximum: BuildStamp.maximumEntries, fileKind: "stamp",
            path: \Entry.path, parse: Entry.init(parsing:line:))
        self.init(root: BytePath(rootBytes), sealTime: sealed, outputs: OutputState(fileCount: fileCount, digest: digest), entries: entries)
    }
}

extension BuildStamp.Entry {
    init(parsing line: ArraySlice<UInt8>, line number: Int) throws(StampError) {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 4 else { throw StampError(line: number, "expected 4 fields, found \(fields.count)") }
        let untracked = try LineFormat.origin(fields[0], line: number)
        let id = try LineFormat.objectID(fields[1], line: number)
        let time = try LineFormat.time(fields[2], line: number)
        let path = try LineFormat.entryPath(fields[3], line: number)
        self.init(path: path, objectID: id, modificationTime: time, isUntracked: untracked)
    }
}
