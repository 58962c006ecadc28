import Dispatch
import Glibc

/// Work started on a thread of its own at once; `value()` waits for its result. Ask once.
///
/// Its own thread, not the dispatch pool: work started this way waits for other such work (the
/// working-tree read waits for the stat cache, which waits for its checksum), and pool threads
/// blocked in a wait left the pool with none to run what they waited for (a warm restore stalled
/// ~0.8 s until libdispatch noticed and added one).
public final class Background<Value>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    // Written once by the worker before `finished` is signalled, read after waiting for it.
    private var result: Result<Value, any Error>?

    public init(_ body: @escaping @Sendable () throws -> Value) {
        let work = Work {
            self.result = Result { try body() }
            self.finished.signal()
        }
        let context = Unmanaged.passRetained(work).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had (EAGAIN): do the work now, on the caller's.
            Unmanaged<Work>.fromOpaque(context).takeRetainedValue().run()
        }
    }

    public func value() throws -> Value {
        finished.wait()
        return try result!.get()
    }
}

/// The closure a `Background` thread runs, passed through `pthread_create`'s context pointer.
private final class Work {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

extension Background where Value == Void {
    /// Lets go of `value` on a thread of its own: freeing a plan's 64,000 index entries and paths is
    /// work nothing waits for, and the caller's thread has the rest of the run to do.
    public static func release(_ value: consuming Any) {
        _ = Background { [kept = UncheckedBox(value)] in withExtendedLifetime(kept) {} }
    }
}

/// A value handed to the thread that frees it; nothing reads it.
private final class UncheckedBox: @unchecked Sendable {
    let value: Any
    init(_ value: Any) { self.value = value }
}
