import Foundation
import GRDB

extension RegistryDatabase {
    /// Skills matching a query, best first when searching, by name when listing.
    public func skills(_ query: SkillQuery) throws(RegistryError) -> [SkillHit] {
        var conditions = ["src.status != 'removed'"]
        var arguments = StatementArguments()
        if !query.includeDeleted { conditions.append("s.deleted_at IS NULL") }
        if !query.includeShadowed { conditions.append("s.shadowed_by IS NULL") }
        if !query.includeUnloadable { conditions.append("s.loadable") }
        if let source = query.source {
            conditions.append("s.source = ?")
            _ = arguments.append(contentsOf: [source])
        }
        let page = " LIMIT \(max(0, min(query.limit, 10_000))) OFFSET \(max(0, query.offset))"
        let sql: String
        var all = StatementArguments()
        if let text = query.text {
            guard let expression = SkillQuery.ftsExpression(text) else { return [] }
            let w = SkillQuery.bm25Weights
            sql = """
                SELECT \(query.columns), bm25(skills_fts, \(w.name), \(w.description), \(w.body)) AS rank
                FROM skills_fts JOIN skills s ON s.id = skills_fts.rowid JOIN sources src ON src.name = s.source
                WHERE skills_fts MATCH ? AND \(conditions.joined(separator: " AND "))
                ORDER BY rank, s.name
                """ + page
            all = [expression]
            _ = all.append(contentsOf: arguments)
        } else {
            sql = """
                SELECT \(query.columns), 0.0 AS rank FROM skills s JOIN sources src ON src.name = s.source
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY s.name, src.position, s.path
                """ + page
            all = arguments
        }
        return try read("querying skills") { db in
            try Row.fetchAll(db, sql: sql, arguments: all).map { row in
                SkillHit(skill: try SkillRecord(row: row), rank: row["rank"])
            }
        }
    }

    /// The skill that serves `name` (the winner across sources), or, with `source`, that source's skill.
    public func skill(named name: String, source: String? = nil) throws(RegistryError) -> SkillRecord? {
        try read("looking up skill \(name)") { db in
            if let source {
                return try SkillRecord.fetchOne(db, sql: """
                    SELECT * FROM skills WHERE name = ? AND source = ? AND deleted_at IS NULL ORDER BY path LIMIT 1
                    """, arguments: [name, source])
            }
            return try SkillRecord.fetchOne(db, sql: """
                SELECT s.* FROM skills s JOIN sources src ON src.name = s.source
                WHERE s.name = ? AND s.deleted_at IS NULL AND s.shadowed_by IS NULL AND s.loadable AND src.status != 'removed'
                LIMIT 1
                """, arguments: [name])
        }
    }

    /// Every live copy named `name` (served, shadowed or not loadable), served first, then in source
    /// order: what an operator inspecting a name (`skills show`) may want to see.
    public func liveSkills(named name: String) throws(RegistryError) -> [SkillRecord] {
        try read("looking up the copies of skill \(name)") { db in
            try SkillRecord.fetchAll(db, sql: """
                SELECT s.* FROM skills s JOIN sources src ON src.name = s.source
                WHERE s.name = ? AND s.deleted_at IS NULL AND src.status != 'removed'
                ORDER BY (s.shadowed_by IS NULL AND s.loadable) DESC, src.position, s.path
                """, arguments: [name])
        }
    }

    /// Every live skill row of a source (loadable or not), by path.
    public func skills(inSource source: String) throws(RegistryError) -> [SkillRecord] {
        try read("listing the skills of \(source)") { db in
            try SkillRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM skills WHERE source = ? AND deleted_at IS NULL ORDER BY path"), arguments: [source])
        }
    }

