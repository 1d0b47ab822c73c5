import Base
import Foundation
import Logging
@testable import Plugins
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// OAuth logins of remote servers on the database several hosts share: one host's login opens on
/// another with the same secret key, sealed in the table, and a logout reaches every host.
@Suite(.serialized) struct PostgresCredentialsTests {
    static let logger = Logger(label: "test")

    @Test func aLoginStoredByOneHostOpensOnAnotherAndItsLogoutReachesIt() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { return }
        let first = try await PostgresRegistry.open(location, logger: Self.logger)
        let second = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { first.close(); second.close() }
        let sealer = CredentialSealer(secret: Data(String(repeating: "s", count: 40).utf8))
        let server1 = BridgeCredentials(ledger: first, sealer: sealer)
        let server2 = BridgeCredentials(ledger: second, sealer: sealer)
        let name = "docs-\(UUID().uuidString.prefix(8))"
        let credential = RemoteCredential(accessToken: "at-\(UUID())", refreshToken: nil, expiresAt: nil, scope: nil,
                                          tokenEndpoint: "http://127.0.0.1:1/token", revocationEndpoint: nil, clientId: "c", clientSecret: nil,
                                          clientAuth: "none", resource: nil, issuer: nil, obtainedAt: Date())
        try await server1.store(credential, server: name, agent: "ada")
        #expect(try await server2.bearer(server: name, agent: "ada") == credential.accessToken)
        #expect(await server2.agents(server: name) == ["ada"])
        let sealed = try #require(try second.bridgeCredential(server: name, agent: "ada"))
        #expect(!sealed.contains(credential.accessToken))
        // Another key does not open it.
        let stranger = BridgeCredentials(ledger: second, sealer: CredentialSealer(secret: Data(String(repeating: "x", count: 40).utf8)))
        await #expect(throws: BridgeError.self) { try await stranger.bearer(server: name, agent: "ada") }

        #expect(try await server1.remove(server: name, agent: "ada").removed)
        var refused = false
        for _ in 0..<200 where !refused {
            do { _ = try await server2.bearer(server: name, agent: "ada") } catch { refused = error.message.contains("agenthub servers login \(name) --agent ada") }
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(refused, "the logout on one host never reached the other")
    }
}
