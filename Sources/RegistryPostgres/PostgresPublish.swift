import Base
import Foundation
import Logging
import PostgresNIO
import Registry

/// Publishing skills into PostgreSQL, with the SQLite publisher's rules (`SkillPublisher`): one
/// transaction per publish, so every host reads the old revision or the new one and never a mix;
/// changed skills (by digest) rewritten, unchanged rows untouched, vanished skills tombstoned, a
/// mass disappearance held (`PublishOptions`), shadowing recomputed across sources, a sync run
/// recorded, and the `skills` mark moved at commit (every host's catalog and MCP clients hear it).
/// The source's row is locked for the transaction, so two hosts publishing one source take turns.
extension PostgresRegistry {
    /// Records the manifest's sources in manifest order; sources no longer declared are `removed`.
    public func declareSources(_ sources: [SourceDescriptor]) async throws(RegistryError) {
        try await guarded("declaring sources") { [self] in
            try await client.withTransaction(logger: logger) { connection in
                for source in sources {
                    try await connection.query("""
                        INSERT INTO sources (name, kind, location, position) VALUES (\(source.name), \(source.kind.rawValue), \(source.location), \(source.position))
                        ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, location = excluded.location, position = excluded.position,
                          status = CASE WHEN sources.status = 'removed' THEN 'new' ELSE sources.status END
                        WHERE sources.kind IS DISTINCT FROM excluded.kind OR sources.location IS DISTINCT FROM excluded.location
                           OR sources.position IS DISTINCT FROM excluded.position OR sources.status = 'removed'
                        """, logger: logger)
                }
                let names = sources.map(\.name)
                try await connection.query("""
                    UPDATE sources SET status = 'removed', status_reason = 'no longer in the manifest' WHERE status <> 'removed' AND NOT (name = ANY(\(names)))
                    """, logger: logger)
                try await Self.recomputeShadowing(connection, logger: logger)
                try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'skills'", logger: logger)
            }
        }
    }

    /// Publishes a source's new snapshot in one transaction (see the type's comment).
    public func publish(_ snapshot: SkillSnapshot, to source: String, options: PublishOptions = PublishOptions()) async throws(RegistryError) -> PublishReport {
        try await guarded("publishing \(source)", within: .seconds(600)) { [self] in
            try await client.withTransaction(logger: logger) { connection -> PublishReport in
                try await Self.publish(snapshot, to: source, options: options, connection, logger: logger)
            }
        }
    }

