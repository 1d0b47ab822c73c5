import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// `agenthub db copy`: a populated SQLite registry moves into PostgreSQL whole, the counts per
/// table match, what PostgreSQL cannot store is reported instead of failing the copy, and a target
/// that already holds a registry is refused unless told.
@Suite(.serialized) struct RegistryCopyTests {
    static let logger = Logger(label: "test")

    func copy(_ arguments: [String], in root: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(agenthubBinary(), ["db", "copy"] + arguments, in: root)
    }

    @Test func aPopulatedRegistryIsCopiedWholeAndTheCountsMatch() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { root in
            let sqlite = try RegistryFixture.populate(root)
            // The password comes from the environment, never from the command line.
            let url = server.url(password: "${AGENTHUB_TEST_PG_PASSWORD}")
            setenv("AGENTHUB_TEST_PG_PASSWORD", server.password, 1)
            let copied = try copy(["--from", root + "/db/registry.db", "--to", url, "--json"], in: root)
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(!copied.stdout.contains(server.password) && !copied.stderr.contains(server.password))
            let report = try JSONSerialization.jsonObject(with: Data(copied.stdout.utf8)) as? [String: Any]
            #expect(report?["matches"] as? Bool == true)
            #expect(report?["nuls_replaced"] as? Int == 1 && report?["json_nuls_replaced"] as? Int == 1, "\(copied.stdout)")
            let tables = (report?["tables"] as? [[String: Any]]) ?? []
            let counts = Dictionary(uniqueKeysWithValues: tables.map { ($0["table"] as? String ?? "", ($0["sqlite"] as? Int ?? -1, $0["postgres"] as? Int ?? -2)) })
            #expect(Set(counts.keys) == Set(RegistryTable.copied.map(\.name)))
            for (table, pair) in counts {
                #expect(pair.0 == pair.1, "\(table): \(pair)")
                #expect(pair.0 > 0, "\(table) was not populated by the test")
            }
            #expect(counts["memories"]?.0 == 251 && counts["trace_events"]?.0 == 1_201)

            // What was copied is served: search, shadowing, memory search, approvals, keys; new rows continue the ids.
            guard case .postgres(let location) = try RegistryLocation.parse(server.url()) else { return }
            let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
            defer { postgres.close() }
            #expect(try await postgres.skills(SkillQuery(text: "pdf", limit: 10)).map(\.skill.name) == (try sqlite.skills(SkillQuery(text: "pdf", limit: 10)).map(\.skill.name)))
            #expect(try server.psql("SELECT count(*) FROM skills WHERE shadowed_by IS NOT NULL") == "1")
            let hits = try await postgres.searchMemories(MemorySearch(text: "quarterly budget", visibility: MemoryVisibility(agent: "ada", role: nil, group: nil)))
            #expect(!hits.isEmpty)
            #expect(try await postgres.approval("apr_copy1")?.status == .granted)
            #expect(try await postgres.apiKey(hash: Data(repeating: 7, count: 32))?.id == "key_copy")
            let next = try await postgres.insertMemory(MemoryRecord(type: .core, scope: .agent, owner: "ada", text: "after the copy", metadata: nil,
                                                                    importance: 1, createdAt: 0, agent: "ada", role: nil))
            #expect(next > 251)
            #expect(try server.psql("SELECT text FROM memories WHERE text LIKE 'a NUL%'") == "a NUL \u{FFFD} inside")
            #expect(try server.psql("SELECT metadata->>'k' || '|' || (metadata->>'e') FROM memories WHERE text LIKE 'a NUL%'") == "a\u{FFFD}b|\\u0000")

            // A second copy is refused (the target holds a registry) and changes nothing; --replace redoes it.
            let again = try copy(["--from", root + "/db/registry.db", "--to", url], in: root)
            #expect(again.status == 1)
            #expect(again.stderr.contains("already holds a registry") && again.stderr.contains("--replace"), "\(again.stderr)")
            #expect(try server.psql("SELECT count(*) FROM memories") == "252")
            let replaced = try copy(["--from", root + "/db/registry.db", "--to", url, "--replace"], in: root)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(replaced.stdout.contains("trace_events") && replaced.stdout.contains("1201"))
            #expect(try server.psql("SELECT count(*) FROM memories") == "251")
        }
    }

    @Test func aWrongPasswordOrAMissingFileIsRefusedWithoutShowingThePassword() async throws {
        let server = try await PrivatePostgres.make()
        defer { server.stop() }
        try await withTemporaryDirectory { root in
            _ = try RegistryFixture.populate(root)
            let wrong = try copy(["--from", root + "/db/registry.db", "--to", server.url(password: "not-the-password-123")], in: root)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("127.0.0.1") && !wrong.stderr.contains("not-the-password-123"), "\(wrong.stderr)")
            let missing = try copy(["--from", root + "/nowhere.db", "--to", server.url()], in: root)
            #expect(missing.status == 1 && missing.stderr.contains("nowhere.db"))
            let unset = try copy(["--from", root + "/db/registry.db", "--to", "postgres://u:${AGENTHUB_NOT_SET_ANYWHERE}@127.0.0.1/x"], in: root)
            #expect(unset.status == 64 && unset.stderr.contains("AGENTHUB_NOT_SET_ANYWHERE"), "\(unset.stderr)")
            #expect(try server.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'memories'") == "0", "a refused copy created nothing")
        }
    }
}
