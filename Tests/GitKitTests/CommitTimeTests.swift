import GitKit
import MtimeCore
import Testing

/// Issue 10, defect 4: a commit date of 2^63 overflowed on the add after the multiply check.
@Test func commitHeadersWithOverflowingDatesParseAsTheEpoch() throws {
    let tree = String(repeating: "ab", count: 20)
    for (date, expected) in [
        ("9223372036854775807", Int64.max), ("9223372036854775808", 0), ("-9223372036854775808", 0),
        ("99999999999999999999", 0), ("1600000000", 1_600_000_000),
    ] {
        let header = Array("tree \(tree)\nauthor a <a@b> \(date) +0000\ncommitter a <a@b> \(date) +0000\n\nm\n".utf8)
        let commit = try #require(header.withUnsafeBytes { Commit(id: .zero, parsing: $0) })
        #expect(commit.committerTime == expected && commit.authorTime == expected, "\(date)")
    }
}
