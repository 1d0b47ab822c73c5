import Base
import Foundation
import GRDB

/// What an agent last reported about itself (`POST /v1/events`): its state, its model, its session.
public struct AgentStatusRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "agent_status"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public var agent: String
    public var state: String?
    public var model: String?
    public var session: String?
    /// ISO 8601 (the event's `at`).
    public var lastSeen: String
    public var lastEventId: Int64
}

extension RegistryDatabase {
    /// Appends events an agent reported, in one transaction, and updates each agent's status from
    /// them (`state` when given; `model` from a `model.switch` event's `payload.model`). Returns the
    /// ids the events were given, in order.
    ///
    /// Reported events never join a span they do not own: a span id the router recorded (any event
    /// whose type is not in `reportedTypes`), or another agent's, refuses the batch (`.conflict`),
    /// so a report can neither rewrite nor mask the router's record of a call.
    public func ingestAgentEvents(_ events: [TraceEvent], reportedTypes: Set<String>) throws(RegistryError) -> [Int64] {
        guard !events.isEmpty else { return [] }
        return try write("recording \(events.count) agent events") { db in
            let owned = try db.cachedStatement(sql: "SELECT type, agent FROM trace_events WHERE span_id = ? LIMIT 50")
            var checked: Set<String> = []
            for e in events where checked.insert(e.spanId).inserted {
                for row in try Row.fetchAll(owned, arguments: [e.spanId]) {
                    let type: String = row["type"], agent: String = row["agent"]
                    if !reportedTypes.contains(type) || agent != e.agent {
                        throw RegistryError(.conflict, "span_id '\(e.spanId)' belongs to \(agent != e.agent ? "another agent's events" : "a call the router recorded"); report under a span id of your own")
                    }
                }
            }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO trace_events (at, type, session, span_id, agent, role, "group", tool, decision, duration_ms,
                                          argument_bytes, result_bytes, detail, revision, trace_id, state, client_ts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let status = try db.cachedStatement(sql: """
                INSERT INTO agent_status (agent, state, model, session, last_seen, last_event_id) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(agent) DO UPDATE SET state = coalesce(excluded.state, state), model = coalesce(excluded.model, model),
                  session = excluded.session, last_seen = excluded.last_seen, last_event_id = excluded.last_event_id
                """)
            var ids: [Int64] = []
            ids.reserveCapacity(events.count)
            for e in events {
                try insert.execute(arguments: [e.at, e.type, e.session, e.spanId, e.agent, e.role, e.group, e.tool, e.decision,
                                               e.durationMs, e.argumentBytes, e.resultBytes, e.detail?.jsonText, e.revision,
                                               e.traceId, e.state, e.clientTs])
                let id = db.lastInsertedRowID
                ids.append(id)
                let model = e.type == "model.switch" ? e.detail?["model"]?.stringValue : nil
                try status.execute(arguments: [e.agent, e.state, model, e.session, e.at, id])
            }
            return ids
        }
    }

    /// Every agent's reported status.
    public func agentStatuses() throws(RegistryError) -> [AgentStatusRecord] {
        try read("reading agent status") { db in try AgentStatusRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM agent_status ORDER BY agent")) }
    }

    /// When `agent` last left an event (reported or a tool call), as the event's `at`.
    public func lastEventTime(agent: String) throws(RegistryError) -> String? {
        try read("reading when agent \(agent) was last seen") { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT at FROM trace_events WHERE agent = ? ORDER BY id DESC LIMIT 1"), arguments: [agent])
        }
    }

    /// The newest event id (0 when there is none).
    public func lastTraceEventId() throws(RegistryError) -> Int64 {
        try read("reading the newest event id") { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM trace_events")) ?? 0 }
    }
}
