import Base
import Foundation
import Logging
import PostgresNIO
import Registry

/// Memories in PostgreSQL, with the same operations and scoring as the SQLite registry's: a memory's
/// text stored whole and in chunks (`MemoryChunker`), chunks indexed by a generated `tsvector` (GIN),
/// a search that ranks each visible memory by its best chunk and scores it
/// `wr·relevance + wi·importance + wt·recency` (relevance: the rank over the best rank found).
///
/// Where it differs from SQLite: the rank is `ts_rank` (normalised by length) instead of bm25, so
/// rare words weigh no more than common ones; a chunk holding the exact phrase counts double here
/// too (`<->` phrase match); snippets are `ts_headline`'s. Which memories match is the same: any of
/// the words, stemmed.
extension PostgresRegistry {
    /// Stores a memory and its chunks in one transaction; its id.
    public func insertMemory(_ memory: MemoryRecord, chunker: MemoryChunker = MemoryChunker()) async throws(RegistryError) -> Int64 {
        let logger = self.logger
        return try await guarded("storing a memory") { [self] in
            return try await client.withTransaction(logger: logger) { connection in
                var id: Int64 = 0
                for try await value in try await connection.query("""
                    INSERT INTO memories (type, scope, owner, text, metadata, importance, created_at, agent, role)
                    VALUES (\(memory.type.rawValue), \(memory.scope.rawValue), \(memory.owner), \(memory.text), \(memory.metadata)::jsonb,
                            \(memory.importance), \(memory.createdAt), \(memory.agent), \(memory.role))
                    RETURNING id
                    """, logger: logger).decode(Int64.self) { id = value }
                for (seq, chunk) in chunker.chunks(of: memory.text).enumerated() {
                    try await connection.query("INSERT INTO memory_chunks (memory_id, seq, text) VALUES (\(id), \(seq), \(chunk))", logger: logger)
                }
                return id
            }
        }
    }

    public func memory(id: Int64) async throws(RegistryError) -> MemoryRecord? {
        return try await guarded("reading memory \(id)") { [self] in
            let rows = try await client.query("""
                SELECT id, type, scope, owner, text, metadata::text, importance, created_at, agent, role FROM memories WHERE id = \(id)
                """, logger: logger)
            for try await row in rows { return try Self.memoryRecord(row) }
            return nil
        }
    }

    /// Deletes a memory (its chunks go with it); false when there was none.
    @discardableResult
    public func deleteMemory(id: Int64) async throws(RegistryError) -> Bool {
        return try await guarded("deleting memory \(id)") { [self] in
            var deleted = false
            for try await _ in try await client.query("DELETE FROM memories WHERE id = \(id) RETURNING id", logger: logger) { deleted = true }
            return deleted
        }
    }

    /// The best `search.limit` visible memories for the words, best first.
    public func searchMemories(_ search: MemorySearch) async throws(RegistryError) -> [MemoryHit] {
        let words = MemoryQuery.words(in: search.text).map { $0.lowercased() }
        guard !words.isEmpty, search.limit > 0 else { return [] }
        let any = words.map { "'\($0)'" }.joined(separator: " | ")
        let phrase = words.count > 1 ? words.map { "'\($0)'" }.joined(separator: " <-> ") : any
        let v = search.visibility
        let types = search.types.map(\.rawValue)
        let scope = search.scope?.rawValue
        var filter: String?
        if !search.metadata.isEmpty { filter = JSONValue.object(search.metadata).jsonText }
        let query: PostgresQuery = """
            WITH q AS (SELECT to_tsquery('english', \(any)) AS anyq, to_tsquery('english', \(phrase)) AS phraseq),
            best AS (
              SELECT c.memory_id, max(ts_rank(c.search, q.anyq, 1) * CASE WHEN c.search @@ q.phraseq THEN 2 ELSE 1 END) AS rank
              FROM memory_chunks c, q WHERE c.search @@ q.anyq GROUP BY c.memory_id)
            SELECT m.id, m.type, m.scope, m.owner, m.text, m.metadata::text, m.importance, m.created_at, m.agent, m.role, best.rank::float8,
                   ts_headline('english', m.text, q.anyq, 'MaxWords=24, MinWords=8, ShortWord=2, StartSel=**, StopSel=**')
            FROM best JOIN memories m ON m.id = best.memory_id, q
            WHERE ((m.scope = 'agent' AND m.owner = \(v.agent)) OR (m.scope = 'role' AND m.owner = \(v.role))
                   OR (m.scope = 'group' AND m.owner = \(v.group)) OR m.scope = 'global')
              AND (cardinality(\(types)::text[]) = 0 OR m.type = ANY(\(types)::text[]))
              AND (\(scope)::text IS NULL OR m.scope = \(scope))
              AND (\(filter)::jsonb IS NULL OR m.metadata @> \(filter)::jsonb)
            """
        return try await guarded("searching memories") { [self] in
            var found: [(MemoryRecord, Double, String)] = []
            for try await row in try await client.query(query, logger: logger) {
                let c = try row.decode((Int64, String, String, String, String, String?, Double, Double, String, String?, Double, String).self)
                let memory = MemoryRecord(id: c.0, type: MemoryType(rawValue: c.1) ?? .episodic, scope: MemoryScope(rawValue: c.2) ?? .agent,
                                          owner: c.3, text: c.4, metadata: c.5, importance: c.6, createdAt: c.7, agent: c.8, role: c.9)
                found.append((memory, c.10, c.11))
            }
            let best = found.map(\.1).max() ?? 0
            guard best > 0 else { return [] }
            var hits: [MemoryHit] = []
            for (memory, rank, snippet) in found {
                let relevance: Double = rank / best
                let age: Double = max(0, search.now - memory.createdAt) / max(search.recencyHalfLife, 1)
                let recency: Double = pow(0.5, age)
                let score: Double = search.relevanceWeight * relevance + search.importanceWeight * memory.importance + search.recencyWeight * recency
                hits.append(MemoryHit(memory: memory, snippet: Self.snippet(snippet, of: memory.text), score: score, relevance: relevance))
            }
            hits.sort { (a: MemoryHit, b: MemoryHit) -> Bool in a.score != b.score ? a.score > b.score : a.memory.id < b.memory.id }
            return Array(hits.prefix(search.limit))
        }
    }

    static func memoryRecord(_ row: PostgresRow) throws -> MemoryRecord {
        let c = try row.decode((Int64, String, String, String, String, String?, Double, Double, String, String?).self)
        return MemoryRecord(id: c.0, type: MemoryType(rawValue: c.1) ?? .episodic, scope: MemoryScope(rawValue: c.2) ?? .agent, owner: c.3,
                            text: c.4, metadata: c.5, importance: c.6, createdAt: c.7, agent: c.8, role: c.9)
    }

    /// A headline in the SQLite registry's form: matched words in `**`, neighbours joined into one
    /// mark (`**zanzibar protocol**`), and `…` where it cuts the text.
    static func snippet(_ headline: String, of text: String) -> String {
        var marked = headline.replacingOccurrences(of: "** **", with: " ")
        let plain = headline.replacingOccurrences(of: "**", with: "")
        if !text.hasPrefix(plain) { marked = "…" + marked }
        if !text.hasSuffix(plain) { marked += "…" }
        return marked
    }
}
