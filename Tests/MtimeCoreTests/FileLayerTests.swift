import Foundation
import MtimeCore
import Synchronization
import Testing
import TestSupport

/// A root with `a/victim`, and an outside directory holding a `victim` of its own that nothing
/// done below the root may ever reach.
private final class SwapWorld: @unchecked Sendable {
    let directory = TemporaryDirectory("core-file-layer")
    var root: String { directory.url("root") }
    var outside: String { directory.url("outside") }
    let outsideTime = Timestamp(seconds: 1_111_111_111, nanoseconds: 111)

    init() throws {
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("inside\n".utf8).write(to: URL(fileURLWithPath: root + "/a/victim"))
        try Data("outside\n".utf8).write(to: URL(fileURLWithPath: outside + "/victim"))
        try FileSystem.setModificationTime(BytePath(outside + "/victim"), to: outsideTime)
    }

    /// `a` becomes a symlink to the outside directory; the real one is kept as `a.real`.
    func swap() throws {
        try FileManager.default.moveItem(atPath: root + "/a", toPath: root + "/a.real")
        try FileManager.default.createSymbolicLink(atPath: root + "/a", withDestinationPath: outside)
    }

    func outsideUntouched() throws -> Bool {
        try modificationTime(outside + "/victim") == outsideTime
            && String(contentsOfFile: outside + "/victim", encoding: .utf8) == "outside\n"
    }
}

@Test func aHeldParentKeepsEveryOperationInsideTheRootAfterASwap() throws {
    let world = try SwapWorld()
    let tree = try DirectoryTree(root: BytePath(world.root))
    let (directory, name) = try tree.parent(of: BytePath("a/victim"))
    let hashedStatus = try directory.openFile(name).status()
    try world.swap()
    let wanted = Timestamp(seconds: 1_500_000_000, nanoseconds: 7)
    try directory.setModificationTime(of: name, to: wanted)
    #expect(try world.outsideUntouched())
    #expect(try modificationTime(world.root + "/a.real/victim") == wanted)
    #expect(try directory.status(name).isSameFile(as: hashedStatus))
}

@Test func nothingBelowTheRootIsFollowed() throws {
    let world = try SwapWorld()
    try world.swap()
    let tree = try DirectoryTree(root: BytePath(world.root))
    do {
        _ = try tree.parent(of: BytePath("a/victim"))
        Issue.record("a symlinked directory was followed")
    } catch {
        #expect(error.isSymlink, "\(error)")
        #expect(error.path == BytePath(world.root + "/a"))
    }
    #expect(throws: SystemError.self) { try tree.statusIfPresent(BytePath("a/victim")) }
    // The symlink itself is seen as a symlink, and its file as absent when reached without it.
    #expect(try tree.root.status(BytePath("a")).kind == .symlink)
    #expect(try tree.statusIfPresent(BytePath("a.real/victim"))?.kind == .regular)
    #expect(try tree.statusIfPresent(BytePath("a.real/victim/below")) == nil, "a file on the way is absence")
    #expect(try tree.statusIfPresent(BytePath("nowhere/victim")) == nil)
    // Opening a symlinked file for reading fails instead of reading the target.
    try FileManager.default.createSymbolicLink(atPath: world.root + "/link", withDestinationPath: world.outside + "/victim")
    #expect(throws: SystemError.self) { try tree.root.openFile(BytePath("link")) }
    #expect(try world.outsideUntouched())
}

@Test func namesThatWouldLeaveTheDirectoryAreRefused() throws {
    let world = try SwapWorld()
    let tree = try DirectoryTree(root: BytePath(world.root))
    for name in ["", ".", "..", "a/victim", "../outside", "nul\0byte", "/", "./", "a/", ".../..", "\0"] {
        do {
            _ = try tree.root.status(BytePath(name))
            Issue.record("'\(name)' was accepted as a single name")
        } catch {
            #expect(error.kind == .invalidArgument, "\(name): \(error)")
        }
        // The same name handed over as bytes (a slice of a longer path, as the lstat preload does).
        let padded = Array("x/\(name)/y".utf8)
        do {
            _ = try padded.withUnsafeBytes { bytes in
                Result { () throws(SystemError) in
                    try tree.root.statusIfPresent(nameBytes: UnsafeRawBufferPointer(rebasing: bytes[2..<(bytes.count - 2)]))
                }
            }.get()
            Issue.record("'\(name)' was accepted as a single name (as bytes)")
        } catch {
            #expect(error.kind == .invalidArgument, "\(name) as bytes: \(error)")
            #expect(error.path == tree.root.pathOf(BytePath(name)), "\(name) as bytes")
        }
    }
    // Names that are single names: the by-bytes status is the by-name one (nil when absent).
    for name in ["a", "...", ".a", "a.", "absent"] {
        let padded = Array("x/\(name)/y".utf8)
        let byBytes = try padded.withUnsafeBytes { bytes in
            Result { () throws(SystemError) in
                try tree.root.statusIfPresent(nameBytes: UnsafeRawBufferPointer(rebasing: bytes[2..<(bytes.count - 2)]))
            }
        }.get()
        #expect(byBytes == (try tree.root.statusIfPresent(BytePath(name))), "\(name)")
    }
}

