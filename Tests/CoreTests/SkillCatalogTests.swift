import Core
import Foundation
import Registry
import TestSupport
import Testing

/// A viewer whose role's `skills:` allows the given sources.
struct SourcesViewer: SkillViewer {
    let sources: Set<String>
    func canSeeSkill(name: String, source: String) -> Bool { sources.contains(source) }
}

/// A registry with two local sources that both hold `shared` (alpha's copy serves the name), beta's
/// `beta-only`, and alpha's `broken` that does not load.
func twoSources(_ root: String) throws -> RegistryDatabase {
    let registry = try RegistryDatabase(path: root + "/registry.db")
    try registry.declareSources([SourceDescriptor(name: "alpha", kind: .local, location: root + "/alpha", position: 0),
                                 SourceDescriptor(name: "beta", kind: .local, location: root + "/beta", position: 1)])
    func skill(_ name: String, _ source: String) -> String {
        "---\nname: \(name)\ndescription: A widget from \(source).\n---\nUse it (\(source)).\n"
    }
    try write(skill("shared", "alpha"), to: "alpha/shared/SKILL.md", in: root)
    try write("---\nname: broken\n---\nNo description.\n", to: "alpha/broken/SKILL.md", in: root)
    try write(skill("shared", "beta"), to: "beta/shared/SKILL.md", in: root)
    try write(skill("beta-only", "beta"), to: "beta/beta-only/SKILL.md", in: root)
    for source in ["alpha", "beta"] {
        _ = try registry.publish(SkillDiscovery().snapshot(of: try LocalSkillTree(root: root + "/" + source)), to: source, options: PublishOptions())
    }
    return registry
}

@Suite struct SkillCatalogTests {
    @Test func aNameMeansTheCopyThatServesIt() async throws {
        try await withTemporaryDirectory { root in
            let catalog = SkillCatalog(store: try twoSources(root))
            let everyone = SourcesViewer(sources: ["alpha", "beta"])
            #expect(try await catalog.skill(named: "shared", as: everyone).source == "alpha")
            #expect(try await catalog.search(SkillSearch(text: "widget"), as: everyone).skills.map(\.name).sorted() == ["beta-only", "shared"])
            #expect(try await catalog.servedSkills(as: everyone).map(\.source) == ["beta", "alpha"])
        }
    }

    @Test func aRoleThatMaySeeOnlyTheShadowedCopyIsNotServedTheName() async throws {
        try await withTemporaryDirectory { root in
            let catalog = SkillCatalog(store: try twoSources(root))
            let betas = SourcesViewer(sources: ["beta"])
            await #expect(throws: CoreError.self) { try await catalog.skill(named: "shared", as: betas) }
            #expect(try await catalog.search(SkillSearch(text: "widget"), as: betas).skills.map(\.name) == ["beta-only"])
            #expect(try await catalog.servedSkills(as: betas).map(\.name) == ["beta-only"])
            // Naming the source reaches the shadowed copy, for a role that may see it.
            #expect(try await catalog.skill(named: "shared", source: "beta", as: betas).source == "beta")
            await #expect(throws: CoreError.self) { try await catalog.skill(named: "shared", source: "beta", as: SourcesViewer(sources: ["alpha"])) }
        }
    }

    @Test func inspectingShowsEveryCopyTheRoleMaySee() async throws {
        try await withTemporaryDirectory { root in
            let catalog = SkillCatalog(store: try twoSources(root))
            let every = SkillSearch(limit: 10, copies: .every(admits: { _ in true }))
            #expect(try await catalog.search(every, as: EverySkillViewer()).skills.count == 4)
            #expect(try await catalog.search(every, as: SourcesViewer(sources: ["beta"])).skills.map(\.name).sorted() == ["beta-only", "shared"])
            let unloadable = SkillSearch(copies: .every(admits: { !$0.loadable }))
            #expect(try await catalog.search(unloadable, as: EverySkillViewer()).skills.map(\.name) == ["broken"])
            #expect(try await catalog.copies(named: "shared", as: EverySkillViewer()).map(\.source) == ["alpha", "beta"])
        }
    }

    @Test func pagesFilterAfterRankingAndContinueWhereTheyStopped() async throws {
        try await withTemporaryDirectory { root in
            let catalog = SkillCatalog(store: try twoSources(root))
            let first = try await catalog.search(SkillSearch(limit: 1), as: EverySkillViewer())
            #expect(first.skills.map(\.name) == ["beta-only"])
            let next = try #require(first.next)
            let second = try await catalog.search(SkillSearch(limit: 1, offset: next), as: EverySkillViewer())
            #expect(second.skills.map(\.name) == ["shared"] && second.next == nil)
        }
    }

    @Test func aFileThatIsNotKeptSaysWhy() async throws {
        try await withTemporaryDirectory { root in
            let catalog = SkillCatalog(store: try twoSources(root))
            let skill = try await catalog.skill(named: "shared", as: EverySkillViewer())
            #expect(try await catalog.text(of: "SKILL.md", in: skill).contains("(alpha)"))
            let error = await #expect(throws: CoreError.self) { try await catalog.text(of: "missing.md", in: skill) }
            #expect(error?.code == .notFound && error?.message.contains("has no file 'missing.md'") == true)
        }
    }
}
