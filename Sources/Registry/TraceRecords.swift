import Base
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import GRDBSQLite
import Synchronization

/// One trace event: `tool.called`, then `tool.result`, `tool.failed` or `tool.blocked`.
public struct TraceEvent: Sendable, Equatable, Codable, FetchableRecord {
    /// Every type of event the host records or an agent reports: what `--type` filters may name.
    public static let knownTypes: [String] = [
        "tool.called", "tool.result", "tool.failed", "tool.blocked", "tool.awaiting_approval",
        "approval.requested", "approval.resolved", "approval.granted", "approval.denied", "approval.expired", "approval.withdrawn", "approval.used",
        "tool.definition_changed", "tool.added", "tool.name_collision",
        "task.created", "task.ended",
        "session.start", "session.end", "tool.start", "tool.end", "error", "status", "model.switch",
    ]

    public var id: Int64
    /// ISO 8601 with milliseconds, UTC.
    public var at: String
    public var type: String
    public var session: String
    public var spanId: String
    public var agent: String
    public var role: String?
    public var group: String?
    public var tool: String
    public var decision: String?
    public var durationMs: Double?
    public var argumentBytes: Int?
    public var resultBytes: Int?
    /// Event-specific detail (redacted arguments, the error, the rule that blocked).
    public var detail: JSONValue?
    /// The revision of the manifest the call ran under (a live reload changes it).
    public var revision: String?
    /// For events an agent reports (`POST /v1/events`): its trace id, its state, and its own clock.
    public var traceId: String?
    public var state: String?
    public var clientTs: String?

    public init(id: Int64 = 0, at: String, type: String, session: String, spanId: String, agent: String, role: String?,
                group: String?, tool: String, decision: String? = nil, durationMs: Double? = nil,
                argumentBytes: Int? = nil, resultBytes: Int? = nil, detail: JSONValue? = nil) {
        self.id = id
        self.at = at
        self.type = type
        self.session = session
        self.spanId = spanId
        self.agent = agent
        self.role = role
        self.group = group
        self.tool = tool
        self.decision = decision
        self.durationMs = durationMs
        self.argumentBytes = argumentBytes
        self.resultBytes = resultBytes
        self.detail = detail
    }

    public init(row: Row) throws {
        id = row["id"]
        at = row["at"]
        type = row["type"]
        session = row["session"]
        spanId = row["span_id"]
        agent = row["agent"]
        role = row["role"]
        group = row["group"]
        tool = row["tool"]
        decision = row["decision"]
        durationMs = row["duration_ms"]
        argumentBytes = row["argument_bytes"]
        resultBytes = row["result_bytes"]
        detail = JSONValue.parse(row["detail"])
        revision = row["revision"]
        traceId = row["trace_id"]
        state = row["state"]
        clientTs = row["client_ts"]
    }

    /// The most bytes of a caller-given name (tool, agent, session) an event stores.
    public static let maxNameBytes = 256

    /// A caller-given name as an event stores it: at most `maxNameBytes`, the cut marked with the
    /// full length. Readers that filter by a name compare against this form.
    public static func storedName(_ text: String) -> String {
        text.utf8.count <= maxNameBytes ? text : text.utf8Prefix(maxNameBytes) + "…[\(text.utf8.count) bytes]"
    }

