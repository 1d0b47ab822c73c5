import Foundation
import GRDB
import Testing
@testable import Registry

/// Memory search stops reading matches early, yet its answer is the one an exhaustive ranking of
/// every match gives: the same memories in the same order with the same scores.
@Suite struct MemorySearchTests {
    static let words = (0..<40).map { "w\($0)" }

    /// Texts from a small vocabulary, so every word matches hundreds of chunks; some long (several
    /// chunks), some holding a phrase the queries ask for.
    static func corpus(_ count: Int) -> [MemoryRecord] {
        var generator = SystemRandomNumberGenerator()
        let now = Date().timeIntervalSince1970
        return (0..<count).map { i in
            let length = i % 40 == 0 ? 700 : Int.random(in: 5...50, using: &generator)
            var text = (0..<length).map { _ in words[min(words.count - 1, Int(pow(40, Double.random(in: 0..<1, using: &generator))) - 1)] }
            if i % 17 == 0 { text.insert(contentsOf: ["w3", "w7"], at: text.count / 2) }
            let scope: MemoryScope = [.agent, .agent, .global, .role, .group][i % 5]
            let owner = scope == .global ? "" : ["me", "other", "writer", "blue"][i % 4]
            return MemoryRecord(type: [MemoryType.core, .episodic, .archival][i % 3], scope: scope, owner: owner, text: text.joined(separator: " "),
                                metadata: i % 2 == 0 ? #"{"project":"alpha"}"# : #"{"project":"beta"}"#,
                                importance: Double(i % 11) / 10, createdAt: now - Double(i % 500) * 3600, agent: "me", role: nil)
        }
    }

    /// Every match ranked in one query: the definition the search must agree with.
    static func exhaustive(_ registry: RegistryDatabase, _ search: MemorySearch) throws -> [(id: Int64, score: Double)] {
        let words = MemoryQuery.words(in: search.text)
        let phrase = words.count > 1 ? MemoryQuery.phrase(words) : nil
        let (filters, filterArguments) = RegistryDatabase.memoryFilters(search)
        let sql = """
            WITH hits AS MATERIALIZED (SELECT rowid AS chunk_id, rank FROM memory_fts WHERE memory_fts MATCH ?),
            phrase AS (\(phrase == nil ? "SELECT NULL AS chunk_id WHERE 0" : "SELECT rowid AS chunk_id FROM memory_fts WHERE memory_fts MATCH ?")),
            best AS (
              SELECT c.memory_id AS memory_id, MIN(h.rank * (CASE WHEN h.chunk_id IN (SELECT chunk_id FROM phrase) THEN 2.0 ELSE 1.0 END)) AS rank
              FROM hits h JOIN memory_chunks c ON c.id = h.chunk_id JOIN memories m ON m.id = c.memory_id
              WHERE \(filters) GROUP BY c.memory_id
            ),
            scored AS (SELECT memory_id, coalesce(rank / nullif(MIN(rank) OVER (), 0), 1.0) AS relevance FROM best)
            SELECT m.id, (? * s.relevance + ? * m.importance + ? * pow(0.5, max(0, ? - m.created_at) / ?)) AS score
            FROM scored s JOIN memories m ON m.id = s.memory_id ORDER BY score DESC, m.id DESC LIMIT ?
            """
        var arguments: [DatabaseValueConvertible?] = [MemoryQuery.anyWord(words)]
        if let phrase { arguments.append(phrase) }
        arguments += filterArguments
        arguments += [search.relevanceWeight, search.importanceWeight, search.recencyWeight, search.now, max(search.recencyHalfLife, 1), search.limit]
        return try registry.pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { ($0[0], $0[1]) }
        }
    }

    @Test func theEarlyStoppingSearchAgreesWithAnExhaustiveRankingOfEveryMatch() throws {
        try withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            try registry.insertMemories(Self.corpus(3000))
            let me = MemoryVisibility(agent: "me", role: "writer", group: "blue")
            var searches: [MemorySearch] = []
            for (i, text) in ["w3 w7", "w0", "w12", "w3", "w25 w30", "w1 w2 w5", "w39", "w7 w3", "w20 w21 w22", "w8 w9"].enumerated() {
                var search = MemorySearch(text: text, visibility: me)
                searches.append(search)
                search.limit = [1, 3, 20, 50][i % 4]
                searches.append(search)
                search.types = [.episodic, .core]
                searches.append(search)
                search.scope = .global
                search.metadata = ["project": "alpha"]
                searches.append(search)
                var weighted = MemorySearch(text: text, visibility: MemoryVisibility(agent: "other", role: nil, group: nil))
                (weighted.relevanceWeight, weighted.importanceWeight, weighted.recencyWeight) = ([0.2, 1, 0.5][i % 3], [0.8, 0, 0.5][i % 3], [0.6, 0, 0][i % 3])
                searches.append(weighted)
            }
            for search in searches {
                let expected = try Self.exhaustive(registry, search)
                let hits = try registry.searchMemories(search)
                #expect(hits.map(\.memory.id) == expected.map(\.id), "'\(search.text)' limit \(search.limit) types \(search.types) scope \(String(describing: search.scope))")
                for (hit, want) in zip(hits, expected) { #expect(abs(hit.score - want.score) < 1e-9) }
                #expect(hits.allSatisfy { search.visibility.contains($0.memory) })
            }
        }
    }

    @Test func aSnippetIsCutFromThePhraseWhenTheBestChunkHoldsIt() throws {
        try withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            let now = Date().timeIntervalSince1970
            try registry.insertMemory(MemoryRecord(type: .core, scope: .global, owner: "", text: "the deploy key rotates weekly and the key is kept apart from deploy notes",
                                                   metadata: nil, importance: 0.5, createdAt: now, agent: "me", role: nil))
            try registry.insertMemory(MemoryRecord(type: .core, scope: .global, owner: "", text: "a key for the deploy", metadata: nil,
                                                   importance: 0.5, createdAt: now, agent: "me", role: nil))
            let hits = try registry.searchMemories(MemorySearch(text: "deploy key", visibility: MemoryVisibility(agent: "me", role: nil, group: nil)))
            #expect(hits.count == 2)
            #expect(hits.first?.snippet.contains("**deploy key**") == true)
            #expect(hits.last?.snippet.contains("**key**") == true)
            #expect(hits.first?.relevance == 1)
        }
    }

    @Test func aSearchWhoseFiltersHideEveryMatchReadsThemAllAndFindsNothing() throws {
        try withTemporaryDirectory { dir in
            let registry = try RegistryDatabase(path: dir + "/registry.db")
            try registry.insertMemories(Self.corpus(400).map { var m = $0; m.scope = .agent; m.owner = "someone-else"; return m })
            #expect(try registry.searchMemories(MemorySearch(text: "w0 w1", visibility: MemoryVisibility(agent: "me", role: nil, group: nil))).isEmpty)
        }
    }
}