@Test func writeAtomicallyReplacesASymlinkInsteadOfWritingThroughIt() throws {
    let world = try SwapWorld()
    let root = try HeldDirectory(opening: BytePath(world.root))
    try FileManager.default.createSymbolicLink(atPath: world.root + "/stamp", withDestinationPath: world.outside + "/victim")
    try root.writeAtomically(BytePath("stamp"), contents: Array("new\n".utf8), permissions: 0o640)
    #expect(try String(contentsOfFile: world.root + "/stamp", encoding: .utf8) == "new\n")
    #expect(try root.status(BytePath("stamp")).kind == .regular)
    #expect(try root.status(BytePath("stamp")).mode & 0o777 == 0o640)
    #expect(try world.outsideUntouched())
    #expect(try root.names().map(\.description).sorted() == ["a", "stamp"], "no temporary left")
}

/// The class, not the case: a thread keeps swapping `a` for a symlink to the outside while the
/// main thread resolves, stats and sets times through the tree, as the guard does. Whatever
/// interleaving happens, each operation either reaches the real file or fails; the outside never changes.
@Test func aRacingSwapperNeverRedirectsAnOperation() throws {
    let world = try SwapWorld()
    let stop = Atomic<Bool>(false)
    let swaps = Atomic<Int>(0)
    let root = world.root, outside = world.outside
    let swapper = Thread {
        while !stop.load(ordering: .relaxed) {
            // rename(2) and symlink(2) directly: each step is atomic, the window between them is the race.
            rename(root + "/a", root + "/a.real")
            symlink(outside, root + "/a")
            unlink(root + "/a")
            rename(root + "/a.real", root + "/a")
            swaps.add(1, ordering: .relaxed)
        }
    }
    swapper.start()
    defer { stop.store(true, ordering: .relaxed) }
    var succeeded = 0, refused = 0
    for round in 0..<3000 {
        do {
            let tree = try DirectoryTree(root: BytePath(root))
            let (directory, name) = try tree.parent(of: BytePath("a/victim"))
            let file = try directory.openFile(name)
            _ = try file.status()
            try file.setModificationTime(to: Timestamp(seconds: 1_500_000_000 + Int64(round)))
            try directory.setModificationTime(of: name, to: Timestamp(seconds: 1_500_000_000 + Int64(round)))
            succeeded += 1
        } catch {
            #expect(error.isSymlink || error.isAbsent, "\(error)")
            refused += 1
        }
    }
    stop.store(true, ordering: .relaxed)
    while !swapper.isFinished { usleep(1000) }
    #expect(swaps.load(ordering: .relaxed) > 0)
    #expect(succeeded > 0)
    #expect(try world.outsideUntouched(), "\(succeeded) operations succeeded, \(refused) refused")
}

@Test func errorsCarryPathAndNamedErrno() throws {
    let world = try SwapWorld()
    let tree = try DirectoryTree(root: BytePath(world.root))
    do {
        _ = try tree.root.openFile(BytePath("absent"))
        Issue.record("opened a missing file")
    } catch {
        #expect(error.isNotFound && error.isAbsent && !error.isPermissionDenied)
        #expect(error.path == BytePath(world.root + "/absent"))
        #expect(error.description == "\(world.root)/absent: cannot open: No such file or directory")
    }
}

