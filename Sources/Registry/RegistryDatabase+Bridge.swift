import Foundation
import GRDB

/// The digest a bridged tool's definition had when first seen, and a different one it has since shown.
public struct ToolPinRecord: Sendable, Equatable {
    public let tool: String
    public let server: String
    public let digest: String
    public let firstSeenAt: Date
    /// A definition that differs from the pinned one, not yet accepted.
    public let changedDigest: String?
    public let changedAt: Date?

    public init(tool: String, server: String, digest: String, firstSeenAt: Date, changedDigest: String?, changedAt: Date?) {
        self.tool = tool
        self.server = server
        self.digest = digest
        self.firstSeenAt = firstSeenAt
        self.changedDigest = changedDigest
        self.changedAt = changedAt
    }
}

/// One running host's view of one bridged server (`status` is JSON the bridge writes and reads).
public struct BridgeServerRecord: Sendable, Equatable {
    /// The host process: `host:pid:nonce`, as sync leases name it.
    public let owner: String
    public let server: String
    public let status: String
    public let updatedAt: Date

    public init(owner: String, server: String, status: String, updatedAt: Date) {
        self.owner = owner
        self.server = server
        self.status = status
        self.updatedAt = updatedAt
    }

    /// Whether the host that wrote it may still be running.
    public var ownerMayBeAlive: Bool { SyncOwner.mayBeAlive(owner) }
}

/// Where the bridge pins its tools' definitions and records what it sees of its servers: the SQLite
/// registry, or PostgreSQL (every host on it then shares the pins). Called on a queue of the
/// bridge's own, never on the cooperative pool (PostgreSQL's answers block the calling thread).
public protocol BridgeLedger: Sendable {
    /// Opened only to read: nothing is pinned or recorded (pins then live in memory).
    var isReadOnly: Bool { get }
    /// Every pin of `server`'s tools, by bridged tool name.
    func toolPins(server: String) throws(RegistryError) -> [String: ToolPinRecord]
    /// Pins `tool` to `digest` unless it is pinned already (the first host to see it wins). Whether it was new.
    @discardableResult
    func pinTool(_ tool: String, server: String, digest: String, at now: Date) throws(RegistryError) -> Bool
    /// Records that `tool` now shows `digest` (nil: its pinned definition again).
    func recordChangedDefinition(_ tool: String, digest: String?, at now: Date) throws(RegistryError)
    /// Records what this host sees of `server`.
    func recordBridgeServer(owner: String, server: String, status: String, at now: Date) throws(RegistryError)
    /// Forgets the status rows of hosts that are gone (the newest of each server kept).
    func pruneBridgeServers() throws(RegistryError)
    /// Records bridge events (a definition changed, a look-alike name) in the trace.
    func appendTraceEvents(_ events: [TraceEvent]) throws(RegistryError)
    /// A remote server's stored credential for `agent` ("" for the shared one): sealed, as stored.
    func bridgeCredential(server: String, agent: String) throws(RegistryError) -> String?
    /// Stores (or replaces) a sealed credential.
    func storeBridgeCredential(server: String, agent: String, sealed: String, at now: Date) throws(RegistryError)
    /// Forgets a credential; whether there was one.
    @discardableResult
    func deleteBridgeCredential(server: String, agent: String) throws(RegistryError) -> Bool
    /// The agents with a stored credential for `server` ("" for the shared one), with when each was stored.
    func bridgeCredentialAgents(server: String) throws(RegistryError) -> [(agent: String, updatedAt: Date)]
}

extension BridgeLedger {
    @discardableResult
    public func pinTool(_ tool: String, server: String, digest: String) throws(RegistryError) -> Bool {
        try pinTool(tool, server: server, digest: digest, at: Date())
    }
    public func recordChangedDefinition(_ tool: String, digest: String?) throws(RegistryError) {
        try recordChangedDefinition(tool, digest: digest, at: Date())
    }
    public func recordBridgeServer(owner: String, server: String, status: String) throws(RegistryError) {
        try recordBridgeServer(owner: owner, server: server, status: status, at: Date())
    }
}

extension RegistryDatabase: BridgeLedger {}

extension RegistryDatabase {
    public func bridgeCredential(server: String, agent: String) throws(RegistryError) -> String? {
        try read("reading a credential for \(server)") { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM bridge_credentials WHERE server = ? AND agent = ?"), arguments: [server, agent])
        }
    }

    public func storeBridgeCredential(server: String, agent: String, sealed: String, at now: Date) throws(RegistryError) {
        try write("storing a credential for \(server)") { db in
            try db.execute(sql: """
                INSERT INTO bridge_credentials (server, agent, sealed, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (server, agent) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                """, arguments: [server, agent, sealed, now])
        }
    }

