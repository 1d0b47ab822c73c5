import Core
import Dispatch
import Foundation
import Logging
import PostgresNIO
import Registry
import Synchronization

/// The approval desk's writes on PostgreSQL, with the SQLite registry's semantics: each a statement
/// (or a transaction) that changes a request only while it is still pending, and moves the
/// `approvals` mark in the same transaction when it changed anything. The desk calls them on
/// threads of its own (`ApprovalLedger`); each blocks that thread while the driver works.
extension PostgresRegistry: ApprovalLedger {
    public var changes: any ChangeFeed { feed }

    public func insertApproval(_ record: ApprovalRecord, maxPending: Int?) throws(RegistryError) {
        try blocking { () async throws(RegistryError) in try await self.insertApproval(record, maxPending: maxPending) }
    }

    public func approval(_ idOrPrefix: String) throws(RegistryError) -> ApprovalRecord? {
        try blocking { () async throws(RegistryError) in try await self.approval(idOrPrefix) }
    }

    public func decideApproval(_ idOrPrefix: String, _ answer: ApprovalAnswer, grantId: String, now: Date) throws(RegistryError) -> ApprovalDecision {
        try blocking { () async throws(RegistryError) in try await self.decideApproval(idOrPrefix, answer, grantId: grantId, now: now) }
    }

    public func adoptableApproval(agent: String, tool: String, argumentsDigest: String, now: Date,
                                  isLive: (String) -> Bool) throws(RegistryError) -> ApprovalRecord? {
        let pending = try blocking { () async throws(RegistryError) in
            try await self.approvals("looking for a pending approval request", """
                SELECT \(unescaped: Self.approvalColumns) FROM approvals WHERE agent = \(agent) AND tool = \(tool)
                  AND arguments_digest = \(argumentsDigest) AND status = 'pending' AND expires_at > \(now) ORDER BY created_at
                """)
        }
        return pending.first { !isLive($0.hostId ?? "") }
    }

    public func openDeferredApproval(agent: String, tool: String, argumentsDigest: String, ruleKey: String, now: Date,
                                     grantedSince: Date) throws(RegistryError) -> ApprovalRecord? {
        try blocking { () async throws(RegistryError) in
            try await self.approvals("looking for a deferred approval request", """
                SELECT \(unescaped: Self.approvalColumns) FROM approvals WHERE agent = \(agent) AND tool = \(tool)
                  AND arguments_digest = \(argumentsDigest) AND rule_key = \(ruleKey) AND deferred
                  AND ((status = 'pending' AND expires_at > \(now)) OR (status = 'granted' AND used_at IS NULL AND decided_at > \(grantedSince)))
                ORDER BY created_at DESC LIMIT 1
                """).first
        }
    }

    public func adoptApproval(_ id: String, hostId: String, session: String, spanId: String) throws(RegistryError) -> Bool {
        try blocking { () async throws(RegistryError) in
            try await self.changed("adopting approval request \(id)", marking: false, """
                UPDATE approvals SET host_id = \(hostId), session = \(session), span_id = \(spanId) WHERE id = \(id) AND status = 'pending' RETURNING id
                """) == 1
        }
    }

    public func consumeApproval(_ id: String, now: Date) throws(RegistryError) -> Bool {
        try blocking { () async throws(RegistryError) in
            try await self.changed("using approval \(id)", marking: false, """
                UPDATE approvals SET used_at = \(now) WHERE id = \(id) AND status = 'granted' AND used_at IS NULL RETURNING id
                """) == 1
        }
    }

    public func closeApproval(_ id: String, _ status: ApprovalStatus, reason: String, now: Date) throws(RegistryError) -> Bool {
        try blocking { () async throws(RegistryError) in
            try await self.changed("closing approval request \(id)", marking: true, """
                UPDATE approvals SET status = \(status.rawValue), decided_at = \(now), decided_by = 'host', decided_via = 'host',
                  decision_reason = \(reason) WHERE id = \(id) AND status = 'pending' RETURNING id
                """) == 1
        }
    }

