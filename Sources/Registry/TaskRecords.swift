import Base
import Foundation
import GRDB

/// Where a task is in its life (the MCP Tasks extension's statuses). Only the first two move.
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case working
    case inputRequired = "input_required"
    case completed, failed, cancelled

    public var isTerminal: Bool { ![.working, .inputRequired].contains(self) }
}

/// A tool call that outlives its request (the MCP Tasks extension, `Prefer: respond-async`), as the
/// registry keeps it: who called what (arguments redacted as traces and approvals store them), where
/// it is, and its result or error once it ends. A task is its caller's agent's alone.
public struct TaskRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "tasks"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    public var id: String
    public var tool: String
    /// The arguments, redacted and capped (JSON text).
    public var arguments: String
    /// Whether the stored arguments are the ones sent (nothing was redacted or cut): only then can a
    /// retry run the same call.
    public var argumentsComplete: Bool
    public var agent: String
    public var role: String?
    public var group: String?
    public var session: String
    public var status: TaskStatus
    public var statusMessage: String?
    /// The tool result (`CallToolResult` JSON text) of a completed task.
    public var result: String?
    /// The JSON-RPC error (JSON text) of a failed task.
    public var error: String?
    /// The approval request a task in `input_required` waits on.
    public var approvalId: String?
    /// The task this one retries.
    public var retryOf: String?
    /// The host running it (a task whose host is gone fails).
    public var hostId: String
    public var createdAt: Date
    public var updatedAt: Date
    /// When it is forgotten (`router.task_ttl` after it was created).
    public var expiresAt: Date
    /// Someone asked to cancel it (the host running it stops the call).
    public var cancelRequested: Bool

    public init(id: String, tool: String, arguments: String, argumentsComplete: Bool, agent: String, role: String?, group: String?,
                session: String, status: TaskStatus = .working, statusMessage: String? = nil, result: String? = nil, error: String? = nil,
                approvalId: String? = nil, retryOf: String? = nil, hostId: String, createdAt: Date, updatedAt: Date, expiresAt: Date,
                cancelRequested: Bool = false) {
        self.id = id
        self.tool = tool
        self.arguments = arguments
        self.argumentsComplete = argumentsComplete
        self.agent = agent
        self.role = role
        self.group = group
        self.session = session
        self.status = status
        self.statusMessage = statusMessage
        self.result = result
        self.error = error
        self.approvalId = approvalId
        self.retryOf = retryOf
        self.hostId = hostId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.cancelRequested = cancelRequested
    }

    public init(row: Row) throws {
        id = row["id"]
        tool = row["tool"]
        arguments = row["arguments"]
        argumentsComplete = row["arguments_complete"]
        agent = row["agent"]
        role = row["role"]
        group = row["grp"]
        session = row["session"]
        status = TaskStatus(rawValue: row["status"]) ?? .failed
        statusMessage = row["status_message"]
        result = row["result"]
        error = row["error"]
        approvalId = row["approval_id"]
        retryOf = row["retry_of"]
        hostId = row["host_id"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        expiresAt = row["expires_at"]
        cancelRequested = row["cancel_requested"]
    }
}

/// A change of a task that is still running: its new status, and what goes with it.
public struct TaskChange: Sendable {
    public var status: TaskStatus
    public var statusMessage: String?
    public var result: String?
    public var error: String?
    public var approvalId: String?

    public init(status: TaskStatus, statusMessage: String? = nil, result: String? = nil, error: String? = nil, approvalId: String? = nil) {
        self.status = status
        self.statusMessage = statusMessage
        self.result = result
        self.error = error
        self.approvalId = approvalId
    }
}

