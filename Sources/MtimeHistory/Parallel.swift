import Dispatch
import Synchronization

/// Runs `body(0..<count)` on `count` threads and returns the results in order; rethrows the first error.
func inParallel<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: count) { index in
        let result = Result { try body(index) }
        results.withLock { $0[index] = result }
    }
    return try results.withLock { slots in try slots.map { try $0!.get() } }
}
