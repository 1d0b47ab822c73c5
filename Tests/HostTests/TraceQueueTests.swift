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
