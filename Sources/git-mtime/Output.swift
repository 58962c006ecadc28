import MtimeCore
import MtimeRestore

// Terminal output shared by the commands: paths need not be UTF-8, so raw writes, not `print`.

func printError(_ message: String) {
    try? FileDescriptor.standard(2).write(Array((message + "\n").utf8))
}

/// A single progress line on a terminal's stderr, redrawn at most ten times a second and erased at the end.
final class ProgressLine: @unchecked Sendable {
    private var lastDrawn = ContinuousClock.now - .seconds(1)
    private var visible = false

    func show(_ progress: RestoreProgress) {
        guard lastDrawn.duration(to: .now) >= .milliseconds(100) else { return }
        lastDrawn = .now
        let text: String
        switch progress {
        case .walkingHistory(let commits): text = "git-mtime: walking history: \(commits) commits"
        case .checkingFiles(let checked, let total): text = "git-mtime: checking files: \(checked)/\(total)"
        }
        printRaw("\r\(text)\u{1B}[K")
        visible = true
    }

    func erase() {
        guard visible else { return }
        printRaw("\r\u{1B}[K")
        visible = false
    }

    private func printRaw(_ text: String) {
        try? FileDescriptor.standard(2).write(Array(text.utf8))
    }
}

/// Writes raw bytes to stdout (paths in a manifest need not be UTF-8, so no `print`).
func writeStandardOutput(_ bytes: [UInt8]) throws(SystemError) {
    try FileDescriptor.standard(1).write(bytes)
}
