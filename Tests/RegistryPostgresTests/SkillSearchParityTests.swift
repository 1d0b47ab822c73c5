import Foundation
import Logging
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// The same skills searched in SQLite (FTS5, bm25) and in PostgreSQL (tsvector, ts_rank): the
/// the same skills match, and the best hit is the same for at least four queries in five.
@Suite(.serialized) struct SkillSearchParityTests {
    static let logger = Logger(label: "test")

    static let skills: [(name: String, description: String, body: String)] = [
        ("pdf-tools", "Extract text and tables from PDF documents.", "Use pdftotext for text. Tables need camelot. Charts in a PDF are images."),
        ("chart-maker", "Draw bar, line and pie charts from CSV data.", "Charts are drawn with matplotlib. Label every axis."),
        ("csv-cleaner", "Clean CSV files: trim cells, fix encodings, drop empty rows.", "Read the CSV with pandas, clean, write it back."),
        ("git-helper", "Commit, branch and rebase with git safely.", "Never force-push a shared branch. Rebase local work only."),
        ("sql-reviewer", "Review SQL queries for injection and slow joins.", "Check every join has an index. Parameters, never string concatenation."),
        ("spreadsheet-formulas", "Write spreadsheet formulas for totals and lookups.", "VLOOKUP, INDEX and MATCH. Charts come from ranges."),
        ("image-resizer", "Resize and compress images for the web.", "Use pillow. Keep the aspect ratio. Charts exported as images stay sharp as SVG."),
        ("release-notes", "Draft release notes from merged pull requests.", "Group changes by kind. Link every pull request."),
        ("test-writer", "Write unit tests that read as sentences.", "One behaviour per test. Name tests after what they show."),
        ("log-analyzer", "Find errors and slow requests in server logs.", "Parse each line, group by status, chart the slow ones."),
        ("docker-builder", "Build small Docker images with multi-stage builds.", "Pin base images. Copy only what the image needs."),
        ("api-designer", "Design REST APIs with clear errors and pagination.", "Every list pages. Every error names the field."),
        ("translation", "Translate documents between languages, keeping formatting.", "Keep markdown and tables intact; translate text only."),
        ("meeting-notes", "Summarise meetings into decisions and actions.", "Decisions first, then actions with owners and dates."),
        ("pdf-forms", "Fill PDF forms from structured data.", "Map each field by name. Flatten the form when done."),
        ("data-charts", "Choose the right chart for the data.", "Bar charts compare, line charts show change, never pie charts for many parts."),
    ]
    static let queries = ["pdf", "chart", "charts", "csv", "git rebase", "sql join", "images", "release", "test", "logs", "docker",
                          "errors", "tables", "pdf forms", "char", "translate", "notes", "data"]

    @Test func theSameSkillsMatchInBothAndTheBestHitMostlyAgrees() async throws {
        let server = try await PrivatePostgres.sharedHandle()
        try await withTemporaryDirectory { root in
            for skill in Self.skills {
                try write("---\nname: \(skill.name)\ndescription: \(skill.description)\n---\n\n# \(skill.name)\n\n\(skill.body)\n",
                          to: "main/\(skill.name)/SKILL.md", in: root)
            }
            let sqlite = try RegistryDatabase(path: root + "/db/registry.db")
            try sqlite.declareSources([SourceDescriptor(name: "main", kind: .local, location: root + "/main", position: 0)])
            _ = try sqlite.publish(SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/main")), to: "main", options: PublishOptions())
            guard case .postgres(let location) = try RegistryLocation.parse(server.url) else { return }
            let postgres = try await PostgresRegistry.open(location, logger: Self.logger)
            defer { postgres.close() }
            #expect(try await postgres.copySkills(from: sqlite) == Self.skills.count)

            var differentOrder: [String] = []
            var bestAgrees = 0
            for text in Self.queries {
                let query = SkillQuery(text: text, limit: 100)
                let ours = try sqlite.skills(query).map(\.skill.name)
                let theirs = try await postgres.skills(query).map(\.skill.name)
                #expect(!ours.isEmpty, "\(text): no match at all")
                #expect(Set(ours) == Set(theirs), "\(text): SQLite \(ours), PostgreSQL \(theirs)")
                if ours.first == theirs.first { bestAgrees += 1 }
                if ours != theirs { differentOrder.append("\(text): SQLite \(ours.prefix(4)) PostgreSQL \(theirs.prefix(4))") }
            }
            // ts_rank is not bm25 (no inverse document frequency): the best hit may differ now and then, not often.
            print("best hit the same for \(bestAgrees) of \(Self.queries.count) queries; ranked differently: \(differentOrder.count)")
            #expect(bestAgrees * 5 >= Self.queries.count * 4, "the best hit agrees for only \(bestAgrees) of \(Self.queries.count): \(differentOrder)")
            for line in differentOrder { print("  \(line)") }
            // Listing and the filters agree too.
            #expect(try await postgres.skills(SkillQuery(limit: 100)).map(\.skill.name) == (try sqlite.skills(SkillQuery(limit: 100)).map(\.skill.name)))
            #expect(try await postgres.skills(SkillQuery(text: "pdf", source: "elsewhere")).isEmpty)
            #expect(try await postgres.skills(SkillQuery(text: "!!! ???")).isEmpty)
        }
    }
}
