import Core
import Foundation
import PostgresNIO
import Registry

/// MCP sessions over HTTP on the database every host shares: a session opened on one host is found
/// by the others, so a load balancer may send each of its requests anywhere.
extension PostgresRegistry: SessionStore {
    public func saveSession(_ r: MCPSessionRecord) async throws(RegistryError) {
        try await guarded("recording MCP session \(r.id.prefix(8))") { [self] in
            try await client.query("""
                INSERT INTO mcp_sessions (id, agent, trace_session, protocol_version, capabilities, created_at, seen_at)
                VALUES (\(r.id), \(r.agent), \(r.traceSession), \(r.protocolVersion), \(r.capabilities), \(r.createdAt), \(r.seenAt))
                ON CONFLICT (id) DO UPDATE SET agent = excluded.agent, trace_session = excluded.trace_session,
                  protocol_version = excluded.protocol_version, capabilities = excluded.capabilities, seen_at = excluded.seen_at
                """, logger: logger)
        }
    }

    public func session(id: String) async throws(RegistryError) -> MCPSessionRecord? {
        try await records(MCPSessionRecord.self, "reading MCP session \(id.prefix(8))", """
            SELECT id, agent, trace_session, protocol_version, capabilities, created_at, seen_at FROM mcp_sessions WHERE id = \(id)
            """).first
    }

    public func touchSession(id: String, at date: Date) async throws(RegistryError) {
        try await guarded("marking MCP session \(id.prefix(8)) used") { [self] in
            try await client.query("UPDATE mcp_sessions SET seen_at = greatest(seen_at, \(date)) WHERE id = \(id)", logger: logger)
        }
    }

    public func endSession(id: String) async throws(RegistryError) {
        try await guarded("ending MCP session \(id.prefix(8))") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("DELETE FROM mcp_sessions WHERE id = \(id)", logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'sessions'", logger: logger)
            }
        }
    }

    public func forgetSessions(seenBefore date: Date) async throws(RegistryError) -> Int {
        try await guarded("forgetting idle MCP sessions") { [self] in
            var count = 0
            for try await _ in try await client.query("DELETE FROM mcp_sessions WHERE seen_at < \(date) RETURNING id", logger: logger) { count += 1 }
            return count
        }
    }

    public func saveConsoleSession(_ r: ConsoleSessionRecord) async throws(RegistryError) {
        try await guarded("recording a console session") { [self] in
            try await client.query("""
                INSERT INTO console_sessions (token_hash, agent, key_hash, csrf, created_at, seen_at)
                VALUES (\(ByteBuffer(bytes: r.tokenHash)), \(r.agent), \(ByteBuffer(bytes: r.keyHash)), \(r.csrf), \(r.createdAt), \(r.seenAt))
                ON CONFLICT (token_hash) DO UPDATE SET seen_at = excluded.seen_at
                """, logger: logger)
        }
    }

    public func consoleSession(tokenHash: Data) async throws(RegistryError) -> ConsoleSessionRecord? {
        try await records(ConsoleSessionRecord.self, "reading a console session", """
            SELECT token_hash, agent, key_hash, csrf, created_at, seen_at FROM console_sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash))
            """).first
    }

    public func touchConsoleSession(tokenHash: Data, at date: Date) async throws(RegistryError) {
        try await guarded("marking a console session used") { [self] in
            try await client.query("UPDATE console_sessions SET seen_at = greatest(seen_at, \(date)) WHERE token_hash = \(ByteBuffer(bytes: tokenHash))",
                                   logger: logger)
        }
    }

    public func endConsoleSessions(tokenHash: Data?, keyHash: Data?) async throws(RegistryError) {
        try await guarded("ending console sessions") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    DELETE FROM console_sessions WHERE token_hash = \(tokenHash.map { ByteBuffer(bytes: $0) }) OR key_hash = \(keyHash.map { ByteBuffer(bytes: $0) })
                    """, logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'sessions'", logger: logger)
            }
        }
    }

    public func forgetConsoleSessions(seenBefore date: Date) async throws(RegistryError) -> Int {
        try await guarded("forgetting idle console sessions") { [self] in
            var count = 0
            for try await _ in try await client.query("DELETE FROM console_sessions WHERE seen_at < \(date) RETURNING agent", logger: logger) { count += 1 }
            return count
        }
    }
}
