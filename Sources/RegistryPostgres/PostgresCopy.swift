import Foundation
import Logging
import NIOCore
import PostgresNIO
import Registry

/// What a copy moved, table by table, and what it had to change on the way.
public struct RegistryCopyReport: Sendable {
    public struct Table: Sendable {
        public let name: String
        /// Rows in the SQLite snapshot.
        public let source: Int
        /// Rows in PostgreSQL after the copy, counted in the copy's transaction.
        public let copied: Int
    }
    public var tables: [Table] = []
    /// Text values holding NUL characters, which PostgreSQL's text cannot store: stored with U+FFFD instead.
    public var nulsReplaced = 0
    /// JSON values holding the escape `\u0000`, which `jsonb` refuses: stored with `\ufffd` instead.
    public var jsonNulsReplaced = 0
    public var matches: Bool { tables.allSatisfy { $0.source == $0.copied } }
}

/// `agenthub db copy`: a SQLite registry into this database, every table of
/// `RegistryTable.copied`, in one transaction (all of it or nothing), ids kept (so shadowing,
/// chunks, grants and events still point where they did) and sequences moved past them.
///
/// A target that already holds rows is refused unless `replace`, which empties those tables first.
/// Every change mark moves at the end, so hosts already running on the database reload at once.
extension PostgresRegistry {
    /// The most values one INSERT binds (PostgreSQL's limit is 65,535).
    static let bindsPerInsert = 30_000

