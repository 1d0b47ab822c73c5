import Base
import Foundation
import GRDB

/// The body of one publish transaction (see `RegistryDatabase.publish`).
struct SkillPublisher {
    let db: Database
    let source: String
    let options: PublishOptions

    private struct Existing {
        var id: Int64
        var digest: String
        var live: Bool
    }

    mutating func publish(_ snapshot: SkillSnapshot) throws -> PublishReport {
        let now = options.now
        var report = PublishReport(source: source, revision: snapshot.revision, outcome: .published)
        var existing: [String: Existing] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT id, path, digest, deleted_at FROM skills WHERE source = ?"), arguments: [source]) {
            existing[row["path"]] = Existing(id: row["id"], digest: row["digest"], live: row["deleted_at"] as Date? == nil)
        }
        let incoming = Set(snapshot.skills.map(\.path))
        let vanished = existing.filter { $0.value.live && !incoming.contains($0.key) }
        let liveCount = existing.values.filter(\.live).count

        if let reason = options.holdReason(vanished: vanished.count, live: liveCount, revision: snapshot.revision) {
            try db.execute(sql: "UPDATE sources SET status = 'suspect', status_reason = ?, last_attempt_at = ? WHERE name = ?",
                           arguments: [reason, now, source])
            report.outcome = .held
            report.removed = vanished.count
            report.warnings.append("source '\(source)': \(reason)")
            try recordRun(report, message: reason)
            return report
        }

