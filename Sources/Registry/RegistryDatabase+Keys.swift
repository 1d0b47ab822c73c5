import Base
import Foundation
import GRDB

/// An API key as the registry keeps it: never the key, only its keyed hash (HMAC-SHA-256 with a
/// pepper kept outside the database), looked up by that hash through a unique index.
public struct APIKeyRecord: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "api_keys"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    /// The key's public id (`key_…`): what `agenthub keys list` shows and `revoke` takes.
    public var id: String
    public var agent: String
    public var label: String?
    /// The first characters of the key (`ah_AbC1…`), so an operator can tell keys apart.
    public var hint: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, agent: String, label: String?, hint: String, createdAt: Date, expiresAt: Date?) {
        self.id = id
        self.agent = agent
        self.label = label
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// `active`, `expired` or `revoked`, as of `now`.
    public func status(at now: Date = Date()) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, expiresAt <= now { return "expired" }
        return "active"
    }
}

extension RegistryDatabase {
    /// Moved by every key created or revoked, in any process: hosts drop the keys they checked.
    public var keysChanged: StampFile { StampFile(named: "keys-changed", besideDatabase: path) }

    /// Stores a new key's hash.
    public func insertAPIKey(_ record: APIKeyRecord, hash: Data) throws(RegistryError) {
        try write("storing API key \(record.id)") { db in
            try db.execute(sql: """
                INSERT INTO api_keys (id, hash, agent, label, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.id, hash, record.agent, record.label, record.hint, record.createdAt, record.expiresAt])
        }
        keysChanged.touch()
    }

    /// The key whose hash this is (one indexed lookup), revoked or not.
    public func apiKey(hash: Data) throws(RegistryError) -> APIKeyRecord? {
        try read("looking up an API key") { db in
            try APIKeyRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE hash = ?"), arguments: [hash])
        }
    }

    /// Every key (of `agent`, when given), newest first.
    public func apiKeys(agent: String? = nil) throws(RegistryError) -> [APIKeyRecord] {
        try read("listing API keys") { db in
            if let agent {
                return try APIKeyRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE agent = ? ORDER BY created_at DESC, id"), arguments: [agent])
            }
            return try APIKeyRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM api_keys ORDER BY created_at DESC, id"))
        }
    }

    /// Revokes a key by id (or by its hint). Returns the key as it now is, nil when no key matches.
    public func revokeAPIKey(_ idOrHint: String, at now: Date = Date()) throws(RegistryError) -> APIKeyRecord? {
        defer { keysChanged.touch() }
        return try write("revoking API key \(idOrHint)") { db in
            guard let key = try APIKeyRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE id = ? OR hint = ?"), arguments: [idOrHint, idOrHint]) else {
                return nil
            }
            if key.revokedAt == nil {
                try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ?", arguments: [now, key.id])
            }
            return try APIKeyRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE id = ?"), arguments: [key.id])
        }
    }
}