    /// The digest of every live skill of a source, by path: what discovery need not parse again.
    public func knownDigests(of source: String) throws(RegistryError) -> [String: String] {
        try read("reading digests of \(source)") { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT path, digest FROM skills WHERE source = ? AND deleted_at IS NULL"), arguments: [source]) {
                result[row["path"]] = row["digest"]
            }
            return result
        }
    }

    /// The files of a skill, by path.
    public func files(ofSkill id: Int64) throws(RegistryError) -> [SkillFileRecord] {
        try read("listing skill files") { db in
            try SkillFileRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM skill_files WHERE skill_id = ? ORDER BY path"), arguments: [id])
        }
    }

    /// One file of a skill with its content and bytes.
    public func file(ofSkill id: Int64, path: String) throws(RegistryError) -> SkillFileRecord? {
        try read("reading a skill file") { db in
            try SkillFileRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM skill_files WHERE skill_id = ? AND path = ?"), arguments: [id, path])
        }
    }

    /// A skill row by id, tombstoned or not.
    public func skill(id: Int64) throws(RegistryError) -> SkillRecord? {
        try read("looking up skill \(id)") { db in try SkillRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM skills WHERE id = ?"), arguments: [id]) }
    }

    /// All sources, in manifest order (removed ones last).
    public func sources() throws(RegistryError) -> [SourceRecord] {
        try read("listing sources") { db in
            try SourceRecord.fetchAll(db, sql: "\(Self.sourceStatusSelect) ORDER BY s.status = 'removed', s.position, s.name")
        }
    }

    public func source(named name: String) throws(RegistryError) -> SourceRecord? {
        try read("looking up source \(name)") { db in
            try SourceRecord.fetchOne(db, sql: "\(Self.sourceStatusSelect) WHERE s.name = ?", arguments: [name])
        }
    }

    /// A source row with its skill counts and the scheduler's lease columns.
    public static let sourceStatusSelect = """
        SELECT s.*,
          (SELECT count(*) FROM skills k WHERE k.source = s.name AND k.deleted_at IS NULL AND k.loadable) AS loadable_count,
          (SELECT count(*) FROM skills k WHERE k.source = s.name AND k.deleted_at IS NULL AND k.strict) AS strict_count,
          (SELECT count(*) FROM skills k WHERE k.source = s.name AND k.deleted_at IS NULL AND k.shadowed_by IS NOT NULL) AS shadowed_count,
          (SELECT count(*) FROM skills k WHERE k.source = s.name AND k.deleted_at IS NOT NULL) AS tombstoned_count,
          l.owner AS lease_owner, l.expires_at AS lease_expires_at, l.last_checked_at, l.next_attempt_at
        FROM sources s LEFT JOIN sync_leases l ON l.source = s.name
        """

    /// The most recent sync runs of a source, newest first.
    public func syncRuns(of source: String, limit: Int = 20) throws(RegistryError) -> [SyncRunRecord] {
        try read("listing sync runs of \(source)") { db in
            try SyncRunRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM sync_runs WHERE source = ? ORDER BY id DESC LIMIT ?"), arguments: [source, limit])
        }
    }
}

extension RegistryDatabase {
    /// Every live, loadable skill called `name`: the serving one first, then shadowed ones in
    /// manifest order (a caller that may not see the winner may still see another source's copy).
    public func skills(named name: String) throws(RegistryError) -> [SkillRecord] {
        try read("looking up skills named \(name)") { db in
            try SkillRecord.fetchAll(db, sql: """
                SELECT s.* FROM skills s JOIN sources src ON src.name = s.source
                WHERE s.name = ? AND s.deleted_at IS NULL AND s.loadable AND src.status != 'removed'
                ORDER BY s.shadowed_by IS NOT NULL, src.position, s.path
                """, arguments: [name])
        }
    }
}

extension RegistryDatabase {
    /// Every live, loadable skill, grouped by name: within a name the serving copy first, then
    /// shadowed copies in manifest order (what a front filters by a caller's visibility).
    public func servableSkills() throws(RegistryError) -> [SkillRecord] {
        try read("listing servable skills") { db in
            try SkillRecord.fetchAll(db, sql: """
                SELECT s.* FROM skills s JOIN sources src ON src.name = s.source
                WHERE s.deleted_at IS NULL AND s.loadable AND src.status != 'removed'
                ORDER BY s.name, s.shadowed_by IS NOT NULL, src.position, s.path
                """)
        }
    }

    /// The files of the given skills without their content, by skill id, each list by path.
    public func fileListings(ofSkills ids: [Int64]) throws(RegistryError) -> [Int64: [SkillFileRecord]] {
        guard !ids.isEmpty else { return [:] }
        return try read("listing skill files") { db in
            var result: [Int64: [SkillFileRecord]] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try SkillFileRecord.fetchAll(db, sql: """
                    SELECT skill_id, path, kind, size, is_binary, NULL AS content, link_target, note, digest
                    FROM skill_files WHERE skill_id IN (\(marks)) ORDER BY skill_id, path
                    """, arguments: StatementArguments(Array(chunk)))
                for row in rows { result[row.skillId, default: []].append(row) }
            }
            return result
        }
    }
}
