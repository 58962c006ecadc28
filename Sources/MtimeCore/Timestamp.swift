/// A file time with nanoseconds, as `struct timespec` holds it.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Seconds from a commit, nanoseconds from the content's object id: two different
    /// contents with the same commit second still get different mtimes, so tools that
    /// compare (size, mtime) — BuildKit's context transfer, rsync — see them as different.
    public init(commitSeconds: Int64, objectID: ObjectID) {
        self.init(seconds: commitSeconds, nanoseconds: objectID.deterministicNanoseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// `seconds.nnnnnnnnn`, the form used in manifests, stamps and messages.
    public var description: String {
        let digits = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - digits.count))\(digits)"
    }

    /// Parses `description`'s form exactly (nine fraction digits, optional leading `-`).
    public init?<S: StringProtocol>(parsing text: S) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 9, parts[1].allSatisfy(\.isASCII),
              parts[1].allSatisfy(\.isNumber), let nanos = Int32(parts[1]),
              !parts[0].isEmpty, parts[0].count <= 20,
              parts[0].dropFirst(parts[0].first == "-" ? 1 : 0).allSatisfy({ $0.isASCII && $0.isNumber }),
              let seconds = Int64(parts[0]) else { return nil }
        self.init(seconds: seconds, nanoseconds: nanos)
    }
}
