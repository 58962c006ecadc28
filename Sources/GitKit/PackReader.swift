import Glibc
import CLibGit2
import MtimeCore

/// An object's inflated bytes in memory we own: one allocation holding the count and the bytes
/// (not zero-filled: every byte is written), so touching the object brings its first bytes along.
final class ObjectBytes: ManagedBuffer<Int, UInt8> {
    /// One spare byte: zlib and memcpy need a valid pointer even for an empty object.
    static func make(count: Int) throws(GitError) -> ObjectBytes {
        guard count >= 0, count <= Int(UInt32.max) else {
            throw GitError(code: -1, operation: "read object", message: "object of \(count) bytes is too large")
        }
        return unsafeDowncast(ObjectBytes.create(minimumCapacity: count + 1) { _ in count }, to: ObjectBytes.self)
    }

    /// `object` made over for `count` bytes when it is the caller's only reference and its storage
    /// fits them without wasting more than half: no allocation, no free. Else a new object.
    static func make(count: Int, reusing object: inout ObjectBytes?) throws(GitError) -> ObjectBytes {
        if isKnownUniquelyReferenced(&object), let reused = object, count >= 0, count + 1 <= reused.capacity,
            reused.capacity <= 2 * (count + 1)
        {
            object = nil
            reused.header = count
            return reused
        }
        object = nil
        return try make(count: count)
    }

    static func make(copying bytes: UnsafeRawBufferPointer) throws(GitError) -> ObjectBytes {
        let object = try make(count: bytes.count)
        if let source = bytes.baseAddress { object.pointer.copyMemory(from: source, byteCount: bytes.count) }
        return object
    }

    var count: Int { header }

    var pointer: UnsafeMutableRawPointer { withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) } }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }

    /// The bytes, valid during `body`: a method call keeps `self` alive, where `object.buffer`
    /// alone would let ARC free the object before the pointer is used.
    func withBuffer<R>(_ body: (UnsafeRawBufferPointer) throws(GitError) -> R) throws(GitError) -> R {
        try body(buffer)
    }
}

/// Reads objects straight from a repository's packs, without libgit2: no locks (libgit2 shares
/// pack windows across handles behind a global mutex, which serialised our walk threads), zlib
/// called directly, deltas applied here, and recently used delta bases kept in a bounded cache.
/// Not thread-safe: one per `ObjectDatabase`, hence one per thread.
final class PackReader {
    /// A pack entry: which of `packs`, and the offset of its header.
    struct Location: Equatable {
        var pack: Int
        var offset: Int
    }

    /// Reads an object from outside the packs (loose, alternates): a REF_DELTA's base may live there.
    typealias ReadElsewhere = (ObjectID) throws(GitError) -> (type: UInt8, bytes: ObjectBytes)?

    let packs: [PackFile]
    private var lastPack = 0
    private let stream: UnsafeMutablePointer<z_stream>
    private let cache = DeltaBaseCache()
    /// Reused output for undeltified objects and inflated delta instructions, so the common reads allocate nothing.
    private let scratch = ScratchBuffer()
    private let deltaScratch = ScratchBuffer()
    private var chain: [ChainLink] = []
    var readElsewhere: ReadElsewhere?

    /// Git caps chains at 4095 (`pack.depth`); anything much longer is a REF_DELTA cycle.
    private static let maximumChainLength = 10_000

    private struct ChainLink {
        var location: Location
        var header: PackFile.EntryHeader
    }

    /// Opens every version-2 index in `directories` (`objects/pack`, then the alternates') with its
    /// pack, newest first as git searches them. A missing directory means no packs; an index whose
    /// pack is gone is skipped.
    convenience init(packDirectories directories: [BytePath]) throws(GitError) {
        var found: [(pack: PackFile, time: Timestamp)] = []
        var listed: [(directory: BytePath, name: BytePath)] = []
        for directory in directories {
            do {
                let names = try FileSystem.statusIfPresent(directory) == nil ? [] : try FileSystem.listDirectory(directory)
                listed += names.map { (directory, $0) }
            } catch {
                throw GitError(code: -1, operation: "list \(directory)", message: error.message)
            }
        }
        for (directory, name) in listed where name.bytes.count > 4 && name.bytes.suffix(4).elementsEqual(".idx".utf8) {
            let indexPath = directory.appending(name)
            let packPath = BytePath(Array(indexPath.bytes.dropLast(4)) + Array(".pack".utf8))
            // A pack deleted since the listing (a concurrent repack) is skipped, as if never listed.
            do {
                guard let status = try? FileSystem.statusIfPresent(packPath), status.kind == .regular,
                    let index = try PackIndex.open(indexPath)
                else { continue }
                found.append((try PackFile(index: index, packPath: packPath), status.modificationTime))
            } catch  where error.isNotFound {
                continue
            }
        }
        try self.init(packs: found.sorted { $0.time > $1.time }.map(\.pack))
    }

