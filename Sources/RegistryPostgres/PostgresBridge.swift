import Core
import Foundation
import PostgresNIO
import Registry

/// The bridge's pins and server status on the database every host shares: a tool pinned by the
/// first host to see it is pinned for all, a changed definition seen by one is held on all, and
/// `agenthub tools accept` on any machine accepts it everywhere. Blocking, for the bridge's own
/// queue (`BridgeLedger`).
extension PostgresRegistry: BridgeLedger {
    public func bridgeCredential(server: String, agent: String) throws(RegistryError) -> String? {
        try blocking { () async throws(RegistryError) -> String? in
            try await self.guarded("reading a credential for \(server)") { [self] in
                for try await sealed in try await client.query("SELECT sealed FROM bridge_credentials WHERE server = \(server) AND agent = \(agent)",
                                                               logger: logger).decode(String.self) { return sealed }
                return nil
            }
        }
    }

    public func storeBridgeCredential(server: String, agent: String, sealed: String, at now: Date) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in
            try await self.guarded("storing a credential for \(server)") { [self] in
                try await client.query("""
                    INSERT INTO bridge_credentials (server, agent, sealed, updated_at) VALUES (\(server), \(agent), \(sealed), \(now))
                    ON CONFLICT (server, agent) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                    """, logger: logger)
            }
        }
    }

    @discardableResult
    public func deleteBridgeCredential(server: String, agent: String) throws(RegistryError) -> Bool {
        try blocking { () async throws(RegistryError) -> Bool in
            try await self.guarded("forgetting a credential for \(server)") { [self] in
                var deleted = false
                for try await _ in try await client.query("DELETE FROM bridge_credentials WHERE server = \(server) AND agent = \(agent) RETURNING agent",
                                                          logger: logger) { deleted = true }
                return deleted
            }
        }
    }

    public func bridgeCredentialAgents(server: String) throws(RegistryError) -> [(agent: String, updatedAt: Date)] {
        try blocking { () async throws(RegistryError) -> [(agent: String, updatedAt: Date)] in
            try await self.guarded("listing the credentials for \(server)") { [self] in
                var agents: [(agent: String, updatedAt: Date)] = []
                for try await (agent, at) in try await client.query("SELECT agent, updated_at FROM bridge_credentials WHERE server = \(server) ORDER BY agent",
                                                                    logger: logger).decode((String, Date).self) { agents.append((agent, at)) }
                return agents
            }
        }
    }

    public func toolPins(server: String) throws(RegistryError) -> [String: ToolPinRecord] {
        try blocking { () async throws(RegistryError) -> [String: ToolPinRecord] in
            try await self.guarded("reading the tool pins of \(server)") { [self] in
                var pins: [String: ToolPinRecord] = [:]
                for try await (tool, server, digest, firstSeen, changed, changedAt) in try await client.query("""
                    SELECT tool, server, digest, first_seen_at, changed_digest, changed_at FROM bridge_tool_pins WHERE server = \(server)
                    """, logger: logger).decode((String, String, String, Date, String?, Date?).self) {
                    pins[tool] = ToolPinRecord(tool: tool, server: server, digest: digest, firstSeenAt: firstSeen, changedDigest: changed, changedAt: changedAt)
                }
                return pins
            }
        }
    }

    @discardableResult
    public func pinTool(_ tool: String, server: String, digest: String, at now: Date) throws(RegistryError) -> Bool {
        try blocking { () async throws(RegistryError) -> Bool in
            try await self.guarded("pinning \(tool)") { [self] in
                var inserted = false
                for try await _ in try await client.query("""
                    INSERT INTO bridge_tool_pins (tool, server, digest, first_seen_at) VALUES (\(tool), \(server), \(digest), \(now))
                    ON CONFLICT (tool) DO NOTHING RETURNING tool
                    """, logger: logger) { inserted = true }
                return inserted
            }
        }
    }

    public func recordChangedDefinition(_ tool: String, digest: String?, at now: Date) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in
            try await self.guarded("recording the changed definition of \(tool)") { [self] in
                try await client.query("""
                    UPDATE bridge_tool_pins SET changed_digest = \(digest), changed_at = \(digest == nil ? nil : now) WHERE tool = \(tool)
                    """, logger: logger)
            }
        }
    }

    public func recordBridgeServer(owner: String, server: String, status: String, at now: Date) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in
            try await self.guarded("recording the status of \(server)") { [self] in
                try await client.query("""
                    INSERT INTO bridge_servers (owner, server, status, updated_at) VALUES (\(owner), \(server), \(status), \(now))
                    ON CONFLICT (owner, server) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
                    """, logger: logger)
            }
        }
    }

    /// Forgets the status rows of hosts that no longer heartbeat (by machine and pid, as leases are
    /// matched to hosts), keeping the newest row of each server for reference.
    public func pruneBridgeServers() throws(RegistryError) {
        let millis = Self.goneAfter.wholeMilliseconds
        try blocking { () async throws(RegistryError) in
            try await self.guarded("pruning the status of stopped hosts") { [self] in
                try await client.query("""
                    DELETE FROM bridge_servers b
                    WHERE NOT EXISTS (SELECT 1 FROM hosts h WHERE h.heartbeat_at >= now() - \(millis) * interval '1 millisecond'
                                        AND b.owner LIKE h.machine || ':' || h.pid || ':%')
                      AND b.updated_at < (SELECT max(updated_at) FROM bridge_servers n WHERE n.server = b.server)
                    """, logger: logger)
            }
        }
    }
}
