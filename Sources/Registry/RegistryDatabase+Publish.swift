import Base
import Foundation
import GRDB

extension RegistryDatabase {
    /// Records the manifest's sources, in manifest order. Sources no longer declared are marked
    /// `removed`: their skills stay in the file but are no longer served.
    public func declareSources(_ sources: [SourceDescriptor]) throws(RegistryError) {
        // Most opens change nothing: check with a read, so they never wait on a writer.
        let current = try read("reading the declared sources") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT name, kind, location, position, status FROM sources")).map { row in
                (name: row["name"] as String, kind: row["kind"] as String, location: row["location"] as String,
                 position: row["position"] as Int, removed: (row["status"] as String) == "removed")
            }
        }
        let wanted = Dictionary(sources.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let same = current.filter { !$0.removed }.count == wanted.count && current.allSatisfy { row in
            guard let source = wanted[row.name] else { return row.removed }
            return !row.removed && row.kind == source.kind.rawValue && row.location == source.location && row.position == source.position
        }
        if same { return }
        try write("declaring sources") { db in
            for source in sources {
                try db.execute(sql: """
                    INSERT INTO sources (name, kind, location, position) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, location = excluded.location,
                      position = excluded.position,
                      status = CASE WHEN sources.status = 'removed' THEN 'new' ELSE sources.status END
                    WHERE sources.kind IS NOT excluded.kind OR sources.location IS NOT excluded.location
                       OR sources.position IS NOT excluded.position OR sources.status = 'removed'
                    """, arguments: [source.name, source.kind, source.location, source.position])
            }
            let names = sources.map(\.name)
            try db.execute(sql: "UPDATE sources SET status = 'removed', status_reason = 'no longer in the manifest' WHERE status != 'removed' AND name NOT IN (\(databaseQuestionMarks(count: names.count)))", arguments: StatementArguments(names))
            try SkillPublisher.recomputeShadowing(db)
        }
        skillsChanged.touch()
    }

    /// Touched after every write that can change which skills are served or how (a publish, the
    /// declared sources): caches of skill answers, in any process, key on it.
    public var skillsChanged: StampFile { StampFile(named: "skills-changed", besideDatabase: path) }

    /// Publishes a source's new snapshot in one transaction: readers see the old revision or the new
    /// one, never a mix. Changed skills (by digest) are rewritten, unchanged rows are not touched,
    /// vanished skills are tombstoned, and a mass disappearance is held back (`PublishOptions`).
    public func publish(_ snapshot: SkillSnapshot, to source: String, options: PublishOptions = PublishOptions()) throws(RegistryError) -> PublishReport {
        let report = try write("publishing \(source)") { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sources WHERE name = ?"), arguments: [source]) != nil else {
                throw RegistryError(.sourceNotFound, "source '\(source)' is not declared in the registry")
            }
            var publisher = SkillPublisher(db: db, source: source, options: options)
            return try publisher.publish(snapshot)
        }
        skillsChanged.touch()
        // The report carries its warnings; whoever ran the sync says them once (the host logs them,
        // `agenthub sync` prints them).
        return report
    }

    /// Marks a sync of `source` as started (status `syncing`).
    /// `owner` (`host:pid:nonce`) lets readers tell this sync from one whose process died.
    public func markSyncing(_ source: String, owner: String, at now: Date = Date()) throws(RegistryError) {
        try write("marking \(source) syncing") { db in
            try db.execute(sql: "UPDATE sources SET status = 'syncing', status_reason = ?, last_attempt_at = ? WHERE name = ?",
                           arguments: [SyncOwner.reasonPrefix + owner, now, source])
        }
    }

    /// Records a failed sync: the last good revision stays published; the reason is kept.
    public func recordFailure(_ source: String, reason: String, startedAt: Date, at now: Date = Date()) throws(RegistryError) {
        try write("recording the failure of \(source)") { db in
            try db.execute(sql: """
                UPDATE sources SET status = 'failed', status_reason = ?, last_attempt_at = ?,
                  consecutive_failures = consecutive_failures + 1 WHERE name = ?
                """, arguments: [reason, now, source])
            try db.execute(sql: "INSERT INTO sync_runs (source, started_at, finished_at, outcome, message) VALUES (?, ?, ?, 'failed', ?)",
                           arguments: [source, startedAt, now, reason])
        }
    }
}
