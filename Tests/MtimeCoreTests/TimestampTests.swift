import MtimeCore
import Testing

/// Every value a hostile manifest, stamp, commit or cache can produce, and the arithmetic on it:
/// nothing traps, everything stays in the documented range.
@Test func arithmeticSaturatesAtTheEndsOfTheRange() {
    #expect(Timestamp.maximum.nextNanosecond == .maximum)
    #expect(Timestamp.minimum.previousNanosecond == .minimum)
    #expect(Timestamp(seconds: 5, nanoseconds: 999_999_999).nextNanosecond == Timestamp(seconds: 6, nanoseconds: 0))
    #expect(Timestamp(seconds: 6, nanoseconds: 0).previousNanosecond == Timestamp(seconds: 5, nanoseconds: 999_999_999))
    #expect(Timestamp(seconds: -1, nanoseconds: 0).advanced(byNanoseconds: -1) == Timestamp(seconds: -2, nanoseconds: 999_999_999))
    for delta in [Int64.max, Int64.min, Int64.max / 2, Int64.min + 1, 1, -1, 0] {
        for base in [Timestamp.minimum, Timestamp.maximum, Timestamp(seconds: 0), Timestamp(seconds: 1_700_000_000, nanoseconds: 5)] {
            let moved = base.advanced(byNanoseconds: delta)
            #expect(moved >= .minimum && moved <= .maximum)
            #expect(delta >= 0 ? moved >= base : moved <= base)
        }
    }
}

@Test func constructorsClampOrRefuse() {
    #expect(Timestamp(seconds: .max, nanoseconds: .max) == .maximum)
    #expect(Timestamp(seconds: .min, nanoseconds: .min) == .minimum)
    #expect(Timestamp(seconds: 7, nanoseconds: 2_000_000_000) == Timestamp(seconds: 7, nanoseconds: 999_999_999))
    #expect(Timestamp(exactly: Timestamp.maximumSeconds + 1, nanoseconds: 0) == nil)
    #expect(Timestamp(exactly: 0, nanoseconds: 1_000_000_000) == nil)
    #expect(Timestamp(exactly: 0, nanoseconds: -1) == nil)
    #expect(Timestamp(exactly: 1, nanoseconds: 2) == Timestamp(seconds: 1, nanoseconds: 2))
    // A commit date git can't show (issue 10, defect 4) counts as the epoch, as `git log` shows it.
    let id = ObjectID(hex: String(repeating: "ab", count: 20))!
    #expect(Timestamp(commitSeconds: .max, objectID: id).seconds == 0)
    #expect(
        Timestamp(commitSeconds: 1_600_000_000, objectID: id) == Timestamp(seconds: 1_600_000_000, nanoseconds: id.deterministicNanoseconds)
    )
}

@Test func parsingAcceptsExactlyTheWrittenFormInRange() {
    for valid in ["0.000000000", "1700000000.000000005", "-1.999999999", "253402300799.999999999", "-62135596800.000000000"] {
        #expect(Timestamp(parsing: valid)?.description == valid, "\(valid)")
    }
    for invalid in [
        "9223372036854775807.999999999", "9223372036854775808.000000000", "253402300800.000000000",
        "-62135596801.000000000", "+1.000000000", "01.000000000", "-0.000000001", "1.00000000", "1.0000000000",
        "1.-00000001", "1", ".000000000", "1.00000000a", "١.000000000", "", "-", "1e3.000000000",
        "99999999999999999999999.000000000",
    ] {
        #expect(Timestamp(parsing: invalid) == nil, "\(invalid)")
    }
}

@Test func roundingUpLandsOnTheFileSystemsGrid() {
    let time = Timestamp(seconds: 1_000_000_001, nanoseconds: 400)
    #expect(time.roundedUp(toMultipleOf: 1) == time)
    #expect(time.roundedUp(toMultipleOf: 100) == Timestamp(seconds: 1_000_000_001, nanoseconds: 400))
    #expect(time.roundedUp(toMultipleOf: 1000) == Timestamp(seconds: 1_000_000_001, nanoseconds: 1000))
    #expect(time.roundedUp(toMultipleOf: 1_000_000_000) == Timestamp(seconds: 1_000_000_002))
    #expect(time.roundedUp(toMultipleOf: 2_000_000_000) == Timestamp(seconds: 1_000_000_002))
    #expect(Timestamp(seconds: 1_000_000_002).roundedUp(toMultipleOf: 2_000_000_000) == Timestamp(seconds: 1_000_000_002))
    #expect(Timestamp(seconds: -3, nanoseconds: 5).roundedUp(toMultipleOf: 2_000_000_000) == Timestamp(seconds: -2))
    #expect(Timestamp.maximum.roundedUp(toMultipleOf: 1_000_000_000) == .maximum)
}