/// `writeAtomically` never turns a device, FIFO or socket into a regular file (as root, /dev/null
/// named as an output would become one); `writeOutput`, for paths a user names with `-o`, writes
/// through them and through symlinks, as a shell's `>` does, and still replaces regular files whole.
@Test func outputsNeverReplaceSpecialFilesOrSymlinksTheUserNamed() throws {
    let directory = TemporaryDirectory("special-outputs")
    let fifo = BytePath(directory.url("fifo")), file = BytePath(directory.url("file")), link = BytePath(directory.url("link"))
    #expect(mkfifo(fifo.description, 0o644) == 0)
    #expect(throws: SystemError.self) { try FileSystem.writeAtomically(fifo, contents: Array("x".utf8)) }
    #expect(try FileSystem.status(fifo).kind == .other)

    // A reader on the FIFO receives what writeOutput writes; the FIFO stays a FIFO.
    // The read end is opened first, without blocking, so the write end opens at once: no thread, no hang.
    let reader = open(fifo.description, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    try #require(reader >= 0)
    defer { close(reader) }
    try FileSystem.writeOutput(fifo, contents: Array("through the fifo\n".utf8))
    var received = [UInt8](repeating: 0, count: 64)
    let count = read(reader, &received, received.count)
    #expect(count >= 0 && Array(received[..<max(count, 0)]) == Array("through the fifo\n".utf8))
    #expect(try FileSystem.status(fifo).kind == .other)

    try Data("old\n".utf8).write(to: URL(fileURLWithPath: file.description))
    try FileManager.default.createSymbolicLink(atPath: link.description, withDestinationPath: "file")
    try FileSystem.writeOutput(link, contents: Array("new\n".utf8))
    #expect(try FileSystem.status(link).kind == .symlink)
    #expect(try String(contentsOfFile: file.description, encoding: .utf8) == "new\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["fifo", "file", "link"])
}

/// The one reader of files by name (`FileDescriptor.readRegularFile`, behind `FileSystem.readFile`,
/// `HeldDirectory.readRegularFile` and `ConfinedPath.readContents`) against everything that is not
/// a regular file: refused by type before a byte is read, whichever way the file was reached.
@Test func everyReaderRefusesWhatIsNotARegularFileBeforeReading() throws {
    let directory = TemporaryDirectory("core-read-regular")
    let fifo = directory.url("fifo"), held = directory.url("held"), link = directory.url("zero"), folder = directory.url("folder")
    #expect(mkfifo(fifo, 0o644) == 0 && mkfifo(held, 0o644) == 0)
    // A writer that never writes: a blocking read of `held` would wait for ever.
    let writer = open(held, O_RDWR | O_CLOEXEC)
    defer { close(writer) }
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    let parent = try HeldDirectory(opening: BytePath(directory.path))

    for (path, kind) in [(fifo, "a FIFO"), (held, "a FIFO"), (folder, "a directory"), ("/dev/zero", "a character device")] {
        do {
            _ = try FileSystem.readFile(BytePath(path), limit: 1 << 20)
            Issue.record("\(path) was read")
        } catch {
            #expect(error.isNotRegularFile, "\(path): \(error)")
            #expect(error.description == "\(path): cannot read \(kind): not a regular file")
        }
        if path.hasPrefix(directory.path) {
            #expect(try parent.readRegularFile(BytePath(path).lastComponent, limit: 1 << 20) == nil, "\(path)")
            let (found, _) = try ConfinedPath.resolve(BytePath(path).lastComponent, under: BytePath(directory.path))
            #expect(throws: SystemError.self) { try found.get().readContents(limit: 1 << 20) }
        }
    }
    // A symlink to a device: refused as a symlink where links are not followed, as a device where they are.
    let notFollowed = #expect(throws: SystemError.self) { try FileSystem.readFile(BytePath(link), limit: 1 << 20) }
    #expect(notFollowed?.isSymlink == true)
    let followed = #expect(throws: SystemError.self) { try FileSystem.readFile(BytePath(link), limit: 1 << 20, followingSymlinks: true) }
    #expect(followed?.isNotRegularFile == true)
    // A regular file over the limit is refused from its size, before it is read (sparse: 1 TiB claimed).
    let huge = directory.url("huge")
    #expect(FileManager.default.createFile(atPath: huge, contents: nil) && truncate(huge, 1 << 40) == 0)
    let tooLarge = #expect(throws: SystemError.self) { try FileSystem.readFile(BytePath(huge), limit: 1 << 20) }
    #expect(tooLarge?.isTooLarge == true)
    // Standard input a FIFO, bounded too.
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let chunk = [UInt8](repeating: 0x61, count: 4096)
    for _ in 0..<3 { _ = chunk.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) } }
    close(ends[1])
    let tooMuchInput = #expect(throws: SystemError.self) { try FileSystem.readToEnd(descriptor: ends[0], name: "<pipe>", limit: 8192) }
    #expect(tooMuchInput?.isTooLarge == true)
    close(ends[0])
}

/// The descriptor table is grown up front to reach a full cache of held directories (growing it
/// later, with threads running, waits for an RCU grace period per doubling), and nothing is left
/// open at the number that grew it.
@Test func theDescriptorTableIsGrownUpFrontAndNothingStaysOpen() throws {
    let reached = try #require(DirectoryTree.reserveDescriptorTable(), "the test process has its descriptors free")
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("FDSize:") })
    let size = try #require(Int(line.dropFirst("FDSize:".count).trimmingCharacters(in: .whitespaces)))
    #expect(size > Int(reached), "FDSize \(size)")
    #expect(fcntl(reached, F_GETFD) == -1 && errno == EBADF)
    var limit = rlimit()
    #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
    #expect(Int(reached) < Int(clamping: limit.rlim_cur))
}
