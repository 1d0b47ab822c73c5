import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The registry on a real PostgreSQL server of the test's own: opening, migrating under the lock,
/// and what a host says when it cannot get in.
@Suite(.serialized) struct PostgresRegistryTests {
    static let logger = Logger(label: "test")

    func location(_ url: String) throws -> PostgresLocation {
        guard case .postgres(let location) = try RegistryLocation.parse(url) else { throw PrivatePostgres.Problem("not a postgres URL") }
        return location
    }

    @Test func hostsOpeningAFreshDatabaseAtOnceMigrateItOnce() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let where_ = try location(server.url())
        let registries = try await withThrowingTaskGroup(of: PostgresRegistry.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresRegistry.open(where_, logger: Self.logger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { registries.forEach { $0.close() } }
        #expect(registries.count == 4)
        #expect(try server.psql("SELECT count(*) FROM agenthub_migrations") == "7")
        for registry in registries { #expect(try await registry.schemaVersions() == [1, 2, 3, 4, 5, 6, 7]) }
        let tables = try server.psql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'")
        for table in ["sources", "skills", "skill_files", "memories", "memory_chunks", "trace_events", "approvals", "approval_grants",
                      "api_keys", "hosts", "sync_leases", "bridge_tool_pins", "bridge_credentials", "console_sessions", "mcp_sessions", "change_marks"] {
            #expect(tables.split(separator: ",").contains(Substring(table)), "\(table)")
        }
        // Opened again: nothing to do, nothing applied twice.
        let again = try await PostgresRegistry.open(where_, logger: Self.logger)
        again.close()
        #expect(try server.psql("SELECT count(*) FROM agenthub_migrations") == "7")
    }

    @Test func aServerThatIsNotThereIsNamedAndThePasswordIsNot() async throws {
        let server = try await PrivatePostgres.make()
        let url = server.url()
        server.stop()   // nothing listens on its port now
        let started = ContinuousClock.now
        let error = await #expect(throws: RegistryError.self) { try await PostgresRegistry.open(try location(url), logger: Self.logger) }
        #expect(ContinuousClock.now - started < .seconds(15))
        let message = error?.message ?? ""
        #expect(message.contains("127.0.0.1:\(server.port)") && message.contains("/agenthub"), "\(message)")
        #expect(!message.contains(server.password), "\(message)")
    }

    @Test func aWrongPasswordGetsTheServersOwnWordsAndIsNotRepeated() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let error = await #expect(throws: RegistryError.self) {
            try await PostgresRegistry.open(try location(server.url(password: "not-the-password")), logger: Self.logger)
        }
        let message = error?.message ?? ""
        #expect(message.contains("password authentication failed"), "\(message)")
        #expect(!message.contains("not-the-password") && !message.contains(server.password), "\(message)")
    }

    @Test func aDatabaseMigratedByANewerAgenthubIsRefused() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        let where_ = try location(server.url())
        try await PostgresRegistry.open(where_, logger: Self.logger).close()
        _ = try server.psql("INSERT INTO agenthub_migrations (version, name, applied_by) VALUES (99, 'from the future', 'elsewhere')")
        let error = await #expect(throws: RegistryError.self) { try await PostgresRegistry.open(where_, logger: Self.logger) }
        #expect(error?.message.contains("newer than this agenthub knows") == true, "\(error?.message ?? "")")
    }

    @Test func theUnixSocketFolderIsAWayIn() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        // As libpq reads it: the socket folder in ?host=, the port (which names the socket file) in the authority.
        let registry = try await PostgresRegistry.open(try location("postgres://\(server.user):\(server.password)@localhost:\(server.port)/agenthub?host=\(server.folder)"),
                                                       logger: Self.logger)
        defer { registry.close() }
        #expect(try await registry.schemaVersions() == [1, 2, 3, 4, 5, 6, 7])
    }
}
