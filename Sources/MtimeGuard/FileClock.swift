import MtimeCore

/// The clock the kernel stamps files with (coarse: it lags CLOCK_REALTIME by up to a tick).
public enum FileClock {
    /// Waits until that clock reaches `time`, at most three steps of `granularity` (a second at
    /// least: a time further ahead, such as an output dated 2037, is not waited for); returns early
    /// once a forwarded signal arrived.
    public static func wait(until time: Timestamp, granularity: Int64) {
        let limit = 3 * max(granularity, 1_000_000_000)
        while SignalForwarding.pending == nil {
            let now = FileSystem.coarseNow()
            // Compared in seconds first: a far time would overflow nanoseconds.
            guard now < time, time.seconds - now.seconds <= limit / 1_000_000_000 else { return }
            let wait = (time.seconds - now.seconds) * 1_000_000_000 + Int64(time.nanoseconds) - Int64(now.nanoseconds)
            guard wait <= limit else { return }
            // The coarse clock lags CLOCK_REALTIME by up to a tick: a short second round may follow.
            SignalForwarding.sleep(nanoseconds: max(wait, 1_000_000))
        }
    }
}
