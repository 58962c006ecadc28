#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MtimeCore
import Synchronization

/// The child `run` waits for; signal handlers forward to it (0: none yet).
private let runningChild = Atomic<Int32>(0)

private func forwardSignal(_ signal: Int32) {
    let child = runningChild.load(ordering: .relaxed)
    if child > 0 { kill(child, signal) }
}

/// Runs the build command with the guard's stdio, passing INT, TERM, HUP and QUIT on to it.
public enum CommandRunner {
    public static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Spawns `arguments` (the first looked up on PATH) and waits; the result is the child's exit
    /// status, or 128 + the signal that killed it, as a shell reports it.
    public static func run(_ arguments: [String]) throws(GuardError) -> Int32 {
        precondition(!arguments.isEmpty, "run needs a command")
        // Block the forwarded signals until the child's pid is known, so none is lost or misdirected.
        var forwarded = sigset_t(), previous = sigset_t()
        sigemptyset(&forwarded)
        for signal in forwardedSignals { sigaddset(&forwarded, signal) }
        sigprocmask(SIG_BLOCK, &forwarded, &previous)
        defer { sigprocmask(SIG_SETMASK, &previous, nil) }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        for signal in forwardedSignals { sigaction(signal, &action, nil) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default dispositions and the forwarded signals deliverable, even if
        // whoever started the guard had them blocked (a dispatch worker thread blocks nearly all).
        var childMask = previous
        for signal in forwardedSignals { sigdelset(&childMask, signal) }
        posix_spawnattr_setsigmask(&attributes, &childMask)
        posix_spawnattr_setsigdefault(&attributes, &forwarded)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawnResult = posix_spawnp(&pid, argv[0]!, nil, &attributes, argv, environ)
        guard spawnResult == 0 else {
            throw .spawn(command: arguments[0], error: SystemError(operation: "run", path: BytePath(arguments[0]), code: spawnResult))
        }
        runningChild.store(pid, ordering: .relaxed)
        sigprocmask(SIG_UNBLOCK, &forwarded, nil)

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                runningChild.store(0, ordering: .relaxed)
                throw .io(SystemError.last("wait for \(arguments[0])", nil))
            }
        }
        runningChild.store(0, ordering: .relaxed)
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