    @discardableResult
    public func deleteBridgeCredential(server: String, agent: String) throws(RegistryError) -> Bool {
        try write("forgetting a credential for \(server)") { db in
            try db.execute(sql: "DELETE FROM bridge_credentials WHERE server = ? AND agent = ?", arguments: [server, agent])
            return db.changesCount > 0
        }
    }

    public func bridgeCredentialAgents(server: String) throws(RegistryError) -> [(agent: String, updatedAt: Date)] {
        try read("listing the credentials for \(server)") { db in
            try Row.fetchAll(db, sql: "SELECT agent, updated_at FROM bridge_credentials WHERE server = ? ORDER BY agent", arguments: [server])
                .map { (agent: $0["agent"], updatedAt: $0["updated_at"]) }
        }
    }
}

extension RegistryDatabase {
    /// Every pin of `server`'s tools, by bridged tool name.
    public func toolPins(server: String) throws(RegistryError) -> [String: ToolPinRecord] {
        try read("reading the tool pins of \(server)") { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM bridge_tool_pins WHERE server = ?"), arguments: [server])
            return Dictionary(uniqueKeysWithValues: rows.map { row in
                let pin = ToolPinRecord(tool: row["tool"], server: row["server"], digest: row["digest"], firstSeenAt: row["first_seen_at"],
                                        changedDigest: row["changed_digest"], changedAt: row["changed_at"])
                return (pin.tool, pin)
            })
        }
    }

    /// Pins `tool` to `digest` unless it is pinned already. Returns whether it was new.
    @discardableResult
    public func pinTool(_ tool: String, server: String, digest: String, at now: Date = Date()) throws(RegistryError) -> Bool {
        try write("pinning \(tool)") { db in
            try db.execute(sql: "INSERT OR IGNORE INTO bridge_tool_pins (tool, server, digest, first_seen_at) VALUES (?, ?, ?, ?)",
                           arguments: [tool, server, digest, now])
            return db.changesCount > 0
        }
    }

    /// Records that `tool` now shows `digest` (nil: it shows its pinned definition again).
    public func recordChangedDefinition(_ tool: String, digest: String?, at now: Date = Date()) throws(RegistryError) {
        try write("recording the changed definition of \(tool)") { db in
            try db.execute(sql: "UPDATE bridge_tool_pins SET changed_digest = ?, changed_at = ? WHERE tool = ?",
                           arguments: [digest, digest == nil ? nil : now, tool])
        }
    }

    /// Accepts the changed definitions of the tools named (bridged tool names, or server names for
    /// all of a server's tools): their pin becomes the changed digest. Returns the tools accepted.
    public func acceptToolDefinitions(_ names: [String]) throws(RegistryError) -> [String] {
        try write("accepting changed tool definitions") { db in
            var accepted: [String] = []
            for name in names {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT tool FROM bridge_tool_pins WHERE (tool = ? OR server = ?) AND changed_digest IS NOT NULL
                    """, arguments: [name, name])
                for row in rows {
                    let tool: String = row["tool"]
                    try db.execute(sql: "UPDATE bridge_tool_pins SET digest = changed_digest, changed_digest = NULL, changed_at = NULL WHERE tool = ?",
                                   arguments: [tool])
                    accepted.append(tool)
                }
            }
            return accepted
        }
    }

    /// Whether any pin names `name` as a tool or a server.
    public func hasToolPins(named name: String) throws(RegistryError) -> Bool {
        try read("reading tool pins") { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM bridge_tool_pins WHERE tool = ? OR server = ?)"), arguments: [name, name]) ?? false
        }
    }

    /// Records what a running host sees of `server`.
    public func recordBridgeServer(owner: String, server: String, status: String, at now: Date = Date()) throws(RegistryError) {
        try write("recording the status of \(server)") { db in
            try db.execute(sql: """
                INSERT INTO bridge_servers (owner, server, status, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(owner, server) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
                """, arguments: [owner, server, status, now])
        }
    }

    /// Forgets the rows of hosts that are gone, keeping the newest row of each server for reference.
    public func pruneBridgeServers() throws(RegistryError) {
        let dead = try bridgeServers().filter { !$0.ownerMayBeAlive }
        let newest = Dictionary(dead.map { ($0.server, $0) }, uniquingKeysWith: { $0.updatedAt >= $1.updatedAt ? $0 : $1 })
        try write("pruning the status of stopped hosts") { db in
            for row in dead where newest[row.server] != row {
                try db.execute(sql: "DELETE FROM bridge_servers WHERE owner = ? AND server = ?", arguments: [row.owner, row.server])
            }
        }
    }

    /// Every recorded server status, newest first.
    public func bridgeServers() throws(RegistryError) -> [BridgeServerRecord] {
        try read("reading bridged server status") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM bridge_servers ORDER BY updated_at DESC")).map {
                BridgeServerRecord(owner: $0["owner"], server: $0["server"], status: $0["status"], updatedAt: $0["updated_at"])
            }
        }
    }
}
