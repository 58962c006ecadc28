import Glibc
import MtimeCore

/// Why an index file libgit2 failed to read cannot be read, in git's words (`read-cache.c`):
/// libgit2's own message is misleading here (it says "no longer exists" for a file that is there but
/// too short, or a directory), and the index may come from `GIT_INDEX_FILE`, which the user must be
/// told about.
public enum IndexFileProblem: Sendable, Equatable, CustomStringConvertible {
    case unreadable(SystemError)
    case notARegularFile
    /// Shorter than a header and a checksum.
    case tooSmall
    case badSignature
    case badVersion(UInt32)
    /// The header is right; an entry or the checksum is not.
    case corrupt

    /// Looks at the file itself.
    static func diagnose(_ path: BytePath) -> IndexFileProblem {
        do throws(SystemError) {
            let resolved = try FileSystem.resolve(path)
            let file = try FileDescriptor(openForReading: resolved)
            let status = try file.status()
            guard status.kind == .regular else { return .notARegularFile }
            guard status.size >= 32 else { return .tooSmall }
            var header = [UInt8](repeating: 0, count: 8)
            var count = 0
            var failure: SystemError?
            header.withUnsafeMutableBytes { buffer in
                do throws(SystemError) { count = try file.read(into: buffer) } catch { failure = error }
            }
            if let failure { throw failure }
            guard count == 8 else { return .tooSmall }
            guard header[0..<4] == Array("DIRC".utf8)[...] else { return .badSignature }
            let version = header[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard (2...4).contains(version) else { return .badVersion(version) }
            return .corrupt
        } catch {
            return .unreadable(error)
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let error): return error.message
        case .notARegularFile: return "not a regular file"
        case .tooSmall: return "index file smaller than expected"
        case .badSignature: return "bad signature (not a git index)"
        case .badVersion(let version): return "bad index version \(version)"
        case .corrupt: return "index file corrupt"
        }
    }
}
