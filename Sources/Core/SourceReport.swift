import Base
import Foundation
import Registry

/// A source as every front reports it: the status derived once from the stored one (a live lease
/// or a live syncing process is `syncing`; a `syncing` row whose process is gone is `failed`
/// with kind `interrupted`), its counts and its schedule. `json` is its one wire shape.
public struct SourceReport: Sendable, Equatable {
    public var record: SourceRecord
    public var status: SourceState
    /// Why the last sync failed (`failed` and `stalled` only): timeout, auth, ..., interrupted.
    public var failureKind: String?
    public var reason: String?

    public var name: String { record.name }

    public init(_ record: SourceRecord, now: Date = Date()) {
        self.record = record
        if let owner = record.leaseOwner, (record.leaseExpiresAt ?? .distantPast) > now, SyncOwner.mayBeAlive(owner) {
            (status, failureKind, reason) = (.syncing, nil, "\(SyncOwner.reasonPrefix)\(owner)")
        } else if record.status == .syncing {
            let owner = SyncOwner.owner(inReason: record.statusReason)
            if let owner, SyncOwner.mayBeAlive(owner) {
                (status, failureKind, reason) = (.syncing, nil, record.statusReason)
            } else {
                let who = owner.map { " (\($0))" } ?? ""
                (status, failureKind, reason) = (.failed, SyncFailureKind.interrupted.rawValue,
                    "the sync\(who) ended without finishing (its process was killed or crashed); the last good revision is still served")
            }
        } else {
            status = record.status
            failureKind = record.status == .failed || record.status == .stalled ? record.failureKind : nil
            reason = record.statusReason
        }
    }

    /// Every status a report may show, for schemas.
    public static let statusNames = SourceState.allCases.map(\.rawValue)

    /// Whether the source needs an operator: its last sync failed or it is stalled.
    public var isFailing: Bool { status == .failed || status == .stalled }

    /// Ready, with no failure since its last success.
    public var isHealthy: Bool { status == .ready && record.consecutiveFailures == 0 }

    /// The status with its failure kind, as tables print it: `failed (auth)`.
    public var statusText: String {
        status.rawValue + (failureKind.map { status == .failed ? " (\($0))" : "" } ?? "")
    }

    /// The one JSON shape of a source: `--json`, the REST API and the console's data.
    public var json: JSONValue {
        func date(_ d: Date?) -> JSONValue { d.map { .string(TraceEvent.timestamp($0)) } ?? .null }
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let s = record
        return [
            "name": .string(s.name), "kind": .string(s.kind.rawValue), "location": .string(Redaction.url(s.location)),
            "status": .string(status.rawValue), "failure_kind": text(failureKind), "status_reason": text(reason),
            "revision": text(s.revision), "commit": text(s.commit),
            "skills": .int(s.loadableCount), "strict": .int(s.strictCount), "shadowed": .int(s.shadowedCount), "tombstoned": .int(s.tombstonedCount),
            "consecutive_failures": .int(s.consecutiveFailures),
            "last_attempt_at": date(s.lastTriedAt), "last_success_at": date(s.lastSuccessAt), "next_attempt_at": date(s.nextAttemptAt),
        ]
    }
}
