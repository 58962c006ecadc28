import MtimeCore

/// The parts of a commit object the history walk needs, parsed from its raw header.
public struct Commit: Sendable, Equatable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    /// Seconds since the epoch (git's %at / %ct); 0 when git finds no date in the line (no `<…>`, no
    /// digits after the last `>`, no `+`/`-` zone after them: git's `%ct` is then empty and its dates
    /// show the epoch) or the number doesn't fit 64 bits.
    public let authorTime: Int64
    public let committerTime: Int64
    /// The date `git log`'s walk orders commits by (git's `commit->date`, compared unsigned), read by
    /// another parser than `%ct`'s (`parse_commit_date`): equal to `committerTime` for every commit
    /// git writes, different only for malformed ones (no zone: a date here, none for `%ct`).
    public let walkDate: UInt64

    public init(
        id: ObjectID, tree: ObjectID, parents: [ObjectID], authorTime: Int64, committerTime: Int64, walkDate: UInt64? = nil
    ) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.authorTime = authorTime
        self.committerTime = committerTime
        self.walkDate = walkDate ?? UInt64(max(0, committerTime))
    }

    /// The same commit with the parents a graft gives it.
    public func withParents(_ parents: [ObjectID]) -> Commit {
        Commit(id: id, tree: tree, parents: parents, authorTime: authorTime, committerTime: committerTime, walkDate: walkDate)
    }

    /// Parses the header as git does (`parse_commit_buffer`, `parse_commit_header`): the first line
    /// must be `tree ID` and the parents are the `parent ID` lines right after it — a `parent` line
    /// further down is no parent for git (RELIABILITY.md defect 21); the times come from the last
    /// `author` and `committer` lines of the header. Nil where git refuses the commit: no tree line
    /// first, or a malformed parent line.
    public init?(id: ObjectID, parsing bytes: UnsafeRawBufferPointer) {
        var tree: ObjectID?
        var parents: [ObjectID] = []
        var authorTime: Int64 = 0, committerTime: Int64 = 0
        var lineStart = 0
        var lineNumber = 0
        var parentsEnded = false
        var walkDate: UInt64 = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd == lineStart { break }  // blank line: the message follows
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            defer {
                lineStart = lineEnd + 1
                lineNumber += 1
            }
            if lineNumber == 0 {
                guard line.starts(with: Commit.treePrefix), lineEnd < bytes.count,
                    let id = Commit.objectID(hex: UnsafeRawBufferPointer(rebasing: line[Commit.treePrefix.count...]))
                else { return nil }
                tree = id
                continue
            }
            if !parentsEnded, line.starts(with: Commit.parentPrefix) {
                guard lineEnd < bytes.count,
                    let parent = Commit.objectID(hex: UnsafeRawBufferPointer(rebasing: line[Commit.parentPrefix.count...]))
                else { return nil }
                parents.append(parent)
                continue
            }
            if !parentsEnded { walkDate = Commit.walkDate(bytes, from: lineStart) }
            parentsEnded = true
            if line.starts(with: Commit.authorPrefix) {
                authorTime = Commit.signatureTime(UnsafeRawBufferPointer(rebasing: line[Commit.authorPrefix.count...]))
            } else if line.starts(with: Commit.committerPrefix) {
                committerTime = Commit.signatureTime(UnsafeRawBufferPointer(rebasing: line[Commit.committerPrefix.count...]))
            }
        }
        guard let tree else { return nil }
        self.init(id: id, tree: tree, parents: parents, authorTime: authorTime, committerTime: committerTime, walkDate: walkDate)
    }

    /// git 2.39's `parse_commit_date` from the line after the parents: that line must start with
    /// `author` and the next with `committer`; the date is `strtoumax` of what follows the first `>`
    /// after it (the search may cross lines), provided a newline follows; 0 otherwise.
    static func walkDate(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64 {
        let tail = bytes.count
        var index = start
        guard index + 6 < tail, bytes[index..<(index + 6)].elementsEqual("author".utf8) else { return 0 }
        while index < tail { index += 1; if bytes[index - 1] == 0x0A { break } }
        guard index + 9 < tail, bytes[index..<(index + 9)].elementsEqual("committer".utf8) else { return 0 }
        while index < tail { index += 1; if bytes[index - 1] == UInt8(ascii: ">") { break } }
        guard index < tail else { return 0 }
        let date = index
        while index < tail { index += 1; if bytes[index - 1] == 0x0A { break } }
        guard index < tail else { return 0 }
        // strtoumax: C-locale space, an optional sign, digits; a negative number wraps, overflow saturates.
        index = date
        while index < tail, bytes[index] == 0x20 || (0x09...0x0D).contains(bytes[index]) { index += 1 }
        var negative = false
        if index < tail, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var value: UInt64 = 0
        while index < tail, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = product.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            if overflow || carry { return .max }
            value = sum
            index += 1
        }
        return negative ? 0 &- value : value
    }

    private static let treePrefix = Array("tree ".utf8)
    private static let parentPrefix = Array("parent ".utf8)
    private static let authorPrefix = Array("author ".utf8)
    private static let committerPrefix = Array("committer ".utf8)

    /// Exactly 40 hex digits (either case, as git's `get_oid_hex` reads them); nil otherwise.
    private static func objectID(hex: UnsafeRawBufferPointer) -> ObjectID? {
        guard hex.count == 2 * ObjectID.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for index in 0..<hex.count {
            let c = hex[index]
            let digit: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(c &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(c &- UInt8(ascii: "A") &+ 10)
            default: return nil
            }
            switch index {
            case ..<16: words.0 = words.0 << 4 | digit
            case ..<32: words.1 = words.1 << 4 | digit
            default: words.2 = words.2 << 4 | digit
            }
        }
        return ObjectID(high: words.0, middle: words.1, low: UInt32(words.2))
    }

    /// `Name <email> 1600000000 +0000` as git's `split_ident_line` splits it: a `<`, a `>` after it,
    /// then after the last `>` and any whitespace the date's digits, whitespace, and a zone of `+`
    /// or `-` and digits. Without all of these git finds no date: 0.
    static func signatureTime(_ ident: UnsafeRawBufferPointer) -> Int64 {
        guard let open = ident.firstIndex(of: UInt8(ascii: "<")),
            ident[(open + 1)...].contains(UInt8(ascii: ">")),
            let close = ident.lastIndex(of: UInt8(ascii: ">"))
        else { return 0 }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        var index = close + 1
        while index < ident.count, isSpace(ident[index]) { index += 1 }
        let digits = index
        while index < ident.count, isDigit(ident[index]) { index += 1 }
        let digitsEnd = index
        while index < ident.count, isSpace(ident[index]) { index += 1 }
        guard digitsEnd > digits, index + 1 < ident.count,
            ident[index] == UInt8(ascii: "+") || ident[index] == UInt8(ascii: "-"), isDigit(ident[index + 1])
        else { return 0 }
        var value: Int64 = 0
        for index in digits..<digitsEnd {
            // A hostile commit may carry any number of digits: every step is checked (2^63 overflows
            // on the add, not the multiply). Too large for time_t: 0, the epoch, as git shows it.
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = product.addingReportingOverflow(Int64(ident[index] - 0x30))
            if overflow || carry { return 0 }
            value = sum
        }
        return value
    }
}
