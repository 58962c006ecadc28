import MtimeCore

/// The parts of a commit object the history walk needs, parsed from its raw header.
public struct Commit: Sendable, Equatable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    /// Seconds since the epoch (git's %at / %ct); 0 when the header line is malformed or the number
    /// doesn't fit 64 bits, as git shows it.
    public let authorTime: Int64
    public let committerTime: Int64

    public init(id: ObjectID, tree: ObjectID, parents: [ObjectID], authorTime: Int64, committerTime: Int64) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.authorTime = authorTime
        self.committerTime = committerTime
    }

    /// Parses `tree`, `parent`, `author` and `committer` header lines; nil without a tree line.
    public init?(id: ObjectID, parsing bytes: UnsafeRawBufferPointer) {
        var tree: ObjectID?
        var parents: [ObjectID] = []
        var authorTime: Int64 = 0, committerTime: Int64 = 0
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd == lineStart { break }  // blank line: the message follows
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if line.starts(with: Commit.treePrefix) {
                tree = Commit.objectID(hex: UnsafeRawBufferPointer(rebasing: line[Commit.treePrefix.count...]))
            } else if line.starts(with: Commit.parentPrefix) {
                guard let parent = Commit.objectID(hex: UnsafeRawBufferPointer(rebasing: line[Commit.parentPrefix.count...]))
                else { return nil }
                parents.append(parent)
            } else if line.starts(with: Commit.authorPrefix) {
                authorTime = Commit.signatureTime(line)
            } else if line.starts(with: Commit.committerPrefix) {
                committerTime = Commit.signatureTime(line)
            }
            lineStart = lineEnd + 1
        }
        guard let tree else { return nil }
        self.init(id: id, tree: tree, parents: parents, authorTime: authorTime, committerTime: committerTime)
    }

    private static let treePrefix = Array("tree ".utf8)
    private static let parentPrefix = Array("parent ".utf8)
    private static let authorPrefix = Array("author ".utf8)
    private static let committerPrefix = Array("committer ".utf8)

    /// Exactly 40 lowercase hex digits, as git writes ids in commit headers; nil otherwise.
    private static func objectID(hex: UnsafeRawBufferPointer) -> ObjectID? {
        guard hex.count == 2 * ObjectID.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for index in 0..<hex.count {
            let c = hex[index]
            let digit: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(c &- UInt8(ascii: "a") &+ 10)
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

    /// `Name <email> 1600000000 +0000`: the number after the last `>`.
    private static func signatureTime(_ line: UnsafeRawBufferPointer) -> Int64 {
        guard let close = line.lastIndex(of: UInt8(ascii: ">")) else { return 0 }
        var index = close + 1
        while index < line.count, line[index] == 0x20 { index += 1 }
        var negative = false
        if index < line.count, line[index] == UInt8(ascii: "-") { negative = true; index += 1 }
        var value: Int64 = 0
        while index < line.count, line[index] >= 0x30, line[index] <= 0x39 {
            // A hostile commit may carry any number of digits: every step is checked (2^63 overflows
            // on the add, not the multiply). Too large for time_t: 0, the epoch, as git shows it.
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = product.addingReportingOverflow(Int64(line[index] - 0x30))
            if overflow || carry { return 0 }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }
}
