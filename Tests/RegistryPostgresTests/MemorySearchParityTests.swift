import Base
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// Memories written to SQLite and to PostgreSQL alike: the same ones are found by the same caller,
/// nobody sees another agent's, filters agree, and the best hit mostly agrees.
@Suite(.serialized) struct MemorySearchParityTests {
    static let logger = Logger(label: "test")

    static let texts: [(String, MemoryScope, String, Double, String?)] = [
        ("The deploy script needs the staging token from the vault before it runs.", .agent, "ada", 0.9, #"{"topic":"deploy"}"#),
        ("Staging deploys happen on Tuesdays after the standup.", .role, "ops", 0.5, #"{"topic":"deploy"}"#),
        ("Grace prefers short pull requests with one change each.", .agent, "grace", 0.7, nil),
        ("The chart library renders bar charts slowly for large datasets.", .global, "", 0.4, #"{"topic":"charts"}"#),
        ("Use the cached dataset for the quarterly chart, not the live one.", .agent, "ada", 0.6, #"{"topic":"charts"}"#),
        ("Backups of the registry run nightly; restoring takes twenty minutes.", .group, "infra", 0.8, nil),
        ("Never rotate the vault token during a deploy.", .agent, "ada", 1.0, #"{"topic":"deploy"}"#),
        ("The standup moved to 9:30 for the whole team.", .global, "", 0.3, nil),
        ("Datasets larger than a gigabyte go to the archive bucket.", .role, "ops", 0.5, nil),
        ("Ada's notes on the deploy pipeline live in the wiki.", .agent, "grace", 0.2, nil),
    ]

    @Test func theSameMemoriesAreFoundForTheSameCallerAndTheBestHitMostlyAgrees() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        try await withTemporaryDirectory { root in
            let sqlite = try RegistryDatabase(path: root + "/registry.db")
            guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { return }
            let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
            defer { postgres.close() }
            let now = Date().timeIntervalSince1970
            for (index, (text, scope, owner, importance, metadata)) in Self.texts.enumerated() {
                let record = MemoryRecord(type: .episodic, scope: scope, owner: owner, text: text, metadata: metadata, importance: importance,
                                          createdAt: now - Double(index) * 86400, agent: owner.isEmpty ? "ada" : owner, role: nil)
                let a = try sqlite.insertMemory(record), b = try await postgres.insertMemory(record)
                #expect(a == b)
            }
            let ada = MemoryVisibility(agent: "ada", role: "ops", group: "infra")
            var agree = 0, asked = 0
            for text in ["deploy", "vault token", "chart dataset", "standup", "backups restoring", "datasets", "deploy token staging", "wiki"] {
                var search = MemorySearch(text: text, visibility: ada)
                search.now = now
                search.limit = 50
                let ours = try sqlite.searchMemories(search).map(\.memory.id)
                let theirs = try await postgres.searchMemories(search).map(\.memory.id)
                #expect(Set(ours) == Set(theirs), "\(text): SQLite \(ours), PostgreSQL \(theirs)")
                asked += 1
                if ours.first == theirs.first { agree += 1 } else { print("\(text): SQLite \(ours) PostgreSQL \(theirs)") }
            }
            print("memory search: the best hit agrees for \(agree) of \(asked) queries")
            #expect(agree * 5 >= asked * 4)

            // Grace's own memories are hers: Ada never finds them, Grace does.
            var theirs = MemorySearch(text: "pull requests wiki", visibility: ada)
            #expect(try await postgres.searchMemories(theirs).isEmpty)
            theirs.visibility = MemoryVisibility(agent: "grace", role: nil, group: nil)
            #expect(try await postgres.searchMemories(theirs).count == 2)

            // Filters: metadata, scope, type.
            var filtered = MemorySearch(text: "deploy token vault staging", visibility: ada)
            filtered.metadata = ["topic": "deploy"]
            let deploy = try await postgres.searchMemories(filtered)
            #expect(Set(deploy.map(\.memory.id)) == Set(try sqlite.searchMemories(filtered).map(\.memory.id)))
            #expect(!deploy.isEmpty && deploy.allSatisfy { $0.memory.metadata?.contains("deploy") == true })
            filtered.metadata = [:]
            filtered.scope = .role
            #expect(try await postgres.searchMemories(filtered).map(\.memory.scope) == [.role])
            filtered.scope = nil
            filtered.types = [.core]
            #expect(try await postgres.searchMemories(filtered).isEmpty)

            // Scores are the SQLite registry's formula; snippets show the words.
            let hit = try #require(try await postgres.searchMemories(MemorySearch(text: "backups", visibility: ada)).first)
            #expect(hit.relevance == 1 && hit.snippet.lowercased().contains("backups"))

            // Read and delete.
            #expect(try await postgres.memory(id: 1)?.text == Self.texts[0].0)
            #expect(try await postgres.deleteMemory(id: 1))
            #expect(try await postgres.memory(id: 1) == nil)
            #expect(try await postgres.deleteMemory(id: 1) == false)
            #expect(try server.psql("SELECT count(*) FROM memory_chunks WHERE memory_id = 1") == "0")
        }
    }
}
