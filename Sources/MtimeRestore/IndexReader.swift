import GitKit
import MtimeCore

/// The index's entries, with the stat data git recorded. libgit2 1.5 refuses a split index
/// (`core.splitIndex=true`, `git update-index --split-index`: the entries are spread over `index`
/// and a `sharedindex.<id>` file) and a sparse index (`index.sparse=true`, `sparse-checkout
/// --sparse-index`: a directory outside the cone is one entry, the `sdir` extension; "index file
/// corrupt"), so for those git itself lists them, a sparse index expanded to every file
/// (`git ls-files --stage --debug -z`); every other index is read by libgit2.
///
/// libgit2 reads the index for attributes too, so with such an index nothing that asks it about
/// attributes works either: `isSplit` (split, sparse, or read here though libgit2 refuses it: an index
/// ending in the null hash, `index.skipHash`) tells callers to avoid that (see `CheckoutFilters`).
struct IndexReader {
    let entries: [IndexEntry]
    let isSplit: Bool

    init(_ repository: Repository, workdir: BytePath) throws {
        try self.init(repository.location, workdir: workdir)
    }

    /// Reads only files (and maybe runs git): safe on any thread. `bytes`: the index file as
    /// `Repository.indexFileBytes` read it (nil: unreadable); not given, it is read here.
    init(_ location: RepositoryLocation, workdir: BytePath, bytes: FileBytes?? = nil) throws {
        let bytes = bytes ?? Repository.indexFileBytes(at: location)
        do {
            entries = try Repository.indexEntries(at: location, bytes: bytes)
            isSplit = bytes.map(Repository.indexSkipsItsHash) ?? false
        } catch {
            guard try IndexReader.isSplit(location) || IndexReader.isSparse(bytes) else { throw error }
            entries = try IndexReader.listedByGit(location, workdir: workdir)
            isSplit = true
        }
    }

    private static func isSplit(_ location: RepositoryLocation) throws -> Bool {
        let names: [BytePath]
        do { names = try FileSystem.listDirectory(location.gitDirectory) } catch { throw RestoreError.system(error) }
        return names.contains { $0.bytes.starts(with: Array("sharedindex.".utf8)) }
    }

    /// The `sdir` extension git writes (always empty) into a sparse index. Asked only once libgit2
    /// has refused the file: a path that happens to hold these bytes just lets git list the index.
    private static func isSparse(_ file: FileBytes?) -> Bool {
        let header: [UInt8] = Array("sdir".utf8) + [0, 0, 0, 0]
        guard let file, file.count >= header.count else { return false }
        return file.withUnsafeBytes { bytes in
            (0...(bytes.count - header.count)).contains { bytes[$0] == header[0] && bytes[$0..<$0 + header.count].elementsEqual(header) }
        }
    }

    private static func listedByGit(_ location: RepositoryLocation, workdir: BytePath) throws -> [IndexEntry] {
        let gitDirectory = BytePath(location.gitDirectory.bytes + [UInt8(ascii: "/")])
        let arguments: [ProcessArgument] = [
            "git", "--git-dir=\(gitDirectory)", "--work-tree=\(workdir)", "ls-files", "--stage", "--debug", "-z",
        ]
        let result: (termination: Termination, output: [UInt8])
        do { result = try ChildProcess.captureBytes(arguments, includingStandardError: false) } catch {
            throw RestoreError.splitIndex(reason: error.description)
        }
        guard result.termination == .exited(0) else {
            throw RestoreError.splitIndex(reason: "`git ls-files` exited with \(result.termination.shellStatus)")
        }
        guard let entries = parse(result.output) else {
            throw RestoreError.splitIndex(reason: "`git ls-files --debug` printed something this version can't read")
        }
        return entries
    }

    /// Records of `<mode> <id> <stage>\t<path>\0` followed by five lines: `  ctime: S:N`,
    /// `  mtime: S:N`, `  dev: D\tino: I`, `  uid: U\tgid: G`, `  size: Z\tflags: HEX`.
    static func parse(_ output: [UInt8]) -> [IndexEntry]? {
        var entries: [IndexEntry] = []
        var position = output.startIndex
        func field(until terminator: UInt8) -> ArraySlice<UInt8>? {
            guard let end = output[position...].firstIndex(of: terminator) else { return nil }
            defer { position = end + 1 }
            return output[position..<end]
        }
        /// The numbers after each `name: ` on one debug line (`S:N` gives two).
        func numbers(_ line: ArraySlice<UInt8>, radix: [Int] = []) -> [UInt64]? {
            var values: [UInt64] = []
            for (index, part) in line.split(whereSeparator: { $0 == UInt8(ascii: "\t") }).enumerated() {
                guard let colon = part.firstIndex(of: UInt8(ascii: ":")) else { return nil }
                let text = String(decoding: part[(colon + 1)...], as: UTF8.self).trimmingWhitespace()
                for piece in text.split(separator: ":") {
                    guard let value = UInt64(piece, radix: radix.contains(index) ? 16 : 10) else { return nil }
                    values.append(value)
                }
            }
            return values
        }
        while position < output.endIndex {
            guard let header = field(until: 0), let tab = header.firstIndex(of: UInt8(ascii: "\t")) else { return nil }
            let fields = header[..<tab].split(separator: UInt8(ascii: " "))
            guard fields.count == 3, let mode = UInt32(String(decoding: fields[0], as: UTF8.self), radix: 8),
                let id = ObjectID(hex: String(decoding: fields[1], as: UTF8.self)),
                let stage = Int(String(decoding: fields[2], as: UTF8.self)),
                let ctime = field(until: 0x0A).flatMap({ numbers($0) }), ctime.count == 2,
                let mtime = field(until: 0x0A).flatMap({ numbers($0) }), mtime.count == 2,
                let device = field(until: 0x0A).flatMap({ numbers($0) }), device.count == 2,
                let owner = field(until: 0x0A).flatMap({ numbers($0) }), owner.count == 2,
                let size = field(until: 0x0A).flatMap({ numbers($0, radix: [1]) }), size.count == 2
            else { return nil }
            func time(_ pair: [UInt64]) -> Timestamp {
                Timestamp(seconds: Int64(pair[0]), nanoseconds: Int32(truncatingIfNeeded: pair[1]))
            }
            entries.append(
                IndexEntry(
                    path: BytePath(Array(header[(tab + 1)...])), objectID: id, mode: mode, stage: stage,
                    modificationTime: time(mtime), changeTime: time(ctime), inode: UInt32(truncatingIfNeeded: device[1]),
                    uid: UInt32(truncatingIfNeeded: owner[0]), gid: UInt32(truncatingIfNeeded: owner[1]),
                    fileSize: UInt32(truncatingIfNeeded: size[0]),
                    isSkipWorktree: size[1] & 0x4000_0000 != 0 /* CE_SKIP_WORKTREE */))
        }
        return entries
    }
}
