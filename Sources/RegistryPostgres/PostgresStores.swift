import Core
import Foundation
import PostgresNIO
import Registry

// The PostgreSQL registry as the core's stores (`Core/CoreStores.swift`): the same questions the
// SQLite registry answers, with the same filters and orders, so the catalog, the source directory,
// the approval book, the event log and the host directory work over either. The storage suite
// (`StorageSuiteTests`) asks both the same questions and compares the answers.

extension PostgresRegistry: SkillStore {
    public func skills(named name: String) async throws(RegistryError) -> [SkillRecord] {
        try await records(SkillRecord.self, "reading skills named \(name)", """
            SELECT \(unescaped: PostgresRecords.selectList("skills", alias: "s")) FROM skills s JOIN sources src ON src.name = s.source
            WHERE s.name = \(name) AND s.deleted_at IS NULL AND s.loadable AND src.status <> 'removed'
            ORDER BY s.shadowed_by IS NOT NULL, src.position, s.path
            """)
    }

    public func liveSkills(named name: String) async throws(RegistryError) -> [SkillRecord] {
        try await records(SkillRecord.self, "reading skills named \(name)", """
            SELECT \(unescaped: PostgresRecords.selectList("skills", alias: "s")) FROM skills s JOIN sources src ON src.name = s.source
            WHERE s.name = \(name) AND s.deleted_at IS NULL AND src.status <> 'removed'
            ORDER BY (s.shadowed_by IS NULL AND s.loadable) DESC, src.position, s.path
            """)
    }

    public func skill(id: Int64) async throws(RegistryError) -> SkillRecord? {
        try await records(SkillRecord.self, "looking up skill \(id)", """
            SELECT \(unescaped: PostgresRecords.selectList("skills", alias: "s")) FROM skills s WHERE s.id = \(id)
            """).first
    }

    public func files(ofSkill id: Int64) async throws(RegistryError) -> [SkillFileRecord] {
        // Ordered by bytes, as SQLite orders text (PostgreSQL's default collation would not).
        try await records(SkillFileRecord.self, "reading the files of skill \(id)",
                          "SELECT * FROM skill_files WHERE skill_id = \(id) ORDER BY path COLLATE \"C\"")
    }

    public func file(ofSkill id: Int64, path: String) async throws(RegistryError) -> SkillFileRecord? {
        try await records(SkillFileRecord.self, "reading \(path) of skill \(id)",
                          "SELECT * FROM skill_files WHERE skill_id = \(id) AND path = \(path)").first
    }

    public func fileListings(ofSkills ids: [Int64]) async throws(RegistryError) -> [Int64: [SkillFileRecord]] {
        guard !ids.isEmpty else { return [:] }
        let files = try await records(SkillFileRecord.self, "listing the files of \(ids.count) skills", """
            SELECT skill_id, path, kind, size, is_binary, NULL::text AS content, link_target, note, digest FROM skill_files
            WHERE skill_id = ANY(\(ids)) ORDER BY skill_id, path COLLATE "C"
            """)
        return Dictionary(grouping: files, by: \.skillId)
    }
}

extension PostgresRegistry: SourceStore {
    /// A source row with its skill counts and the scheduler's lease columns: SQLite's query, which
    /// PostgreSQL reads alike.
    static var sourceStatusSelect: String { RegistryDatabase.sourceStatusSelect }

    public func sources() async throws(RegistryError) -> [SourceRecord] {
        try await records(SourceRecord.self, "reading the sources",
                          "\(unescaped: Self.sourceStatusSelect) ORDER BY s.status = 'removed', s.position, s.name COLLATE \"C\"")
    }

    public func source(named name: String) async throws(RegistryError) -> SourceRecord? {
        try await records(SourceRecord.self, "reading source \(name)", "\(unescaped: Self.sourceStatusSelect) WHERE s.name = \(name)").first
    }
}

extension PostgresRegistry: ApprovalStore {
    public func approvalRequests(status: ApprovalStatus?, agent: String?, before: String?, limit: Int) async throws(RegistryError) -> [ApprovalRecord] {
        let status = status?.rawValue, limit = max(0, limit)
        return try await guarded("listing approval requests") { [self] in
            var found: [ApprovalRecord] = []
            // The page after `before`: older, or as old with a greater id (an unknown cursor is an empty page).
            for try await row in try await client.query("""
                SELECT \(unescaped: Self.approvalColumns) FROM approvals a
                WHERE (\(status)::text IS NULL OR a.status = \(status)) AND (\(agent)::text IS NULL OR a.agent = \(agent))
                  AND (\(before)::text IS NULL OR EXISTS (SELECT 1 FROM approvals c WHERE c.id = \(before)
                       AND (a.created_at < c.created_at OR (a.created_at = c.created_at AND a.id COLLATE "C" > c.id COLLATE "C"))))
                ORDER BY a.created_at DESC, a.id COLLATE "C" LIMIT \(limit)
                """, logger: logger) { found.append(try Self.approvalRecord(row)) }
            return found
        }
    }

