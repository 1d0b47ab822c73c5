import Base
import Core
import Foundation
import PostgresNIO
import Registry

/// Trace events in PostgreSQL: the trace writer's batches, one multi-row INSERT and the `events`
/// mark in one transaction, so the SSE streams and consoles of every host hear of them at commit.
extension PostgresRegistry: TraceSink {
    /// The columns a trace row binds (as SQLite's writer binds them).
    static let traceColumns = #"at, type, session, span_id, agent, role, "group", tool, decision, duration_ms, argument_bytes, result_bytes, detail, revision, trace_id, state, client_ts"#

    /// Appends a batch, blocking the calling thread until it is stored: the trace writer calls it on
    /// a queue of its own, never on the cooperative pool (the insert itself runs there).
    public func appendTraceEvents(_ events: [TraceEvent]) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.insertTraceEvents(events) }
    }

    /// Appends events the writer numbered: each is stored under (writer, its number), so an event
    /// sent again (a try that committed after the writer gave up on it, sent again with the events
    /// recorded since) is stored once.
    public func appendTraceEvents(_ events: [TraceEvent], writer: String, firstIndex: Int) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.insertTraceEvents(events, batch: writer, firstIndex: firstIndex) }
    }

    /// Appends a batch in one transaction and moves the `events` mark.
    public func insertTraceEvents(_ events: [TraceEvent], batch: String? = nil, firstIndex: Int = 0) async throws(RegistryError) {
        guard !events.isEmpty else { return }
        var bindings = PostgresBindings(capacity: events.count * 19)
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        for e in events.map(Self.storable) {
            let first = bindings.count + 1
            bindings.append(e.at)
            bindings.append(e.type)
            bindings.append(e.session)
            bindings.append(e.spanId)
            bindings.append(e.agent)
            bindings.append(e.role)
            bindings.append(e.group)
            bindings.append(e.tool)
            bindings.append(e.decision)
            bindings.append(e.durationMs)
            bindings.append(e.argumentBytes.map(Int64.init))
            bindings.append(e.resultBytes.map(Int64.init))
            bindings.append(e.detail.map(\.jsonText))
            bindings.append(e.revision)
            bindings.append(e.traceId)
            bindings.append(e.state)
            bindings.append(e.clientTs)
            bindings.append(batch)
            bindings.append(batch == nil ? nil : Int64(firstIndex + rows.count))
            let marks = (first..<(first + 19)).map { $0 == first + 12 ? "$\($0)::jsonb" : "$\($0)" }
            rows.append("(" + marks.joined(separator: ", ") + ")")
        }
        let insert = PostgresQuery(unsafeSQL: "INSERT INTO trace_events (\(Self.traceColumns), batch, batch_index) VALUES " + rows.joined(separator: ", ")
                                   + " ON CONFLICT (batch, batch_index) WHERE batch IS NOT NULL DO NOTHING", binds: bindings)
        try await guarded("recording \(events.count) trace events") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(insert, logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'events'", logger: logger)
            }
        }
    }

    /// The event with what PostgreSQL cannot hold (a NUL an agent reported) replaced: one such event
    /// must not wedge the trace writer, which retries a refused batch until it is stored.
    static func storable(_ event: TraceEvent) -> TraceEvent {
        func text(_ value: String) -> String { PostgresText.storable(value).0 }
        var e = event
        e.at = text(e.at); e.type = text(e.type); e.session = text(e.session); e.spanId = text(e.spanId); e.agent = text(e.agent)
        e.tool = text(e.tool); e.role = e.role.map(text); e.group = e.group.map(text); e.decision = e.decision.map(text)
        e.revision = e.revision.map(text); e.traceId = e.traceId.map(text); e.state = e.state.map(text); e.clientTs = e.clientTs.map(text)
        if let detail = e.detail, PostgresText.storableJSON(detail.jsonText).1 {
            e.detail = JSONValue.parse(PostgresText.storableJSON(detail.jsonText).0)
        }
        return e
    }
}
