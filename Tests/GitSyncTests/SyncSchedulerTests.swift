import Foundation
import Testing
@testable import GitSync

/// The scheduler with a runner that records its calls and finishes when told.
final class ScriptedRunner: @unchecked Sendable {
    private let lock = NSLock()
    private var verdicts: [SyncRunVerdict]
    private(set) var calls: [(String, Bool)] = []
    private var running = 0
    private(set) var mostAtOnce = 0
    let delay: UInt64

    private var gated: Bool

    init(verdicts: [SyncRunVerdict] = [], delayMilliseconds: UInt64 = 50, gated: Bool = false) {
        self.verdicts = verdicts
        self.delay = delayMilliseconds * 1_000_000
        self.gated = gated
    }

    /// Lets gated runs finish.
    func open() { lock.withLock { gated = false } }
    private var isGated: Bool { lock.withLock { gated } }

    func run(_ name: String, _ explicit: Bool) async -> (SyncRunVerdict, Int) {
        let (verdict, count) = begin(name, explicit)
        try? await Task.sleep(nanoseconds: delay)
        while isGated { try? await Task.sleep(nanoseconds: 5_000_000) }
        end()
        return (verdict, count)
    }

    private func begin(_ name: String, _ explicit: Bool) -> (SyncRunVerdict, Int) {
        lock.withLock {
            calls.append((name, explicit))
            running += 1
            mostAtOnce = max(mostAtOnce, running)
            return (verdicts.isEmpty ? .succeeded : verdicts.removeFirst(), calls.count)
        }
    }

    private func end() { lock.withLock { running -= 1 } }

    var callCount: Int { lock.lock(); defer { lock.unlock() }; return calls.count }
}

@Suite struct SyncSchedulerTests {
    func scheduler(_ runner: ScriptedRunner, maxConcurrent: Int = 4, backoff: Double = 30) -> SyncScheduler<Int> {
        SyncScheduler(settings: SchedulerSettings(maxConcurrent: maxConcurrent, jitter: 0, backoff: backoff, maxBackoff: 120),
                      runner: { await runner.run($0, $1) })
    }

    @Test func aSourceTheRegistrySaysIsNotDueYetWaitsAndAFreshOneIsDueNow() async {
        let runner = ScriptedRunner(delayMilliseconds: 1)
        let s = scheduler(runner)
        let now = Date()
        let later = now.addingTimeInterval(600)
        await s.update([ScheduledSource(name: "synced", interval: 900, configDigest: "1", notBefore: later, failures: 2),
                        ScheduledSource(name: "fresh", interval: 900, configDigest: "1")], now: now)
        let schedule = await s.schedule()
        #expect(schedule["synced"]?.next == later)
        #expect(schedule["synced"]?.failures == 2)
        #expect(schedule["fresh"]?.next == now)
        // What the registry remembers only counts the first time: an update keeps the scheduler's own.
        await s.update([ScheduledSource(name: "synced", interval: 900, configDigest: "1", notBefore: now.addingTimeInterval(5000))], now: now)
        #expect(await s.schedule()["synced"]?.next == later)
    }

    @Test func aSourceAnotherHostJustCheckedIsNextDueOneIntervalAfterThatCheckNotAfterThisRun() async throws {
        let checked = Date().addingTimeInterval(-200)
        let runner = ScriptedRunner(verdicts: [.failed, .checkedElsewhere(at: checked)], delayMilliseconds: 1)
        let s = scheduler(runner, backoff: 30)
        await s.update([ScheduledSource(name: "a", interval: 600, configDigest: "1")])
        _ = await s.trigger("a")
        #expect(await s.schedule()["a"]?.failures == 1)
        _ = await s.trigger("a")
        let entry = try #require(await s.schedule()["a"])
        // In step with the host that fetched: due 600 s after its check, and the failure is forgotten.
        #expect(entry.next == checked.addingTimeInterval(600))
        #expect(entry.failures == 0 && !entry.stalled)
    }

