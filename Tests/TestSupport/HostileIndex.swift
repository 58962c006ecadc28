import Foundation
import MtimeCore

/// What git itself refuses to write: trees and an index holding a gitlink at any path (`../x`,
/// `a/../../x`), as a hostile or corrupted repository may have them. The trees are made with
/// `git mktree` (which checks no names); the index is written byte by byte (version 2).
extension GitRepository {
    /// Commits HEAD's tree plus a gitlink to `commit` at `path` (components joined by `/`, any
    /// names); `inIndex`: and writes an index of HEAD's files plus that gitlink, as if checked out.
    public func commitHostileGitlink(at path: String, commit: String, inIndex: Bool) throws {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var entry = "160000 commit \(commit)\t\(components.removeLast())\n"
        for component in components.reversed() {
            let tree = try runChecked(["git", "mktree"], in: self.path, input: entry).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            entry = "040000 tree \(tree)\t\(component)\n"
        }
        let files = try git("ls-files", "-s", "-z").split(separator: "\0").map { line -> (mode: UInt32, id: String, path: String) in
            let fields = line.split(separator: " ", maxSplits: 2)
            return (UInt32(fields[0], radix: 8)!, String(fields[1]), String(line[line.index(after: line.firstIndex(of: "\t")!)...]))
        }
        let top = try git("ls-tree", "HEAD") + entry
        let tree = try runChecked(["git", "mktree"], in: self.path, input: top).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let head = try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let next = try gitArray(["commit-tree", tree, "-p", head, "-m", "a gitlink at \(path)"], environment: dateEnvironment(clock))
        try git("update-ref", "HEAD", next.trimmingCharacters(in: .whitespacesAndNewlines))
        if inIndex { try writeIndex(files + [(0o160000, commit, path)]) }
    }

    /// `.git/index`, version 2, no extensions: `entries` with the sizes of the files on disk (so
    /// status hashes them instead of calling them modified), sorted as git sorts them (`sorted`;
    /// else in the order given, which git refuses and libgit2 sorts as it reads).
    public func writeIndex(_ entries: [(mode: UInt32, id: String, path: String)], sorted: Bool = true) throws {
        func word(_ value: UInt32, _ out: inout [UInt8]) { out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        var out = Array("DIRC".utf8)
        word(2, &out)
        word(UInt32(entries.count), &out)
        for entry in sorted ? entries.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) : entries {
            let start = out.count
            let size =
                entry.mode == 0o160000
                ? 0 : ((try? FileManager.default.attributesOfItem(atPath: directory.url(entry.path))[.size] as? Int) ?? 0)
            for _ in 0..<6 { word(0, &out) }  // ctime, mtime, dev, ino
            word(entry.mode, &out)
            word(0, &out); word(0, &out)  // uid, gid
            word(UInt32(size), &out)
            out += try unwrap(ObjectID(hex: entry.id), "id \(entry.id)").bytes
            let name = Array(entry.path.utf8)
            out += [UInt8(min(name.count, 0xFFF) >> 8), UInt8(min(name.count, 0xFFF) & 0xFF)]
            out += name
            repeat { out.append(0) } while (out.count - start) % 8 != 0
        }
        var hash = SHA1()
        hash.update(out)
        out += hash.finalize().bytes
        try Data(out).write(to: URL(fileURLWithPath: directory.url(".git/index")))
    }
}
