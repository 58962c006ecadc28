import Synchronization

/// Where the two halves of a split first-parent walk meet. The newer half claims commits one by
/// one from HEAD; the older half, once it has read the line, picks where it starts (see `start`)
/// and the newer half stops there.
final class LineSplit: Sendable {
    private struct State {
        var claimed = 0
        var olderStart = Int.max
    }

    private let state = Mutex(State())
    private let finished = Atomic<Bool>(false)

    /// The newer half, before each commit: false once the older half has taken it.
    func claimNext() -> Bool {
        state.withLock { state in
            guard state.claimed < state.olderStart else { return false }
            state.claimed += 1
            return true
        }
    }

    /// The older half's first commit, for a line of `n` commits of which the newer half has
    /// claimed `c` while the older half read the whole line. Both halves then have equal work left
    /// if a commit costs the newer half what it costs the older one plus reading it, and reading
    /// the line took as long as the newer half's `c` commits: n² / (2n − c), n/2 when c is 0.
    func start(lineCount n: Int) -> Int {
        state.withLock { state in
            let c = state.claimed
            let balanced = c >= n ? c : Int((Double(n) * Double(n) / Double(2 * n - c)).rounded())
            state.olderStart = max(c, balanced)
            return state.olderStart
        }
    }

    /// The newer half ended without handing over: the older half's answers cannot matter.
    func finishNewerHalf() { finished.store(true, ordering: .releasing) }

    var newerHalfFinished: Bool { finished.load(ordering: .acquiring) }
}
