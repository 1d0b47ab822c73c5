import Core
import Foundation
import Host
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// `APIKeys` over PostgreSQL: a key made through one host is accepted by another with the same
/// pepper, and a revocation on either reaches the other's key cache through the change feed.
@Suite(.serialized) struct PostgresAPIKeysTests {
    static let logger = Logger(label: "test")

    @Test func aKeyMadeOnOneHostIsCheckedOnAnotherAndItsRevocationReachesTheCache() async throws {
        guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
        let a = try await PostgresRegistry.open(location, logger: Self.logger), b = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { a.close(); b.close() }
        let pepper = Data("a-shared-pepper-of-at-least-32-characters".utf8)
        let hostA = APIKeys(ledger: a, pepper: pepper), hostB = APIKeys(ledger: b, pepper: pepper)
        let manifest = try ManifestLoader.parse("version: 1\nroles: { worker: {} }\nagents:\n  bot: { role: worker }\n", file: "registry.yaml", environment: [:])
        let (key, record) = try await hostA.create(agent: "bot", manifest: manifest, label: "ci", expiresIn: nil)
        #expect(await hostB.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id))
        #expect(await hostA.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id))
        #expect(await hostA.check(key, environmentKeys: [:]) == .agent("bot", keyId: record.id), "now from A's cache")
        #expect(try await hostB.list(agent: "bot").map(\.id) == [record.id])
        #expect(await APIKeys(ledger: b, pepper: Data(repeating: 7, count: 40)).check(key, environmentKeys: [:]) == .refused("the key is not valid"))

        let mark = a.changes.mark(.keys)
        _ = try await hostB.revoke(record.id)
        let start = ContinuousClock.now
        while a.changes.mark(.keys) == mark, ContinuousClock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(5)) }
        print("host A heard host B's revocation after \(ContinuousClock.now - start)")
        #expect(await hostA.check(key, environmentKeys: [:]) == .refused("the key was revoked"))
        await #expect(throws: HostError.self) { try await hostA.revoke("key_nonexistent") }
    }
}