    public func approvalRequest(matching idOrPrefix: String) async throws(RegistryError) -> ApprovalRecord? {
        try await approval(idOrPrefix)
    }

    public func approvalGrants(agent: String?, includingEnded: Bool) async throws(RegistryError) -> [ApprovalGrantRecord] {
        let now = Date()
        return try await records(ApprovalGrantRecord.self, "listing approval grants", """
            SELECT * FROM approval_grants WHERE (\(includingEnded) OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))))
              AND (\(agent)::text IS NULL OR agent = \(agent))
            ORDER BY created_at DESC, id COLLATE "C" LIMIT 500
            """)
    }

    public func revokeGrant(_ id: String, by: String, reason: String?) async throws(RegistryError) -> ApprovalGrantRecord? {
        let now = Date()
        return try await guarded("revoking approval grant \(id)") { [self] in
            try await client.withTransaction(logger: logger) { connection -> ApprovalGrantRecord? in
                var revoked = false
                for try await _ in try await connection.query("""
                    UPDATE approval_grants SET revoked_at = \(now), revoked_by = \(by), revoke_reason = \(reason) WHERE id = \(id) AND revoked_at IS NULL
                    RETURNING id
                    """, logger: logger) { revoked = true }
                if revoked { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger) }
                var grant: ApprovalGrantRecord?
                for try await row in try await connection.query("SELECT * FROM approval_grants WHERE id = \(id)", logger: logger) {
                    grant = try PostgresRecords.decode(ApprovalGrantRecord.self, row)
                }
                return grant
            }
        }
    }
}

extension PostgresRegistry: EventStore {
    public func events(_ query: TraceQuery) async throws(RegistryError) -> [TraceEvent] {
        let types = query.types, limit = max(0, query.limit)
        let sql: PostgresQuery = """
            SELECT \(unescaped: PostgresRecords.selectList("trace_events", alias: "e")) FROM trace_events e
            WHERE e.id > \(query.afterId) AND (\(query.beforeId) <= 0 OR e.id < \(query.beforeId))
              AND (\(query.session)::text IS NULL OR e.session = \(query.session)) AND (\(query.agent)::text IS NULL OR e.agent = \(query.agent))
              AND (cardinality(\(types)::text[]) = 0 OR e.type = ANY(\(types)::text[]))
            ORDER BY e.id \(unescaped: query.newestFirst ? "DESC" : "") LIMIT \(limit)
            """
        return try await records(TraceEvent.self, "reading trace events", sql)
    }

    public func appendReported(_ events: [TraceEvent], reportedTypes: Set<String>) async throws(RegistryError) -> [Int64] {
        guard !events.isEmpty else { return [] }
        return try await guarded("recording \(events.count) agent events") { [self] in
            try await client.withTransaction(logger: logger) { connection -> [Int64] in
                // The same rule as SQLite's: a report never joins a span the router recorded or another agent's.
                var checked: Set<String> = []
                for event in events where checked.insert(event.spanId).inserted {
                    for try await (type, agent) in try await connection.query(
                        "SELECT type, agent FROM trace_events WHERE span_id = \(event.spanId) LIMIT 50", logger: logger).decode((String, String).self) {
                        if !reportedTypes.contains(type) || agent != event.agent {
                            throw RegistryError(.conflict, "span_id '\(event.spanId)' belongs to \(agent != event.agent ? "another agent's events" : "a call the router recorded"); report under a span id of your own")
                        }
                    }
                }
                var ids: [Int64] = []
                for e in events.map(Self.storable) {
                    let detail = e.detail?.jsonText
                    for try await id in try await connection.query("""
                        INSERT INTO trace_events (at, type, session, span_id, agent, role, "group", tool, decision, duration_ms, argument_bytes,
                                                  result_bytes, detail, revision, trace_id, state, client_ts)
                        VALUES (\(e.at), \(e.type), \(e.session), \(e.spanId), \(e.agent), \(e.role), \(e.group), \(e.tool), \(e.decision),
                                \(e.durationMs), \(e.argumentBytes), \(e.resultBytes), \(detail)::jsonb, \(e.revision), \(e.traceId), \(e.state), \(e.clientTs))
                        RETURNING id
                        """, logger: logger).decode(Int64.self) { ids.append(id) }
                    let model = e.type == "model.switch" ? e.detail?["model"]?.stringValue : nil
                    try await connection.query("""
                        INSERT INTO agent_status (agent, state, model, session, last_seen, last_event_id)
                        VALUES (\(e.agent), \(e.state), \(model), \(e.session), \(e.at), \(ids.last ?? 0))
                        ON CONFLICT (agent) DO UPDATE SET state = coalesce(excluded.state, agent_status.state),
                          model = coalesce(excluded.model, agent_status.model), session = excluded.session,
                          last_seen = excluded.last_seen, last_event_id = excluded.last_event_id
                        """, logger: logger)
                }
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'events'", logger: logger)
                return ids
            }
        }
    }

    public func agentReports() async throws(RegistryError) -> [AgentStatusRecord] {
        try await records(AgentStatusRecord.self, "reading agent status", "SELECT * FROM agent_status ORDER BY agent COLLATE \"C\"")
    }

    public func newestEventTime(ofAgent agent: String) async throws(RegistryError) -> String? {
        try await guarded("reading when agent \(agent) was last seen") { [self] in
            for try await at in try await client.query("SELECT at FROM trace_events WHERE agent = \(agent) ORDER BY id DESC LIMIT 1", logger: logger)
                .decode(String.self) { return at }
            return nil
        }
    }
}

extension PostgresRegistry: PresenceStore {
    public func hostRecords() async throws(RegistryError) -> [HostRecord] {
        try await records(HostRecord.self, "reading the running hosts",
                          "SELECT id, pid, start_ticks, kind, config, started_at, heartbeat_at, revision, http, reloads, last_reload_at, last_reload_trigger, last_reload_result, last_reload_message, last_reload_errors::text AS last_reload_errors FROM hosts ORDER BY started_at, id")
    }

