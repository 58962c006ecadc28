/// A file time with nanoseconds, as `struct timespec` holds it, always inside `Timestamp.range`.
///
/// Every value comes from a hostile or foreign source at some point (a commit header, a manifest, a
/// stamp, a stat cache, a file system): so no operation here can trap. Constructors clamp into the
/// range (`init(seconds:nanoseconds:)`) or refuse (`init?(exactly:…)`, `init?(parsing:)`), and the
/// arithmetic saturates at the ends of the range.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let seconds: Int64
    /// 0 ... 999,999,999.
    public let nanoseconds: Int32

    /// Seconds of the earliest and latest times: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z
    /// (docs/manifest.md, "Times"). Far enough from Int64's ends that seconds ± any nanosecond
    /// count we add fits without overflow.
    public static let minimumSeconds: Int64 = -62_135_596_800
    public static let maximumSeconds: Int64 = 253_402_300_799
    public static let minimum = Timestamp(checkedSeconds: minimumSeconds, nanoseconds: 0)
    public static let maximum = Timestamp(checkedSeconds: maximumSeconds, nanoseconds: 999_999_999)
    /// Earlier than any time a file or a commit can carry here.
    public static let distantPast = minimum

    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    private init(checkedSeconds: Int64, nanoseconds: Int32) {
        self.seconds = checkedSeconds
        self.nanoseconds = nanoseconds
    }

    /// Clamps into the range: nanoseconds into 0...999,999,999, then the time into `minimum...maximum`.
    /// For values the kernel or a cache hands over, where a wrong but ordered answer beats a crash.
    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        let nanos = min(max(nanoseconds, 0), 999_999_999)
        if seconds < Timestamp.minimumSeconds {
            self = .minimum
        } else if seconds > Timestamp.maximumSeconds {
            self = .maximum
        } else {
            self.init(checkedSeconds: seconds, nanoseconds: nanos)
        }
    }

    /// nil unless `seconds` and `nanoseconds` are exactly a time in the range.
    public init?(exactly seconds: Int64, nanoseconds: Int32) {
        guard (Timestamp.minimumSeconds...Timestamp.maximumSeconds).contains(seconds),
            (0...999_999_999).contains(nanoseconds)
        else { return nil }
        self.init(checkedSeconds: seconds, nanoseconds: nanoseconds)
    }

    /// Seconds from a commit, nanoseconds from the content's object id: two different
    /// contents with the same commit second still get different mtimes, so tools that
    /// compare (size, mtime) — BuildKit's context transfer, rsync — see them as different.
    /// A commit time outside the range counts as 0, the epoch, as `git log` shows a date it can't
    /// represent.
    public init(commitSeconds: Int64, objectID: ObjectID) {
        let seconds = (Timestamp.minimumSeconds...Timestamp.maximumSeconds).contains(commitSeconds) ? commitSeconds : 0
        self.init(seconds: seconds, nanoseconds: objectID.deterministicNanoseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// One nanosecond later: the smallest time strictly greater than this one (`maximum` stays).
    public var nextNanosecond: Timestamp { advanced(byNanoseconds: 1) }

    /// One nanosecond earlier: the largest time strictly less than this one (`minimum` stays).
    public var previousNanosecond: Timestamp { advanced(byNanoseconds: -1) }

    /// This time moved by `delta` nanoseconds, saturating at the ends of the range.
    public func advanced(byNanoseconds delta: Int64) -> Timestamp {
        // |delta / 1e9| < 9.3e9 and |seconds| < 2.6e11: no sum below can overflow.
        var newSeconds = seconds + delta / Timestamp.nanosecondsPerSecond
        var newNanos = Int64(nanoseconds) + delta % Timestamp.nanosecondsPerSecond
        if newNanos < 0 { newNanos += Timestamp.nanosecondsPerSecond; newSeconds -= 1 }
        if newNanos >= Timestamp.nanosecondsPerSecond { newNanos -= Timestamp.nanosecondsPerSecond; newSeconds += 1 }
        return Timestamp(seconds: newSeconds, nanoseconds: Int32(newNanos))
    }

    /// The smallest multiple of `granularity` nanoseconds that is ≥ this time (saturating): what a
    /// file system storing times in steps of `granularity` keeps unchanged. Granularities above a
    /// second (FAT's 2 s) must divide into whole seconds.
    public func roundedUp(toMultipleOf granularity: Int64) -> Timestamp {
        guard granularity > 1 else { return self }
        let perSecond = Timestamp.nanosecondsPerSecond
        if granularity < perSecond {
            let remainder = Int64(nanoseconds) % granularity
            return remainder == 0 ? self : advanced(byNanoseconds: granularity - remainder)
        }
        let stepSeconds = granularity / perSecond
        // Euclidean remainder: times before 1970 round up too.
        var remainder = seconds % stepSeconds
        if remainder < 0 { remainder += stepSeconds }
        if remainder == 0 && nanoseconds == 0 { return self }
        let floor = Timestamp(seconds: seconds - remainder, nanoseconds: 0)
        return floor.advanced(byNanoseconds: granularity)
    }

    /// The largest multiple of `granularity` nanoseconds that is ≤ this time: what a file system
    /// storing times in steps of `granularity` truncates it to (same constraints as `roundedUp`).
    public func roundedDown(toMultipleOf granularity: Int64) -> Timestamp {
        let up = roundedUp(toMultipleOf: granularity)
        return up == self ? self : up.advanced(byNanoseconds: -granularity)
    }

    /// `seconds.nnnnnnnnn`, the form used in manifests, stamps and messages.
    public var description: String {
        let digits = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - digits.count))\(digits)"
    }

    /// Parses `description`'s form exactly: an optional `-`, decimal seconds without a leading zero
    /// (except `0` itself) or `+`, a dot, nine fraction digits; nil outside the range.
    public init?<S: StringProtocol>(parsing text: S) {
        let bytes = Array(text.utf8)
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), bytes.count - dot - 1 == 9 else { return nil }
        let negative = bytes.first == UInt8(ascii: "-")
        let whole = bytes[(negative ? 1 : 0)..<dot]
        guard let seconds = Timestamp.decimal(whole, maximumDigits: 12),
            !(negative && seconds == 0),
            let nanos = Timestamp.decimal(bytes[(dot + 1)...], maximumDigits: 9, allowLeadingZeros: true)
        else { return nil }
        self.init(exactly: negative ? -seconds : seconds, nanoseconds: Int32(nanos))
    }

    /// Plain ASCII decimal digits, at most `maximumDigits` of them (so the value cannot overflow).
    private static func decimal(_ digits: ArraySlice<UInt8>, maximumDigits: Int, allowLeadingZeros: Bool = false) -> Int64? {
        guard !digits.isEmpty, digits.count <= maximumDigits,
            allowLeadingZeros || digits.count == 1 || digits.first != UInt8(ascii: "0")
        else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
