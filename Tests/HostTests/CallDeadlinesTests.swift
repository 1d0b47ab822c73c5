import Foundation
import Synchronization
import Testing
@testable import Host

/// The one thread that fires the deadlines of running calls.
@Suite struct CallDeadlinesTests {
    @Test func aDeadlineFiresOnceAndOnlyWhenItsCallIsStillRunning() async throws {
        let deadlines = CallDeadlines()
        let fired = Mutex<[String]>([])
        let finished = deadlines.watch(until: .now + .milliseconds(30)) { fired.withLock { $0.append("finished") } }
        _ = deadlines.watch(until: .now + .milliseconds(30)) { fired.withLock { $0.append("running") } }
        deadlines.cancel(finished)
        let start = ContinuousClock.now
        while fired.withLock({ $0.isEmpty }), ContinuousClock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(fired.withLock { $0 } == ["running"])
        #expect(deadlines.watching == 0)
    }

    @Test func aSoonerDeadlineWakesTheThreadSleepingTowardsALaterOne() async throws {
        let deadlines = CallDeadlines()
        let fired = Mutex<[Int]>([])
        _ = deadlines.watch(until: .now + .seconds(60)) { fired.withLock { $0.append(60) } }
        try await Task.sleep(for: .milliseconds(20))   // the thread now sleeps towards the 60 s deadline
        _ = deadlines.watch(until: .now + .milliseconds(20)) { fired.withLock { $0.append(0) } }
        let start = ContinuousClock.now
        while fired.withLock({ $0.isEmpty }), ContinuousClock.now - start < .seconds(50) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(fired.withLock { $0 } == [0])
        // Well before the 60 s deadline the thread slept towards (a loaded machine once took 11 s to get here).
        #expect(ContinuousClock.now - start < .seconds(50))
        #expect(deadlines.watching == 1)
    }

    @Test func deadlinesFireInTheirOrderWhateverOrderTheyCameIn() async throws {
        let deadlines = CallDeadlines()
        let fired = Mutex<[Int]>([])
        let base = ContinuousClock.now + .milliseconds(40)
        for n in [5, 1, 4, 2, 3, 0] {
            _ = deadlines.watch(until: base + .milliseconds(n * 15)) { fired.withLock { $0.append(n) } }
        }
        let start = ContinuousClock.now
        while fired.withLock({ $0.count < 6 }), ContinuousClock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(fired.withLock { $0 } == [0, 1, 2, 3, 4, 5])
    }

    @Test func finishedCallsDoNotPileUpInTheHeap() {
        let deadlines = CallDeadlines()
        for _ in 0..<50_000 {
            deadlines.cancel(deadlines.watch(until: .now + .seconds(3600)) {})
        }
        #expect(deadlines.watching == 0)
        #expect(deadlines.heapSize <= 4096 + 1)
    }
}
