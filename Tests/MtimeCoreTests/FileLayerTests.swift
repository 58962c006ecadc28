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
    for name in ["", ".", "..", "a/victim", "../outside", "nul\0byte"] {
        do {
            _ = try tree.root.status(BytePath(name))
            Issue.record("'\(name)' was accepted as a single name")
        } catch {
            #expect(error.kind == .invalidArgument, "\(name): \(error)")
        }
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