        let changesBefore = db.totalChangesCount
        for skill in snapshot.skills {
            if let old = existing[skill.path], old.live, old.digest == skill.digest {
                report.unchanged += 1
                continue
            }
            if skill.reused {
                throw RegistryError(.database, "source '\(source)': \(skill.path) changed in the registry during the sync; sync again")
            }
            if let old = existing[skill.path] {
                try update(old.id, with: skill, revision: snapshot.revision, now: now)
                report.updated += 1
            } else {
                try insert(skill, revision: snapshot.revision, now: now)
                report.added += 1
            }
        }
        for (_, old) in vanished {
            try db.execute(sql: "UPDATE skills SET deleted_at = ?, shadowed_by = NULL WHERE id = ?", arguments: [now, old.id])
            try db.execute(sql: "DELETE FROM skills_fts WHERE rowid = ?", arguments: [old.id])
            try db.execute(sql: "DELETE FROM skill_files WHERE skill_id = ?", arguments: [old.id])
        }
        report.removed = vanished.count
        let changed = report.added + report.updated + report.removed > 0
        if changed {
            try SkillPublisher.recomputeShadowing(db)
        }
        report.rowsWritten = db.totalChangesCount - changesBefore
        if !changed {
            report.outcome = .unchanged
        }
        report.warnings += try shadowingWarnings(snapshot)
        let live = snapshot.skills.count
        try db.execute(sql: """
            UPDATE sources SET status = 'ready', status_reason = NULL, failure_kind = NULL, revision = ?, "commit" = ?,
              config_digest = ?, last_attempt_at = ?, last_success_at = ?, consecutive_failures = 0, skill_count = ? WHERE name = ?
            """, arguments: [snapshot.revision, options.commit, options.configDigest, now, now, live, source])
        try recordRun(report, message: snapshot.warnings.isEmpty ? nil : snapshot.warnings.joined(separator: "\n"))
        return report
    }

    private mutating func insert(_ skill: DiscoveredSkill, revision: String, now: Date) throws {
        let p = skill.parsed
        try db.execute(sql: """
            INSERT INTO skills (source, path, file_name, revision, digest, name, description, license, compatibility,
              allowed_tools, metadata, extra_fields, body, loadable, strict, load_errors, strict_errors, warnings,
              frontmatter, first_seen_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [source, skill.path, skill.fileName, revision, skill.digest] + fieldArguments(p) + [now, now])
        try writeContent(db.lastInsertedRowID, skill, replacing: false)
    }

    private mutating func update(_ id: Int64, with skill: DiscoveredSkill, revision: String, now: Date) throws {
        let p = skill.parsed
        try db.execute(sql: """
            UPDATE skills SET file_name = ?, revision = ?, digest = ?, name = ?, description = ?, license = ?,
              compatibility = ?, allowed_tools = ?, metadata = ?, extra_fields = ?, body = ?, loadable = ?, strict = ?,
              load_errors = ?, strict_errors = ?, warnings = ?, frontmatter = ?, updated_at = ?, deleted_at = NULL
            WHERE id = ?
            """, arguments: [skill.fileName, revision, skill.digest] + fieldArguments(p) + [now, id])
        try writeContent(id, skill, replacing: true)
    }

    private func fieldArguments(_ p: ParsedSkill) -> StatementArguments {
        [p.name, p.description, p.license, p.compatibility, p.allowedTools, p.metadata?.jsonText,
         p.extraFields.isEmpty ? nil : JSONValue.object(p.extraFields).jsonText, p.body,
         p.loadable, p.strict, jsonText(p.loadErrors), jsonText(p.strictErrors), jsonText(p.warnings), p.frontmatter?.jsonText]
    }

    /// Files and the search index row of one skill.
    private func writeContent(_ id: Int64, _ skill: DiscoveredSkill, replacing: Bool) throws {
        if replacing {
            try db.execute(sql: "DELETE FROM skill_files WHERE skill_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM skills_fts WHERE rowid = ?", arguments: [id])
        }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO skill_files (skill_id, path, kind, size, is_binary, content, link_target, note, digest, data)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for file in skill.files {
            try statement.execute(arguments: [id, file.path, file.kind, file.size, file.isBinary, file.text, file.linkTarget, file.note,
                                              file.digest, file.data])
        }
        if skill.parsed.loadable {
            try db.execute(sql: "INSERT INTO skills_fts (rowid, name, description, body) VALUES (?, ?, ?, ?)",
                           arguments: [id, skill.parsed.name, skill.parsed.description, skill.parsed.body])
        }
    }

    private func recordRun(_ report: PublishReport, message: String?) throws {
        try db.execute(sql: """
            INSERT INTO sync_runs (source, started_at, finished_at, outcome, revision, added, updated, removed, unchanged, rows_written, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [source, options.now, Date(), report.outcome.rawValue, report.revision, report.added,
                             report.updated, report.removed, report.unchanged, report.rowsWritten, message])
    }

    /// Warnings for this source's skills that lose their name to an earlier source or path.
    private func shadowingWarnings(_ snapshot: SkillSnapshot) throws -> [String] {
        try Row.fetchAll(db, sql: """
            SELECT s.name, s.path, w.source AS wsource, w.path AS wpath FROM skills s JOIN skills w ON w.id = s.shadowed_by
            WHERE s.source = ? AND s.deleted_at IS NULL ORDER BY s.path
            """, arguments: [source]).map { row in
            let winner: String = row["wsource"]
            let winnerPath: String = row["wpath"]
            let path: String = row["path"]
            return PublishReport.shadowed(row["name"], source: source, path: path, by: winner, at: winnerPath)
        }
    }

    /// Recomputes which skill wins each name: the first source in manifest order, then the first path.
    /// Only rows whose value changes are written; returns how many.
    @discardableResult
    static func recomputeShadowing(_ db: Database) throws -> Int {
        try db.execute(sql: """
            WITH ranked AS (
              SELECT s.id, FIRST_VALUE(s.id) OVER (PARTITION BY s.name ORDER BY src.position, s.path) AS winner
              FROM skills s JOIN sources src ON src.name = s.source
              WHERE s.deleted_at IS NULL AND s.loadable AND src.status != 'removed'
            )
            UPDATE skills SET shadowed_by = NULLIF(ranked.winner, skills.id) FROM ranked
            WHERE ranked.id = skills.id AND skills.shadowed_by IS NOT NULLIF(ranked.winner, skills.id)
            """)
        var count = db.changesCount
        try db.execute(sql: """
            UPDATE skills SET shadowed_by = NULL WHERE shadowed_by IS NOT NULL
              AND (deleted_at IS NOT NULL OR NOT loadable OR source IN (SELECT name FROM sources WHERE status = 'removed'))
            """)
        count += db.changesCount
        return count
    }
}
