import Base
import Foundation
import GRDB
import Testing
@testable import Registry

/// A registry in a temp folder with one or more local sources, for publish tests.
struct PublishFixture {
    let root: String
    let registry: RegistryDatabase

    init(root: String, sources: [String] = ["main"]) throws {
        self.root = root
        registry = try RegistryDatabase(path: root + "/db/registry.db")
        try registry.declareSources(sources.enumerated().map {
            SourceDescriptor(name: $1, kind: .local, location: root + "/" + $1, position: $0)
        })
        for source in sources { try FileManager.default.createDirectory(atPath: root + "/" + source, withIntermediateDirectories: true) }
    }

    func addSkill(_ name: String, in source: String = "main", description: String? = nil, body: String = "Instructions.") throws {
        try write(skillMarkdown(name, description: description, body: body), to: "\(source)/\(name)/SKILL.md", in: root)
    }

    func removeSkill(_ name: String, in source: String = "main") throws {
        try FileManager.default.removeItem(atPath: "\(root)/\(source)/\(name)")
    }

    @discardableResult
    func sync(_ source: String = "main", options: PublishOptions = PublishOptions()) throws -> PublishReport {
        let snapshot = SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/" + source))
        return try registry.publish(snapshot, to: source, options: options)
    }

    func names(_ source: String? = nil) throws -> [String] {
        var query = SkillQuery(source: source)
        query.includeShadowed = true
        return try registry.skills(query).map(\.skill.name)
    }
}

