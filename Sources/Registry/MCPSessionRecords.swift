import Base
import Foundation
import GRDB

/// An MCP session over HTTP (protocol 2025-11-25 and earlier) as the registry keeps it, so that a
/// request a load balancer sends to another host finds the session its `initialize` opened: who
/// opened it, what was agreed, and when it was last used. The session's live parts (its open
/// streams, its requests in flight) stay in the host that holds them.
public struct MCPSessionRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "mcp_sessions"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    /// The `Mcp-Session-Id`.
    public var id: String
    public var agent: String
    /// The name the session's calls are traced and granted under (`mcp-…`): a session-scoped grant
    /// follows the session to another host.
    public var traceSession: String
    public var protocolVersion: String
    /// The client's `capabilities` from `initialize`, as JSON text.
    public var capabilities: String?
    public var createdAt: Date
    /// When a host last served a request of the session (written at most every few seconds).
    public var seenAt: Date

    public init(id: String, agent: String, traceSession: String, protocolVersion: String, capabilities: String?, createdAt: Date, seenAt: Date) {
        self.id = id
        self.agent = agent
        self.traceSession = traceSession
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
        self.createdAt = createdAt
        self.seenAt = seenAt
    }
}

/// A signed-in console browser as the registry keeps it, so any host behind a load balancer knows
/// the session: only hashes of its cookie token and of the key it signed in with (the key's own
/// hash, as `api_keys` keeps it, so a revoked key ends the session on every host).
public struct ConsoleSessionRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "console_sessions"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    public var tokenHash: Data
    public var agent: String
    public var keyHash: Data
    /// The token the session's forms carry.
    public var csrf: String
    public var createdAt: Date
    public var seenAt: Date

    public init(tokenHash: Data, agent: String, keyHash: Data, csrf: String, createdAt: Date, seenAt: Date) {
        self.tokenHash = tokenHash
        self.agent = agent
        self.keyHash = keyHash
        self.csrf = csrf
        self.createdAt = createdAt
        self.seenAt = seenAt
    }
}

extension RegistryDatabase {
    public func saveConsoleSessionRecord(_ r: ConsoleSessionRecord) throws(RegistryError) {
        try write("recording a console session") { db in
            try db.execute(sql: """
                INSERT INTO console_sessions (token_hash, agent, key_hash, csrf, created_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(token_hash) DO UPDATE SET seen_at = excluded.seen_at
                """, arguments: [r.tokenHash, r.agent, r.keyHash, r.csrf, r.createdAt, r.seenAt])
        }
    }

    public func consoleSessionRecord(tokenHash: Data) throws(RegistryError) -> ConsoleSessionRecord? {
        try read("reading a console session") { db in try ConsoleSessionRecord.fetchOne(db, sql: "SELECT * FROM console_sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func touchConsoleSessionRecord(tokenHash: Data, at date: Date) throws(RegistryError) {
        try write("marking a console session used") { db in
            try db.execute(sql: "UPDATE console_sessions SET seen_at = max(seen_at, ?) WHERE token_hash = ?", arguments: [date, tokenHash])
        }
    }

    /// Ends the session with this token, or every session signed in with this key.
    public func deleteConsoleSessionRecords(tokenHash: Data?, keyHash: Data?) throws(RegistryError) {
        try write("ending console sessions") { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE token_hash = ? OR key_hash = ?", arguments: [tokenHash, keyHash])
        }
        sessionsChanged.touch()
    }

    public func deleteConsoleSessionRecords(seenBefore date: Date) throws(RegistryError) -> Int {
        try write("forgetting idle console sessions") { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE seen_at < ?", arguments: [date])
            return db.changesCount
        }
    }

    /// Moved by every session ended, in any process: hosts holding it let it go.
    public var sessionsChanged: StampFile { StampFile(named: "sessions-changed", besideDatabase: path) }

    public func saveMCPSessionRecord(_ r: MCPSessionRecord) throws(RegistryError) {
        try write("recording MCP session \(r.id.prefix(8))") { db in
            try db.execute(sql: """
                INSERT INTO mcp_sessions (id, agent, trace_session, protocol_version, capabilities, created_at, seen_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET agent = excluded.agent, trace_session = excluded.trace_session,
                  protocol_version = excluded.protocol_version, capabilities = excluded.capabilities, seen_at = excluded.seen_at
                """, arguments: [r.id, r.agent, r.traceSession, r.protocolVersion, r.capabilities, r.createdAt, r.seenAt])
        }
    }

    public func mcpSessionRecord(id: String) throws(RegistryError) -> MCPSessionRecord? {
        try read("reading MCP session \(id.prefix(8))") { db in try MCPSessionRecord.fetchOne(db, key: id) }
    }

    public func touchMCPSessionRecord(id: String, at date: Date) throws(RegistryError) {
        try write("marking MCP session \(id.prefix(8)) used") { db in
            try db.execute(sql: "UPDATE mcp_sessions SET seen_at = max(seen_at, ?) WHERE id = ?", arguments: [date, id])
        }
    }

    public func deleteMCPSessionRecord(id: String) throws(RegistryError) {
        try write("ending MCP session \(id.prefix(8))") { db in try db.execute(sql: "DELETE FROM mcp_sessions WHERE id = ?", arguments: [id]) }
        sessionsChanged.touch()
    }

    public func deleteMCPSessionRecords(seenBefore date: Date) throws(RegistryError) -> Int {
        try write("forgetting idle MCP sessions") { db in
            try db.execute(sql: "DELETE FROM mcp_sessions WHERE seen_at < ?", arguments: [date])
            return db.changesCount
        }
    }
}
