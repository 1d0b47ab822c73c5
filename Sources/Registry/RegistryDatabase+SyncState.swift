import Foundation
import GRDB

/// Why a sync did not publish, as `agenthub sources` shows it.
public enum SyncFailureKind: String, Codable, Sendable, CaseIterable {
    case timeout, auth
    case notFound = "not found"
    case network, validation, config
    /// Discovery stopped at a bound (`max_dirs`): nothing was published or removed.
    case truncated
    /// The process syncing it died mid-sync (shown by readers, never recorded).
    case interrupted
}

extension RegistryDatabase {
    /// Takes the sync lease of `source` for `seconds` unless another owner holds an unexpired one.
    /// Two processes on one database never sync the same source at once; a lease left by a process
    /// that died expires by itself.
    /// `replacing` takes the lease from that owner even if unexpired (its process is known to be gone).
    public func acquireLease(_ source: String, owner: String, seconds: Double, replacing: String? = nil, now: Date = Date()) throws(RegistryError) -> Bool {
        try write("taking the sync lease of \(source)") { db in
            try db.execute(sql: """
                INSERT INTO sync_leases (source, owner, expires_at) VALUES (?, ?, ?)
                ON CONFLICT(source) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE sync_leases.owner IS NULL OR sync_leases.owner = excluded.owner OR sync_leases.expires_at < ?
                   OR sync_leases.owner = ?
                """, arguments: [source, owner, now.addingTimeInterval(seconds), now, replacing])
            return db.changesCount > 0
        }
    }

    /// Gives the lease back and records when the source was last checked (the scheduler records when
    /// it is due next, `scheduleNextAttempt`).
    public func releaseLease(_ source: String, owner: String, checkedAt: Date?) throws(RegistryError) {
        try write("releasing the sync lease of \(source)") { db in
            try db.execute(sql: """
                UPDATE sync_leases SET owner = NULL, expires_at = NULL, last_checked_at = coalesce(?, last_checked_at)
                WHERE source = ? AND owner = ?
                """, arguments: [checkedAt, source, owner])
        }
    }

    /// Records when the scheduler will next try `source` (after a failure, or a newly declared source).
    public func scheduleNextAttempt(_ source: String, at date: Date?) throws(RegistryError) {
        try write("scheduling \(source)") { db in
            try db.execute(sql: """
                INSERT INTO sync_leases (source, next_attempt_at) VALUES (?, ?)
                ON CONFLICT(source) DO UPDATE SET next_attempt_at = excluded.next_attempt_at
                """, arguments: [source, date])
        }
    }

    /// Records a failed sync with its kind: the last good revision stays published.
    /// A `config` failure makes the source `stalled`: it is not retried until its manifest entry changes.
    public func recordFailure(_ source: String, kind: SyncFailureKind, reason: String, configDigest: String?,
                              startedAt: Date, at now: Date = Date()) throws(RegistryError) {
        let status = kind == .config ? "stalled" : "failed"
        try write("recording the failure of \(source)") { db in
            try db.execute(sql: """
                UPDATE sources SET status = ?, status_reason = ?, failure_kind = ?, last_attempt_at = ?,
                  consecutive_failures = consecutive_failures + 1,
                  config_digest = CASE WHEN ? = 'stalled' THEN ? ELSE config_digest END
                WHERE name = ?
                """, arguments: [status, reason, kind.rawValue, now, status, configDigest, source])
            try db.execute(sql: "INSERT INTO sync_runs (source, started_at, finished_at, outcome, message) VALUES (?, ?, ?, 'failed', ?)",
                           arguments: [source, startedAt, now, "\(kind.rawValue): \(reason)"])
        }
    }

    /// Marks a source suspended (`suspend: true` in the manifest): it keeps serving what it has.
    public func markSuspended(_ source: String) throws(RegistryError) {
        try write("suspending \(source)") { db in
            try db.execute(sql: """
                UPDATE sources SET status = 'suspended', status_reason = 'suspend: true in the manifest'
                WHERE name = ? AND status != 'suspended'
                """, arguments: [source])
        }
    }

    /// Brings a suspended source back to the status its last publish left (`ready`, or `new`).
    public func resume(_ source: String) throws(RegistryError) {
        try write("resuming \(source)") { db in
            try db.execute(sql: """
                UPDATE sources SET status = CASE WHEN revision IS NULL THEN 'new' ELSE 'ready' END, status_reason = NULL
                WHERE name = ? AND status = 'suspended'
                """, arguments: [source])
        }
    }
}
