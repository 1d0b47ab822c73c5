import Foundation
import GRDB
import PostgresNIO
import Registry

/// Reads PostgreSQL rows into the registry's record types through the same decoding the SQLite
/// registry uses (each record's `init(row:)`): a PostgreSQL row becomes a GRDB `Row` of the same
/// column names, so a record is decoded one way whichever database it came from.
///
/// JSON columns are selected as text (`selectList` casts them), as SQLite holds them; integers,
/// floats, booleans, text, times and bytes carry over; other types (a `tsvector`) are left out.
enum PostgresRecords {
    /// `alias.column, …` for a copied table, JSON columns cast to text under their own names.
    static func selectList(_ table: String, alias: String) -> String {
        guard let described = RegistryTable.copied.first(where: { $0.name == table }) else { return "\(alias).*" }
        return described.columns.map { column in
            column.kind == .json ? "\(alias).\"\(column.name)\"::text AS \"\(column.name)\"" : "\(alias).\"\(column.name)\""
        }.joined(separator: ", ")
    }

    static func row(_ row: PostgresRow) throws -> GRDB.Row {
        var values: [String: (any DatabaseValueConvertible)?] = [:]
        for cell in row {
            guard cell.bytes != nil else { values.updateValue(nil, forKey: cell.columnName); continue }
            switch cell.dataType {
            case .int2, .int4, .int8, .oid: values[cell.columnName] = try cell.decode(Int64.self)
            case .float4, .float8, .numeric: values[cell.columnName] = try cell.decode(Double.self)
            case .bool: values[cell.columnName] = try cell.decode(Bool.self)
            case .timestamptz, .timestamp, .date: values[cell.columnName] = try cell.decode(Date.self)
            case .bytea: values[cell.columnName] = Data(try cell.decode(ByteBuffer.self).readableBytesView)
            case .text, .varchar, .bpchar, .name, .json, .jsonb: values[cell.columnName] = try cell.decode(String.self)
            default: continue
            }
        }
        return GRDB.Row(values)
    }

    static func decode<R: FetchableRecord>(_ type: R.Type, _ row: PostgresRow) throws -> R {
        try R(row: try Self.row(row))
    }
}

extension PostgresRegistry {
    /// Every row of `sql` as a record.
    func records<R: FetchableRecord & Sendable>(_ type: R.Type, _ what: String, _ sql: PostgresQuery) async throws(RegistryError) -> [R] {
        try await guarded(what) { [self] in
            var found: [R] = []
            for try await row in try await client.query(sql, logger: logger) { found.append(try PostgresRecords.decode(R.self, row)) }
            return found
        }
    }
}