    @Test func triggersDuringARunCoalesceIntoExactlyOneFollowUp() async {
        let runner = ScriptedRunner(delayMilliseconds: 1, gated: true)
        let s = scheduler(runner)
        await s.update([ScheduledSource(name: "a", interval: 3600, configDigest: "1")])
        let first = Task { await s.trigger("a") }
        while runner.callCount == 0 { try? await Task.sleep(nanoseconds: 5_000_000) }
        let burst = (0..<20).map { _ in Task { await s.trigger("a") } }
        // Hold the first run until every trigger of the burst is waiting on it.
        while await s.followUpWaiters("a") < 20 { try? await Task.sleep(nanoseconds: 5_000_000) }
        runner.open()
        #expect(await first.value == 1)
        for task in burst { #expect(await task.value == 2) }
        #expect(runner.callCount == 2)
    }

    @Test func noMoreThanMaxConcurrentSourcesRunAtOnce() async {
        let runner = ScriptedRunner(delayMilliseconds: 50)
        let s = scheduler(runner, maxConcurrent: 4)
        let names = (0..<20).map { "s\($0)" }
        await s.update(names.map { ScheduledSource(name: $0, interval: 3600, configDigest: "1") })
        await withTaskGroup(of: Void.self) { group in
            for name in names { group.addTask { _ = await s.trigger(name) } }
        }
        #expect(runner.callCount == 20)
        #expect(runner.mostAtOnce <= 4)
    }

    @Test func failuresBackOffExponentiallyUpToTheCapAndSuccessResetsIt() async throws {
        let runner = ScriptedRunner(verdicts: [.failed, .failed, .failed, .failed, .succeeded], delayMilliseconds: 1)
        let s = scheduler(runner, backoff: 30)
        await s.update([ScheduledSource(name: "a", interval: 600, configDigest: "1")])
        var delays: [Double] = []
        for _ in 0..<5 {
            _ = await s.trigger("a")
            delays.append(try #require(await s.schedule()["a"]?.delay))
        }
        #expect(delays == [30, 60, 120, 120, 600])
        #expect(await s.schedule()["a"]?.failures == 0)
    }

    @Test func aStalledSourceIsRetriedWithBackoffAsARealAttemptAndRecoversWhenItsCauseGoesAway() async {
        let runner = ScriptedRunner(verdicts: [.stalled, .stalled, .succeeded], delayMilliseconds: 1)
        let s = scheduler(runner, backoff: 0.05)
        await s.update([ScheduledSource(name: "a", interval: 3600, configDigest: "1")])
        let loop = Task { await s.run() }
        while runner.callCount < 3 { try? await Task.sleep(nanoseconds: 5_000_000) }
        // The third run started; wait until its end is recorded.
        for _ in 0..<400 {
            let entry = await s.schedule()["a"]
            if entry?.stalled == false, entry?.running == false { break }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        #expect(runner.calls.first?.1 == false)  // the first run is the interval's
        #expect(runner.calls.dropFirst().allSatisfy { $0.1 }, "a stalled source's retry is forced past the stall")
        let after = await s.schedule()["a"]
        #expect(after?.stalled == false && after?.failures == 0)
        #expect(after?.delay == 3600, "back on its interval")
        loop.cancel()
        await loop.value
        await s.drain()
    }

    @Test func aSuccessfulSyncOnRequestClearsAStall() async {
        let runner = ScriptedRunner(verdicts: [.stalled, .succeeded], delayMilliseconds: 1)
        let s = scheduler(runner)
        await s.update([ScheduledSource(name: "a", interval: 600, configDigest: "1")])
        _ = await s.trigger("a")
        #expect(await s.schedule()["a"]?.stalled == true)
        #expect(await s.schedule()["a"]?.next != nil, "a stalled source is still scheduled")
        _ = await s.trigger("a")
        #expect(await s.schedule()["a"]?.stalled == false)
        #expect(await s.schedule()["a"]?.delay == 600)
    }

    @Test func aChangedIntervalLiftsAStall() async {
        let runner = ScriptedRunner(verdicts: [.stalled, .succeeded], delayMilliseconds: 1)
        let s = scheduler(runner)
        await s.update([ScheduledSource(name: "a", interval: 600, configDigest: "1")])
        _ = await s.trigger("a")
        await s.update([ScheduledSource(name: "a", interval: 60, configDigest: "1")])
        let entry = await s.schedule()["a"]
        #expect(entry?.stalled == false && entry?.failures == 0)
        #expect((entry?.next ?? .distantFuture) <= Date())
    }
}
