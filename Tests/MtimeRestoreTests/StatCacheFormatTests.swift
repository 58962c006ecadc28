import MtimeCore
@testable import MtimeRestore
import Testing
import TestSupport

/// The stat cache file's layout: what `encode` writes decodes to the same entries, and nothing but
/// what `encode` writes decodes at all, so a damaged file can only be ignored, never vouch for a
/// file state it did not record.
@Suite struct StatCacheFormatTests {
    /// Records with the extreme values of every field (the first and last times, full 64-bit
    /// devices and inodes, negative sizes as stored), and paths sharing long and no prefixes.
    static func randomCache(_ generator: inout some RandomNumberGenerator, count: Int) -> StatCache {
        let extremes: [UInt64] = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, UInt64(UInt32.max), UInt64(Int64.max), UInt64.max]
        func value(_ generator: inout some RandomNumberGenerator) -> UInt64 {
            Bool.random(using: &generator)
                ? extremes.randomElement(using: &generator)! : UInt64.random(in: 0...UInt64.max, using: &generator)
        }
        // Every time a record can hold: the ends of `Timestamp`'s range, before and after 1970.
        func time(_ generator: inout some RandomNumberGenerator) -> Timestamp {
            let seconds: Int64 = [Timestamp.minimumSeconds, -1, 0, Timestamp.maximumSeconds].randomElement(using: &generator)!
            return Timestamp(
                seconds: Bool.random(using: &generator)
                    ? seconds : Int64.random(in: Timestamp.minimumSeconds...Timestamp.maximumSeconds, using: &generator),
                nanoseconds: [0, 999_999_999, Int32.random(in: 0...999_999_999, using: &generator)].randomElement(using: &generator)!)
        }
        let alphabet = Array("ab/.-é".utf8) + [0xff, 0x01]
        var paths = Set<[UInt8]>()
        while paths.count < count {
            let length = Int.random(in: 1...40, using: &generator)
            paths.insert((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
        }
        var builder = StatCache.Builder()
        for path in paths.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let record = StatCache.Record(
                device: value(&generator), inode: value(&generator), size: Int64(bitPattern: value(&generator)),
                modificationTime: time(&generator), changeTime: time(&generator),
                mode: UInt32.random(in: 0...UInt32.max, using: &generator),
                objectID: ObjectID(hex: (0..<20).map { _ in String(format2: UInt8.random(in: 0...255, using: &generator)) }.joined())!)
            builder.append(BytePath(path), record)
        }
        return builder.cache
    }

    @Test func whatIsWrittenReadsBackTheSame() {
        var generator = SeededGenerator(seed: 14)
        for count in [0, 1, 2, 50, 700] {
            let cache = StatCacheFormatTests.randomCache(&generator, count: count)
            let bytes = cache.encode()
            #expect(bytes.starts(with: Array("GMSTATC3".utf8)))
            let decoded = StatCache.decode(bytes)
            #expect(decoded?.hasSameEntries(as: cache) == true, "\(count) entries")
        }
    }

