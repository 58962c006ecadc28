import Glibc
import Synchronization

/// How a child process ended.
public enum Termination: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)

    /// What a shell reports: the exit code, or 128 + the signal that killed it.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

/// INT, TERM, HUP and QUIT that reach this process go on to the child `ChildProcess.run` is
/// waiting for, and are remembered so a caller can stop before starting anything new (and `run`
/// never seals a build that was told to stop). A signal this process inherited as ignored (`nohup`
/// ignores HUP, a shell's background job INT and QUIT) stays ignored, here and in every child.
public enum SignalForwarding {
    public static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    static let child = Atomic<Int32>(0)
    static let received = Atomic<Int32>(0)

    /// The forwarded signals whose disposition was SIG_IGN before `install` first ran.
    public static let inheritedIgnored: [Int32] = forwarded.filter { signal in
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0 else { return false }
        // SIG_IGN is the handler value 1; Swift imports it as a function pointer, so compare bits.
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1
    }

    /// The signals `install` handles: the forwarded ones that were not inherited as ignored.
    public static var handled: [Int32] { forwarded.filter { !inheritedIgnored.contains($0) } }

    /// Installs the handlers. No SA_RESTART: a blocking wait (for a lock, say) returns EINTR, so
    /// Ctrl-C there stops the caller instead of being swallowed.
    public static func install() {
        for signal in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                SignalForwarding.received.store(signal, ordering: .relaxed)
                let pid = SignalForwarding.child.load(ordering: .relaxed)
                if pid > 0 { kill(pid, signal) }
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// Sleeps `nanoseconds`, resuming after interruptions, except that it returns early once a
    /// forwarded signal arrived (the caller stops rather than waiting on).
    public static func sleep(nanoseconds: Int64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR && pending == nil { request = remaining }
    }

    /// The last forwarded signal received, if any.
    public static var pending: Int32? {
        let signal = received.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}

/// Programs git-mtime and the guard run: `posix_spawnp` (PATH lookup like a shell), default signal
/// dispositions in the child (except signals inherited as ignored), and a `waitpid` that survives
/// interrupted system calls.
public enum ChildProcess {
    /// Runs `arguments` sharing this process's standard streams and waits for it, forwarding
    /// `SignalForwarding.forwarded` to it meanwhile. `environment` replaces this process's
    /// environment for the child when given.
    public static func run(_ arguments: [ProcessArgument], environment: [String: String]? = nil) throws(ChildProcessError) -> Termination {
        precondition(!arguments.isEmpty, "run needs a command")
        // Block the forwarded signals until the child's pid is published, so none is lost.
        var forwarded = sigset_t(), previous = sigset_t()
        sigemptyset(&forwarded)
        for signal in SignalForwarding.forwarded { sigaddset(&forwarded, signal) }
        sigprocmask(SIG_BLOCK, &forwarded, &previous)
        defer { sigprocmask(SIG_SETMASK, &previous, nil) }
        SignalForwarding.install()
        // The child gets the forwarded signals deliverable even if whoever started us had them
        // blocked (a dispatch worker thread blocks nearly all).
        var childMask = previous
        for signal in SignalForwarding.forwarded { sigdelset(&childMask, signal) }
        let pid: pid_t
        do { pid = try spawn(arguments, redirections: [], nullStandardInput: false, signalMask: childMask, environment: environment) } catch
        { throw .notStarted(error) }
        SignalForwarding.child.store(pid, ordering: .relaxed)
        defer { SignalForwarding.child.store(0, ordering: .relaxed) }
        if let signal = SignalForwarding.pending { kill(pid, signal) }
        sigprocmask(SIG_UNBLOCK, &forwarded, nil)
        do { return try wait(pid, command: BytePath(arguments[0].bytes)) } catch { throw .notWaitedFor(error) }
    }

    /// Runs to completion with stdin from /dev/null; stdout and stderr together are returned.
    public static func capture(_ arguments: [ProcessArgument]) throws(SystemError) -> (termination: Termination, output: String) {
        let (termination, output) = try captureBytes(arguments, includingStandardError: true)
        return (termination, String(decoding: output, as: UTF8.self))
    }

    /// Runs to completion with stdin from /dev/null; its stdout comes back as bytes (paths need not
    /// be UTF-8), and with `includingStandardError` its stderr in the same stream, else on ours.
    public static func captureBytes(_ arguments: [ProcessArgument], includingStandardError: Bool) throws(SystemError)
        -> (termination: Termination, output: [UInt8])
    {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SystemError.last("create a pipe for", BytePath(arguments[0].bytes)) }
        // Glibc's module map does not export pipe2: mark both ends close-on-exec by hand.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var none = sigset_t()
        sigemptyset(&none)
        let pid: pid_t
        do {
            var redirections: [(from: Int32, to: Int32)] = [(ends[1], 1)]
            if includingStandardError { redirections.append((ends[1], 2)) }
            pid = try spawn(arguments, redirections: redirections, nullStandardInput: true, signalMask: none)
        } catch {
            close(ends[0]); close(ends[1])
            throw error
        }
        close(ends[1])
        let output = (try? FileSystem.readToEnd(descriptor: ends[0], name: arguments[0].description)) ?? []
        close(ends[0])
        return (try wait(pid, command: BytePath(arguments[0].bytes)), output)
    }

    private static func wait(_ pid: pid_t, command: BytePath) throws(SystemError) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw SystemError.last("wait for", command) }
        }
        // WIFEXITED / WTERMSIG are macros Swift can't import.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    private static func spawn(
        _ arguments: [ProcessArgument], redirections: [(from: Int32, to: Int32)],
        nullStandardInput: Bool, signalMask: sigset_t,
        environment: [String: String]? = nil
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if nullStandardInput { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        for redirection in redirections { posix_spawn_file_actions_adddup2(&actions, redirection.from, redirection.to) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Handled signals get the default action; inherited ignored ones stay ignored (exec keeps SIG_IGN).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in SignalForwarding.handled { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = signalMask
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        // The bytes as given (a word holding NUL would end early; no path or git argument holds one).
        let argv: [UnsafeMutablePointer<CChar>?] =
            arguments.map { argument in
                let copy = malloc(argument.bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
                for (index, byte) in argument.bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
                copy[argument.bytes.count] = 0
                return copy
            } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for variable in envp ?? [] { free(variable) } }
        var pid: pid_t = 0
        let result =
            envp.map { posix_spawnp(&pid, argv[0]!, &actions, &attributes, argv, $0) }
            ?? posix_spawnp(&pid, argv[0]!, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SystemError(operation: "run", path: BytePath(arguments[0].bytes), code: result) }
        return pid
    }
}

/// The process environment, read without Foundation (the static guard and start-up time care).
public enum Environment {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// A variable naming a path, as its bytes; nil when unset or empty.
    public static func path(_ name: String) -> BytePath? {
        getenv(name).map { BytePath(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A variable's value, nil when unset or empty.
    public static func nonEmpty(_ name: String) -> String? {
        value(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    public static func all() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}
