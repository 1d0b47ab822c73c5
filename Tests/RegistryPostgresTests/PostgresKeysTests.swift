import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// A key made on one host works on another; revoking it on either moves every host's `keys` mark.
@Suite(.serialized) struct PostgresKeysTests {
    static let logger = Logger(label: "test")

    @Test func aKeyMadeOnOneHostIsKnownOnAnotherAndItsRevocationIsHeardEverywhere() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { return }
        let a = try await PostgresRegistry.open(location, logger: Self.logger), b = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { a.close(); b.close() }
        let hash = Data((0..<32).map { UInt8($0) })
        try await a.insertAPIKey(APIKeyRecord(id: "key_1", agent: "ada", label: "laptop", hint: "ah_ab…yz", createdAt: Date(),
                                              expiresAt: nil), hash: hash)
        let seen = try #require(try await b.apiKey(hash: hash))
        #expect(seen.agent == "ada" && seen.label == "laptop" && seen.status() == "active")
        #expect(try await b.apiKey(hash: Data(repeating: 7, count: 32)) == nil)

        let mark = a.changes.mark(.keys)
        let revoked = try #require(try await b.revokeAPIKey("ah_ab…yz"))
        #expect(revoked.revokedAt != nil && revoked.status() == "revoked")
        let start = ContinuousClock.now
        while a.changes.mark(.keys) == mark, ContinuousClock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(2)) }
        #expect(a.changes.mark(.keys) != mark, "host A never heard of the revocation")
        #expect(try await a.apiKey(hash: hash)?.status() == "revoked")
        #expect(try await a.revokeAPIKey("nope") == nil)
        #expect(try server.psql("SELECT length(hash) FROM api_keys") == "32")
    }
}
