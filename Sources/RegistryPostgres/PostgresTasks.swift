import Core
import Foundation
import PostgresNIO
import Registry

/// Tasks on the database every host shares: any host answers `tasks/get` for a task another runs,
/// and a cancellation asked of any host reaches the one running it (it reads the mark each second).
extension PostgresRegistry: TaskStore {
    public func insertTask(_ r: TaskRecord, maxActive: Int?) async throws(RegistryError) {
        let logger = self.logger
        let outcome: String? = try await guarded("storing task \(r.id)") { [self] in
            try await client.withTransaction(logger: logger) { connection -> String? in
                if let maxActive {
                    // One agent's inserts take turns, so two hosts cannot both pass the limit.
                    try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("tasks:" + r.agent)))", logger: logger)
                    var active = 0
                    for try await count in try await connection.query("""
                        SELECT count(*)::int FROM tasks WHERE agent = \(r.agent) AND status IN ('working', 'input_required')
                        """, logger: logger).decode(Int.self) { active = count }
                    if active >= maxActive {
                        return "agent '\(r.agent)' already has \(active) tasks running (router.max_tasks_per_agent); wait for one to end or cancel one"
                    }
                }
                try await connection.query("""
                    INSERT INTO tasks (id, tool, arguments, arguments_complete, agent, role, grp, session, status, status_message, result, error,
                      approval_id, retry_of, host_id, created_at, updated_at, expires_at, cancel_requested)
                    VALUES (\(r.id), \(r.tool), \(r.arguments), \(r.argumentsComplete), \(r.agent), \(r.role), \(r.group), \(r.session),
                            \(r.status.rawValue), \(r.statusMessage), \(r.result), \(r.error), \(r.approvalId), \(r.retryOf), \(r.hostId),
                            \(r.createdAt), \(r.updatedAt), \(r.expiresAt), \(r.cancelRequested))
                    """, logger: logger)
                return nil
            }
        }
        if let outcome { throw RegistryError(.limit, outcome) }
    }

    public func task(id: String) async throws(RegistryError) -> TaskRecord? {
        try await records(TaskRecord.self, "reading task \(id.prefix(12))", "SELECT * FROM tasks WHERE id = \(id)").first
    }

    public func tasks(agent: String?, status: TaskStatus?, limit: Int) async throws(RegistryError) -> [TaskRecord] {
        try await records(TaskRecord.self, "listing tasks", """
            SELECT * FROM tasks WHERE (\(agent)::text IS NULL OR agent = \(agent)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
            ORDER BY created_at DESC, id COLLATE "C" LIMIT \(limit)
            """)
    }

    public func changeTask(id: String, _ change: TaskChange, now: Date) async throws(RegistryError) -> Bool {
        try await guarded("updating task \(id.prefix(12))") { [self] in
            var changed = false
            for try await _ in try await client.query("""
                UPDATE tasks SET status = \(change.status.rawValue), status_message = \(change.statusMessage), result = \(change.result),
                  error = \(change.error), approval_id = \(change.approvalId), updated_at = \(now)
                WHERE id = \(id) AND status IN ('working', 'input_required') RETURNING id
                """, logger: logger) { changed = true }
            return changed
        }
    }

    public func requestTaskCancel(id: String, now: Date) async throws(RegistryError) -> TaskRecord? {
        try await guarded("cancelling task \(id.prefix(12))") { [self] in
            try await client.query("""
                UPDATE tasks SET cancel_requested = true, updated_at = \(now) WHERE id = \(id) AND status IN ('working', 'input_required')
                """, logger: logger)
        }
        return try await task(id: id)
    }

    public func cancelRequestedTasks(_ ids: [String]) async throws(RegistryError) -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await guarded("reading task cancellations") { [self] in
            var found: [String] = []
            for try await id in try await client.query("""
                SELECT id FROM tasks WHERE cancel_requested AND status IN ('working', 'input_required') AND id = ANY(\(ids))
                """, logger: logger).decode(String.self) { found.append(id) }
            return found
        }
    }

    public func failTasks(ofStoppedHosts stoppedHosts: [String], message: String, error: String, now: Date) async throws(RegistryError) -> Int {
        guard !stoppedHosts.isEmpty else { return 0 }
        return try await guarded("failing tasks of stopped hosts") { [self] in
            var count = 0
            for try await _ in try await client.query("""
                UPDATE tasks SET status = 'failed', status_message = \(message), error = \(error), updated_at = \(now)
                WHERE status IN ('working', 'input_required') AND host_id = ANY(\(stoppedHosts)) RETURNING id
                """, logger: logger) { count += 1 }
            return count
        }
    }

    public func forgetExpiredTasks(now: Date) async throws(RegistryError) -> Int {
        try await guarded("forgetting expired tasks") { [self] in
            var count = 0
            for try await _ in try await client.query("DELETE FROM tasks WHERE expires_at < \(now) RETURNING id", logger: logger) { count += 1 }
            return count
        }
    }
}
