import Base
import Core
import Foundation
import Logging
import PostgresNIO
import Registry

/// The hosts on one database, as `agenthub status` and `GET /v1/hosts` list them: each host's row,
/// its machine, and whether it is still heartbeating. Liveness is the database server's clock: a
/// host whose last heartbeat is older than `goneAfter` is gone, whatever its own clock says (on
/// one machine the SQLite registry asks the kernel whether the pid still runs; across machines only
/// the heartbeat can tell). Listing releases the sync leases gone hosts still hold, so a source a
/// dead host was syncing is synced again at once rather than when the lease runs out.
public struct HostPresence: Sendable, Equatable {
    public var record: HostRecord
    public var machine: String
    public var alive: Bool
}

extension PostgresRegistry {
    /// Adds (or replaces) this host's row; its heartbeat starts now.
    public func registerHost(_ host: HostRecord, machine: String) async throws(RegistryError) {
        try await execute("registering host \(host.id)", """
            INSERT INTO hosts (id, machine, pid, start_ticks, kind, config, started_at, heartbeat_at, revision, http, reloads)
            VALUES (\(host.id), \(machine), \(Int(host.pid)), \(host.startTicks), \(host.kind), \(host.config), \(host.startedAt), now(),
                    \(host.revision), \(host.http), 0)
            ON CONFLICT (id) DO UPDATE SET machine = excluded.machine, pid = excluded.pid, start_ticks = excluded.start_ticks,
              kind = excluded.kind, config = excluded.config, started_at = excluded.started_at, heartbeat_at = now(),
              revision = excluded.revision, http = excluded.http, reloads = 0
            """)
    }

    /// This host is alive (and where it listens, if that changed).
    public func heartbeat(host id: String, http: String? = nil) async throws(RegistryError) {
        try await execute("the heartbeat of host \(id)", "UPDATE hosts SET heartbeat_at = now(), http = coalesce(\(http), http) WHERE id = \(id)")
    }

    /// A reload this host attempted, with its outcome.
    public func recordReload(host id: String, revision: String, trigger: String, result: String, message: String, errors: [String]) async throws(RegistryError) {
        let errorsJSON = errors.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(errors)) ?? Data("[]".utf8), as: UTF8.self)
        try await execute("recording a reload of host \(id)", """
            UPDATE hosts SET revision = \(revision), reloads = reloads + 1, last_reload_at = now(), last_reload_trigger = \(trigger),
              last_reload_result = \(result), last_reload_message = \(message), last_reload_errors = \(errorsJSON)::jsonb
            WHERE id = \(id)
            """)
    }

    /// The host stopped cleanly: its row goes, and the leases it held are released.
    public func removeHost(_ id: String) async throws(RegistryError) {
        try await execute("releasing the leases of host \(id)", """
            UPDATE sync_leases SET owner = NULL, expires_at = NULL
            WHERE owner = \(id) OR EXISTS (SELECT 1 FROM hosts h WHERE h.id = \(id) AND \(unescaped: Self.heldBy))
            """)
        try await execute("removing host \(id)", "DELETE FROM hosts WHERE id = \(id)")
    }

    /// A lease owner is `MACHINE:PID:NONCE` (`SyncOwner`), a host row's id `PID@TICKS`: a lease is
    /// host `h`'s when its owner names h's machine and pid.
    static let heldBy = "sync_leases.owner LIKE h.machine || ':' || h.pid || ':%'"

    /// Every host on the database, newest first, alive when it heartbeat within `goneAfter`; the
    /// leases of the gone ones are released.
    public func hosts(goneAfter: Duration) async throws(RegistryError) -> [HostPresence] {
        let millis = goneAfter.wholeMilliseconds
        try await execute("releasing the leases of gone hosts", """
            UPDATE sync_leases SET owner = NULL, expires_at = NULL
            WHERE owner IN (SELECT id FROM hosts WHERE heartbeat_at < now() - \(millis) * interval '1 millisecond')
               OR EXISTS (SELECT 1 FROM hosts h WHERE h.heartbeat_at < now() - \(millis) * interval '1 millisecond' AND \(unescaped: Self.heldBy))
            """)
        return try await guarded("listing hosts") { [self] in
            let rows = try await client.query("""
                SELECT id, machine, pid, start_ticks, kind, config, started_at, heartbeat_at, revision, http, reloads, last_reload_at,
                       last_reload_trigger, last_reload_result, last_reload_message, last_reload_errors::text,
                       heartbeat_at >= now() - \(millis) * interval '1 millisecond'
                FROM hosts ORDER BY started_at DESC, id
                """, logger: logger)
            var out: [HostPresence] = []
            for try await row in rows {
                let c = try row.decode((String, String, Int, String, String, String, Date, Date, String, String?, Int, Date?, String?, String?,
                                        String?, String?, Bool).self)
                let errors = c.15.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                var record = HostRecord(id: c.0, pid: Int32(c.2), startTicks: c.3, kind: c.4, config: c.5, startedAt: c.6, revision: c.8, http: c.9)
                record.heartbeatAt = c.7
                record.reloads = c.10
                record.lastReloadAt = c.11
                record.lastReloadTrigger = c.12
                record.lastReloadResult = c.13
                record.lastReloadMessage = c.14
                record.lastReloadErrors = errors
                out.append(HostPresence(record: record, machine: c.1, alive: c.16))
            }
            return out
        }
    }

    private func execute(_ what: String, _ query: PostgresQuery) async throws(RegistryError) {
        try await guarded(what) { [self] in try await client.query(query, logger: logger) }
    }
}

/// The host ledger on PostgreSQL (`HostLedger`): the host's own calls, blocking their thread. A
/// host is gone when it has not heartbeat for `PostgresRegistry.goneAfter` by the server's clock.
extension PostgresRegistry: HostLedger {
    /// Six heartbeats (5 s apart) missed.
    public static let goneAfter: Duration = .seconds(30)

    public func registerHost(_ host: HostRecord) throws(RegistryError) {
        let machine = ProcessInfo.processInfo.hostName
        try blocking { () async throws(RegistryError) in try await self.registerHost(host, machine: machine) }
    }

    public func heartbeat(host id: String, http: String?, at now: Date) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.heartbeat(host: id, http: http) }
    }

    public func recordReload(host id: String, revision: String, trigger: String, result: String, message: String, errors: [String],
                             at now: Date) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in
            try await self.recordReload(host: id, revision: revision, trigger: trigger, result: result, message: message, errors: errors)
        }
    }

    public func removeHost(_ id: String) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.removeHost(id) }
    }

    /// Releases the leases of gone hosts at once (`hosts(goneAfter:)` does), and forgets the rows of
    /// hosts gone for `forgetAfter`: until then listings show them as gone.
    public func removeGoneHosts(isRunning: (HostRecord) -> Bool) throws(RegistryError) -> [String] {
        try blocking { () async throws(RegistryError) -> [String] in
            let forgotten = try await self.hosts(goneAfter: Self.goneAfter)
                .filter { !$0.alive && Date().timeIntervalSince($0.record.heartbeatAt) > Self.forgetAfter.seconds }.map(\.record.id)
            for id in forgotten { try await self.removeHost(id) }
            return forgotten
        }
    }

    /// How long a gone host is still listed (as gone).
    public static let forgetAfter: Duration = .seconds(600)
}
