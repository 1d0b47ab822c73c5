import Core
import Foundation
import Logging
import PostgresNIO
import Registry

/// API keys on a database several hosts share: a key made on one host is accepted on every other,
/// and a revocation on one moves the `keys` mark everywhere in the same transaction (the key caches
/// of every host drop what they hold when it moves). Only the keyed hash is stored.
extension PostgresRegistry {
    static let keyColumns = "id, agent, label, hint, created_at, expires_at, revoked_at"

    public func insertAPIKey(_ record: APIKeyRecord, hash: Data) async throws(RegistryError) {
        try await guarded("storing API key \(record.id)") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    INSERT INTO api_keys (id, hash, agent, label, hint, created_at, expires_at)
                    VALUES (\(record.id), \(ByteBuffer(bytes: hash)), \(record.agent), \(record.label), \(record.hint), \(record.createdAt), \(record.expiresAt))
                    """, logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'keys'", logger: logger)
            }
        }
    }

    /// The key whose hash this is (one indexed lookup), revoked or not.
    public func apiKey(hash: Data) async throws(RegistryError) -> APIKeyRecord? {
        try await guarded("looking up an API key") { [self] in
            for try await row in try await client.query("SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE hash = \(ByteBuffer(bytes: hash))",
                                                        logger: logger) {
                return try Self.keyRecord(row)
            }
            return nil
        }
    }

    /// Revokes a key by id or hint; the key as it now is, nil when none matches.
    public func revokeAPIKey(_ idOrHint: String, at now: Date = Date()) async throws(RegistryError) -> APIKeyRecord? {
        try await guarded("revoking API key \(idOrHint)") { [self] in
            try await client.withTransaction(logger: logger) { connection -> APIKeyRecord? in
                var found: APIKeyRecord?
                for try await row in try await connection.query("""
                    UPDATE api_keys SET revoked_at = coalesce(revoked_at, \(now)) WHERE id = \(idOrHint) OR hint = \(idOrHint)
                    RETURNING \(unescaped: Self.keyColumns)
                    """, logger: logger) { found = try Self.keyRecord(row) }
                if found != nil { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'keys'", logger: logger) }
                return found
            }
        }
    }

    static func keyRecord(_ row: PostgresRow) throws -> APIKeyRecord {
        let c = try row.decode((String, String, String?, String, Date, Date?, Date?).self)
        var record = APIKeyRecord(id: c.0, agent: c.1, label: c.2, hint: c.3, createdAt: c.4, expiresAt: c.5)
        record.revokedAt = c.6
        return record
    }
}

extension PostgresRegistry: KeyLedger {
    public func storeKey(_ record: APIKeyRecord, hash: Data) async throws(RegistryError) { try await insertAPIKey(record, hash: hash) }

    public func key(hash: Data) async throws(RegistryError) -> APIKeyRecord? { try await apiKey(hash: hash) }

    public func keys(agent: String?) async throws(RegistryError) -> [APIKeyRecord] {
        try await guarded("listing API keys") { [self] in
            var found: [APIKeyRecord] = []
            for try await row in try await client.query("""
                SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE (\(agent)::text IS NULL OR agent = \(agent))
                ORDER BY created_at DESC, id COLLATE "C"
                """, logger: logger) { found.append(try Self.keyRecord(row)) }
            return found
        }
    }

    public func revokeKey(_ idOrHint: String) async throws(RegistryError) -> APIKeyRecord? { try await revokeAPIKey(idOrHint) }
}