    /// Any byte changed, or the file cut short, with the checksum made right again: the result is
    /// refused, or it is a cache that writes exactly those bytes (so it says what they say).
    @Test func damagedFilesAreRefusedOrMeanExactlyTheirBytes() {
        var generator = SeededGenerator(seed: 1130)
        let cache = StatCacheFormatTests.randomCache(&generator, count: 40)
        let bytes = cache.encode()
        let body = Array(bytes.dropLast(ObjectID.byteCount))
        func sealed(_ body: [UInt8]) -> [UInt8] { body + Checksum.sha1(body).bytes }
        var refused = 0, accepted = 0
        for _ in 0..<3000 {
            var damaged = body
            if Bool.random(using: &generator) {
                damaged[Int.random(in: 8..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            } else {
                damaged.removeLast(Int.random(in: 1..<(damaged.count - 8), using: &generator))
            }
            guard damaged != body else { continue }
            let file = sealed(damaged)
            if let decoded = StatCache.decode(file) {
                accepted += 1
                #expect(decoded.encode() == file)
            } else {
                refused += 1
            }
        }
        #expect(refused > 0)
        // And the unchanged bytes with a wrong checksum are refused.
        var wrongSum = bytes
        wrongSum[wrongSum.count - 1] ^= 1
        #expect(StatCache.decode(wrongSum) == nil)
        _ = accepted
    }

    /// The paths' total length is read before the paths are: a claim out of proportion to the
    /// file (with its checksum right) is refused before anything of that size is allocated, and a
    /// claim off by one either way is refused after the entries are read.
    @Test func aClaimedPathLengthMustBeExact() {
        var generator = SeededGenerator(seed: 7)
        let cache = StatCacheFormatTests.randomCache(&generator, count: 30)
        let body = Array(cache.encode().dropLast(ObjectID.byteCount))
        let claimed = body[12..<20].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(claimed == UInt64(cache.pathBytes.count))
        for wrong in [UInt64.max, UInt64(Int.max), claimed * 1000, claimed + 1, claimed - 1, 0] {
            var damaged = body
            withUnsafeBytes(of: wrong.littleEndian) { damaged.replaceSubrange(12..<20, with: $0) }
            #expect(StatCache.decode(damaged + Checksum.sha1(damaged).bytes) == nil, "claimed \(wrong)")
        }
    }

    /// `cache` as the previous version wrote it: fixed-width fields, whole paths (`GMSTATC2`).
    static func previousLayout(of cache: StatCache) -> [UInt8] {
        var body = Array("GMSTATC2".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { body += $0 } }
        append(UInt32(cache.count))
        for index in 0..<cache.count {
            let path = cache.path(at: index).bytes, record = cache.records[index]
            append(UInt32(path.count))
            body += path
            append(record.device)
            append(record.inode)
            append(record.size)
            append(record.modificationTime.seconds)
            append(record.changeTime.seconds)
            append(record.modificationTime.nanoseconds)
            append(record.changeTime.nanoseconds)
            append(record.mode)
            body += record.objectID.bytes
        }
        return body + Checksum.sha1(body).bytes
    }

    /// A file the previous version wrote (fixed-width fields, whole paths) is still read: the first
    /// run after an upgrade does not hash every file again.
    @Test func thePreviousLayoutIsStillRead() {
        var generator = SeededGenerator(seed: 2)
        let cache = StatCacheFormatTests.randomCache(&generator, count: 60)
        let file = StatCacheFormatTests.previousLayout(of: cache)
        let read = StatCache.decode(file)
        #expect(read?.hasSameEntries(as: cache) == true)
        #expect(read?.isInPreviousLayout == true && StatCache.decode(cache.encode())?.isInPreviousLayout == false)
        // Its records in the new layout: half the bytes.
        #expect(cache.encode().count < file.count)
    }

    /// The varint reader takes exactly what the writer writes: the shortest form, at most 64 bits.
    @Test func varintsAreReadOnlyInTheirShortestForm() {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max] {
            let bytes = BinaryWriter.bytes(size: BinaryWriter.varintSize(value)) { $0.appendVarint(value) }
            let read = bytes.withUnsafeBytes { raw -> UInt64? in
                var reader = BinaryReader(raw)
                let value = reader.varint()
                return reader.isAtEnd ? value : nil
            }
            #expect(read == value)
        }
        func read(_ bytes: [UInt8]) -> UInt64? {
            bytes.withUnsafeBytes { raw in
                var reader = BinaryReader(raw)
                return reader.varint()
            }
        }
        #expect(read([0x80, 0x00]) == nil)  // 0 in two bytes
        #expect(read([0xff, 0x80, 0x00]) == nil)  // a trailing zero byte
        #expect(read([0x80]) == nil)  // cut short
        #expect(read(Array(repeating: 0xff, count: 9) + [0x01]) == UInt64.max)
        #expect(read(Array(repeating: 0xff, count: 9) + [0x02]) == nil)  // bit 64
        #expect(read(Array(repeating: 0x80, count: 10) + [0x01]) == nil)  // beyond ten bytes
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self.init([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }
}
