import Core
import Foundation
import GRDB
import Logging
import TestSupport
@testable import Registry
import Testing
@testable import Host
@testable import Plugins

/// The trace queue: a database that refuses writes loses no event, a full queue holds new calls
/// back, and a call that finds no room within its timeout fails and says why.
@Suite struct TraceQueueTests {
    /// Makes every insert into `trace_events` fail until `accept` runs, as a full disk would.
    struct Refusal {
        let pool: DatabasePool
        init(_ dir: String) throws {
            pool = try DatabasePool(path: dir + "/registry.db")
            try pool.write { db in
                try db.execute(sql: "CREATE TRIGGER refuse_traces BEFORE INSERT ON trace_events BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")
            }
        }
        func accept() throws { try pool.write { db in try db.execute(sql: "DROP TRIGGER refuse_traces") } }
        func events() throws -> [String] { try pool.read { db in try String.fetchAll(db, sql: "SELECT tool FROM trace_events ORDER BY id") } }
    }

    static func event(_ n: Int) -> TraceEvent {
        TraceEvent(at: TraceEvent.timestamp(), type: "tool.called", session: "s", spanId: "span\(n)", agent: "a", role: nil, group: nil,
                   tool: "tool\(n)", decision: "allow")
    }

    /// Waits (polling the recorder, at most 10 s) until the writer has been refused.
    static func refused(_ recorder: TraceRecorder) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while recorder.writerProblem == nil, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        return recorder.writerProblem != nil
    }

    @Test func aRefusedBatchStaysQueuedAndIsWrittenInOrderOnceTheDatabaseTakesWritesAgain() async throws {
        try await withTemporaryDirectory { dir in
            let recorder = TraceRecorder(registry: try RegistryDatabase(path: dir + "/registry.db"), logger: Logger(label: "test"))
            let refusal = try Refusal(dir)
            for n in 0..<5 { recorder.record(Self.event(n)) }
            #expect(await Self.refused(recorder))
            #expect(recorder.writerProblem?.contains("refused for the test") == true)
            #expect(recorder.unwritten == 5)
            for n in 5..<8 { recorder.record(Self.event(n)) }   // recorded while refused: queued behind the refused batch

            try refusal.accept()
            #expect(await recorder.flush(timeout: .seconds(30)))
            #expect(try refusal.events() == (0..<8).map { "tool\($0)" })
            #expect(recorder.writerProblem == nil)
        }
    }

    /// A sink that holds its first batch until told, and keeps what it was given.
    final class HeldSink: TraceSink, @unchecked Sendable {
        let gate = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var batches: [(firstIndex: Int, spans: [String])] = []
        var held = false
        func appendTraceEvents(_ events: [TraceEvent]) throws(RegistryError) {}
        func appendTraceEvents(_ events: [TraceEvent], writer: String, firstIndex: Int) throws(RegistryError) {
            lock.lock()
            let first = !held
            held = true
            lock.unlock()
            if first { gate.wait() }
            lock.lock()
            batches.append((firstIndex, events.map(\.spanId)))
            lock.unlock()
        }
        var entered: Bool { lock.lock(); defer { lock.unlock() }; return held }
    }

    @Test func eventsRecordedWhileABatchIsWrittenFollowItInOrderWithNoneLostOrRepeated() async throws {
        let sink = HeldSink()
        let recorder = TraceRecorder(sink: sink, logger: Logger(label: "test"), batchLimit: 100)
        recorder.record(Self.event(0))
        let deadline = ContinuousClock.now + .seconds(10)
        while !sink.entered, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(sink.entered)
        // While the writer holds its first batch, four tasks record 250 events each.
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask { for n in 0..<250 { recorder.record(Self.event(1 + t * 250 + n)) } }
            }
        }
        #expect(recorder.unwritten == 1001)
        sink.gate.signal()
        #expect(await recorder.flush(timeout: .seconds(30)))
        let batches = sink.lock.withLock { sink.batches }
        // Each batch starts where the one before ended, none is over the limit, and every event is there once.
        var next = 0
        for batch in batches {
            #expect(batch.firstIndex == next)
            #expect(batch.spans.count <= 100)
            next += batch.spans.count
        }
        let spans = batches.flatMap(\.spans)
        #expect(spans.count == 1001)
        #expect(Set(spans) == Set((0...1000).map { "span\($0)" }))
        #expect(spans.first == "span0")
        // Each task's own events keep the order it recorded them in.
        for t in 0..<4 {
            let own = spans.compactMap { Int($0.dropFirst(4)) }.filter { $0 >= 1 + t * 250 && $0 < 1 + (t + 1) * 250 }
            #expect(own == own.sorted())
        }
        #expect(recorder.unwritten == 0)
    }

    @Test func aFullQueueHoldsTheNextCallerBackUntilTheWriterCatchesUp() async throws {
        try await withTemporaryDirectory { dir in
            let recorder = TraceRecorder(registry: try RegistryDatabase(path: dir + "/registry.db"), logger: Logger(label: "test"), capacity: 4)
            #expect(await recorder.room(within: .milliseconds(1)))
            let refusal = try Refusal(dir)
            for n in 0..<4 { recorder.record(Self.event(n)) }
            #expect(await Self.refused(recorder))
            #expect(await recorder.room(within: .milliseconds(50)) == false)

            let waiting = Task { await recorder.room(within: .seconds(30)) }
            try refusal.accept()
            #expect(await waiting.value)
            #expect(await recorder.flush(timeout: .seconds(30)))
            #expect(try refusal.events().count == 4)
        }
    }

    @Test func aCallThatFindsNoRoomWithinItsTimeoutFailsBusyAndItsEventsAreStillWritten() async throws {
        try await withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            let logger = Logger(label: "test")
            let recorder = TraceRecorder(registry: registry, logger: logger, capacity: 2)
            var settings = ToolRouter.Settings()
            settings.timeout = .milliseconds(200)
            let router = try ToolRouter(plugins: [ProbePlugin()], policy: PolicyEngine(manifest: ManifestLoader.parse(probeManifest, file: "registry.yaml", environment: [:])),
                                        recorder: recorder, settings: settings, logger: logger, permissions: { _ in UnrestrictedPermissions() })
            let refusal = try Refusal(dir)

            let first = await router.call("echo", arguments: ["n": 1], caller: worker, session: "s")
            #expect(first.status == .succeeded)   // its two events wait in the queue, which is now full
            #expect(await Self.refused(recorder))
            let second = await router.call("echo", arguments: ["n": 2], caller: worker, session: "s")
            #expect(second.status == .failed)
            #expect(second.reason == "busy")
            #expect(second.result.text.contains("trace events wait to be written"))
            #expect(!second.result.text.contains("refused for the test"))   // the database's words stay in the log and the trace

            try refusal.accept()
            #expect(await recorder.flush(timeout: .seconds(30)))
            let types = try await registry.pool.read { db in try String.fetchAll(db, sql: "SELECT type FROM trace_events ORDER BY id") }
            #expect(types == ["tool.called", "tool.result", "tool.called", "tool.failed"])
        }
    }
}
