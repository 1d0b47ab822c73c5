import Base
import Foundation
import GRDB

/// Memories: one row per memory, its text in chunks indexed by FTS5, ranked by bm25 (with a bonus
/// for the exact phrase), importance and recency.
extension RegistryDatabase {
    /// Stores a memory and its chunks in one transaction; returns its id.
    @discardableResult
    public func insertMemory(_ memory: MemoryRecord, chunker: MemoryChunker = MemoryChunker()) throws(RegistryError) -> Int64 {
        try insertMemories([memory], chunker: chunker)[0]
    }

    /// Stores many memories in one transaction (imports, benchmarks).
    public func insertMemories(_ memories: [MemoryRecord], chunker: MemoryChunker = MemoryChunker()) throws(RegistryError) -> [Int64] {
        try write("storing \(memories.count) memories") { db in
            let insertMemory = try db.cachedStatement(sql: """
                INSERT INTO memories (type, scope, owner, text, metadata, importance, created_at, agent, role)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertChunk = try db.cachedStatement(sql: "INSERT INTO memory_chunks (memory_id, seq, text) VALUES (?, ?, ?)")
            var ids: [Int64] = []
            for m in memories {
                try insertMemory.execute(arguments: [m.type.rawValue, m.scope.rawValue, m.owner, m.text, m.metadata,
                                                     m.importance, m.createdAt, m.agent, m.role])
                let id = db.lastInsertedRowID
                for (seq, chunk) in chunker.chunks(of: m.text).enumerated() {
                    try insertChunk.execute(arguments: [id, seq, chunk])
                }
                ids.append(id)
            }
            return ids
        }
    }

    public func memory(id: Int64) throws(RegistryError) -> MemoryRecord? {
        try read("reading memory \(id)") { db in
            try MemoryRecord.fetchOne(db, sql: "SELECT \(MemoryRecord.columns) FROM memories m WHERE m.id = ?", arguments: [id])
        }
    }

    /// Deletes a memory and its chunks; returns whether it existed.
    @discardableResult
    public func deleteMemory(id: Int64) throws(RegistryError) -> Bool {
        try write("deleting memory \(id)") { db in
            try db.execute(sql: "DELETE FROM memory_chunks WHERE memory_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM memories WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func memoryCount() throws(RegistryError) -> Int {
        try read("counting memories") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM memories") ?? 0 }
    }

    /// The best memories for `search`, best first. Empty when the text has no words.
    ///
    /// Two stages: FTS5 picks the best chunks by bm25 (`candidates`, at least 50 × the limit), then
    /// scopes, filters, the phrase bonus and the combined score apply to those. If the candidates
    /// leave fewer visible memories than asked for, the search runs again over every match.
    public func searchMemories(_ search: MemorySearch) throws(RegistryError) -> [MemoryHit] {
        let candidates = max(500, search.limit * 50)
        let hits = try searchMemories(search, candidates: candidates)
        if hits.count < search.limit, hits.count < candidates {
            let all = try searchMemories(search, candidates: nil)
            if all.count > hits.count { return all }
        }
        return hits
    }

    func searchMemories(_ search: MemorySearch, candidates: Int?) throws(RegistryError) -> [MemoryHit] {
        let words = MemoryQuery.words(in: search.text)
        guard !words.isEmpty else { return [] }
        let match = MemoryQuery.anyWord(words)
        let phrase = words.count > 1 ? MemoryQuery.phrase(words) : nil
        var filters = ""
        var filterArguments: [DatabaseValueConvertible?] = []
        let (visible, visibleArguments) = search.visibility.sql
        filters += " AND \(visible)"
        filterArguments += visibleArguments
        if !search.types.isEmpty {
            filters += " AND m.type IN (\(search.types.map { _ in "?" }.joined(separator: ", ")))"
            filterArguments += search.types.map(\.rawValue)
        }
        if let scope = search.scope {
            filters += " AND m.scope = ?"
            filterArguments.append(scope.rawValue)
        }
        for (key, value) in search.metadata.sorted(by: { $0.key < $1.key }) {
            filters += " AND json_extract(m.metadata, ?) IS ?"
            filterArguments.append("$.\"\(key)\"")
            filterArguments.append(MemoryQuery.sqlValue(value))
        }
        let sql = """
            WITH hits AS MATERIALIZED (
              SELECT rowid AS chunk_id, rank FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank\(candidates.map { " LIMIT \($0)" } ?? "")
            ),
            phrase AS (
              \(phrase == nil ? "SELECT NULL AS chunk_id WHERE 0" : "SELECT rowid AS chunk_id FROM memory_fts WHERE memory_fts MATCH ?")
            ),
            best AS (
              SELECT c.memory_id AS memory_id,
                     MIN(h.rank * (CASE WHEN h.chunk_id IN (SELECT chunk_id FROM phrase) THEN 2.0 ELSE 1.0 END)) AS rank,
                     h.chunk_id AS chunk_id
              FROM hits h JOIN memory_chunks c ON c.id = h.chunk_id JOIN memories m ON m.id = c.memory_id
              WHERE 1 \(filters)
              GROUP BY c.memory_id
            ),
            scored AS (
              SELECT memory_id, chunk_id, coalesce(rank / nullif(MIN(rank) OVER (), 0), 1.0) AS relevance FROM best
            )
            SELECT \(MemoryRecord.columns), s.chunk_id AS chunk_id, s.relevance AS relevance,
                   (? * s.relevance + ? * m.importance + ? * pow(0.5, max(0, ? - m.created_at) / ?)) AS score
            FROM scored s JOIN memories m ON m.id = s.memory_id
            ORDER BY score DESC, m.id DESC
            LIMIT ?
            """
        var arguments: [DatabaseValueConvertible?] = [match]
        if let phrase { arguments.append(phrase) }
        arguments += filterArguments
        arguments += [search.relevanceWeight, search.importanceWeight, search.recencyWeight, search.now,
                      max(search.recencyHalfLife, 1), search.limit]
        let boundArguments = arguments
        return try read("searching memories for '\(search.text.prefix(60))'") { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(boundArguments))
            let snippet = try db.cachedStatement(sql: """
                SELECT snippet(memory_fts, 0, '**', '**', '…', 24) FROM memory_fts WHERE memory_fts MATCH ? AND rowid = ?
                """)
            return try rows.map { row in
                let chunk: Int64 = row["chunk_id"]
                let text = try String.fetchOne(snippet, arguments: [phrase ?? match, chunk])
                    ?? String.fetchOne(snippet, arguments: [match, chunk]) ?? ""
                return MemoryHit(memory: try MemoryRecord(row: row), snippet: text, score: row["score"], relevance: row["relevance"])
            }
        }
    }
}

/// Turns user text into FTS5 expressions that cannot be a syntax error: each word quoted.
public enum MemoryQuery {
    public static func words(in text: String) -> [String] {
        text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).prefix(32).map { String($0) }
    }

    /// Any of the words (bm25 ranks chunks with more of them, and rarer ones, higher).
    public static func anyWord(_ words: [String]) -> String {
        words.map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    /// The words as one phrase.
    public static func phrase(_ words: [String]) -> String { "\"\(words.joined(separator: " "))\"" }

    static func sqlValue(_ value: JSONValue) -> DatabaseValueConvertible? {
        switch value {
        case .null: return nil
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array, .object: return value.jsonText
        }
    }
}
