import Foundation
import Glibc
import MtimeCore
import Testing
import TestSupport

/// `ReadLease.holding(closing:)` ends the lease by closing the descriptor, with no `F_UNLCK`: a
/// writer that opened the file while we held the lease waits until then, and then goes on at once
/// (not after the kernel's `lease-break-time`, which is what a lease left behind would cost it).
@Test func aWriterWaitsForTheLeaseAndProceedsWhenTheDescriptorIsClosed() throws {
    let directory = TemporaryDirectory("read-lease")
    let path = directory.url("f")
    try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
    let breakSeconds =
        Double(
            (try? String(contentsOfFile: "/proc/sys/fs/lease-break-time", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 45
    try #require(breakSeconds >= 10, "lease-break-time is \(breakSeconds) s: too short to tell a release from a timeout")

    let file = try FileDescriptor(openForReading: BytePath(path))
    var writer: Subprocess?
    let closedAt = try ReadLease.withBreaksIgnored { () throws(SystemError) in
        try ReadLease.holding(closing: file) { (leased) throws(SystemError) -> ContinuousClock.Instant in
            #expect(leased, "a read lease on our own file opened read-only")
            writer = try? Subprocess(["sh", "-c", "printf 'new\\n' >> f"], in: directory.path)
            usleep(500_000)
            // Still waiting in its open(O_WRONLY): nothing written yet.
            #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "old\n", "the writer got in under the lease")
            return ContinuousClock.now
        }
    }
    let started = try #require(writer)
    let result = try #require(started.wait(timeout: breakSeconds / 2), "the writer still waits after the close")
    let waited = ContinuousClock.now - closedAt
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\nnew\n")
    #expect(waited < .seconds(breakSeconds / 2), "the writer proceeded only after \(waited)")
}
