import Foundation
import Testing
@testable import Base
#if canImport(Glibc)
import Glibc
#endif

/// The writer's backpressure: a reader that stops reading holds `waitForRoom` until it reads again.
@Suite struct LineWriterTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    @Test func waitForRoomReturnsOnlyOnceTheReaderTakesBytes() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let writer = LineWriter(fd: fds[1])
        writer.send([UInt8](repeating: 0x61, count: 1 << 20) + [0x0A])  // far more than a pipe holds
        let done = Flag()
        let waiter = Task {
            await writer.waitForRoom(atMost: 64 * 1024)
            done.set()
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!done.isSet, "room while nobody reads")
        // Read it all; the waiter must come back.
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        while total < (1 << 20) + 1 {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            total += n
        }
        await waiter.value
        #expect(done.isSet)
        writer.close()
        close(fds[1])
    }

    @Test func aCancelledWaiterReturnsAtOnce() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writer = LineWriter(fd: fds[1])
        writer.send([UInt8](repeating: 0x62, count: 1 << 20) + [0x0A])
        let waiter = Task { await writer.waitForRoom(atMost: 0) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await waiter.value  // would hang if cancellation did not resume it
        signal(SIGPIPE, SIG_IGN)
        close(fds[0])  // the writer thread now fails with EPIPE and ends
        #expect(!writer.drain(timeout: .seconds(5)))
        writer.close()
        close(fds[1])
    }
}
