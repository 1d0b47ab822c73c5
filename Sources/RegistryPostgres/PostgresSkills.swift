import Foundation
import Logging
import PostgresNIO
import Registry

/// Skills in PostgreSQL: copied in from a SQLite registry (how a team moves to several hosts
/// without syncing everything again), and searched with PostgreSQL's full-text search.
///
/// Ranking. SQLite ranks with FTS5's bm25 over three columns weighted 10 : 4 : 1 (name,
/// description, body). Here each skill has one `tsvector` whose lexemes are weighted A (name),
/// B (description) and C (body), and `ts_rank` with weights 1.0, 0.4 and 0.1 (the same ratios)
/// orders the matches, divided by 1 + log(length) (normalisation 1) as bm25 also favours the
/// shorter of two skills that match alike. `ts_rank` has no inverse document frequency (a word
/// found in every skill counts as much as a rare one) and weighs repeats differently, so among
/// skills that all match, the order can differ from SQLite's: on the parity test's corpus the best
/// hit agrees for 15 of 18 queries (the three others are the `chart` family, where SQLite puts the
/// skill that repeats the word in a short body first and PostgreSQL the one named for it). Which
/// skills match is the same: every word required, the last also as a prefix, stemmed with the
/// English stemmer on both sides (SQLite's porter).
extension PostgresRegistry {
    /// Copies every source, skill and skill file of `sqlite` into this database, replacing what it
    /// holds of them, in one transaction (ids kept, so shadowing links stay). Returns how many skills.
    @discardableResult
    public func copySkills(from sqlite: RegistryDatabase) async throws(RegistryError) -> Int {
        let sources = try sqlite.sources()
        var query = SkillQuery(limit: 10_000)
        query.includeShadowed = true
        query.includeUnloadable = true
        query.includeDeleted = true
        var skills: [SkillRecord] = []
        while true {
            let page = try sqlite.skills(query).map(\.skill)
            skills += page
            if page.count < query.limit { break }
            query.offset += page.count
        }
        var files: [Int64: [SkillFileRecord]] = [:]
        for skill in skills { files[skill.id] = try sqlite.files(ofSkill: skill.id) }
        let logger = self.logger
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("DELETE FROM skills", logger: logger)
                try await connection.query("DELETE FROM sources", logger: logger)
                for s in sources {
                    try await connection.query("""
                        INSERT INTO sources (name, kind, location, position, status, status_reason, revision, "commit", config_digest, failure_kind,
                                             last_attempt_at, last_success_at, consecutive_failures, skill_count)
                        VALUES (\(s.name), \(s.kind.rawValue), \(s.location), \(s.position), \(s.status.rawValue), \(s.statusReason), \(s.revision),
                                \(s.commit), \(s.configDigest), \(s.failureKind), \(s.lastAttemptAt), \(s.lastSuccessAt), \(s.consecutiveFailures),
                                \(s.skillCount))
                        """, logger: logger)
                }
                for k in skills {
                    try await connection.query("""
                        INSERT INTO skills (id, source, path, file_name, revision, digest, name, description, license, compatibility, allowed_tools,
                                            metadata, extra_fields, body, loadable, strict, load_errors, strict_errors, warnings,
                                            frontmatter, first_seen_at, updated_at, deleted_at)
                        VALUES (\(k.id), \(k.source), \(k.path), \(k.fileName), \(k.revision), \(k.digest), \(k.name), \(k.description), \(k.license),
                                \(k.compatibility), \(k.allowedTools), \(k.metadata)::jsonb, \(k.extraFields)::jsonb, \(k.body), \(k.loadable), \(k.strict),
                                \(k.loadErrors)::jsonb, \(k.strictErrors)::jsonb, \(k.warnings)::jsonb, \(k.frontmatter)::jsonb, \(k.firstSeenAt), \(k.updatedAt), \(k.deletedAt))
                        """, logger: logger)
                    for f in files[k.id] ?? [] {
                        try await connection.query("""
                            INSERT INTO skill_files (skill_id, path, kind, size, is_binary, content, link_target, note, digest, data)
                            VALUES (\(k.id), \(f.path), \(f.kind.rawValue), \(f.size), \(f.isBinary), \(f.content), \(f.linkTarget), \(f.note),
                                    \(f.digest), \(f.data.map { ByteBuffer(bytes: $0) }))
                            """, logger: logger)
                    }
                }
                for k in skills where k.shadowedBy != nil {
                    try await connection.query("UPDATE skills SET shadowed_by = \(k.shadowedBy) WHERE id = \(k.id)", logger: logger)
                }
                try await connection.query("SELECT setval('skills_id_seq', greatest((SELECT max(id) FROM skills), 1))", logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'skills'", logger: logger)
            }
        } catch {
            throw RegistryError(.database, "\(location): copying \(skills.count) skills failed: \(Self.describe(error))")
        }
        return skills.count
    }

    /// The full-text query for `SkillQuery.text`: every word required, the last also as a prefix;
    /// nil when the text has no words. Words are letters and digits only, so nothing in them is
    /// tsquery syntax.
    static func tsquery(_ text: String) -> String? {
        let words = text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.lowercased() }
        guard let last = words.last else { return nil }
        return (words.dropLast().map { "'\($0)'" } + ["('\(last)' | '\(last)':*)"]).joined(separator: " & ")
    }

    /// Skills matching a query: best first when searching (rank is the negated `ts_rank`, so lower
    /// is better as with bm25), by name when listing; the same filters as the SQLite registry.
    public func skills(_ query: SkillQuery) async throws(RegistryError) -> [SkillHit] {
        let limit = max(0, min(query.limit, 10_000)), offset = max(0, query.offset)
        var filters = "src.status <> 'removed'"
        if !query.includeDeleted { filters += " AND s.deleted_at IS NULL" }
        if !query.includeShadowed { filters += " AND s.shadowed_by IS NULL" }
        if !query.includeUnloadable { filters += " AND s.loadable" }
        var columns = PostgresRecords.selectList("skills", alias: "s")
        if query.withoutBody { columns = columns.replacingOccurrences(of: "s.\"body\"", with: "'' AS body") }
        let sql: PostgresQuery
        let source = query.source ?? ""
        let anySource = query.source == nil
        if let text = query.text {
            guard let expression = Self.tsquery(text) else { return [] }
            sql = """
                SELECT \(unescaped: columns), -ts_rank('{0.0, 0.1, 0.4, 1.0}', s.search, q, 1)::float8 AS rank
                FROM skills s JOIN sources src ON src.name = s.source, to_tsquery('english', \(expression)) q
                WHERE s.search @@ q AND (\(anySource) OR s.source = \(source)) AND \(unescaped: filters)
                ORDER BY rank, s.name LIMIT \(limit) OFFSET \(offset)
                """
        } else {
            sql = """
                SELECT \(unescaped: columns), 0.0::float8 AS rank FROM skills s JOIN sources src ON src.name = s.source
                WHERE (\(anySource) OR s.source = \(source)) AND \(unescaped: filters)
                ORDER BY s.name, src.position, s.path LIMIT \(limit) OFFSET \(offset)
                """
        }
        return try await guarded("searching skills") { [self] in
            var hits: [SkillHit] = []
            for try await row in try await client.query(sql, logger: logger) {
                let values = try PostgresRecords.row(row)
                hits.append(SkillHit(skill: try SkillRecord(row: values), rank: values["rank"]))
            }
            return hits
        }
    }
}