    public func hostRecord(id: String) async throws(RegistryError) -> HostRecord? {
        try await records(HostRecord.self, "reading host \(id)",
                          "SELECT id, pid, start_ticks, kind, config, started_at, heartbeat_at, revision, http, reloads, last_reload_at, last_reload_trigger, last_reload_result, last_reload_message, last_reload_errors::text AS last_reload_errors FROM hosts WHERE id = \(id)").first
    }

    public func bridgeServerRecords() async throws(RegistryError) -> [BridgeServerRecord] {
        try await guarded("reading bridged server status") { [self] in
            var found: [BridgeServerRecord] = []
            for try await (owner, server, status, updatedAt) in try await client.query(
                "SELECT owner, server, status, updated_at FROM bridge_servers ORDER BY updated_at DESC", logger: logger).decode((String, String, String, Date).self) {
                found.append(BridgeServerRecord(owner: owner, server: server, status: status, updatedAt: updatedAt))
            }
            return found
        }
    }

    public func acceptChangedDefinitions(_ names: [String]) async throws(RegistryError) -> [String] {
        try await guarded("accepting changed tool definitions") { [self] in
            try await client.withTransaction(logger: logger) { connection -> [String] in
                var accepted: [String] = []
                for name in names {
                    for try await tool in try await connection.query("""
                        UPDATE bridge_tool_pins SET digest = changed_digest, changed_digest = NULL, changed_at = NULL
                        WHERE (tool = \(name) OR server = \(name)) AND changed_digest IS NOT NULL RETURNING tool
                        """, logger: logger).decode(String.self) where !accepted.contains(tool) { accepted.append(tool) }
                }
                return accepted
            }
        }
    }

    public func pinsExist(named name: String) async throws(RegistryError) -> Bool {
        try await guarded("reading tool pins") { [self] in
            for try await found in try await client.query("SELECT EXISTS (SELECT 1 FROM bridge_tool_pins WHERE tool = \(name) OR server = \(name))",
                                                          logger: logger).decode(Bool.self) { return found }
            return false
        }
    }
}

extension PostgresRegistry: MemoryStore {
    public var blocksThreads: Bool { false }

    public func storeMemory(_ memory: MemoryRecord) async throws(RegistryError) -> Int64 { try await insertMemory(memory) }

    public func storedMemory(id: Int64) async throws(RegistryError) -> MemoryRecord? { try await memory(id: id) }

    public func forgetMemory(id: Int64) async throws(RegistryError) -> Bool { try await deleteMemory(id: id) }

    public func findMemories(_ search: MemorySearch) async throws(RegistryError) -> [MemoryHit] { try await searchMemories(search) }
}

extension PostgresRegistry: RegistryStore {
    public var isReadOnly: Bool { false }
    public var place: String { "\(location)" }
    public var pins: (any BridgeLedger)? { self }
    /// The pepper must come from `AGENTHUB_KEY_PEPPER`, the same on every host.
    public var pepperFolder: String? { nil }
    public var hostsAreLocal: Bool { false }
}