@Suite struct PublishTests {
    @Test func aFirstSyncAddsEverySkillAndTheNextWritesNothing() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            for name in ["alpha", "beta", "gamma"] { try f.addSkill(name) }
            let first = try f.sync()
            #expect(first.outcome == .published && first.added == 3)
            let again = try f.sync()
            #expect(again.outcome == .unchanged)
            #expect(again.rowsWritten == 0)
            #expect(again.unchanged == 3)
            #expect(try f.registry.source(named: "main")?.status == .ready)
        }
    }

    @Test func changingOneSkillRewritesOnlyThatSkillAndKeepsOthersUpdatedAt() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            for name in ["alpha", "beta", "gamma"] { try f.addSkill(name) }
            try f.sync(options: PublishOptions(now: Date(timeIntervalSince1970: 1_000)))
            try f.addSkill("beta", description: "Changed description.")
            let report = try f.sync(options: PublishOptions(now: Date(timeIntervalSince1970: 2_000)))
            #expect(report.updated == 1 && report.added == 0 && report.unchanged == 2)
            let skills = try f.registry.skills(inSource: "main")
            #expect(skills.first { $0.name == "beta" }?.updatedAt == Date(timeIntervalSince1970: 2_000))
            #expect(skills.first { $0.name == "alpha" }?.updatedAt == Date(timeIntervalSince1970: 1_000))
            #expect(skills.first { $0.name == "beta" }?.firstSeenAt == Date(timeIntervalSince1970: 1_000))
        }
    }

    @Test func aVanishedSkillIsTombstonedAndComesBackWhenItReappears() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            for name in ["a1", "a2", "a3", "a4"] { try f.addSkill(name) }
            try f.sync()
            try f.removeSkill("a2")
            let report = try f.sync()
            #expect(report.removed == 1)
            #expect(try f.names() == ["a1", "a3", "a4"])
            var withDeleted = SkillQuery()
            withDeleted.includeDeleted = true
            let tombstone = try #require(try f.registry.skills(withDeleted).first { $0.skill.name == "a2" })
            #expect(tombstone.skill.deletedAt != nil)
            #expect(try f.registry.files(ofSkill: tombstone.skill.id).isEmpty)
            try f.addSkill("a2")
            #expect(try f.sync().updated == 1)
            #expect(try f.names() == ["a1", "a2", "a3", "a4"])
        }
    }

    @Test func whenMoreThanHalfVanishAtOnceThePublishIsHeldAndTheSourceMarkedSuspect() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            for name in ["b1", "b2", "b3", "b4"] { try f.addSkill(name) }
            try f.sync()
            for name in ["b1", "b2", "b3"] { try f.removeSkill(name) }
            let held = try f.sync()
            #expect(held.outcome == .held)
            #expect(try f.names() == ["b1", "b2", "b3", "b4"])
            let source = try #require(try f.registry.source(named: "main"))
            #expect(source.status == .suspect)
            #expect(source.statusReason?.contains("3 of 4 skills would vanish") == true)
            #expect(try f.registry.syncRuns(of: "main").first?.outcome == "held")
            let forced = try f.sync(options: PublishOptions(acceptRemovals: true))
            #expect(forced.outcome == .published && forced.removed == 3)
            #expect(try f.names() == ["b4"])
        }
    }

    @Test func theSourceFirstInTheManifestWinsANameAndTheOtherIsShadowed() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root, sources: ["first", "second"])
            try f.addSkill("pdf", in: "second", description: "Second source's pdf.")
            try f.sync("second")
            #expect(try f.registry.skill(named: "pdf")?.source == "second")
            try f.addSkill("pdf", in: "first", description: "First source's pdf.")
            try f.sync("first")
            #expect(try f.registry.skill(named: "pdf")?.source == "first")
            let loser = try #require(try f.registry.skills(inSource: "second").first)
            #expect(loser.shadowedBy != nil)
            let report = try f.sync("second")
            #expect(report.warnings.contains { $0.contains("shadowed by first/pdf") })
            #expect(try f.registry.skills(SkillQuery(text: "pdf")).map(\.skill.source) == ["first"])
            // Reordering the manifest flips the winner.
            try f.registry.declareSources([
                SourceDescriptor(name: "second", kind: .local, location: root + "/second", position: 0),
                SourceDescriptor(name: "first", kind: .local, location: root + "/first", position: 1),
            ])
            #expect(try f.registry.skill(named: "pdf")?.source == "second")
        }
    }

    @Test func duplicateNamesInOneSourceKeepTheFirstPath() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try write(skillMarkdown("dup"), to: "main/a/dup/SKILL.md", in: root)
            try write(skillMarkdown("dup"), to: "main/b/dup/SKILL.md", in: root)
            try f.sync()
            #expect(try f.registry.skill(named: "dup")?.path == "a/dup")
            #expect(try f.registry.skills(inSource: "main").first { $0.path == "b/dup" }?.shadowedBy != nil)
        }
    }

    @Test func aBadSkillNeverFailsItsSource() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try f.addSkill("good")
            try write("---\nname: bad\n---\n", to: "main/bad/SKILL.md", in: root)
            let report = try f.sync()
            #expect(report.added == 2)
            #expect(try f.names() == ["good"])
            let bad = try #require(try f.registry.skills(inSource: "main").first { $0.path == "bad" })
            #expect(!bad.loadable && bad.loadErrorList == ["SKILL.md frontmatter has no description"])
        }
    }

    @Test func metadataAndUnknownFieldsAreKeptAsJSON() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try write("---\nname: meta\ndescription: x\nversion: 2\nmetadata:\n  owner:\n    team: docs\n---\n", to: "main/meta/SKILL.md", in: root)
            try f.sync()
            let skill = try #require(try f.registry.skill(named: "meta"))
            #expect(JSONValue.parse(skill.metadata) == .object(["owner": .object(["team": .string("docs")])]))
            #expect(JSONValue.parse(skill.extraFields) == .object(["version": .int(2)]))
            #expect(skill.warningList.contains { $0.contains("Unexpected fields in frontmatter: version") })
        }
    }

    @Test func searchRanksANameMatchOverADescriptionOverABody() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try f.addSkill("in-body", description: "Something else.", body: "Mentions invoices once.")
            try f.addSkill("in-description", description: "Handles invoices.")
            try f.addSkill("invoices", description: "Other words.")
            try f.sync()
            let hits = try f.registry.skills(SkillQuery(text: "invoices"))
            #expect(hits.map(\.skill.name) == ["invoices", "in-description", "in-body"])
            #expect(try f.registry.skills(SkillQuery(text: "invo")).count == 3)  // the last word is a prefix
            #expect(try f.registry.skills(SkillQuery(text: "\"unbalanced (quote AND")).isEmpty)
        }
    }

    @Test func listingFiltersAndPagesInSQL() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root, sources: ["one", "two"])
            for i in 0..<7 { try f.addSkill("s\(i)", in: "one") }
            try f.addSkill("t0", in: "two")
            try f.sync("one")
            try f.sync("two")
            #expect(try f.registry.skills(SkillQuery(limit: 3, offset: 0)).map(\.skill.name) == ["s0", "s1", "s2"])
            #expect(try f.registry.skills(SkillQuery(limit: 3, offset: 6)).map(\.skill.name) == ["s6", "t0"])
            #expect(try f.registry.skills(SkillQuery(source: "two")).map(\.skill.name) == ["t0"])
        }
    }

    @Test func aSourceRemovedFromTheManifestStopsServingItsSkills() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root, sources: ["keep", "drop"])
            try f.addSkill("kept", in: "keep")
            try f.addSkill("dropped", in: "drop")
            try f.sync("keep")
            try f.sync("drop")
            try f.registry.declareSources([SourceDescriptor(name: "keep", kind: .local, location: root + "/keep", position: 0)])
            #expect(try f.names() == ["kept"])
            #expect(try f.registry.source(named: "drop")?.status == .removed)
        }
    }

    @Test func aFailedSyncKeepsTheLastGoodRevisionAndSaysWhy() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try f.addSkill("stay")
            let good = try f.sync()
            try f.registry.recordFailure("main", reason: "skill source directory gone", startedAt: Date())
            let source = try #require(try f.registry.source(named: "main"))
            #expect(source.status == .failed && source.revision == good.revision && source.consecutiveFailures == 1)
            #expect(try f.names() == ["stay"])
        }
    }

    @Test func skillsWhoseDigestTheRegistryKnowsAreNotParsedAgainAndWriteNothing() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            for name in ["k1", "k2"] { try f.addSkill(name) }
            try f.sync()
            try f.addSkill("k2", description: "Edited.")
            let known = try f.registry.knownDigests(of: "main")
            let snapshot = SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/main"), known: known)
            #expect(snapshot.skills.map(\.reused) == [true, false])
            let report = try f.registry.publish(snapshot, to: "main")
            #expect(report.unchanged == 1 && report.updated == 1)
            #expect(try f.registry.skill(named: "k1")?.description == "Does k1 things.")
            #expect(try f.registry.skill(named: "k2")?.description == "Edited.")
        }
    }

    @Test func aReusedSkillTheRegistryNoLongerMatchesIsRefusedAndNothingChanges() throws {
        try withTemporaryDirectory { root in
            let f = try PublishFixture(root: root)
            try f.addSkill("r1")
            try f.sync()
            let snapshot = SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/main"), known: ["r1": "stale-digest-that-matches-nothing"])
            var forged = snapshot
            forged.skills[0].reused = true
            forged.skills[0].digest = "a-digest-the-registry-does-not-hold"
            #expect(throws: RegistryError.self) { try f.registry.publish(forged, to: "main") }
            #expect(try f.registry.skill(named: "r1")?.description == "Does r1 things.")
        }
    }
}
