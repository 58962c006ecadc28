import GitKit
import MtimeCore
import MtimeRestore

/// Tells a working tree git has just created (a clone's first checkout, `git worktree add`), where
/// no build output can exist yet, from a checkout with no previous HEAD over a tree that may hold
/// outputs (`git checkout -f main` from an orphan branch, `git init; git fetch; git checkout -f main`
/// in an existing directory). Only the first may get a full restore; docs/hooks.md.
///
/// Decided from HEAD's reflog, which git writes before the hook runs: a clone leaves exactly one
/// entry, from the null id, `clone: from …`; `git worktree add` leaves the new HEAD's creation and
/// at most a `reset: moving to HEAD` that stays on the same commit. Anything else (a `checkout:`
/// entry, HEAD having moved, no reflog at all) is not fresh: the hook treats it as a rewrite, which
/// is always safe.
enum FreshCheckout {
    static func isFresh(_ repository: Repository) throws -> Bool {
        // A clone's reflog is one short line: one that can't be read as such (larger than any fresh
        // checkout writes, not a regular file, missing) means not fresh, the safe answer.
        guard let log = try? FileSystem.readFile(repository.gitDirectory.appending("logs/HEAD"), limit: 1 << 20) else { return false }
        let entries = log.split(separator: UInt8(ascii: "\n")).map(ReflogEntry.init)
        guard let first = entries.first, first.old == .zero, let created = first.new else { return false }
        if entries.count == 1 && first.message.starts(with: "clone: ".utf8) { return true }
        return repository.isWorktree && entries.count <= 2
            && entries.dropFirst().allSatisfy {
                $0.old == created && $0.new == created && $0.message.elementsEqual("reset: moving to HEAD".utf8)
            }
    }

    /// `<old> <new> <identity> <time> <zone>\t<message>`.
    private struct ReflogEntry {
        let old: ObjectID?
        let new: ObjectID?
        let message: ArraySlice<UInt8>

        init(_ line: ArraySlice<UInt8>) {
            let tab = line.firstIndex(of: UInt8(ascii: "\t"))
            message = tab.map { line[(line.index(after: $0))...] } ?? []
            let fields = line[..<(tab ?? line.endIndex)].split(separator: UInt8(ascii: " "), maxSplits: 2)
            old = fields.count > 0 ? ObjectID(hex: String(decoding: fields[0], as: UTF8.self)) : nil
            new = fields.count > 1 ? ObjectID(hex: String(decoding: fields[1], as: UTF8.self)) : nil
        }
    }
}