    public func expireApprovals(now: Date) throws(RegistryError) -> [ApprovalRecord] {
        try blocking { () async throws(RegistryError) in
            try await self.guarded("expiring approval requests") { [self] in
                try await client.withTransaction(logger: logger) { connection -> [ApprovalRecord] in
                    var expired: [ApprovalRecord] = []
                    for try await row in try await connection.query("""
                        UPDATE approvals SET status = 'expired', decided_at = \(now), decided_by = 'host', decided_via = 'host',
                          decision_reason = 'no answer before it expired' WHERE status = 'pending' AND expires_at <= \(now)
                        RETURNING \(unescaped: Self.approvalColumns)
                        """, logger: logger) { expired.append(try Self.approvalRecord(row)) }
                    if !expired.isEmpty { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger) }
                    return expired.sorted { $0.createdAt < $1.createdAt }
                }
            }
        }
    }

    public func activeGrant(tool: String, agent: String, session: String, ruleKey: String, now: Date) throws(RegistryError) -> ApprovalGrantRecord? {
        try blocking { () async throws(RegistryError) in
            try await self.records(ApprovalGrantRecord.self, "looking up approval grants", """
                SELECT * FROM approval_grants WHERE agent = \(agent) AND tool = \(tool) AND rule_key = \(ruleKey) AND revoked_at IS NULL
                  AND ((scope = 'session' AND session = \(session)) OR scope = 'agent') AND expires_at > \(now)
                ORDER BY created_at LIMIT 1
                """).first
        }
    }

    public func revokeStaleGrants(by: String, reason: String, now: Date,
                                  stillAsks: (_ grant: ApprovalGrantRecord, _ role: String?, _ group: String?) -> Bool) throws(RegistryError) -> [ApprovalGrantRecord] {
        // Which grants the manifest no longer asks for is decided here, between a read and a write:
        // the write revokes only grants still active, so one revoked meanwhile is not counted twice.
        let active = try blocking { () async throws(RegistryError) in
            try await self.guarded("reading the active approval grants") { [self] in
                var found: [(ApprovalGrantRecord, String?, String?)] = []
                for try await row in try await client.query("""
                    SELECT g.*, a.role AS asked_role, a.grp AS asked_group FROM approval_grants g JOIN approvals a ON a.id = g.approval_id
                    WHERE g.revoked_at IS NULL ORDER BY g.created_at, g.id
                    """, logger: logger) {
                    let values = try PostgresRecords.row(row)
                    found.append((try ApprovalGrantRecord(row: values), values["asked_role"], values["asked_group"]))
                }
                return found
            }
        }
        let stale = active.filter { !stillAsks($0.0, $0.1, $0.2) }.map(\.0)
        guard !stale.isEmpty else { return [] }
        let ids = stale.map(\.id)
        let revoked = try blocking { () async throws(RegistryError) in
            try await self.guarded("revoking approval grants a reload ended") { [self] in
                try await client.withTransaction(logger: logger) { connection -> Set<String> in
                    var revoked: Set<String> = []
                    for try await id in try await connection.query("""
                        UPDATE approval_grants SET revoked_at = \(now), revoked_by = \(by), revoke_reason = \(reason)
                        WHERE id = ANY(\(ids)) AND revoked_at IS NULL RETURNING id
                        """, logger: logger).decode(String.self) { revoked.insert(id) }
                    if !revoked.isEmpty { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger) }
                    return revoked
                }
            }
        }
        return stale.filter { revoked.contains($0.id) }
    }

    public func revokeSessionGrants(_ session: String, reason: String, now: Date) throws(RegistryError) -> Int {
        try blocking { () async throws(RegistryError) in
            try await self.changed("revoking the grants of session \(session)", marking: true, """
                UPDATE approval_grants SET revoked_at = \(now), revoked_by = 'host', revoke_reason = \(reason)
                WHERE scope = 'session' AND session = \(session) AND revoked_at IS NULL RETURNING id
                """)
        }
    }

    // MARK: Helpers

    /// Requests a query returns.
    func approvals(_ what: String, _ sql: PostgresQuery) async throws(RegistryError) -> [ApprovalRecord] {
        try await guarded(what) { [self] in
            var found: [ApprovalRecord] = []
            for try await row in try await client.query(sql, logger: logger) { found.append(try Self.approvalRecord(row)) }
            return found
        }
    }

    /// Runs an `UPDATE … RETURNING` in a transaction; with `marking`, moves the `approvals` mark when it
    /// changed rows. How many it changed.
    func changed(_ what: String, marking: Bool, _ sql: PostgresQuery) async throws(RegistryError) -> Int {
        try await guarded(what) { [self] in
            try await client.withTransaction(logger: logger) { connection -> Int in
                var count = 0
                for try await _ in try await connection.query(sql, logger: logger) { count += 1 }
                if marking, count > 0 { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'approvals'", logger: logger) }
                return count
            }
        }
    }

    /// Runs `body` and blocks the calling thread until it is done: for callers that run the SQLite
    /// registry's blocking calls on threads of their own (the approval desk, the trace writer).
    /// Never call it from the cooperative pool: the awaited work needs that pool's threads.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws(RegistryError) -> T) throws(RegistryError) -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, RegistryError>?>(nil)
        Task {
            let result: Result<T, RegistryError>
            do throws(RegistryError) { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
