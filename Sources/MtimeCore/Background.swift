import Dispatch

/// Work started on another thread at once; `value()` waits for its result. Ask once.
public final class Background<Value>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    // Written once by the worker before `finished` is signalled, read after waiting for it.
    private var result: Result<Value, any Error>?

    public init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async {
            self.result = Result { try body() }
            self.finished.signal()
        }
    }

    public func value() throws -> Value {
        finished.wait()
        return try result!.get()
    }
}
