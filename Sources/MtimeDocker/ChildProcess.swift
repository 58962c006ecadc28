#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// How a child process ended.
public enum Termination: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// Programs the wrapper runs: `posix_spawnp` (PATH lookup like a shell), standard streams either
/// inherited or captured, and a `waitpid` that survives interrupted system calls.
enum ChildProcess {
    /// Runs to completion with stdin from /dev/null; stdout and stderr together are returned.
    static func capture(_ arguments: [String]) throws(ChildProcessError) -> (termination: Termination, output: String) {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw ChildProcessError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        // Glibc's module map does not export pipe2: mark both ends close-on-exec by hand.
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do throws(ChildProcessError) {
            pid = try spawn(arguments, redirections: [(pipeEnds[1], 1), (pipeEnds[1], 2)], nullStandardInput: true)
        } catch {
            close(pipeEnds[0]); close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count > 0 { output += buffer[..<count]; continue }
            if count < 0, errno == EINTR { continue }
            break
        }
        close(pipeEnds[0])
        return (wait(pid), String(decoding: output, as: UTF8.self))
    }

    /// Starts a program that shares this process's standard streams.
    static func start(_ arguments: [String]) throws(ChildProcessError) -> pid_t {
        try spawn(arguments, redirections: [], nullStandardInput: false)
    }

    static func wait(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(127) }
        }
        // WIFEXITED / WTERMSIG are macros Swift can't import.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    private static func spawn(_ arguments: [String], redirections: [(from: Int32, to: Int32)],
                              nullStandardInput: Bool) throws(ChildProcessError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if nullStandardInput { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        for redirection in redirections { posix_spawn_file_actions_adddup2(&actions, redirection.from, redirection.to) }
        // The child starts with default dispositions for the signals the wrapper catches and forwards.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in SignalForwarding.forwarded { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            throw ChildProcessError(description: "cannot run \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// INT, TERM and HUP that reach the wrapper go on to the running docker client (which then cancels
/// its build), and are remembered so the wrapper stops before starting anything new.
enum SignalForwarding {
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    static let child = Atomic<Int32>(0)
    static let received = Atomic<Int32>(0)

    static func install() {
        for signal in forwarded {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                SignalForwarding.received.store(signal, ordering: .relaxed)
                let pid = SignalForwarding.child.load(ordering: .relaxed)
                if pid > 0 { kill(pid, signal) }
            }
            sigemptyset(&action.sa_mask)
            // No SA_RESTART: a blocking wait for the lock returns EINTR, so Ctrl-C there stops the wrapper.
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// The signal received so far, if any.
    static var pending: Int32? {
        let signal = received.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}