extension RegistryDatabase {
    /// Stores a new task. With `maxActive`, refuses (`.limit`) when the agent already has that many
    /// tasks running.
    public func insertTaskRecord(_ r: TaskRecord, maxActive: Int?) throws(RegistryError) {
        try write("storing task \(r.id)") { db in
            if let maxActive {
                let active = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE agent = ? AND status IN ('working', 'input_required')",
                                              arguments: [r.agent]) ?? 0
                if active >= maxActive {
                    throw RegistryError(.limit, "agent '\(r.agent)' already has \(active) tasks running (router.max_tasks_per_agent); wait for one to end or cancel one")
                }
            }
            try db.execute(sql: """
                INSERT INTO tasks (id, tool, arguments, arguments_complete, agent, role, grp, session, status, status_message, result, error,
                  approval_id, retry_of, host_id, created_at, updated_at, expires_at, cancel_requested)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.id, r.tool, r.arguments, r.argumentsComplete, r.agent, r.role, r.group, r.session, r.status.rawValue,
                                 r.statusMessage, r.result, r.error, r.approvalId, r.retryOf, r.hostId, r.createdAt, r.updatedAt, r.expiresAt,
                                 r.cancelRequested])
        }
    }

    public func taskRecord(id: String) throws(RegistryError) -> TaskRecord? {
        try read("reading task \(id.prefix(12))") { db in
            try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM tasks WHERE id = ?"), arguments: [id])
        }
    }

    /// Tasks newest first, of one agent and one status when given.
    public func taskRecords(agent: String?, status: TaskStatus?, limit: Int) throws(RegistryError) -> [TaskRecord] {
        try read("listing tasks") { db in
            var sql = "SELECT * FROM tasks WHERE 1"
            var arguments: StatementArguments = []
            if let agent { sql += " AND agent = ?"; arguments += [agent] }
            if let status { sql += " AND status = ?"; arguments += [status.rawValue] }
            sql += " ORDER BY created_at DESC, id LIMIT ?"
            arguments += [limit]
            return try TaskRecord.fetchAll(db, sql: sql, arguments: arguments)
        }
    }

    /// Changes a task that has not ended; false when it had (a terminal status never moves).
    public func changeTaskRecord(id: String, _ change: TaskChange, now: Date) throws(RegistryError) -> Bool {
        try write("updating task \(id.prefix(12))") { db in
            try db.execute(sql: """
                UPDATE tasks SET status = ?, status_message = ?, result = ?, error = ?, approval_id = ?, updated_at = ?
                WHERE id = ? AND status IN ('working', 'input_required')
                """, arguments: [change.status.rawValue, change.statusMessage, change.result, change.error, change.approvalId, now, id])
            return db.changesCount > 0
        }
    }

    /// Marks a running task to be cancelled; the task as it now is (nil: unknown).
    public func requestTaskRecordCancel(id: String, now: Date) throws(RegistryError) -> TaskRecord? {
        try write("cancelling task \(id.prefix(12))") { db in
            try db.execute(sql: "UPDATE tasks SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status IN ('working', 'input_required')",
                           arguments: [now, id])
            return try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM tasks WHERE id = ?"), arguments: [id])
        }
    }

    /// Which of `ids` someone asked to cancel.
    public func cancelRequestedTaskIds(_ ids: [String]) throws(RegistryError) -> [String] {
        guard !ids.isEmpty else { return [] }
        return try read("reading task cancellations") { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            return try String.fetchAll(db, sql: "SELECT id FROM tasks WHERE cancel_requested = 1 AND status IN ('working', 'input_required') AND id IN (\(marks))",
                                       arguments: StatementArguments(ids))
        }
    }

    /// Fails every running task of `stoppedHosts`; how many. (Named, not "all but the live ones": a
    /// host that starts a task while another looks must never see it failed.)
    public func failTaskRecords(ofStoppedHosts stoppedHosts: [String], message: String, error: String, now: Date) throws(RegistryError) -> Int {
        guard !stoppedHosts.isEmpty else { return 0 }
        return try write("failing tasks of stopped hosts") { db in
            let marks = Array(repeating: "?", count: stoppedHosts.count).joined(separator: ",")
            try db.execute(sql: """
                UPDATE tasks SET status = 'failed', status_message = ?, error = ?, updated_at = ?
                WHERE status IN ('working', 'input_required') AND host_id IN (\(marks))
                """, arguments: [message, error, now] + StatementArguments(stoppedHosts))
            return db.changesCount
        }
    }

    /// Forgets tasks past their TTL; how many.
    public func forgetExpiredTaskRecords(now: Date) throws(RegistryError) -> Int {
        try write("forgetting expired tasks") { db in
            try db.execute(sql: "DELETE FROM tasks WHERE expires_at < ?", arguments: [now])
            return db.changesCount
        }
    }
}
