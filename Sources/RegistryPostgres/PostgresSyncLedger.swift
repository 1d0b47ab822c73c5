import Core
import Foundation
import Logging
import PostgresNIO
import Registry
import Synchronization

/// The source syncer's ledger on PostgreSQL (`SyncLedger`), with the SQLite registry's semantics
/// and two differences that several hosts need: a lease's expiry is the database server's clock,
/// and a lease carries a fence, so a publish made while this registry holds the source's lease is
/// written under `whileHolding` (a holder that stalled past its lease and lost it writes nothing).
/// Called on the syncer's threads; each call blocks its thread while the driver works.
extension PostgresRegistry: SyncLedger {
    public func declareSources(_ sources: [SourceDescriptor]) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.declareSources(sources) }
    }

    public func sources() throws(RegistryError) -> [SourceRecord] {
        try blocking { () async throws(RegistryError) in try await self.sources() }
    }

    public func source(named name: String) throws(RegistryError) -> SourceRecord? {
        try blocking { () async throws(RegistryError) in try await self.source(named: name) }
    }

    public func knownDigests(of source: String) throws(RegistryError) -> [String: String] {
        try blocking { () async throws(RegistryError) in
            try await self.guarded("reading the digests of \(source)") { [self] in
                var digests: [String: String] = [:]
                for try await (path, digest) in try await client.query("SELECT path, digest FROM skills WHERE source = \(source) AND deleted_at IS NULL",
                                                                       logger: logger).decode((String, String).self) { digests[path] = digest }
                return digests
            }
        }
    }

    public func acquireLease(_ source: String, owner: String, seconds: Double, replacing: String?, now: Date) throws(RegistryError) -> Bool {
        let lease = try blocking { () async throws(RegistryError) -> SyncLease? in
            let millis = Int64(seconds * 1000)
            return try await self.guarded("taking the sync lease of \(source)") { [self] in
                for try await (source, owner, fence, expiresAt) in try await client.query("""
                    INSERT INTO sync_leases (source, owner, fence, expires_at) VALUES (\(source), \(owner), 1, now() + \(millis) * interval '1 millisecond')
                    ON CONFLICT (source) DO UPDATE SET owner = excluded.owner, fence = sync_leases.fence + 1, expires_at = excluded.expires_at
                    WHERE sync_leases.owner IS NULL OR sync_leases.expires_at IS NULL OR sync_leases.expires_at < now()
                       OR sync_leases.owner = excluded.owner OR sync_leases.owner = \(replacing)
                    RETURNING source, owner, fence, expires_at
                    """, logger: logger).decode((String, String, Int64, Date).self) {
                    return SyncLease(source: source, owner: owner, fence: fence, expiresAt: expiresAt)
                }
                return nil
            }
        }
        heldLeases.withLock { $0[source] = lease }
        return lease != nil
    }

    public func releaseLease(_ source: String, owner: String, checkedAt: Date?) throws(RegistryError) {
        heldLeases.withLock { held in if held[source]?.owner == owner { held[source] = nil } }
        try blocking { () async throws(RegistryError) in
            _ = try await self.guarded("releasing the sync lease of \(source)") { [self] in
                try await client.query("""
                    UPDATE sync_leases SET owner = NULL, expires_at = NULL, last_checked_at = coalesce(\(checkedAt), last_checked_at)
                    WHERE source = \(source) AND owner = \(owner)
                    """, logger: logger)
            }
        }
    }

    public func scheduleNextAttempt(_ source: String, at date: Date?) throws(RegistryError) {
        try write("scheduling \(source)", """
            INSERT INTO sync_leases (source, next_attempt_at) VALUES (\(source), \(date))
            ON CONFLICT (source) DO UPDATE SET next_attempt_at = excluded.next_attempt_at
            """)
    }

    public func markSyncing(_ source: String, owner: String, at now: Date) throws(RegistryError) {
        try write("marking \(source) syncing", """
            UPDATE sources SET status = 'syncing', status_reason = \(SyncOwner.reasonPrefix + owner), last_attempt_at = \(now) WHERE name = \(source)
            """)
    }

    public func markSuspended(_ source: String) throws(RegistryError) {
        try write("suspending \(source)", """
            UPDATE sources SET status = 'suspended', status_reason = 'suspend: true in the manifest' WHERE name = \(source) AND status <> 'suspended'
            """)
    }

    public func resume(_ source: String) throws(RegistryError) {
        try write("resuming \(source)", """
            UPDATE sources SET status = CASE WHEN revision IS NULL THEN 'new' ELSE 'ready' END, status_reason = NULL
            WHERE name = \(source) AND status = 'suspended'
            """)
    }

    public func recordFailure(_ source: String, reason: String, startedAt: Date, at now: Date) throws(RegistryError) {
        let reason = PostgresText.storable(reason).0
        try blocking { () async throws(RegistryError) in
            try await self.guarded("recording the failure of \(source)") { [self] in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("""
                        UPDATE sources SET status = 'failed', status_reason = \(reason), last_attempt_at = \(now),
                          consecutive_failures = consecutive_failures + 1 WHERE name = \(source)
                        """, logger: logger)
                    try await connection.query("""
                        INSERT INTO sync_runs (source, started_at, finished_at, outcome, message) VALUES (\(source), \(startedAt), \(now), 'failed', \(reason))
                        """, logger: logger)
                }
            }
        }
    }

    public func recordFailure(_ source: String, kind: SyncFailureKind, reason: String, configDigest: String?, startedAt: Date,
                              at now: Date) throws(RegistryError) {
        let status = kind == .config ? "stalled" : "failed", reason = PostgresText.storable(reason).0
        try blocking { () async throws(RegistryError) in
            try await self.guarded("recording the failure of \(source)") { [self] in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("""
                        UPDATE sources SET status = \(status), status_reason = \(reason), failure_kind = \(kind.rawValue), last_attempt_at = \(now),
                          consecutive_failures = consecutive_failures + 1,
                          config_digest = CASE WHEN \(status) = 'stalled' THEN \(configDigest) ELSE config_digest END
                        WHERE name = \(source)
                        """, logger: logger)
                    try await connection.query("""
                        INSERT INTO sync_runs (source, started_at, finished_at, outcome, message)
                        VALUES (\(source), \(startedAt), \(now), 'failed', \("\(kind.rawValue): \(reason)"))
                        """, logger: logger)
                }
            }
        }
    }

    /// Publishes; while this registry holds the source's lease, under it (fenced: a lease lost
    /// meanwhile refuses the publish with `.conflict` and nothing is written).
    public func publish(_ snapshot: SkillSnapshot, to source: String, options: PublishOptions) throws(RegistryError) -> PublishReport {
        let lease = heldLeases.withLock { $0[source] }
        return try blocking { () async throws(RegistryError) -> PublishReport in
            guard let lease else { return try await self.publish(snapshot, to: source, options: options) }
            let logger = self.logger
            return try await self.whileHolding(lease) { connection in
                try await Self.publish(snapshot, to: source, options: options, connection, logger: logger)
            }
        }
    }

    /// One statement, blocking.
    private func write(_ what: String, _ sql: PostgresQuery) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in
            _ = try await self.guarded(what) { [self] in try await client.query(sql, logger: logger) }
        }
    }
}