    static func publish(_ snapshot: SkillSnapshot, to source: String, options: PublishOptions, _ connection: PostgresConnection,
                        logger: Logger) async throws -> PublishReport {
        let now = options.now
        var declared = false
        for try await _ in try await connection.query("SELECT 1 FROM sources WHERE name = \(source) FOR UPDATE", logger: logger) { declared = true }
        guard declared else { throw RegistryError(.sourceNotFound, "source '\(source)' is not declared in the registry") }
        var report = PublishReport(source: source, revision: snapshot.revision, outcome: .published)
        var existing: [String: (id: Int64, digest: String, live: Bool)] = [:]
        for try await (id, path, digest, deleted) in try await connection.query(
            "SELECT id, path, digest, deleted_at FROM skills WHERE source = \(source)", logger: logger).decode((Int64, String, String, Date?).self) {
            existing[path] = (id, digest, deleted == nil)
        }
        let incoming = Set(snapshot.skills.map(\.path))
        let vanished = existing.filter { $0.value.live && !incoming.contains($0.key) }
        let liveCount = existing.values.filter(\.live).count

        if let reason = options.holdReason(vanished: vanished.count, live: liveCount, revision: snapshot.revision) {
            try await connection.query("UPDATE sources SET status = 'suspect', status_reason = \(reason), last_attempt_at = \(now) WHERE name = \(source)",
                                       logger: logger)
            report.outcome = .held
            report.removed = vanished.count
            report.warnings.append("source '\(source)': \(reason)")
            try await recordRun(report, source: source, options: options, message: reason, connection, logger: logger)
            return report
        }

        var rows = 0
        for skill in snapshot.skills {
            if let old = existing[skill.path], old.live, old.digest == skill.digest {
                report.unchanged += 1
                continue
            }
            if skill.reused {
                throw RegistryError(.database, "source '\(source)': \(skill.path) changed in the registry during the sync; sync again")
            }
            let p = skill.parsed
            let metadata = p.metadata.map { PostgresText.storableJSON($0.jsonText).0 }
            let extra = p.extraFields.isEmpty ? nil : PostgresText.storableJSON(JSONValue.object(p.extraFields).jsonText).0
            let frontmatter = p.frontmatter.map { PostgresText.storableJSON($0.jsonText).0 }
            let body = PostgresText.storable(p.body).0, description = PostgresText.storable(p.description).0
            let loadErrors = list(p.loadErrors), strictErrors = list(p.strictErrors), warnings = list(p.warnings)
            let id: Int64
            if let old = existing[skill.path] {
                id = old.id
                try await connection.query("""
                    UPDATE skills SET file_name = \(skill.fileName), revision = \(snapshot.revision), digest = \(skill.digest), name = \(p.name),
                      description = \(description), license = \(p.license), compatibility = \(p.compatibility), allowed_tools = \(p.allowedTools),
                      metadata = \(metadata)::jsonb, extra_fields = \(extra)::jsonb, body = \(body), loadable = \(p.loadable), strict = \(p.strict),
                      load_errors = \(loadErrors)::jsonb, strict_errors = \(strictErrors)::jsonb, warnings = \(warnings)::jsonb,
                      frontmatter = \(frontmatter)::jsonb, updated_at = \(now), deleted_at = NULL
                    WHERE id = \(id)
                    """, logger: logger)
                try await connection.query("DELETE FROM skill_files WHERE skill_id = \(id)", logger: logger)
                report.updated += 1
            } else {
                var inserted: Int64 = 0
                for try await new in try await connection.query("""
                    INSERT INTO skills (source, path, file_name, revision, digest, name, description, license, compatibility, allowed_tools,
                      metadata, extra_fields, body, loadable, strict, load_errors, strict_errors, warnings, frontmatter, first_seen_at, updated_at)
                    VALUES (\(source), \(skill.path), \(skill.fileName), \(snapshot.revision), \(skill.digest), \(p.name), \(description), \(p.license),
                      \(p.compatibility), \(p.allowedTools), \(metadata)::jsonb, \(extra)::jsonb, \(body), \(p.loadable), \(p.strict),
                      \(loadErrors)::jsonb, \(strictErrors)::jsonb, \(warnings)::jsonb, \(frontmatter)::jsonb, \(now), \(now))
                    RETURNING id
                    """, logger: logger).decode(Int64.self) { inserted = new }
                id = inserted
                report.added += 1
            }
            rows += 1
            for file in skill.files {
                try await connection.query("""
                    INSERT INTO skill_files (skill_id, path, kind, size, is_binary, content, link_target, note, digest, data)
                    VALUES (\(id), \(file.path), \(file.kind.rawValue), \(file.size), \(file.isBinary), \(file.text.map { PostgresText.storable($0).0 }),
                            \(file.linkTarget), \(file.note), \(file.digest), \(file.data.map { ByteBuffer(bytes: $0) }))
                    """, logger: logger)
                rows += 1
            }
        }
        for (_, old) in vanished {
            try await connection.query("UPDATE skills SET deleted_at = \(now), shadowed_by = NULL WHERE id = \(old.id)", logger: logger)
            try await connection.query("DELETE FROM skill_files WHERE skill_id = \(old.id)", logger: logger)
            rows += 1
        }
        report.removed = vanished.count
        let changed = report.added + report.updated + report.removed > 0
        if changed { rows += try await recomputeShadowing(connection, logger: logger) }
        report.rowsWritten = rows
        if !changed { report.outcome = .unchanged }
        for try await (name, path, winner, winnerPath) in try await connection.query("""
            SELECT s.name, s.path, w.source, w.path FROM skills s JOIN skills w ON w.id = s.shadowed_by
            WHERE s.source = \(source) AND s.deleted_at IS NULL ORDER BY s.path COLLATE "C"
            """, logger: logger).decode((String, String, String, String).self) {
            report.warnings.append(PublishReport.shadowed(name, source: source, path: path, by: winner, at: winnerPath))
        }
        try await connection.query("""
            UPDATE sources SET status = 'ready', status_reason = NULL, failure_kind = NULL, revision = \(snapshot.revision), "commit" = \(options.commit),
              config_digest = \(options.configDigest), last_attempt_at = \(now), last_success_at = \(now), consecutive_failures = 0,
              skill_count = \(snapshot.skills.count) WHERE name = \(source)
            """, logger: logger)
        try await recordRun(report, source: source, options: options, message: snapshot.warnings.isEmpty ? nil : snapshot.warnings.joined(separator: "\n"),
                            connection, logger: logger)
        if changed { try await connection.query("UPDATE change_marks SET mark = mark + 1 WHERE kind = 'skills'", logger: logger) }
        return report
    }

    static func list(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).jsonText }

    static func recordRun(_ report: PublishReport, source: String, options: PublishOptions, message: String?, _ connection: PostgresConnection,
                          logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO sync_runs (source, started_at, finished_at, outcome, revision, added, updated, removed, unchanged, rows_written, message)
            VALUES (\(source), \(options.now), \(Date()), \(report.outcome.rawValue), \(report.revision), \(report.added), \(report.updated),
                    \(report.removed), \(report.unchanged), \(report.rowsWritten), \(message))
            """, logger: logger)
    }

    /// Which skill wins each name: the first source in manifest order, then the first path (in bytes,
    /// as SQLite compares). Only rows whose value changes are written; how many.
    @discardableResult
    static func recomputeShadowing(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query("""
            WITH ranked AS (
              SELECT s.id, FIRST_VALUE(s.id) OVER (PARTITION BY s.name ORDER BY src.position, s.path COLLATE "C") AS winner
              FROM skills s JOIN sources src ON src.name = s.source
              WHERE s.deleted_at IS NULL AND s.loadable AND src.status <> 'removed'
            )
            UPDATE skills SET shadowed_by = NULLIF(ranked.winner, skills.id) FROM ranked
            WHERE ranked.id = skills.id AND skills.shadowed_by IS DISTINCT FROM NULLIF(ranked.winner, skills.id)
            RETURNING skills.id
            """, logger: logger) { count += 1 }
        for try await _ in try await connection.query("""
            UPDATE skills SET shadowed_by = NULL WHERE shadowed_by IS NOT NULL
              AND (deleted_at IS NOT NULL OR NOT loadable OR source IN (SELECT name FROM sources WHERE status = 'removed'))
            RETURNING id
            """, logger: logger) { count += 1 }
        return count
    }
}
