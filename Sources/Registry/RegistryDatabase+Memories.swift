import Base
import Foundation
import GRDB

/// Memories: one row per memory, its text in chunks indexed by FTS5, ranked by bm25 (with a bonus
/// for the exact phrase), importance and recency (see `MemoryRanking`).
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
        try readOneStatement("reading memory \(id)") { db in
            // A cached statement: preparing it (parse, authorizer) cost more than running it.
            try MemoryRecord.fetchOne(db.cachedStatement(sql: "SELECT \(MemoryRecord.columns) FROM memories m WHERE m.id = ?"), arguments: [id])
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
        try read("counting memories") { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM memories")) ?? 0 }
    }

    /// The best memories for `search`, best first. Empty when the text has no words.
    ///
    /// FTS5 yields the matching chunks best-first by bm25; they are looked up in batches (their
    /// memories, whether the caller sees them, the filters) until no chunk left could change the
    /// answer (see `MemoryRanking`), so the answer is exact over every match while a typical search
    /// reads 100-200 chunks. Snippets are cut from the exact phrase when the best chunk holds it.
    public func searchMemories(_ search: MemorySearch) throws(RegistryError) -> [MemoryHit] {
        let words = MemoryQuery.words(in: search.text)
        guard !words.isEmpty, search.limit > 0 else { return [] }
        let match = MemoryQuery.anyWord(words)
        let phrase = words.count > 1 ? MemoryQuery.phrase(words) : nil
        let (filters, filterArguments) = Self.memoryFilters(search)
        return try read("searching memories for '\(search.text.prefix(60))'") { db in
            let phraseChunks = try phrase.map { phrase in
                Set(try Int64.fetchAll(db.cachedStatement(sql: "SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?"), arguments: [phrase]))
            } ?? []
            // Chunks are looked up `batch` at a time (one statement for 32 rather than 32 statements).
            let batch = 32
            let lookup = try db.cachedStatement(sql: """
                SELECT c.id, m.id, m.importance, m.created_at FROM memory_chunks c JOIN memories m ON m.id = c.memory_id
                WHERE c.id IN (\(Array(repeating: "?", count: batch).joined(separator: ", "))) AND \(filters)
                """)
            let chunks = try Row.fetchCursor(db.cachedStatement(sql: "SELECT rowid, rank FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank"),
                                             arguments: [match])
            let filterValues = StatementArguments(filterArguments)
            var ranking = MemoryRanking(search, phraseChunks: phraseChunks.count)
            var pending: [(chunk: Int64, rank: Double)] = []
            var exhausted = false
            while !exhausted {
                pending.removeAll(keepingCapacity: true)
                while pending.count < batch, let row = try chunks.next() { pending.append((row[0], row[1])) }
                exhausted = pending.count < batch
                if pending.isEmpty { break }
                var ids = pending.map { DatabaseValue(value: $0.chunk) }
                ids += Array(repeating: DatabaseValue(value: Int64(-1)), count: batch - ids.count)
                var visible: [Int64: (memory: Int64, importance: Double, createdAt: Double)] = [:]
                for row in try Row.fetchAll(lookup, arguments: StatementArguments(ids) + filterValues) {
                    visible[row[0]] = (row[1], row[2], row[3])
                }
                for (chunk, rank) in pending {
                    let isPhrase = phraseChunks.contains(chunk)
                    if let m = visible[chunk] {
                        ranking.add(.init(memory: m.memory, chunk: chunk, rank: isPhrase ? 2 * rank : rank, importance: m.importance, createdAt: m.createdAt))
                    }
                    ranking.read(rank: rank, isPhrase: isPhrase)
                }
                if ranking.settled() { break }
            }
            let top = ranking.answer()
            guard !top.isEmpty else { return [] }
            let records = try MemoryRecord.fetchAll(db, sql: "SELECT \(MemoryRecord.columns) FROM memories m WHERE m.id IN (\(top.map { _ in "?" }.joined(separator: ", ")))",
                                                    arguments: StatementArguments(top.map(\.entry.memory)))
            let byId = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            // One snippet query per expression (the phrase, the words) for all the chunks it cuts from:
            // FTS5 reads the terms' postings once, within the chunks' rowid range, rather than once a chunk.
            var snippets: [Int64: String] = [:]
            let cut = top.map(\.entry.chunk)
            for (expression, group) in [(phrase, cut.filter { phraseChunks.contains($0) }), (match, cut.filter { !phraseChunks.contains($0) })] {
                guard let expression, let low = group.min(), let high = group.max() else { continue }
                let rows = try Row.fetchAll(db, sql: """
                    SELECT rowid, snippet(memory_fts, 0, '**', '**', '…', 24) FROM memory_fts
                    WHERE memory_fts MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN (\(group.map { _ in "?" }.joined(separator: ", ")))
                    """, arguments: StatementArguments([expression, low, high] as [DatabaseValueConvertible] + group.map { $0 as DatabaseValueConvertible }))
                for row in rows { snippets[row[0]] = row[1] }
            }
            return top.compactMap { scored in
                guard let memory = byId[scored.entry.memory] else { return nil }
                return MemoryHit(memory: memory, snippet: snippets[scored.entry.chunk] ?? "", score: scored.score, relevance: scored.relevance)
            }
        }
    }

    /// The caller's visibility and the search's filters, as an SQL condition on `m` with its arguments.
    static func memoryFilters(_ search: MemorySearch) -> (String, [DatabaseValueConvertible?]) {
        var (filters, arguments) = search.visibility.sql
        if !search.types.isEmpty {
            filters += " AND m.type IN (\(search.types.map { _ in "?" }.joined(separator: ", ")))"
            arguments += search.types.map(\.rawValue)
        }
        if let scope = search.scope {
            filters += " AND m.scope = ?"
            arguments.append(scope.rawValue)
        }
        for (key, value) in search.metadata.sorted(by: { $0.key < $1.key }) {
            filters += " AND json_extract(m.metadata, ?) IS ?"
            arguments.append("$.\"\(key)\"")
            arguments.append(MemoryQuery.sqlValue(value))
        }
        return (filters, arguments)
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
