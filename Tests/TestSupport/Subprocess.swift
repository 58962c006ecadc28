import Foundation
import Glibc
import MtimeCore

/// A child process started with `posix_spawn`, for tests that run programs concurrently.
///
/// Not Foundation's `Process`: on Linux it closes descriptors it does not own (a shared
/// `FileHandle.nullDevice` among them), so under parallel tests a freed number is reused by another
/// test's pipe and one child's stderr lands in another child's stdin. Here every descriptor is
/// created, handed to exactly one child and closed exactly once, under one lock, so no concurrent
/// spawn inherits another's pipe.
public final class Subprocess: @unchecked Sendable {
    /// Where a child's stdout or stderr goes.
    public enum Output: Sendable { case capture, discard }

    public let arguments: [String]
    public let pid: pid_t
    private var readers: [Thread] = []
    private let collected = Collected()
    private var finished: ProcessResult?

    /// Serialises pipe creation (whose close-on-exec flag is set in a second call) with spawning.
    private static let spawnLock = NSLock()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not export.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Starts `arguments` (looked up on PATH) in `directory` with `environment` over this process's
    /// own; `input` is written to its stdin and closed (stdin is /dev/null when nil).
    public init(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        input: [UInt8]? = nil, stdout: Output = .capture, stderr: Output = .capture
    ) throws {
        precondition(!arguments.isEmpty, "Subprocess needs a command")
        self.arguments = arguments
        // `env -C` changes directory in the child: Swift's Glibc does not export addchdir_np.
        let command = ["/usr/bin/env"] + (directory.map { ["-C", $0] } ?? []) + arguments
        var environmentLines = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        environmentLines.sort()

        Subprocess.spawnLock.lock()
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        func pipeEnds() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw TestFailure("pipe: \(String(cString: strerror(errno)))") }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            return (ends[0], ends[1])
        }
        var inputEnd: Int32 = -1
        var outputEnds: [(fd: Int32, isStdout: Bool)] = []
        let spawned: pid_t
        do {
            if input != nil {
                let ends = try pipeEnds()
                posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
                childEnds.append(ends.read); parentEnds.append(ends.write); inputEnd = ends.write
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            for (output, target) in [(stdout, Int32(1)), (stderr, Int32(2))] {
                switch output {
                case .discard:
                    posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                case .capture:
                    let ends = try pipeEnds()
                    posix_spawn_file_actions_adddup2(&actions, ends.write, target)
                    childEnds.append(ends.write); parentEnds.append(ends.read)
                    outputEnds.append((ends.read, target == 1))
                }
            }
            // Descriptors other code in this process opened without close-on-exec (Foundation's
            // `Data.write`) must not reach the child: a hook file held open there makes running it
            // fail with ETXTBSY.
            _ = Subprocess.closeFrom?(&actions, 3)
            let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
            let envp: [UnsafeMutablePointer<CChar>?] = environmentLines.map { strdup($0) } + [nil]
            defer { for pointer in argv + envp { free(pointer) } }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
            guard result == 0 else { throw TestFailure("spawn \(arguments[0]): \(String(cString: strerror(result)))") }
            spawned = pid
        } catch {
            for fd in parentEnds + childEnds { close(fd) }
            Subprocess.spawnLock.unlock()
            throw error
        }
        for fd in childEnds { close(fd) }
        Subprocess.spawnLock.unlock()
        pid = spawned

        // Feed stdin and drain both outputs on their own threads, so a chatty child never blocks.
        let collected = self.collected
        if let input, inputEnd >= 0 {
            let fd = inputEnd
            let writer = Thread {
                input.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        if written < 0 { if errno == EINTR { continue }; break }
                        offset += written
                    }
                }
                close(fd)
            }
            readers.append(writer)
        }
        for (fd, isStdout) in outputEnds {
            readers.append(
                Thread {
                    var bytes: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        if count < 0 && errno == EINTR { continue }
                        if count <= 0 { break }
                        bytes += buffer[0..<count]
                    }
                    close(fd)
                    collected.store(bytes, stdout: isStdout)
                })
        }
        for thread in readers { thread.start() }
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child and its output. The status is the exit code, or 128 + the signal that
    /// killed it (as a shell reports it).
    @discardableResult
    public func wait() -> ProcessResult {
        if let finished { return finished }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        while readers.contains(where: { !$0.isFinished }) { usleep(1000) }
        let signal = status & 0x7F
        let result = ProcessResult(
            status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal,
            stdoutBytes: collected.stdout, stderrBytes: collected.stderr)
        finished = result
        return result
    }
}

extension Subprocess {
    /// Waits at most `seconds` for the child: its result, or nil when it was still running then (a
    /// hang), in which case it is killed (SIGKILL) and reaped, so a hanging program fails its test
    /// instead of stalling the run.
    public func wait(timeout seconds: Double) -> ProcessResult? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if hasExited { return wait() }
            usleep(10_000)
        }
        if hasExited { return wait() }
        self.signal(SIGKILL)
        _ = wait()
        return nil
    }

    /// Whether the child is a zombie (exited, not yet reaped): `/proc/<pid>/stat`'s state `Z`,
    /// read without reaping, so `wait()` still gets the status.
    private var hasExited: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "Z"
    }
}

/// The two outputs, written by the reader threads and read after they finish.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var outputs: [Bool: [UInt8]] = [:]
    func store(_ bytes: [UInt8], stdout: Bool) { lock.lock(); outputs[stdout] = bytes; lock.unlock() }
    var stdout: [UInt8] { lock.lock(); defer { lock.unlock() }; return outputs[true] ?? [] }
    var stderr: [UInt8] { lock.lock(); defer { lock.unlock() }; return outputs[false] ?? [] }
}
