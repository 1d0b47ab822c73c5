import Base
import Foundation
import GRDB

/// A running host (`agenthub serve`, `agenthub mcp`) as it records itself, so `agenthub reload` can
/// reach it and `agenthub status` can show it.
public struct HostRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "hosts"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    /// `pid@start_ticks`: unique even when the system reuses a pid.
    public var id: String
    public var pid: Int32
    /// When the process started, in clock ticks since boot (`/proc/PID/stat` field 22).
    public var startTicks: String
    /// `serve` or `mcp`.
    public var kind: String
    /// The manifest's path as the host was given it.
    public var config: String
    public var startedAt: Date
    /// Updated every few seconds while the host runs: a stale one is a host that died.
    public var heartbeatAt: Date
    /// The revision of the manifest it serves (the last good one).
    public var revision: String
    /// Where its HTTP listener is (`serve` only).
    public var http: String?
    /// Reloads attempted since it started (each trigger counts, whether it applied, changed nothing or was rejected).
    public var reloads: Int
    public var lastReloadAt: Date?
    /// What started the last reload: `file`, `signal`, `request`.
    public var lastReloadTrigger: String?
    /// `applied`, `unchanged` or `rejected`.
    public var lastReloadResult: String?
    /// `reloaded to revision …`, or why the manifest was kept.
    public var lastReloadMessage: String?
    /// Every problem of a rejected manifest, as `registry.yaml:LINE:COL: message`.
    public var lastReloadErrors: [String]?

    public init(id: String, pid: Int32, startTicks: String, kind: String, config: String, startedAt: Date, revision: String, http: String? = nil) {
        self.id = id
        self.pid = pid
        self.startTicks = startTicks
        self.kind = kind
        self.config = config
        self.startedAt = startedAt
        self.heartbeatAt = startedAt
        self.revision = revision
        self.http = http
        self.reloads = 0
    }

    public init(row: Row) throws {
        id = row["id"]
        pid = row["pid"]
        startTicks = row["start_ticks"]
        kind = row["kind"]
        config = row["config"]
        startedAt = row["started_at"]
        heartbeatAt = row["heartbeat_at"]
        revision = row["revision"]
        http = row["http"]
        reloads = row["reloads"]
        lastReloadAt = row["last_reload_at"]
        lastReloadTrigger = row["last_reload_trigger"]
        lastReloadResult = row["last_reload_result"]
        lastReloadMessage = row["last_reload_message"]
        lastReloadErrors = JSONValue.parse(row["last_reload_errors"] as String?)?.arrayValue?.compactMap(\.stringValue)
    }
}

extension RegistryDatabase {
    /// Records a host that just started (replacing a row left by an earlier process with its id).
    public func registerHost(_ host: HostRecord) throws(RegistryError) {
        try write("recording host \(host.id)") { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO hosts (id, pid, start_ticks, kind, config, started_at, heartbeat_at, revision, http, reloads)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                """, arguments: [host.id, host.pid, host.startTicks, host.kind, host.config, host.startedAt, host.heartbeatAt,
                                 host.revision, host.http])
        }
    }

    /// Records the outcome of a reload: the revision served, and what happened.
    public func recordReload(host id: String, revision: String, trigger: String, result: String, message: String, errors: [String],
                             at now: Date = Date()) throws(RegistryError) {
        let errorsJSON = errors.isEmpty ? nil : JSONValue.array(errors.map { .string($0) }).jsonText
        try write("recording a reload of host \(id)") { db in
            try db.execute(sql: """
                UPDATE hosts SET revision = ?, reloads = reloads + 1, last_reload_at = ?, last_reload_trigger = ?, last_reload_result = ?,
                  last_reload_message = ?, last_reload_errors = ?, heartbeat_at = ?
                WHERE id = ?
                """, arguments: [revision, now, trigger, result, message, errorsJSON, now, id])
        }
    }

    /// Says the host is still running (and where it listens, once it knows).
    public func heartbeat(host id: String, http: String? = nil, at now: Date = Date()) throws(RegistryError) {
        try write("recording a heartbeat of host \(id)") { db in
            try db.execute(sql: "UPDATE hosts SET heartbeat_at = ?, http = coalesce(?, http) WHERE id = ?", arguments: [now, http, id])
        }
    }

    /// Removes a host that stopped (or was found dead).
    public func removeHost(_ id: String) throws(RegistryError) {
        try write("removing host \(id)") { db in
            try db.execute(sql: "DELETE FROM hosts WHERE id = ?", arguments: [id])
        }
    }

    /// Every host recorded, oldest first (dead ones included: callers check the pid).
    public func hosts() throws(RegistryError) -> [HostRecord] {
        try read("reading the running hosts") { db in
            try HostRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM hosts ORDER BY started_at, id"))
        }
    }

    /// One host by id.
    public func host(_ id: String) throws(RegistryError) -> HostRecord? {
        try read("reading host \(id)") { db in
            try HostRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM hosts WHERE id = ?"), arguments: [id])
        }
    }
}
