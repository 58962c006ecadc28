import Crypto

/// SHA-1 over arbitrary bytes, for integrity checks of our own files (not for security:
/// it catches truncation and corruption, and a foreign file never matches by accident).
public enum Checksum {
    public static func sha1<C: Collection>(_ bytes: C) -> ObjectID where C.Element == UInt8 {
        var hasher = Insecure.SHA1()
        if let done = bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) {
            _ = done
        } else {
            hasher.update(data: Array(bytes))
        }
        return hasher.finalize().withUnsafeBytes { ObjectID(loading: $0.baseAddress!) }
    }
}
