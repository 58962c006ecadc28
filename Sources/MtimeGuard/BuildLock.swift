import MtimeCore
import MtimeManifest

/// One guarded build at a time per output directory. Builds that share the directory the stamp lives
/// in (a BuildKit cache mount is shared by concurrent builds unless it says `sharing=locked`) would
/// otherwise interleave: B prepares against the stamp that A's build is about to replace, A's build
/// writes outputs from A's sources, B's build finds them newer than B's unbumped sources and keeps
/// them, and B's image holds A's program. `run` holds the lock from before `prepare` until after
/// `seal`; `prepare` and `seal` on their own hold it while they work (docs/stamp.md, "Concurrent builds").
public enum BuildLock {
    /// `.<stamp name>.lock` beside the stamp: one of the stamp's own siblings, which the outputs
    /// digest leaves out. It exists only while a build holds it (`FileLock(exclusive:in:waiting:)`).
    public static func name(forStamp stampName: BytePath) -> BytePath {
        BytePath([UInt8(ascii: ".")] + stampName.bytes + Array(".lock".utf8))
    }

    /// Takes the lock in `location`'s directory, calling `waiting` once if another build holds it
    /// and then waiting for it, however long its build takes. Nil when the directory does not exist
    /// yet (no outputs to share) or can't be written (no stamp can be sealed there either).
    public static func acquire(_ location: RootedLocation, waiting: (_ lock: BytePath) -> Void) throws(GuardError) -> FileLock? {
        guard let directory = location.directory else { return nil }
        let name = name(forStamp: location.name)
        do {
            return try FileLock(exclusive: name, in: directory) { waiting(directory.pathOf(name)) }
        } catch {
            switch error.kind {
            case .readOnlyFileSystem, .permissionDenied, .notPermitted: return nil
            case .notRegularFile:
                throw .usage("the build lock \(directory.pathOf(name)) is a directory; remove it; nothing was changed")
            default: throw .io(error)
            }
        }
    }
}
