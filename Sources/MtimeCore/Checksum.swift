/// SHA-1 over arbitrary bytes, for integrity checks of our own files (not for security:
/// it catches truncation and corruption, and a foreign file never matches by accident).
public enum Checksum {
    public static func sha1<C: Collection>(_ bytes: C) -> ObjectID where C.Element == UInt8 {
        var hasher = SHA1()
        if bytes.withContiguousStorageIfAvailable({ hasher.update(UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(Array(bytes))
        }
        return hasher.finalize()
    }
}
