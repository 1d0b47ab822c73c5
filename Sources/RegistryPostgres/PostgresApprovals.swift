import Foundation
import Logging
import PostgresNIO
import Registry

/// Approval requests across hosts: a call waiting on host A and the operator answering on host B
/// meet in one row. The first answer wins (the row is locked while it is decided), every change
/// moves the `approvals` mark in the same transaction, and the mark's NOTIFY is delivered at commit,
/// so the waiting host hears of the answer as soon as it is stored. Who may answer and which scopes
/// they may grant is `ApprovalRecord.refusal(of:now:)`, the rule the SQLite registry applies too.
extension PostgresRegistry {
    static let approvalColumns = """
        id, tool, arguments::text, arguments_digest, agent, role, grp, session, span_id, rule, rule_key, policy_reason, revision, host_id,
        created_at, expires_at, status, scope, decided_at, decided_by, decided_via, decision_reason, used_at, approvers, client_scope,
        session_ends, deferred
        """

    /// Stores a new pending request; with `maxPending`, refuses (`.limit`) an agent that already has
    /// that many pending (counted under a lock per agent, so two hosts cannot both let the last one in).
    public func insertApproval(_ record: ApprovalRecord, maxPending: Int? = nil) async throws(RegistryError) {
        try await guarded("storing approval request \(record.id)") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                if let maxPending {
                    try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(record.agent)))", logger: logger)
                    var pending = 0
                    for try await count in try await connection.query("""
                        SELECT count(*)::int FROM approvals WHERE agent = \(record.agent) AND status = 'pending' AND expires_at > \(record.createdAt)
                        """, logger: logger).decode(Int.self) { pending = count }
                    if pending >= maxPending {
                        throw RegistryError(.limit, "agent '\(record.agent)' already has \(pending) approval requests pending (policy.max_pending); answer or let them expire first")
                    }
                }
                try await connection.query("""
                    INSERT INTO approvals (id, tool, arguments, arguments_digest, agent, role, grp, session, span_id, rule, rule_key, policy_reason,
                      revision, host_id, created_at, expires_at, status, approvers, client_scope, session_ends, deferred)
                    VALUES (\(record.id), \(record.tool), \(record.arguments)::jsonb, \(record.argumentsDigest), \(record.agent), \(record.role),
                      \(record.group), \(record.session), \(record.spanId), \(record.rule), \(record.ruleKey), \(record.policyReason), \(record.revision),
                      \(record.hostId), \(record.createdAt), \(record.expiresAt), 'pending', \(record.approvers.rawValue), \(record.clientScope.rawValue),
                      \(record.sessionEnds), \(record.deferred))
                    """, logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger)
            }
        }
    }

    /// The request `id`, or the one request whose id starts with it.
    public func approval(_ idOrPrefix: String) async throws(RegistryError) -> ApprovalRecord? {
        try await guarded("reading approval request \(idOrPrefix)") { [self] in
            try await client.withConnection { connection in try await Self.approval(connection, idOrPrefix, lock: false, logger: logger) }
        }
    }

    /// Answers a pending request: the first answer wins; a lasting grant is stored with it.
    public func decideApproval(_ idOrPrefix: String, _ answer: ApprovalAnswer, grantId: String, now: Date = Date()) async throws(RegistryError) -> ApprovalDecision {
        try await guarded("answering approval request \(idOrPrefix)") { [self] in
            try await client.withTransaction(logger: logger) { connection -> ApprovalDecision in
                guard let record = try await Self.approval(connection, idOrPrefix, lock: true, logger: logger) else { return .notFound }
                guard record.status == .pending else { return .alreadyResolved(record) }
                if record.expiresAt <= now {
                    try await connection.query("""
                        UPDATE approvals SET status = 'expired', decided_at = \(now), decided_by = 'host', decided_via = 'host',
                          decision_reason = 'no answer before it expired' WHERE id = \(record.id)
                        """, logger: logger)
                    try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger)
                    return .alreadyResolved(try await Self.approval(connection, record.id, lock: false, logger: logger) ?? record)
                }
                if let reason = record.refusal(of: answer, now: now) { return .refused(record, reason: reason) }
                let scope = answer.granted ? answer.scope : nil
                try await connection.query("""
                    UPDATE approvals SET status = \(answer.granted ? "granted" : "denied"), scope = \(scope?.rawValue), decided_at = \(now),
                      decided_by = \(answer.by), decided_via = \(answer.via), decision_reason = \(answer.reason) WHERE id = \(record.id)
                    """, logger: logger)
                var grant: ApprovalGrantRecord?
                if let scope, scope != .call {
                    let session = scope == .session ? record.session : nil
                    try await connection.query("""
                        INSERT INTO approval_grants (id, approval_id, tool, agent, session, scope, rule, rule_key, granted_by, created_at, expires_at)
                        VALUES (\(grantId), \(record.id), \(record.tool), \(record.agent), \(session), \(scope.rawValue), \(record.rule),
                                \(record.ruleKey), \(answer.by), \(now), \(answer.grantExpiresAt))
                        """, logger: logger)
                    grant = ApprovalGrantRecord(id: grantId, approvalId: record.id, tool: record.tool, agent: record.agent, session: session,
                                                scope: scope, rule: record.rule, ruleKey: record.ruleKey, grantedBy: answer.by, createdAt: now,
                                                expiresAt: answer.grantExpiresAt)
                }
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger)
                return .decided(try await Self.approval(connection, record.id, lock: false, logger: logger) ?? record, grant: grant)
            }
        }
    }

    /// One request by id or unique prefix, locked for the transaction when `lock`.
    static func approval(_ connection: PostgresConnection, _ idOrPrefix: String, lock: Bool, logger: Logger) async throws -> ApprovalRecord? {
        // A prefix follows the SQLite registry's rule; an exact id is always looked up.
        let pattern = !ApprovalRecord.mayBePrefix(idOrPrefix) ? "" : idOrPrefix.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        let rows = try await connection.query("""
            SELECT \(unescaped: approvalColumns) FROM approvals WHERE id = \(idOrPrefix)
               OR (NOT EXISTS (SELECT 1 FROM approvals WHERE id = \(idOrPrefix)) AND id LIKE \(pattern))
            ORDER BY id LIMIT 2 \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        var found: [ApprovalRecord] = []
        for try await row in rows { found.append(try approvalRecord(row)) }
        return found.count == 1 ? found[0] : nil
    }

    static func approvalRecord(_ row: PostgresRow) throws -> ApprovalRecord {
        let r = row.makeRandomAccess()
        func get<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T { try r[column].decode(T.self) }
        var record = ApprovalRecord(id: try get("id"), tool: try get("tool"), arguments: try get("arguments"), argumentsDigest: try get("arguments_digest"),
                                    agent: try get("agent"), role: try get("role"), group: try get("grp"), session: try get("session"),
                                    spanId: try get("span_id"), rule: try get("rule"), ruleKey: try get("rule_key"),
                                    policyReason: try get("policy_reason"), revision: try get("revision"), hostId: try get("host_id"),
                                    createdAt: try get("created_at"), expiresAt: try get("expires_at"))
        record.status = ApprovalStatus(rawValue: try get("status", String.self)) ?? .pending
        record.scope = try get("scope", String?.self).flatMap(ApprovalScope.init(rawValue:))
        record.decidedAt = try get("decided_at")
        record.decidedBy = try get("decided_by")
        record.decidedVia = try get("decided_via")
        record.decisionReason = try get("decision_reason")
        record.usedAt = try get("used_at")
        record.approvers = ApprovalApprovers(rawValue: try get("approvers", String.self)) ?? .operator
        record.clientScope = ApprovalScope(rawValue: try get("client_scope", String.self)) ?? .call
        record.sessionEnds = try get("session_ends")
        record.deferred = try get("deferred")
        return record
    }
}