    /// A reader of its own (zlib stream, caches) over packs another reader opened: the mapped
    /// files are immutable, so threads share them, each through views of its own.
    convenience init(sharing packs: [PackFile]) throws(GitError) {
        try self.init(packs: packs.map(PackFile.init(viewOf:)))
    }

    private init(packs: [PackFile]) throws(GitError) {
        self.packs = packs
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard gitmtime_inflate_init(stream) == Z_OK else {
            stream.deallocate()
            throw GitError(code: -1, operation: "read packs", message: "cannot initialise zlib")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Where `id` is packed; nil when no pack has it. Tries the pack of the last hit first.
    func locate(_ id: ObjectID) throws(GitError) -> Location? {
        guard !packs.isEmpty else { return nil }
        if let offset = try packs[lastPack].index.offset(of: id) { return Location(pack: lastPack, offset: offset) }
        for pack in packs.indices where pack != lastPack {
            if let offset = try packs[pack].index.offset(of: id) {
                lastPack = pack
                return Location(pack: pack, offset: offset)
            }
        }
        return nil
    }

    /// Calls `body` with the object's type (1 commit, 2 tree, 3 blob, 4 tag) and bytes, which are
    /// valid only during the call.
    func withObject<R>(
        at location: Location,
        _ body: (UInt8, UnsafeRawBufferPointer) throws(GitError) -> R
    ) throws(GitError) -> R {
        switch try resolve(location, owned: false) {
        case .owned(let type, let bytes): return try bytes.withBuffer { buffer throws(GitError) in try body(type, buffer) }
        case .scratch(let type, let buffer): return try body(type, UnsafeRawBufferPointer(buffer))
        }
    }

    /// The object's type and bytes in memory the caller may keep (possibly shared with the cache:
    /// never written after it is made).
    func objectBytes(at location: Location) throws(GitError) -> (type: UInt8, bytes: ObjectBytes) {
        switch try resolve(location, owned: true) {
        case .owned(let type, let bytes): return (type, bytes)
        case .scratch: fatalError("resolve(owned: true) returned scratch memory")
        }
    }

    private enum Resolved {
        case owned(UInt8, ObjectBytes)
        /// An undeltified object inflated into the reused buffer: valid until the next read.
        case scratch(UInt8, UnsafeMutableRawBufferPointer)
    }

    private func resolve(_ location: Location, owned: Bool) throws(GitError) -> Resolved {
        chain.removeAll(keepingCapacity: true)
        var current = location
        var base: ObjectBytes
        var type: UInt8
        // The cache key of `base` (nil: it came from outside the packs) and whether it is cached already.
        var baseKey: Int?
        var baseIsCached: Bool
        resolve: while true {
            let key = DeltaBaseCache.key(current)
            if let hit = cache.object(for: key) {
                (type, base, baseKey, baseIsCached) = (hit.type, hit.bytes, key, true)
                break resolve
            }
            let pack = packs[current.pack]
            let header = try pack.entryHeader(at: current.offset)
            switch header.type {
            case PackFile.offsetDelta:
                chain.append(ChainLink(location: current, header: header))
                current.offset = header.baseOffset
            case PackFile.referenceDelta:
                chain.append(ChainLink(location: current, header: header))
                if let next = try locate(header.baseID) {
                    current = next
                } else if let outside = try readElsewhere?(header.baseID) {
                    (type, base, baseKey, baseIsCached) = (outside.type, outside.bytes, nil, false)
                    break resolve
                } else {
                    throw pack.corrupt("delta base \(header.baseID) not found", at: current.offset)
                }
            default:
                if chain.isEmpty && !owned {
                    // Not a delta: inflate into the reused buffer, nothing to keep.
                    let output = try scratch.reserve(header.size)
                    try inflate(pack, header, at: current.offset, into: output)
                    return .scratch(header.type, output)
                }
                let bytes = try ObjectBytes.make(count: header.size)
                try inflate(
                    pack, header, at: current.offset,
                    into: UnsafeMutableRawBufferPointer(start: bytes.pointer, count: bytes.count))
                (type, base, baseKey, baseIsCached) = (header.type, bytes, key, false)
                break resolve
            }
            guard chain.count <= PackReader.maximumChainLength else {
                throw pack.corrupt("delta chain longer than \(PackReader.maximumChainLength)", at: location.offset)
            }
        }
        // Apply the deltas from the base up. Every object used as a base goes into the cache: the
        // walk reads neighbouring versions of the same trees, whose chains share those bases.
        var index = chain.count
        while index > 0 {
            index -= 1
            let link = chain[index]
            if !baseIsCached, let key = baseKey { cache.insert(base, type: type, for: key) }
            let pack = packs[link.location.pack]
            let delta = try deltaScratch.reserve(link.header.size)
            try inflate(pack, link.header, at: link.location.offset, into: delta)
            let key = DeltaBaseCache.key(link.location)
            // An intermediate result goes into the cache slot its key maps to, next round: the
            // object it would evict there lends its storage instead of being freed (a walk applies
            // millions of deltas). The final result is the caller's.
            var evictee = index > 0 ? cache.evictee(for: key) : nil
            base = try PackReader.apply(UnsafeRawBufferPointer(delta), to: base, reusing: &evictee, pack, at: link.location.offset)
            baseKey = key
            baseIsCached = false
        }
        return .owned(type, base)
    }

    /// Inflates an entry's zlib stream into exactly `output.count` bytes; anything else is corruption.
    private func inflate(
        _ pack: PackFile, _ header: PackFile.EntryHeader, at offset: Int,
        into output: UnsafeMutableRawBufferPointer
    ) throws(GitError) {
        guard output.count <= Int(UInt32.max) else { throw pack.corrupt("object of \(output.count) bytes is too large", at: offset) }
        guard inflateReset(stream) == Z_OK else { throw pack.corrupt("zlib reset failed", at: offset) }
        let input = pack.data.base + header.dataStart
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(min(pack.dataEnd - header.dataStart, Int(UInt32.max)))
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(output.count)
        let result = CLibGit2.inflate(stream, Z_FINISH)
        guard result == Z_STREAM_END, stream.pointee.avail_out == 0 else {
            let reason =
                result == Z_STREAM_END || result == Z_BUF_ERROR && stream.pointee.avail_out == 0
                ? "inflated size differs from the header's \(output.count)"
                : "bad zlib stream (\(result))"
            throw pack.corrupt(reason, at: offset)
        }
        pack.data.noteRead(Int(stream.pointee.total_in))
    }

    /// Git's delta format: base size, result size (both base-128 little-endian), then copy
    /// instructions (offset and length into the base) and inserts (literal bytes).
    static func apply(
        _ delta: UnsafeRawBufferPointer, to base: ObjectBytes, _ pack: PackFile, at offset: Int
    ) throws(GitError) -> ObjectBytes {
        var nothing: ObjectBytes?
        return try apply(delta, to: base, reusing: &nothing, pack, at: offset)
    }

    /// The same, writing the result into `reusing` when `ObjectBytes.make(count:reusing:)` can.
    static func apply(
        _ delta: UnsafeRawBufferPointer, to base: ObjectBytes, reusing: inout ObjectBytes?, _ pack: PackFile,
        at offset: Int
    ) throws(GitError) -> ObjectBytes {
        let end = delta.count
        var position = 0
        func size() throws(GitError) -> Int {
            var value = 0, shift = 0
            while true {
                guard position < end, shift <= 56 else { throw pack.corrupt("bad delta header", at: offset) }
                let byte = delta[position]
                position += 1
                value |= Int(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
        }
        // A copy's offset (flag bits 0–3) and size (bits 4–6): each set bit brings the operand's
        // next byte, least significant first.
        func operand(_ command: UInt8, flags: Range<Int>) throws(GitError) -> Int {
            var value = 0
            for flag in flags where command & (1 << flag) != 0 {
                guard position < end else { throw pack.corrupt("truncated delta copy", at: offset) }
                value |= Int(delta[position]) << (8 * (flag - flags.lowerBound))
                position += 1
            }
            return value
        }
        let baseSize = try size()
        guard baseSize == base.count else {
            throw pack.corrupt("delta expects a base of \(baseSize) bytes, got \(base.count)", at: offset)
        }
        let resultSize = try size()
        // An instruction of at most 8 bytes copies at most 16 MiB: a larger claim is corrupt.
        guard resultSize >= 0, resultSize / 0x100_0000 <= end else {
            throw pack.corrupt("delta result size \(resultSize) is impossible", at: offset)
        }
        let result = try ObjectBytes.make(count: resultSize, reusing: &reusing)
        let output = result.pointer
        let source = base.pointer
        var written = 0
        let input = delta.baseAddress!
        while position < end {
            let command = input.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if command & 0x80 != 0 {
                let copyOffset = try operand(command, flags: 0..<4)
                var copySize = try operand(command, flags: 4..<7)
                if copySize == 0 { copySize = 0x10000 }
                guard copyOffset + copySize <= base.count, copySize <= resultSize - written else {
                    throw pack.corrupt("delta copies outside its base or result", at: offset)
                }
                (output + written).copyMemory(from: source + copyOffset, byteCount: copySize)
                written += copySize
            } else if command != 0 {
                let count = Int(command)
                guard count <= end - position, count <= resultSize - written else {
                    throw pack.corrupt("delta insert runs past its end", at: offset)
                }
                (output + written).copyMemory(from: input + position, byteCount: count)
                written += count
                position += count
            } else {
                throw pack.corrupt("reserved delta instruction 0", at: offset)
            }
        }
        guard written == resultSize else {
            throw pack.corrupt("delta produced \(written) of \(resultSize) bytes", at: offset)
        }
        return result
    }
}

/// A growable buffer reused across reads.
private final class ScratchBuffer {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0

    /// At least `count` bytes (plus one, so even an empty object has a valid pointer); contents undefined.
    func reserve(_ count: Int) throws(GitError) -> UnsafeMutableRawBufferPointer {
        if count + 1 > capacity || storage == nil {
            free(storage)
            capacity = max(count + 1, capacity * 2, 4096)
            storage = malloc(capacity)
            guard storage != nil else {
                capacity = 0
                throw GitError(code: -1, operation: "read object", message: "cannot allocate \(count) bytes")
            }
        }
        return UnsafeMutableRawBufferPointer(start: storage, count: count)
    }

    deinit { free(storage) }
}

/// Recently used delta bases, direct-mapped by pack offset and bounded in bytes; like git's
/// `core.deltaBaseCacheLimit` (96 MiB), but per reader and without locks. Keys sit in their own
/// table so a miss touches no object references. Sized for Linux-scale histories: git packs a
/// directory's older trees as deltas of still older ones, so walking from HEAD, one read resolves
/// a chain whose intermediate results are the next reads of that directory, and they must stay
/// until then (32,768 slots: 5.5 M deltas applied in a cold walk of the Linux-shaped bench
/// history; 65,536: 4.0 M).
private final class DeltaBaseCache {
    private static let slotBits = 16
    private static let slotCount = 1 << slotBits
    private static let byteLimit = 96 << 20
    /// A single object bigger than this would flush most of the cache for one use.
    private static let largestObject = byteLimit / 8

    private let keys = UnsafeMutablePointer<Int>.allocate(capacity: slotCount)
    private let types = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount)
    private let objects = UnsafeMutablePointer<ObjectBytes?>.allocate(capacity: slotCount)
    private var bytesHeld = 0
    private var evictionHand = 0

    init() {
        keys.initialize(repeating: -1, count: DeltaBaseCache.slotCount)
        types.initialize(repeating: 0, count: DeltaBaseCache.slotCount)
        objects.initialize(repeating: nil, count: DeltaBaseCache.slotCount)
    }

    deinit {
        objects.deinitialize(count: DeltaBaseCache.slotCount)
        objects.deallocate()
        types.deallocate()
        keys.deallocate()
    }

    /// Offsets below 2^40 (1 TiB packs) and packs below 2^23 fit one key.
    static func key(_ location: PackReader.Location) -> Int { location.pack << 40 | location.offset }

    @inline(__always)
    private static func slot(for key: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slotBits))
    }

    func object(for key: Int) -> (type: UInt8, bytes: ObjectBytes)? {
        let slot = DeltaBaseCache.slot(for: key)
        guard keys[slot] == key, let bytes = objects[slot] else { return nil }
        return (types[slot], bytes)
    }

    /// What inserting for `key` would evict, taken out now, when the cache holds its only reference.
    func evictee(for key: Int) -> ObjectBytes? {
        let slot = DeltaBaseCache.slot(for: key)
        guard isKnownUniquelyReferenced(&objects[slot]), let object = objects[slot] else { return nil }
        bytesHeld -= object.count
        objects[slot] = nil
        keys[slot] = -1
        return object
    }

    func insert(_ bytes: ObjectBytes, type: UInt8, for key: Int) {
        guard bytes.count <= DeltaBaseCache.largestObject else { return }
        let slot = DeltaBaseCache.slot(for: key)
        bytesHeld += bytes.count - (objects[slot]?.count ?? 0)
        keys[slot] = key
        types[slot] = type
        objects[slot] = bytes
        // Over the limit: drop entries round-robin (not the one just stored) until a quarter is free.
        guard bytesHeld > DeltaBaseCache.byteLimit else { return }
        while bytesHeld > DeltaBaseCache.byteLimit * 3 / 4 {
            evictionHand = (evictionHand + 1) & (DeltaBaseCache.slotCount - 1)
            guard evictionHand != slot, let evicted = objects[evictionHand] else { continue }
            bytesHeld -= evicted.count
            objects[evictionHand] = nil
            keys[evictionHand] = -1
        }
    }
}
