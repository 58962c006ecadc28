import Glibc

/// glibc's malloc serves each block of 128 KiB or more with a mapping of its own and unmaps it when
/// freed (raising that threshold only as such blocks are freed), so the next large block starts as
/// fresh pages that fault in one at a time; and it gives the top of the heap back to the kernel
/// past 128 KiB free. A warm restore of 64,000 files allocates and frees tens of megabytes of
/// arrays (file bytes, decoded caches, per-path tables): kept in the heap instead, later blocks
/// reuse pages already faulted in (~1,400 fewer page faults of ~18,800, ~4 % of its CPU time).
/// Blocks of 32 MiB or more (the largest threshold glibc takes) are still mapped on their own.
/// Only for an executable's own start: it changes the whole process's allocator.
public enum FreedMemoryReuse {
    public static func enable() {
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
    }

    // <malloc.h>, which the Glibc module does not import.
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
}

@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
