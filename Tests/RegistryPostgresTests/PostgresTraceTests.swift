import Base
import Core
import Foundation
import Host
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The trace writer on PostgreSQL: every event arrives (in order, in batches), what PostgreSQL
/// cannot store does not wedge the writer, and events recorded while the database is down wait in
/// the recorder's queue and are written once it is back.
@Suite(.serialized) struct PostgresTraceTests {
    static let logger = Logger(label: "test")

    static func event(_ n: Int, agent: String = "ada") -> TraceEvent {
        TraceEvent(at: "2026-12-07T07:00:00Z", type: "tool.called", session: "s\(n % 5)", spanId: String(format: "%016x", n), agent: agent,
                   role: "writer", group: nil, tool: "tool\(n)", decision: "allow", detail: .object(["n": .int(n)]))
    }

    @Test func everyEventArrivesInOrderAndANulDoesNotWedgeTheWriter() async throws {
        guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
        let registry = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { registry.close() }
        let recorder = TraceRecorder(sink: registry, logger: Self.logger)
        let mark = registry.changes.mark(.events)
        for n in 0..<3_000 { recorder.record(Self.event(n)) }
        var hostile = Self.event(3_000, agent: "eve\u{0}")
        hostile.detail = .object(["note": .string("a\u{0}b")])
        recorder.record(hostile)
        #expect(await recorder.flush(timeout: .seconds(60)))
        #expect(recorder.writerProblem == nil)
        let stored = try await registry.events(TraceQuery(limit: 5_000))
        #expect(stored.count == 3_001)
        #expect(stored.prefix(3_000).map(\.tool) == (0..<3_000).map { "tool\($0)" })
        #expect(stored.last?.agent == "eve\u{FFFD}" && stored.last?.detail?["note"]?.stringValue == "a\u{FFFD}b")
        let start = ContinuousClock.now
        while registry.changes.mark(.events) == mark, ContinuousClock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(registry.changes.mark(.events) != mark, "the events mark did not move")
    }

    @Test func eventsSentAgainInALargerBatchAreStoredOnce() async throws {
        let url = try await PrivatePostgres.sharedDatabase()
        guard case .postgres(let location) = try RegistryLocation.parse(url) else { return }
        let registry = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { registry.close() }
        // The first try was stored though the writer heard of a failure; the retry carries what was
        // recorded since as well, and a later one starts further on.
        try await onOwnThread { try registry.appendTraceEvents([Self.event(0), Self.event(1)], writer: "w1", firstIndex: 0) }
        try await onOwnThread { try registry.appendTraceEvents([Self.event(0), Self.event(1), Self.event(2)], writer: "w1", firstIndex: 0) }
        try await onOwnThread { try registry.appendTraceEvents([Self.event(2), Self.event(3)], writer: "w1", firstIndex: 2) }
        // Another writer numbers its own events.
        try await onOwnThread { try registry.appendTraceEvents([Self.event(9)], writer: "w2", firstIndex: 0) }
        let stored = try await registry.events(TraceQuery(limit: 100))
        #expect(stored.map(\.tool) == ["tool0", "tool1", "tool2", "tool3", "tool9"])
    }

    @Test func eventsRecordedWhileTheDatabaseIsDownAreWrittenOnceItIsBack() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { return }
        let registry = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { registry.close() }
        let recorder = TraceRecorder(sink: registry, logger: Self.logger)
        for n in 0..<10 { recorder.record(Self.event(n)) }
        #expect(await recorder.flush(timeout: .seconds(60)))

        await server.halted()
        for n in 10..<500 { recorder.record(Self.event(n)) }
        let deadline = ContinuousClock.now + .seconds(60)
        while recorder.writerProblem == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(recorder.writerProblem?.contains("127.0.0.1:\(server.port)") == true, "\(recorder.writerProblem ?? "no problem reported")")
        #expect(recorder.writerProblem?.contains(server.password) == false)
        #expect(recorder.unwritten == 490)

        try await server.started()
        #expect(await recorder.flush(timeout: .seconds(60)))
        #expect(recorder.writerProblem == nil)
        let stored = try await registry.events(TraceQuery(limit: 1_000))
        #expect(stored.map(\.tool) == (0..<500).map { "tool\($0)" }, "lost or reordered: \(stored.count) of 500")
    }
}
