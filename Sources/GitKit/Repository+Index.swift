import CLibGit2
import MtimeCore

extension Repository {
    /// Every entry of the index as it is on disk now (re-read, not libgit2's cached copy), in index order
    /// (by path bytes, then stage).
    public func indexEntries() throws(RepositoryError) -> [IndexEntry] {
        try Repository.indexEntries(at: location)
    }

    /// `indexEntries()` of the repository at `location`, without a handle: safe on any thread.
    public static func indexEntries(at location: RepositoryLocation) throws(RepositoryError) -> [IndexEntry] {
        try indexEntries(at: location, bytes: indexFileBytes(at: location))
    }

    /// The index file's bytes as they are now (mapped: git replaces the index by renaming a new
    /// file over it, never rewrites it in place); nil when it can't be read (libgit2 then says why).
    public static func indexFileBytes(at location: RepositoryLocation) -> FileBytes? {
        try? FileBytes(contentsOf: location.indexFile, limit: 1 << 31)
    }

    /// `indexEntries(at:)` from the file's `bytes` as `indexFileBytes` read them (nil: unreadable);
    /// whatever the direct parse leaves to libgit2 is read again by libgit2.
    public static func indexEntries(at location: RepositoryLocation, bytes: FileBytes?) throws(RepositoryError) -> [IndexEntry] {
        if let bytes, let entries = bytes.withUnsafeBytes({ IndexFile.parse($0) }) { return entries }
        return try indexEntriesFromLibgit2(location)
    }

    /// Whether the index file's `bytes` end in the null hash (`index.skipHash=true`): read here, but
    /// libgit2 refuses such an index, for its attribute lookups too.
    public static func indexSkipsItsHash(_ bytes: FileBytes) -> Bool {
        bytes.withUnsafeBytes { IndexFile.hasNullTrailer($0) }
    }

    /// Where each entry's path lies in the index file's `bytes`, in file order, before (or while)
    /// the entries are decoded (`IndexFile.pathRanges`): unchecked, nil for a version-4 index.
    public static func indexPathRanges(in bytes: FileBytes) -> [IndexPathRange]? {
        bytes.withUnsafeBytes { IndexFile.pathRanges($0) }
    }

    /// What libgit2 reads from the index file: for whatever `IndexFile` leaves to it, and its errors.
    func indexEntriesFromLibgit2() throws(RepositoryError) -> [IndexEntry] {
        try Repository.indexEntriesFromLibgit2(location)
    }

    private static func indexEntriesFromLibgit2(_ location: RepositoryLocation) throws(RepositoryError) -> [IndexEntry] {
        // A standalone index object reads the file once; the repository's own index would be loaded
        // and then, to be sure it is current, read again (two parses and checksums of a large file).
        let raw = try Repository.openIndex(location)
        defer { git_index_free(raw) }
        let count = git_index_entrycount(raw)
        var entries: [IndexEntry] = []
        entries.reserveCapacity(count)
        for position in 0..<count {
            guard let entry = git_index_get_byindex(raw, position) else { continue }
            entries.append(IndexEntry(entry.pointee))
        }
        return entries
    }

    /// The index file itself (`<git dir>/index`, or `GIT_INDEX_FILE`): its mtime decides which
    /// entries are racily clean.
    public var indexFilePath: BytePath { location.indexFile }
}
