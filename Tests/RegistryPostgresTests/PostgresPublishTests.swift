import Base
import Core
import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The publisher on both backends: the same snapshots published into SQLite and into PostgreSQL
/// leave the same skills, files, shadowing and source rows, and the same reports (added, updated,
/// removed, unchanged, held, shadowing warnings), through a change, a mass disappearance and a
/// source leaving the manifest.
@Suite(.serialized) struct PostgresPublishTests {
    static let logger = Logger(label: "test")

    func snapshot(_ root: String, _ source: String) throws -> SkillSnapshot {
        try SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/" + source))
    }

    /// What a reader sees: every skill (shadowed, unloadable, tombstoned too), their files, the sources.
    func seen(_ store: any SkillStore & SourceStore) async throws -> String {
        var query = SkillQuery(limit: 1_000)
        query.includeShadowed = true
        query.includeUnloadable = true
        query.includeDeleted = true
        let skills = try await store.skills(query).map(\.skill)
        var lines: [String] = []
        for skill in skills.sorted(by: { ($0.source, $0.path) < ($1.source, $1.path) }) {
            let files = try await store.files(ofSkill: skill.id).map {
                "\($0.path):\($0.size):\($0.content?.count ?? -1):\($0.digest?.suffix(8) ?? "-"):\($0.data?.count ?? -1):\($0.bytes?.count ?? -1)"
            }
            let shadow = skills.first { $0.id == skill.shadowedBy }.map { "\($0.source)/\($0.path)" } ?? "-"
            lines.append("\(skill.source)/\(skill.path) \(skill.name) loadable=\(skill.loadable) deleted=\(skill.deletedAt != nil) shadowed_by=\(shadow) "
                         + "digest=\(skill.digest.prefix(8)) metadata=\(skill.metadata.flatMap(JSONValue.parse).map(\.jsonText) ?? "-") "
                         + "frontmatter=\(skill.frontmatter.flatMap(JSONValue.parse).map(\.jsonText) ?? "-") files=\(files)")
        }
        for source in try await store.sources() {
            lines.append("source \(source.name) \(source.kind.rawValue) \(source.status.rawValue) revision=\(source.revision ?? "-") count=\(source.skillCount) "
                         + "loadable=\(source.loadableCount) shadowed=\(source.shadowedCount) tombstoned=\(source.tombstonedCount)")
        }
        return lines.joined(separator: "\n")
    }

    func report(_ r: PublishReport) -> String {
        "\(r.outcome.rawValue) +\(r.added) ~\(r.updated) -\(r.removed) =\(r.unchanged) \(r.warnings)"
    }

    @Test func theSameSnapshotsLeaveTheSameRegistryInBoth() async throws {
        guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
        let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { postgres.close() }
        try await withTemporaryDirectory { root in
            for (source, name, words) in [("main", "pdf-tools", "Extract text."), ("main", "chart-maker", "Draw charts."), ("main", "csv", "Clean CSV."),
                                          ("main", "zeta", "Last one."), ("extra", "pdf-tools", "An older copy."), ("extra", "notes", "Take notes.")] {
                try write("---\nname: \(name)\ndescription: \(words)\nmetadata:\n  team: docs\n---\n\nBody of \(name).\n", to: "\(source)/\(name)/SKILL.md", in: root)
                try write("reference for \(name)\n", to: "\(source)/\(name)/reference.md", in: root)
            }
            try write("---\nname: broken\n---\n\nNo description.\n", to: "extra/broken/SKILL.md", in: root)
            try write(Data([0x00, 0x01, 0xFE, 0xFF]), to: "extra/broken/blob.bin", in: root)
            try write(Data([0xEF, 0xBB, 0xBF]) + Data("bom\r\n".utf8), to: "extra/broken/bom.txt", in: root)
            let sqlite = try RegistryDatabase(path: root + "/db/registry.db")
            let sources = [SourceDescriptor(name: "main", kind: .local, location: root + "/main", position: 0),
                           // A source of a bridged server's skills: kind mcp on both backends.
                           SourceDescriptor(name: "extra", kind: .mcp, location: "mcp:vendor", position: 1)]
            try sqlite.declareSources(sources)
            try await postgres.declareSources(sources)
            let mark = postgres.changes.mark(.skills)

            func publishBoth(_ source: String, _ options: PublishOptions, _ step: String) async throws {
                let snap = try snapshot(root, source)
                let mine = try sqlite.publish(snap, to: source, options: options)
                let theirs = try await postgres.publish(snap, to: source, options: options)
                #expect(report(mine) == report(theirs), "\(step): SQLite \(report(mine)), PostgreSQL \(report(theirs))")
                let a = try await seen(sqlite), b = try await seen(postgres)
                #expect(a == b, "\(step):\nSQLite\n\(a)\nPostgreSQL\n\(b)")
            }
            var options = PublishOptions()
            options.now = Date()
            try await publishBoth("main", options, "first publish of main")
            try await publishBoth("extra", options, "first publish of extra")
            let first = try await seen(postgres)
            #expect(first.contains("extra/pdf-tools pdf-tools loadable=true deleted=false shadowed_by=main/pdf-tools")
                    && first.contains("extra/broken broken loadable=false") && first.contains("reference.md:"), "\(first)")
            let start = ContinuousClock.now   // the mark moves at commit; the listener hears it a moment later
            while postgres.changes.mark(.skills) == mark, ContinuousClock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(5)) }
            #expect(postgres.changes.mark(.skills) != mark, "a publish did not move the skills mark")

            // A change, a removal and an addition.
            try write("---\nname: csv\ndescription: Clean CSV files, now faster.\n---\n\nNew body.\n", to: "main/csv/SKILL.md", in: root)
            try FileManager.default.removeItem(atPath: root + "/main/zeta")
            try write("---\nname: notes\ndescription: Notes, the main copy.\n---\n\nBody.\n", to: "main/notes/SKILL.md", in: root)
            options.now = Date().addingTimeInterval(1)
            try await publishBoth("main", options, "a change, a removal, an addition")
            try await publishBoth("main", options, "nothing changed")

            // Most of a source vanishing at once is held on both.
            for name in ["pdf-tools", "chart-maker", "csv"] { try FileManager.default.removeItem(atPath: root + "/main/\(name)") }
            try await publishBoth("main", options, "a mass disappearance")
            options.acceptRemovals = true
            try await publishBoth("main", options, "the same, accepted")
            #expect(try await seen(postgres).contains("main/csv csv loadable=true deleted=true"))

            // A source leaving the manifest gives its names back.
            try sqlite.declareSources([sources[1]])
            try await postgres.declareSources([sources[1]])
            let a = try await seen(sqlite), b = try await seen(postgres)
            #expect(a == b, "main removed:\nSQLite\n\(a)\nPostgreSQL\n\(b)")
            let unknown = await #expect(throws: RegistryError.self) { try await postgres.publish(try snapshot(root, "extra"), to: "nowhere") }
            #expect(unknown?.code == .sourceNotFound)
        }
    }
}
