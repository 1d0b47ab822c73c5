import Foundation
import GRDB

/// The registry's tables as data: what `agenthub db copy` moves from a SQLite registry into
/// another database, column by column, in an order that satisfies every foreign key.
///
/// Not listed, on purpose: `hosts`, `bridge_servers` and `sync_leases` describe the processes that
/// run on a registry (who is up, what their bridged servers do, who syncs a source now), which a
/// copy would only make stale; the hosts on the new database write their own. The FTS5 tables are
/// derived from `skills` and `memory_chunks` and the target builds its own index.
public struct RegistryTable: Sendable {
    /// How a column's values are read from SQLite and written elsewhere.
    public enum Kind: Sendable {
        case text, integer, real, boolean
        /// A `DATETIME` column (GRDB's text form, or SQLite's `datetime()`).
        case time
        /// JSON held as text.
        case json
        case blob
    }

    public struct Column: Sendable {
        public let name: String
        public let kind: Kind
    }

    public let name: String
    public let columns: [Column]
    /// The columns rows are read in order of (a unique key, so pages follow one another exactly).
    public let key: [String]
    /// A column filled in by a second pass, once every row it may point at exists (`skills.shadowed_by`).
    public let secondPass: String?
    /// The column whose sequence must continue after the copied ids.
    public let serial: String?

    init(_ name: String, key: [String], serial: String? = nil, secondPass: String? = nil, _ columns: [(String, Kind)]) {
        self.name = name
        self.key = key
        self.serial = serial
        self.secondPass = secondPass
        self.columns = columns.map { Column(name: $0.0, kind: $0.1) }
    }

    /// Every table `db copy` moves, parents before children.
    public static let copied: [RegistryTable] = [
        RegistryTable("sources", key: ["name"], [
            ("name", .text), ("kind", .text), ("location", .text), ("position", .integer), ("status", .text), ("status_reason", .text),
            ("revision", .text), ("commit", .text), ("config_digest", .text), ("failure_kind", .text), ("last_attempt_at", .time),
            ("last_success_at", .time), ("consecutive_failures", .integer), ("skill_count", .integer)]),
        RegistryTable("skills", key: ["id"], serial: "id", secondPass: "shadowed_by", [
            ("id", .integer), ("source", .text), ("path", .text), ("file_name", .text), ("revision", .text), ("digest", .text), ("name", .text),
            ("description", .text), ("license", .text), ("compatibility", .text), ("allowed_tools", .text), ("metadata", .json),
            ("extra_fields", .json), ("frontmatter", .json), ("body", .text), ("loadable", .boolean), ("strict", .boolean), ("load_errors", .json),
            ("strict_errors", .json), ("warnings", .json), ("shadowed_by", .integer), ("first_seen_at", .time), ("updated_at", .time),
            ("deleted_at", .time)]),
        RegistryTable("skill_files", key: ["skill_id", "path"], [
            ("skill_id", .integer), ("path", .text), ("kind", .text), ("size", .integer), ("is_binary", .boolean), ("content", .text),
            ("link_target", .text), ("note", .text), ("digest", .text), ("data", .blob)]),
        RegistryTable("sync_runs", key: ["id"], serial: "id", [
            ("id", .integer), ("source", .text), ("started_at", .time), ("finished_at", .time), ("outcome", .text), ("revision", .text),
            ("added", .integer), ("updated", .integer), ("removed", .integer), ("unchanged", .integer), ("rows_written", .integer),
            ("message", .text)]),
        RegistryTable("memories", key: ["id"], serial: "id", [
            ("id", .integer), ("type", .text), ("scope", .text), ("owner", .text), ("text", .text), ("metadata", .json),
            ("importance", .real), ("created_at", .real), ("agent", .text), ("role", .text)]),
        RegistryTable("memory_chunks", key: ["id"], serial: "id", [
            ("id", .integer), ("memory_id", .integer), ("seq", .integer), ("text", .text)]),
        RegistryTable("trace_events", key: ["id"], serial: "id", [
            ("id", .integer), ("at", .text), ("type", .text), ("session", .text), ("span_id", .text), ("agent", .text), ("role", .text),
            ("group", .text), ("tool", .text), ("decision", .text), ("duration_ms", .real), ("argument_bytes", .integer),
            ("result_bytes", .integer), ("detail", .json), ("revision", .text), ("trace_id", .text), ("state", .text), ("client_ts", .text)]),
        RegistryTable("agent_status", key: ["agent"], [
            ("agent", .text), ("state", .text), ("model", .text), ("session", .text), ("last_seen", .text), ("last_event_id", .integer)]),
        RegistryTable("approvals", key: ["id"], [
            ("id", .text), ("tool", .text), ("arguments", .json), ("arguments_digest", .text), ("agent", .text), ("role", .text),
            ("grp", .text), ("session", .text), ("span_id", .text), ("rule", .text), ("rule_key", .text), ("policy_reason", .text),
            ("revision", .text), ("host_id", .text), ("created_at", .time), ("expires_at", .time), ("status", .text), ("scope", .text),
            ("decided_at", .time), ("decided_by", .text), ("decided_via", .text), ("decision_reason", .text), ("used_at", .time),
            ("approvers", .text), ("client_scope", .text), ("session_ends", .boolean), ("deferred", .boolean)]),
        RegistryTable("approval_grants", key: ["id"], [
            ("id", .text), ("approval_id", .text), ("tool", .text), ("agent", .text), ("session", .text), ("scope", .text), ("rule", .text),
            ("rule_key", .text), ("granted_by", .text), ("created_at", .time), ("expires_at", .time), ("revoked_at", .time),
            ("revoked_by", .text), ("revoke_reason", .text)]),
        RegistryTable("api_keys", key: ["id"], [
            ("id", .text), ("hash", .blob), ("agent", .text), ("label", .text), ("hint", .text), ("created_at", .time),
            ("expires_at", .time), ("revoked_at", .time)]),
        RegistryTable("bridge_tool_pins", key: ["tool"], [
            ("tool", .text), ("server", .text), ("digest", .text), ("first_seen_at", .time), ("changed_digest", .text),
            ("changed_at", .time)]),
        // Sealed with the host's secret key: the hosts on the new database need the same key to open them.
        RegistryTable("bridge_credentials", key: ["server", "agent"], [
            ("server", .text), ("agent", .text), ("sealed", .text), ("updated_at", .time)]),
    ]

