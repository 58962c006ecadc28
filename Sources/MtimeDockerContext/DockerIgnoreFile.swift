import MtimeCore

/// A `.dockerignore` read into patterns the way every Docker version reads it (BuildKit's
/// `dockerignore.ReadAll`, now moby/patternmatcher's `ignorefile.ReadAll`: the same code).
enum DockerIgnoreFile {
    /// bufio.Scanner's line limit: a longer line fails the read (`bufio.ErrTooLong`).
    static let maximumLineLength = 64 * 1024

    /// Lines split at `\n` (a trailing `\r` dropped, a final line without `\n` counted); a UTF-8 BOM
    /// dropped from the first; a line starting with `#` skipped (before any trimming, so ` #x` is a
    /// pattern); the rest trimmed of Unicode white space, empty ones skipped; a `!` split off and the
    /// remainder trimmed again; `filepath.Clean`ed; a leading `/` removed (unless it is all there is).
    static func readAll(_ contents: [UInt8], file: String) throws(DockerIgnoreError) -> [(
        pattern: [UInt8], origin: DockerIgnoreError.Origin
    )] {
        var patterns: [(pattern: [UInt8], origin: DockerIgnoreError.Origin)] = []
        var lineNumber = 0
        var start = 0
        while start < contents.count {
            let newline = contents[start...].firstIndex(of: UInt8(ascii: "\n"))
            var line = contents[start..<(newline ?? contents.count)]
            start = (newline ?? contents.count) + 1
            guard line.count < maximumLineLength else {
                throw DockerIgnoreError(
                    origin: .init(file: file, line: lineNumber + 1), reason: "bufio.Scanner: token too long (a line of 64 KiB or more)")
            }
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if lineNumber == 0, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            lineNumber += 1
            if line.first == UInt8(ascii: "#") { continue }
            var pattern = GoStrings.trimSpace(line)
            if pattern.isEmpty { continue }
            let invert = pattern.first == UInt8(ascii: "!")
            if invert { pattern = GoStrings.trimSpace(pattern.dropFirst()) }
            var cleaned: [UInt8] = []
            if !pattern.isEmpty {
                cleaned = GoStrings.clean(Array(pattern))
                if cleaned.count > 1, cleaned.first == UInt8(ascii: "/") { cleaned.removeFirst() }
            }
            patterns.append(((invert ? [UInt8(ascii: "!")] : []) + cleaned, .init(file: file, line: lineNumber)))
        }
        return patterns
    }
}

/// A pattern or path in a message: escaped as paths are everywhere else, in quotes.
func quoted(_ bytes: [UInt8]) -> String { "\"\(PathEscaping.display(bytes))\"" }
