import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// Sync leases across hosts: one holder at a time, a fence that grows, and no publish by a holder
/// that lost its lease.
@Suite(.serialized) struct PostgresLeaseTests {
    static let logger = Logger(label: "test")

    func open(_ server: PrivatePostgres) async throws -> PostgresRegistry {
        guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { throw PrivatePostgres.Problem("not a postgres URL") }
        return try await PostgresRegistry.open(location, logger: Self.logger)
    }

    @Test func hostsRacingForASourceGiveItToExactlyOne() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let hosts = try await [open(server), open(server), open(server)]
        defer { hosts.forEach { $0.close() } }
        for round in 0..<5 {
            let winners = try await withThrowingTaskGroup(of: SyncLease?.self) { group in
                for (index, host) in hosts.enumerated() {
                    for worker in 0..<3 {
                        group.addTask { try await host.acquireLease("skills-\(round)", owner: "host-\(index)-\(worker)", for: .seconds(30)) }
                    }
                }
                return try await group.reduce(into: [SyncLease]()) { if let lease = $1 { $0.append(lease) } }
            }
            #expect(winners.count == 1, "round \(round): \(winners)")
            #expect(winners.first?.fence == 1)
        }
    }

    @Test func aLeaseThatExpiredGoesToTheNextHostWithAHigherFenceAndTheStaleHolderCannotPublish() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let a = try await open(server), b = try await open(server)
        defer { a.close(); b.close() }
        let first = try #require(try await a.acquireLease("team", owner: "host-a", for: .seconds(30)))
        #expect(try await b.acquireLease("team", owner: "host-b", for: .seconds(30)) == nil, "held and unexpired")
        // Host A stalls past its lease (aged on the server's clock rather than slept through).
        _ = try server.psql("UPDATE sync_leases SET expires_at = now() - interval '1 second' WHERE source = 'team'")
        let second = try #require(try await b.acquireLease("team", owner: "host-b", for: .seconds(30)))
        #expect(second.fence == first.fence + 1)
        #expect(try await a.renewLease(first, for: .seconds(30)) == nil, "a lost lease cannot be renewed")
        _ = try server.psql("CREATE TABLE published (source TEXT, by TEXT)")
        let refused = await #expect(throws: RegistryError.self) {
            try await a.whileHolding(first) { connection in try await connection.query("INSERT INTO published VALUES ('team', 'host-a')", logger: Self.logger) }
        }
        #expect(refused?.code == .conflict && refused?.message.contains("no longer host-a's") == true, "\(refused?.message ?? "")")
        try await b.whileHolding(second) { connection in try await connection.query("INSERT INTO published VALUES ('team', 'host-b')", logger: Self.logger) }
        #expect(try server.psql("SELECT string_agg(by, ',') FROM published") == "host-b")
        // Released, with when it was checked: free for anyone, the fence still growing.
        try await b.releaseLease(second, checkedAt: Date())
        #expect(try server.psql("SELECT owner IS NULL AND last_checked_at IS NOT NULL FROM sync_leases WHERE source = 'team'") == "t")
        let third = try #require(try await a.acquireLease("team", owner: "host-a", for: .seconds(30)))
        #expect(third.fence == second.fence + 1)
    }
}