    /// The tables a copy leaves behind, and why (printed by `db copy`).
    public static let notCopied = "hosts, bridge_servers and sync_leases (the state of running processes; the hosts on the new database write their own)"
}

/// One value of a copied row.
public enum RegistryCell: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
    case time(Date)
    case blob([UInt8])
}

/// A registry as it was at one moment, read a page at a time: what `db copy` reads while hosts may
/// go on writing to the file (a WAL snapshot: their writes after it are not seen, and never half).
public struct RegistrySnapshot: Sendable {
    let snapshot: DatabaseSnapshot
    public let path: String

    /// Rows in `table`.
    public func count(_ table: RegistryTable) throws(RegistryError) -> Int {
        try read("counting \(table.name)") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(table.name))") ?? 0 }
    }

    /// Up to `limit` rows of `table` after the row whose key is `after` (from the first when nil),
    /// in key order, each with its key.
    public func rows(_ table: RegistryTable, after: [RegistryCell]?, limit: Int) throws(RegistryError) -> [[RegistryCell]] {
        // Text is read as bytes: GRDB reads TEXT up to its first NUL, and a memory may hold one.
        let columns = table.columns.map { column in
            column.kind == .text || column.kind == .json ? "CAST(\(quoted(column.name)) AS BLOB)" : quoted(column.name)
        }.joined(separator: ", ")
        let key = table.key.map(quoted).joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \(quoted(table.name))"
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let after {
            sql += " WHERE (\(key)) > (\(table.key.map { _ in "?" }.joined(separator: ", ")))"
            for cell in after { arguments.append(Self.databaseValue(cell)) }
        }
        sql += " ORDER BY \(key) LIMIT \(limit)"
        return try read("reading \(table.name)") { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                table.columns.enumerated().map { index, column in Self.cell(row[index] as DatabaseValue, column.kind) }
            }
        }
    }

    /// The key of a row `rows` returned.
    public func key(of row: [RegistryCell], in table: RegistryTable) -> [RegistryCell] {
        table.key.map { name in row[table.columns.firstIndex { $0.name == name }!] }
    }

    static func cell(_ value: DatabaseValue, _ kind: RegistryTable.Kind) -> RegistryCell {
        switch value.storage {
        case .null: return .null
        case .int64(let number):
            switch kind {
            case .boolean: return .boolean(number != 0)
            case .real: return .real(Double(number))
            case .time: return Date.fromDatabaseValue(value).map { .time($0) } ?? .null
            case .text, .json: return .text(String(number))
            case .integer, .blob: return .integer(number)
            }
        case .double(let number):
            switch kind {
            case .integer: return .integer(Int64(number))
            case .time: return Date.fromDatabaseValue(value).map { .time($0) } ?? .null
            case .text, .json: return .text(String(number))
            case .boolean: return .boolean(number != 0)
            default: return .real(number)
            }
        case .string(let text):
            switch kind {
            case .time: return Date.fromDatabaseValue(value).map { .time($0) } ?? .text(text)
            case .blob: return .blob(Array(text.utf8))
            default: return .text(text)
            }
        case .blob(let data):
            return kind == .blob ? .blob(Array(data)) : .text(String(decoding: data, as: UTF8.self))
        }
    }

    static func databaseValue(_ cell: RegistryCell) -> (any DatabaseValueConvertible)? {
        switch cell {
        case .null: return nil
        case .integer(let number): return number
        case .real(let number): return number
        case .text(let text): return text
        case .boolean(let flag): return flag
        case .time(let date): return date
        case .blob(let bytes): return Data(bytes)
        }
    }

    private func read<T>(_ what: String, _ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try snapshot.read(body) } catch {
            throw RegistryError(.database, "\(path): \(what) failed: \(error)")
        }
    }
}

private func quoted(_ name: String) -> String { "\"\(name)\"" }

extension RegistryDatabase {
    /// The registry as it is now, for reading at leisure (`db copy`).
    public func snapshot() throws(RegistryError) -> RegistrySnapshot {
        do { return RegistrySnapshot(snapshot: try pool.makeSnapshot(), path: path) } catch {
            throw RegistryError(.database, "\(path): cannot take a snapshot to copy from: \(error)")
        }
    }
}
