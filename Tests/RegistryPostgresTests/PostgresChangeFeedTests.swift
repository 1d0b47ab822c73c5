import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// Two hosts on one database: a change one of them makes moves the other's mark (LISTEN/NOTIFY).
@Suite(.serialized) struct PostgresChangeFeedTests {
    static let logger = Logger(label: "test")

    func open(_ server: PrivatePostgres) async throws -> PostgresRegistry {
        guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { throw PrivatePostgres.Problem("not a postgres URL") }
        return try await PostgresRegistry.open(location, logger: Self.logger)
    }

    /// Waits until `condition` holds (at most `limit`); how long it took, nil if it never did.
    func waited(_ limit: Duration = .seconds(60), _ condition: () -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    @Test func aChangeOnOneHostMovesTheMarkOnTheOtherAndOnlyThatTopics() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let a = try await open(server), b = try await open(server)
        defer { a.close(); b.close() }
        #expect(try await waited { a.feed.listening.up && b.feed.listening.up } != nil)
        let before = Dictionary(uniqueKeysWithValues: ChangeTopic.allCases.map { ($0, b.changes.mark($0)) })
        a.changes.touch(.approvals)
        let seen = try await waited { b.changes.mark(.approvals) != before[.approvals] }
        #expect(seen != nil, "host B never saw host A's approval change")
        print("an approval change on host A reached host B's mark in \(seen.map { "\($0)" } ?? "never")")
        #expect(b.changes.mark(.skills) == before[.skills] && b.changes.mark(.keys) == before[.keys])
        // A change made with plain SQL (another tool, a migration) is announced just the same.
        let keys = b.changes.mark(.keys)
        _ = try server.psql("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'keys'")
        #expect(try await waited { b.changes.mark(.keys) != keys } != nil)
    }

    @Test func aListenerCutOffByTheServerListensAgainAndMovesEveryMark() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let a = try await open(server), b = try await open(server)
        defer { a.close(); b.close() }
        #expect(try await waited { a.feed.listening.up && b.feed.listening.up } != nil)
        let skills = b.changes.mark(.skills)
        // The administrator (or a failover) ends every listening backend.
        _ = try server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
        #expect(try await waited { b.changes.mark(.skills) != skills } != nil, "a lost listener must move every mark")
        #expect(try await waited { b.feed.listening.up && a.feed.listening.up } != nil, "the listener did not come back")
        let approvals = b.changes.mark(.approvals)
        a.changes.touch(.approvals)
        #expect(try await waited { b.changes.mark(.approvals) != approvals } != nil)
    }
}
