import Base
import Foundation
import GRDB

/// Approval requests and grants. Every change of a request is one conditional UPDATE on a pending
/// row in a write transaction, so two answers racing (two approvers, two processes, an answer and
/// the expiry) leave exactly one decision: the first to commit; the others see it resolved. Every
/// change that others wait on or cache (a request opened or ended, a grant made or revoked) moves
/// `approvalsChanged`, here and nowhere else.
extension RegistryDatabase {
    /// Moved by every change of a request or a grant, in any process (waiting calls and grant caches watch it).
    public var approvalsChanged: StampFile { StampFile(named: "approvals-changed", besideDatabase: path) }

    /// Stores a new pending request. With `maxPending`, refuses (`.limit`) when the agent already has
    /// that many pending requests that have not expired: one agent cannot flood the queue.
    public func insertApproval(_ record: ApprovalRecord, maxPending: Int? = nil) throws(RegistryError) {
        try write("storing approval request \(record.id)") { db in
            if let maxPending {
                let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM approvals WHERE agent = ? AND status = 'pending' AND expires_at > ?",
                                               arguments: [record.agent, record.createdAt]) ?? 0
                if pending >= maxPending {
                    throw RegistryError(.limit, "agent '\(record.agent)' already has \(pending) approval requests pending (policy.max_pending); answer or let them expire first")
                }
            }
            try db.execute(sql: """
                INSERT INTO approvals (id, tool, arguments, arguments_digest, agent, role, grp, session, span_id, rule, rule_key,
                  policy_reason, revision, host_id, created_at, expires_at, status, approvers, client_scope, session_ends, deferred)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
                """, arguments: [record.id, record.tool, record.arguments, record.argumentsDigest, record.agent, record.role, record.group,
                                 record.session, record.spanId, record.rule, record.ruleKey, record.policyReason, record.revision,
                                 record.hostId, record.createdAt, record.expiresAt, record.approvers.rawValue, record.clientScope.rawValue,
                                 record.sessionEnds, record.deferred])
        }
        approvalsChanged.touch()
    }

    /// The request `id`, or the one request whose id starts with it (operators type short prefixes).
    public func approval(_ idOrPrefix: String) throws(RegistryError) -> ApprovalRecord? {
        try read("reading approval request \(idOrPrefix)") { db in try Self.approval(db, idOrPrefix) }
    }

    static func approval(_ db: Database, _ idOrPrefix: String) throws -> ApprovalRecord? {
        if let exact = try ApprovalRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM approvals WHERE id = ?"), arguments: [idOrPrefix]) { return exact }
        guard ApprovalRecord.mayBePrefix(idOrPrefix) else { return nil }
        let escaped = idOrPrefix.replacingOccurrences(of: "_", with: "\\_")
        let matches = try ApprovalRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM approvals WHERE id LIKE ? ESCAPE '\\' LIMIT 2"), arguments: [escaped + "%"])
        return matches.count == 1 ? matches[0] : nil
    }

    /// Requests, newest first: those with `status` (every status when nil), at most `limit`, older
    /// than the request `before` when given (the next page: pass the last id of this one).
    public func approvals(status: ApprovalStatus? = nil, agent: String? = nil, before: String? = nil, limit: Int = 200) throws(RegistryError) -> [ApprovalRecord] {
        try read("listing approval requests") { db in
            var sql = "SELECT * FROM approvals WHERE 1"
            var arguments: StatementArguments = []
            if let status { sql += " AND status = ?"; arguments += [status.rawValue] }
            if let agent { sql += " AND agent = ?"; arguments += [agent] }
            if let before {
                guard let cursor = try ApprovalRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM approvals WHERE id = ?"), arguments: [before]) else { return [] }
                sql += " AND (created_at < ? OR (created_at = ? AND id > ?))"
                arguments += [cursor.createdAt, cursor.createdAt, cursor.id]
            }
            sql += " ORDER BY created_at DESC, id LIMIT ?"
            arguments += [limit]
            return try ApprovalRecord.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    /// A pending request for the same call (agent, tool, arguments) whose caller is gone (its host
    /// stopped): a retry after a restart waits on it instead of asking again.
    public func adoptableApproval(agent: String, tool: String, argumentsDigest: String, now: Date = Date(),
                                  isLive: (String) -> Bool) throws(RegistryError) -> ApprovalRecord? {
        try read("looking for a pending approval request") { db in
            try ApprovalRecord.fetchAll(db, sql: """
                SELECT * FROM approvals WHERE agent = ? AND tool = ? AND arguments_digest = ? AND status = 'pending' AND expires_at > ?
                ORDER BY created_at
                """, arguments: [agent, tool, argumentsDigest, now]).first { !isLive($0.hostId ?? "") }
        }
    }

    /// The newest request of a deferred call (agent, tool, arguments, rule) that can still let it run:
    /// pending and not expired, or granted since `grantedSince` and not used yet.
    public func openDeferredApproval(agent: String, tool: String, argumentsDigest: String, ruleKey: String, now: Date = Date(),
                                     grantedSince: Date) throws(RegistryError) -> ApprovalRecord? {
        try read("looking for a deferred approval request") { db in
            try ApprovalRecord.fetchOne(db, sql: """
                SELECT * FROM approvals WHERE agent = ? AND tool = ? AND arguments_digest = ? AND rule_key = ? AND deferred
                  AND ((status = 'pending' AND expires_at > ?) OR (status = 'granted' AND used_at IS NULL AND decided_at > ?))
                ORDER BY created_at DESC LIMIT 1
                """, arguments: [agent, tool, argumentsDigest, ruleKey, now, grantedSince])
        }
    }

    /// Moves a pending request to `hostId` and `session` (a retry adopted it). False when it is no longer pending.
    public func adoptApproval(_ id: String, hostId: String, session: String, spanId: String) throws(RegistryError) -> Bool {
        try write("adopting approval request \(id)") { db in
            try db.execute(sql: "UPDATE approvals SET host_id = ?, session = ?, span_id = ? WHERE id = ? AND status = 'pending'",
                           arguments: [hostId, session, spanId, id])
            return db.changesCount == 1
        }
    }

    /// Answers a pending request. The first answer wins; a granted `session` or `agent` scope also
    /// stores the grant, in the same transaction.
    public func decideApproval(_ idOrPrefix: String, _ answer: ApprovalAnswer, grantId: String, now: Date = Date()) throws(RegistryError) -> ApprovalDecision {
        let decision = try write("answering approval request \(idOrPrefix)") { db -> ApprovalDecision in
            guard let record = try Self.approval(db, idOrPrefix) else { return .notFound }
            guard record.status == .pending else { return .alreadyResolved(record) }
            if record.expiresAt <= now {
                try Self.close(db, record.id, .expired, by: "host", via: "host", reason: "no answer before it expired", now: now)
                return .alreadyResolved(try Self.approval(db, record.id) ?? record)
            }
            if let reason = record.refusal(of: answer, now: now) { return .refused(record, reason: reason) }
            let scope = answer.granted ? answer.scope : nil
            try db.execute(sql: """
                UPDATE approvals SET status = ?, scope = ?, decided_at = ?, decided_by = ?, decided_via = ?, decision_reason = ?
                WHERE id = ? AND status = 'pending'
                """, arguments: [answer.granted ? "granted" : "denied", scope?.rawValue, now, answer.by, answer.via, answer.reason, record.id])
            guard db.changesCount == 1 else { return .alreadyResolved(try Self.approval(db, record.id) ?? record) }
            var grant: ApprovalGrantRecord?
            if let scope, scope != .call {
                try db.execute(sql: """
                    INSERT INTO approval_grants (id, approval_id, tool, agent, session, scope, rule, rule_key, granted_by, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [grantId, record.id, record.tool, record.agent, scope == .session ? record.session : nil, scope.rawValue,
                                     record.rule, record.ruleKey, answer.by, now, answer.grantExpiresAt])
                grant = try ApprovalGrantRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM approval_grants WHERE id = ?"), arguments: [grantId])
            }
            return .decided(try Self.approval(db, record.id) ?? record, grant: grant)
        }
        switch decision {
        case .decided: approvalsChanged.touch()
        case .alreadyResolved(let record) where record.status == .expired: approvalsChanged.touch()
        case .alreadyResolved, .refused, .notFound: break
        }
        return decision
    }

    /// Marks a granted request as used by the call it let run. False when it was used already (a
    /// client replaying a 2026-07-28 `requestState` gets no second run from one approval).
    public func consumeApproval(_ id: String, now: Date = Date()) throws(RegistryError) -> Bool {
        try write("using approval \(id)") { db in
            try db.execute(sql: "UPDATE approvals SET used_at = ? WHERE id = ? AND status = 'granted' AND used_at IS NULL", arguments: [now, id])
            return db.changesCount == 1
        }
    }

    /// Ends a pending request without an answer: `expired` or `withdrawn`. False when it was no longer pending.
    public func closeApproval(_ id: String, _ status: ApprovalStatus, reason: String, now: Date = Date()) throws(RegistryError) -> Bool {
        let closed = try write("closing approval request \(id)") { db in
            try Self.close(db, id, status, by: "host", via: "host", reason: reason, now: now)
            return db.changesCount == 1
        }
        if closed { approvalsChanged.touch() }
        return closed
    }

    private static func close(_ db: Database, _ id: String, _ status: ApprovalStatus, by: String, via: String, reason: String, now: Date) throws {
        try db.execute(sql: """
            UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decided_via = ?, decision_reason = ?
            WHERE id = ? AND status = 'pending'
            """, arguments: [status.rawValue, now, by, via, reason, id])
    }

    /// Ends every pending request past its expiry; returns them as they now are.
    public func expireApprovals(now: Date = Date()) throws(RegistryError) -> [ApprovalRecord] {
        let expired = try write("expiring approval requests") { db -> [ApprovalRecord] in
            let due = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= ?"), arguments: [now])
            var expired: [ApprovalRecord] = []
            for id in due {
                try Self.close(db, id, .expired, by: "host", via: "host", reason: "no answer before it expired", now: now)
                if db.changesCount == 1, let record = try Self.approval(db, id) { expired.append(record) }
            }
            return expired
        }
        if !expired.isEmpty { approvalsChanged.touch() }
        return expired
    }

    /// The grant that lets `agent` call `tool` now without asking, for the rule that asks (`ruleKey`):
    /// a session grant of `session`, or an agent grant not past its end; never a revoked one.
    public func activeGrant(tool: String, agent: String, session: String, ruleKey: String, now: Date = Date()) throws(RegistryError) -> ApprovalGrantRecord? {
        try read("looking up approval grants") { db in
            try ApprovalGrantRecord.fetchOne(db, sql: """
                SELECT * FROM approval_grants
                WHERE agent = ? AND tool = ? AND rule_key = ? AND revoked_at IS NULL
                  AND ((scope = 'session' AND session = ?) OR scope = 'agent') AND expires_at > ?
                ORDER BY created_at LIMIT 1
                """, arguments: [agent, tool, ruleKey, session, now])
        }
    }

    /// Revokes the session grants of `session` (the session ended); returns how many.
    @discardableResult
    /// Reads first (a read never waits on a writer): a session without grants writes nothing.
    public func revokeSessionGrants(_ session: String, reason: String, now: Date = Date()) throws(RegistryError) -> Int {
        let any = try read("looking up the grants of session \(session)") { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM approval_grants WHERE scope = 'session' AND session = ? AND revoked_at IS NULL LIMIT 1",
                              arguments: [session]) ?? false
        }
        guard any else { return 0 }
        let count = try write("revoking the grants of session \(session)") { db in
            try db.execute(sql: """
                UPDATE approval_grants SET revoked_at = ?, revoked_by = 'host', revoke_reason = ?
                WHERE scope = 'session' AND session = ? AND revoked_at IS NULL
                """, arguments: [now, reason, session])
            return db.changesCount
        }
        if count > 0 { approvalsChanged.touch() }
        return count
    }

    /// Grants, newest first (revoked and expired ones too when `all`).
    public func approvalGrants(all: Bool = false, agent: String? = nil, now: Date = Date(), limit: Int = 500) throws(RegistryError) -> [ApprovalGrantRecord] {
        try read("listing approval grants") { db in
            var sql = "SELECT * FROM approval_grants WHERE 1"
            var arguments: StatementArguments = []
            if !all { sql += " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"; arguments += [now] }
            if let agent { sql += " AND agent = ?"; arguments += [agent] }
            sql += " ORDER BY created_at DESC, id LIMIT ?"
            arguments += [limit]
            return try ApprovalGrantRecord.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    /// Revokes a grant; returns it as it now is (nil when unknown). Revoking twice keeps the first.
    public func revokeApprovalGrant(_ id: String, by: String, reason: String?, now: Date = Date()) throws(RegistryError) -> ApprovalGrantRecord? {
        let (grant, revoked) = try write("revoking approval grant \(id)") { db -> (ApprovalGrantRecord?, Bool) in
            try db.execute(sql: "UPDATE approval_grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [now, by, reason, id])
            let changed = db.changesCount == 1
            return (try ApprovalGrantRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM approval_grants WHERE id = ?"), arguments: [id]), changed)
        }
        if revoked { approvalsChanged.touch() }
        return grant
    }

    /// Revokes the active grants for which `stillAsks` says the manifest no longer asks with the same
    /// rule (a reload changed or removed it). Returns those revoked.
    public func revokeStaleGrants(by: String, reason: String, now: Date = Date(),
                                  stillAsks: (_ grant: ApprovalGrantRecord, _ role: String?, _ group: String?) -> Bool) throws(RegistryError) -> [ApprovalGrantRecord] {
        let revoked = try write("revoking approval grants a reload ended") { db -> [ApprovalGrantRecord] in
            let rows = try Row.fetchAll(db, sql: """
                SELECT g.*, a.role AS asked_role, a.grp AS asked_group FROM approval_grants g JOIN approvals a ON a.id = g.approval_id
                WHERE g.revoked_at IS NULL
                """)
            var revoked: [ApprovalGrantRecord] = []
            for row in rows {
                let grant = try ApprovalGrantRecord(row: row)
                guard !stillAsks(grant, row["asked_role"], row["asked_group"]) else { continue }
                try db.execute(sql: "UPDATE approval_grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
                               arguments: [now, by, reason, grant.id])
                revoked.append(grant)
            }
            return revoked
        }
        if !revoked.isEmpty { approvalsChanged.touch() }
        return revoked
    }
}