    /// Tables of the target that already hold rows, with their counts.
    public func occupiedTables() async throws(RegistryError) -> [(String, Int)] {
        try await guarded("counting rows") { [self] in
            var occupied: [(String, Int)] = []
            for table in RegistryTable.copied {
                let sql = "SELECT count(*)::bigint FROM \(Self.quoted(table.name))"
                for try await count in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) where count > 0 {
                    occupied.append((table.name, count))
                }
            }
            return occupied
        }
    }

    /// Copies `snapshot` in; `progress` hears of each table once it is in.
    public func copy(from snapshot: RegistrySnapshot, replace: Bool, pageSize: Int = 2_000,
                     progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws(RegistryError) -> RegistryCopyReport {
        let occupied = try await occupiedTables()
        if !occupied.isEmpty, !replace {
            let listed = occupied.map { "\($0.0) (\($0.1) rows)" }.joined(separator: ", ")
            throw RegistryError(.conflict, "\(location) already holds a registry: \(listed); copy into an empty database, or pass --replace to empty these tables first")
        }
        let logger = self.logger
        // A copy takes as long as the data does: no operation limit but a day.
        return try await guarded("copying \(snapshot.path)", within: .seconds(86_400)) { [self] in
            try await client.withTransaction(logger: logger) { connection -> RegistryCopyReport in
                var report = RegistryCopyReport()
                if replace {
                    let names = RegistryTable.copied.map { Self.quoted($0.name) }.joined(separator: ", ")
                    try await connection.query(PostgresQuery(unsafeSQL: "TRUNCATE \(names) RESTART IDENTITY CASCADE"), logger: logger)
                }
                for table in RegistryTable.copied {
                    let expected = try snapshot.count(table)
                    var after: [RegistryCell]?
                    var later: [(key: [RegistryCell], value: RegistryCell)] = []
                    while true {
                        let rows = try snapshot.rows(table, after: after, limit: pageSize)
                        guard let last = rows.last else { break }
                        after = snapshot.key(of: last, in: table)
                        try await Self.insert(rows, into: table, connection: connection, report: &report, later: &later, logger: logger)
                        if rows.count < pageSize { break }
                    }
                    if let column = table.secondPass {
                        for (key, value) in later {
                            var bindings = PostgresBindings()
                            Self.bind(value, kind: .integer, into: &bindings, report: &report)
                            for cell in key { Self.bind(cell, kind: .integer, into: &bindings, report: &report) }
                            let match = table.key.enumerated().map { "\(Self.quoted($0.element)) = $\($0.offset + 2)" }.joined(separator: " AND ")
                            try await connection.query(PostgresQuery(unsafeSQL: "UPDATE \(Self.quoted(table.name)) SET \(Self.quoted(column)) = $1 WHERE \(match)",
                                                                     binds: bindings), logger: logger)
                        }
                    }
                    if let serial = table.serial {
                        try await connection.query(PostgresQuery(unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table.name)', '\(serial)'), greatest((SELECT max(\(Self.quoted(serial))) FROM \(Self.quoted(table.name))), 1))
                            """), logger: logger)
                    }
                    var copied = 0
                    for try await count in try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(Self.quoted(table.name))"),
                                                                      logger: logger).decode(Int.self) { copied = count }
                    report.tables.append(.init(name: table.name, source: expected, copied: copied))
                    progress(table.name, copied)
                }
                guard report.matches else {
                    let differing = report.tables.filter { $0.source != $0.copied }.map { "\($0.name): \($0.source) read, \($0.copied) stored" }
                    throw RegistryError(.database, "\(location): the copy does not match its source (\(differing.joined(separator: "; "))); nothing was kept")
                }
                try await connection.query("UPDATE change_marks SET mark = mark + 1", logger: logger)
                return report
            }
        }
    }

    /// One page of rows as multi-row INSERTs; the second-pass column is held back (NULL now).
    static func insert(_ rows: [[RegistryCell]], into table: RegistryTable, connection: PostgresConnection, report: inout RegistryCopyReport,
                       later: inout [(key: [RegistryCell], value: RegistryCell)], logger: Logger) async throws {
        let columns = table.columns
        let held = table.secondPass.flatMap { name in columns.firstIndex { $0.name == name } }
        let keyIndexes = table.key.map { name in columns.firstIndex { $0.name == name }! }
        let perInsert = max(1, bindsPerInsert / columns.count)
        let names = columns.map { quoted($0.name) }.joined(separator: ", ")
        var start = 0
        while start < rows.count {
            let page = rows[start..<min(rows.count, start + perInsert)]
            var bindings = PostgresBindings(capacity: page.count * columns.count)
            var values: [String] = []
            values.reserveCapacity(page.count)
            for row in page {
                var placeholders: [String] = []
                for (index, column) in columns.enumerated() {
                    var cell = row[index]
                    if index == held, cell != .null {
                        later.append((keyIndexes.map { row[$0] }, cell))
                        cell = .null
                    }
                    bind(cell, kind: column.kind, into: &bindings, report: &report)
                    placeholders.append("$\(bindings.count)" + cast(column.kind))
                }
                values.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(quoted(table.name)) (\(names)) VALUES " + values.joined(separator: ", ")
            do {
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            } catch {
                throw RegistryError(.database, "copying \(table.name) failed: \(describe(error))")
            }
            start += perInsert
        }
    }

    static func cast(_ kind: RegistryTable.Kind) -> String {
        switch kind {
        case .json: return "::jsonb"
        case .time: return "::timestamptz"
        default: return ""
        }
    }

    /// Binds a value as the column's type (a NULL is typed too, so a VALUES list of many rows agrees).
    static func bind(_ cell: RegistryCell, kind: RegistryTable.Kind, into bindings: inout PostgresBindings, report: inout RegistryCopyReport) {
        switch (cell, kind) {
        case (.null, .integer): bindings.append(Int64?.none)
        case (.null, .real): bindings.append(Double?.none)
        case (.null, .boolean): bindings.append(Bool?.none)
        case (.null, .time): bindings.append(Date?.none)
        case (.null, .blob): bindings.append(ByteBuffer?.none)
        case (.null, _): bindings.append(String?.none)
        case (.integer(let number), .boolean): bindings.append(number != 0)
        case (.integer(let number), .real): bindings.append(Double(number))
        case (.integer(let number), _): bindings.append(number)
        case (.real(let number), .integer): bindings.append(Int64(number))
        case (.real(let number), _): bindings.append(number)
        case (.boolean(let flag), _): bindings.append(flag)
        case (.time(let date), _): bindings.append(date)
        case (.blob(let bytes), _): bindings.append(ByteBuffer(bytes: bytes))
        case (.text(let text), .json):
            let (stored, changed) = PostgresText.storableJSON(text)
            if changed { report.jsonNulsReplaced += 1 }
            bindings.append(stored)
        case (.text(let text), _):
            let (stored, changed) = PostgresText.storable(text)
            if changed { report.nulsReplaced += 1 }
            bindings.append(stored)
        }
    }

    static func quoted(_ name: String) -> String { "\"\(name)\"" }
}
