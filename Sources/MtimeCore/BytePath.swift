/// A path as the raw bytes the kernel and git store. Git paths need not be UTF-8
/// (and may hold newlines), so nothing that touches the file system goes through `String`.
public struct BytePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    /// A C string's bytes as they are (`String(cString:)` would repair bytes that aren't UTF-8 into
    /// U+FFFD: another path).
    public init(cString pointer: UnsafePointer<CChar>) {
        var bytes: [UInt8] = []
        var cursor = pointer
        while cursor.pointee != 0 {
            bytes.append(UInt8(bitPattern: cursor.pointee))
            cursor += 1
        }
        self.bytes = bytes
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// One call over the whole buffer: paths key many hot dictionaries.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (lhs: BytePath, rhs: BytePath) -> Bool { lhs.bytes == rhs.bytes }
    public var isAbsolute: Bool { bytes.first == UInt8(ascii: "/") }

    /// `self/component`, with exactly one separator.
    public func appending(_ other: BytePath) -> BytePath {
        if bytes.isEmpty { return other }
        if other.bytes.isEmpty { return self }
        var joined = bytes
        if joined.last != UInt8(ascii: "/") { joined.append(UInt8(ascii: "/")) }
        joined.append(contentsOf: other.bytes.drop(while: { $0 == UInt8(ascii: "/") }))
        return BytePath(joined)
    }

    public func appending(_ other: String) -> BytePath { appending(BytePath(other)) }

    /// Components split on `/`, empty ones dropped.
    public var components: [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
    }

    /// Everything before the last `/` (empty for a top-level name).
    public var parent: BytePath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return BytePath([]) }
        return BytePath(Array(bytes[..<slash]))
    }

    public var lastComponent: BytePath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return self }
        return BytePath(Array(bytes[(slash + 1)...]))
    }

    /// True when `self` is `other` or lies below it.
    public func isWithin(_ other: BytePath) -> Bool {
        if other.bytes.isEmpty { return true }
        if other.bytes == [UInt8(ascii: "/")] { return isAbsolute }
        guard bytes.count >= other.bytes.count, bytes.starts(with: other.bytes) else { return false }
        return bytes.count == other.bytes.count || bytes[other.bytes.count] == UInt8(ascii: "/")
    }

    /// The path from `base` to `self` (empty for `base` itself) when `self` is `base` or lies below
    /// it; nil otherwise. The one way a resolved path is made relative to a root.
    public func relative(to base: BytePath) -> BytePath? {
        guard isWithin(base) else { return nil }
        return BytePath(Array(bytes.dropFirst(base.bytes.count).drop { $0 == UInt8(ascii: "/") }))
    }

    /// The components with `.` dropped and each `..` taking away the one before it, by name alone
    /// (no symlink is followed; a `..` at the top stays there, as `/..` is `/`).
    public var lexicalComponents: [ArraySlice<UInt8>] {
        var kept: [ArraySlice<UInt8>] = []
        for component in components {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { _ = kept.popLast(); continue }
            kept.append(component)
        }
        return kept
    }

    /// Calls `body` with a NUL-terminated copy; a path with an embedded NUL can't name a file.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) throws(SystemError) -> R {
        if bytes.contains(0) { throw SystemError(operation: "use path", path: self, errno: .invalidArgument) }
        var terminated = bytes.map { CChar(bitPattern: $0) }
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Git orders tree entries and the index by raw bytes; so do we.
    /// Byte order through `memcmp` (`compareBytes`): the generic `lexicographicallyPrecedes` compared
    /// byte by byte, and joining 64,000 index entries with HEAD's files showed it in warm profiles.
    public static func < (lhs: BytePath, rhs: BytePath) -> Bool {
        lhs.bytes.withUnsafeBytes { left in rhs.bytes.withUnsafeBytes { right in compareBytes(left, right) < 0 } }
    }

    /// For messages: valid UTF-8 is shown as is, anything else escaped like `git ls-files -z` users expect.
    public var description: String { PathEscaping.display(bytes) }
}