    /// The event as `export_trace` returns it.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .int(Int(id)), "at": .string(at), "type": .string(type), "session": .string(session),
            "span_id": .string(spanId), "agent": .string(agent), "tool": .string(tool),
        ]
        if let role { o["role"] = .string(role) }
        if let group { o["group"] = .string(group) }
        if let decision { o["decision"] = .string(decision) }
        if let durationMs { o["duration_ms"] = .double((durationMs * 1000).rounded() / 1000) }
        if let argumentBytes { o["argument_bytes"] = .int(argumentBytes) }
        if let resultBytes { o["result_bytes"] = .int(resultBytes) }
        if let detail { o["detail"] = detail }
        if let revision { o["revision"] = .string(revision) }
        if let traceId { o["trace_id"] = .string(traceId) }
        if let state { o["state"] = .string(state) }
        if let clientTs { o["client_ts"] = .string(clientTs) }
        return .object(o)
    }

    /// A new span id: 16 hex digits, the low 32 bits of the time in milliseconds and then the low
    /// 32 bits of a count that starts at random (`SpanCounter`). Ids made at about the same time sort
    /// together, so the writer adds each one at the end of the span index (`trace_events_by_span`):
    /// a random id landed on a random page of it, which was half of what writing a trace row cost.
    public static func newSpanId() -> String {
        spanId(milliseconds: UInt64(Date().timeIntervalSince1970 * 1000), count: SpanCounter.shared.next())
    }

    /// The span id for a time in milliseconds since 1970 and a count (the low 32 bits of each are used).
    static func spanId(milliseconds: UInt64, count: UInt64) -> String {
        let value = (milliseconds & 0xffff_ffff) << 32 | (count & 0xffff_ffff)
        return withUnsafeBytes(of: value.bigEndian) { $0.hex }
    }

    /// `2026-11-22T03:09:42.638Z`: ISO 8601 in UTC with milliseconds, built without a formatter
    /// (it runs twice per tool call).
    public static func timestamp(_ date: Date = Date()) -> String {
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(total >= 0 ? total / 1000 : (total - 999) / 1000)
        let millis = Int(total - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit into 24 bytes: two of these per call, where interpolating the
        // parts cost a call 1.5-2 µs.
        return String(unsafeUninitializedCapacity: 24) { out in
            func put(_ value: Int, _ width: Int, at index: Int) {
                var value = value
                for i in stride(from: index + width - 1, through: index, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(Int(parts.tm_year) + 1900, 4, at: 0); out[4] = UInt8(ascii: "-")
            put(Int(parts.tm_mon) + 1, 2, at: 5); out[7] = UInt8(ascii: "-")
            put(Int(parts.tm_mday), 2, at: 8); out[10] = UInt8(ascii: "T")
            put(Int(parts.tm_hour), 2, at: 11); out[13] = UInt8(ascii: ":")
            put(Int(parts.tm_min), 2, at: 14); out[16] = UInt8(ascii: ":")
            put(Int(parts.tm_sec), 2, at: 17); out[19] = UInt8(ascii: ".")
            put(millis, 3, at: 20); out[23] = UInt8(ascii: "Z")
            return 24
        }
    }
}

/// Which events to read: by session or agent, after a cursor, of some types.
public struct TraceQuery: Sendable {
    public var session: String?
    public var agent: String?
    public var afterId: Int64 = 0
    public var types: [String] = []
    public var limit = 500
    /// Only events before this id (0: no bound): paging back from the newest.
    public var beforeId: Int64 = 0
    /// The newest first (the last `limit` events) instead of the oldest first.
    public var newestFirst = false

    public init(session: String? = nil, agent: String? = nil, afterId: Int64 = 0, types: [String] = [], limit: Int = 500) {
        self.session = session
        self.agent = agent
        self.afterId = afterId
        self.types = types
        self.limit = limit
    }
}

extension RegistryDatabase {
    /// Appends events in one transaction (the trace recorder batches them).
    public func appendTraceEvents(_ events: [TraceEvent]) throws(RegistryError) {
        guard !events.isEmpty else { return }
        try write("recording \(events.count) trace events") { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO trace_events (at, type, session, span_id, agent, role, "group", tool, decision, duration_ms,
                                          argument_bytes, result_bytes, detail, revision, trace_id, state, client_ts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            // Bound through SQLite's C API: GRDB's `StatementArguments` boxed each of the 17 values and
            // cost about as much as the insert itself (the writer's share of every routed call).
            let handle = insert.sqliteStatement
            for e in events {
                let bind = TraceRowBinder(handle)
                bind.text(1, e.at); bind.text(2, e.type); bind.text(3, e.session); bind.text(4, e.spanId); bind.text(5, e.agent)
                bind.text(6, e.role); bind.text(7, e.group); bind.text(8, e.tool); bind.text(9, e.decision)
                bind.double(10, e.durationMs); bind.int(11, e.argumentBytes); bind.int(12, e.resultBytes)
                bind.text(13, e.detail?.jsonText); bind.text(14, e.revision); bind.text(15, e.traceId); bind.text(16, e.state)
                bind.text(17, e.clientTs)
                let code = sqlite3_step(handle)
                let failure = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(db.sqliteConnection))
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
                if let failure { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: failure, sql: insert.sql) }
            }
        }
    }

    /// A page of events in id order (or newest first), after `query.afterId` and before `query.beforeId`.
    public func traceEvents(_ query: TraceQuery) throws(RegistryError) -> [TraceEvent] {
        var conditions = ["id > ?"]
        var arguments: [DatabaseValueConvertible?] = [query.afterId]
        if query.beforeId > 0 { conditions.append("id < ?"); arguments.append(query.beforeId) }
        if let session = query.session { conditions.append("session = ?"); arguments.append(session) }
        if let agent = query.agent { conditions.append("agent = ?"); arguments.append(agent) }
        if !query.types.isEmpty {
            conditions.append("type IN (\(query.types.map { _ in "?" }.joined(separator: ", ")))")
            arguments += query.types
        }
        arguments.append(query.limit)
        let sql = "SELECT * FROM trace_events WHERE \(conditions.joined(separator: " AND ")) ORDER BY id\(query.newestFirst ? " DESC" : "") LIMIT ?"
        let bound = arguments
        return try read("reading trace events") { db in
            try TraceEvent.fetchAll(db, sql: sql, arguments: StatementArguments(bound))
        }
    }
}

/// Binds one trace row's values to a prepared insert (nil binds NULL; text is copied by SQLite).
private struct TraceRowBinder {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    func text(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    _ = sqlite3_bind_text(handle, index, base, Int32(chars.count), traceTransient)
                } else {
                    _ = sqlite3_bind_text(handle, index, "", 0, traceTransient)   // empty, not NULL
                }
            }
        }
    }

    func int(_ index: Int32, _ value: Int?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    func double(_ index: Int32, _ value: Double?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        sqlite3_bind_double(handle, index, value)
    }
}

/// SQLite's SQLITE_TRANSIENT: copy the bytes before the bind returns.
private let traceTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// The low half of span ids: a count from a random start, one per process. Ids this process makes
/// in one millisecond never repeat; another process's repeat one only if its count is at the same
/// place in the same millisecond.
final class SpanCounter: Sendable {
    static let shared = SpanCounter()
    private let count: Atomic<UInt64>

    init() {
        var start: UInt64 = 0
        withUnsafeMutableBytes(of: &start) { arc4random_buf($0.baseAddress!, $0.count) }   // glibc: getrandom underneath
        count = Atomic(start & 0xffff_ffff)   // only the low 32 bits are used; the count never overflows
    }

    func next() -> UInt64 { count.add(1, ordering: .relaxed).newValue }
}
