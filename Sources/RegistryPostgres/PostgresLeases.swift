import Base
import Foundation
import Logging
import PostgresNIO
import Registry

/// A source's sync lease across hosts: who may sync it now, until when, and a fence that grows with
/// every new holder. Expiry is the database server's clock (`now()`), never a host's, so hosts whose
/// clocks disagree still agree on who holds a lease. A holder that stalled past its lease and lost it
/// cannot publish: `whileHolding` locks the lease row and checks the fence in the same transaction
/// as the write, so a publish by a stale holder is refused and changes nothing.
public struct SyncLease: Sendable, Equatable {
    public let source: String
    public let owner: String
    /// Grows by one each time the lease changes hands.
    public let fence: Int64
    public let expiresAt: Date
}

extension PostgresRegistry {
    /// Takes `source`'s lease for `ttl` unless another owner holds an unexpired one; nil when it does.
    public func acquireLease(_ source: String, owner: String, for ttl: Duration) async throws(RegistryError) -> SyncLease? {
        let millis = ttl.wholeMilliseconds
        return try await leaseRow("taking the sync lease of \(source)", """
            INSERT INTO sync_leases (source, owner, fence, expires_at) VALUES (\(source), \(owner), 1, now() + \(millis) * interval '1 millisecond')
            ON CONFLICT (source) DO UPDATE SET owner = excluded.owner, fence = sync_leases.fence + 1, expires_at = excluded.expires_at
            WHERE sync_leases.owner IS NULL OR sync_leases.expires_at IS NULL OR sync_leases.expires_at < now()
               OR sync_leases.owner = excluded.owner
            RETURNING source, owner, fence, expires_at
            """)
    }

    /// Extends a lease still held; nil when it was lost (it expired and another owner took it, or
    /// it was released).
    public func renewLease(_ lease: SyncLease, for ttl: Duration) async throws(RegistryError) -> SyncLease? {
        let millis = ttl.wholeMilliseconds
        return try await leaseRow("renewing the sync lease of \(lease.source)", """
            UPDATE sync_leases SET expires_at = now() + \(millis) * interval '1 millisecond'
            WHERE source = \(lease.source) AND owner = \(lease.owner) AND fence = \(lease.fence)
            RETURNING source, owner, fence, expires_at
            """)
    }

    /// Gives a lease back, recording when the source was last checked. A lease already lost is left alone.
    public func releaseLease(_ lease: SyncLease, checkedAt: Date?) async throws(RegistryError) {
        try await guarded("releasing the sync lease of \(lease.source)") { [self] in
            try await client.query("""
                UPDATE sync_leases SET owner = NULL, expires_at = NULL, last_checked_at = coalesce(\(checkedAt), last_checked_at)
                WHERE source = \(lease.source) AND owner = \(lease.owner) AND fence = \(lease.fence)
                """, logger: logger)
        }
    }

    /// Runs `body` in a transaction that holds the lease row locked, if the lease is still this
    /// holder's; `.conflict` (and nothing written) when it is not. Taking the lease over waits for
    /// the transaction, so a publish and a takeover never interleave.
    public func whileHolding<T: Sendable>(_ lease: SyncLease, _ body: @Sendable (PostgresConnection) async throws -> T) async throws(RegistryError) -> T {
        let logger = self.logger
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query("""
                    SELECT fence FROM sync_leases WHERE source = \(lease.source) AND owner = \(lease.owner) AND fence = \(lease.fence)
                      AND expires_at >= now() FOR UPDATE
                    """, logger: logger)
                var held = false
                for try await _ in rows { held = true }
                guard held else {
                    throw RegistryError(.conflict, "source '\(lease.source)': the sync lease (fence \(lease.fence)) is no longer \(lease.owner)'s; nothing was written")
                }
                return try await body(connection)
            }
        } catch {
            if let error = Self.unwrapped(error) as? RegistryError { throw error }
            throw RegistryError(.database, "\(location): writing under the sync lease of \(lease.source) failed: \(Self.describe(error))")
        }
    }

    private func leaseRow(_ what: String, _ query: PostgresQuery) async throws(RegistryError) -> SyncLease? {
        try await guarded(what) { [self] in
            for try await (source, owner, fence, expiresAt) in try await client.query(query, logger: logger).decode((String, String, Int64, Date).self) {
                return SyncLease(source: source, owner: owner, fence: fence, expiresAt: expiresAt)
            }
            return nil
        }
    }
}
