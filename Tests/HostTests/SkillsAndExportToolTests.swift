import Base
import Foundation
import Plugins
import Registry
import Testing
@testable import Host

/// skills_* filtered by the caller's role, and export_trace paging by cursor.
@Suite struct SkillsAndExportToolTests {
    static let manifest = """
        version: 1
        sources:
          - { name: local, path: ./local }
          - { name: team, path: ./team }
        policy:
          default: allow
        roles:
          everyone: { skills: ["*"] }
          local_only: { skills: ["local/*"] }
          by_name: { skills: ["deploy-*"] }
          nothing: {}
          auditor: { allow: [export_trace_all] }
        plugins: { skills: {}, export: {} }
        """

    func withHost(_ body: (HostContext, ToolHost) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try write("---\nname: deploy-app\ndescription: Deploys the app.\n---\nRun the deploy.\n", to: "local/deploy-app/SKILL.md", in: dir)
            try write("notes\n", to: "local/deploy-app/notes.md", in: dir)
            try write("---\nname: review-code\ndescription: Reviews code before deploy.\n---\nRead the diff.\n", to: "team/review-code/SKILL.md", in: dir)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            _ = try context.syncer.sync()
            try await body(context, try context.tools())
        }
    }

    func names(_ outcome: ToolCallOutcome) -> [String] {
        outcome.result.structuredContent?["results"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() ?? []
    }

    @Test func searchShowsOnlyTheSkillsTheRoleMaySee() async throws {
        try await withHost { _, tools in
            let expected: [(String, [String])] = [("everyone", ["deploy-app", "review-code"]), ("local_only", ["deploy-app"]),
                                                  ("by_name", ["deploy-app"]), ("nothing", [])]
            for (role, skills) in expected {
                let outcome = await tools.router.call("skills_search", arguments: ["query": "deploy"], caller: ToolCaller(agent: "a", role: role), session: "s")
                #expect(names(outcome) == skills, "\(role)")
            }
        }
    }

    @Test func aHiddenSkillLooksExactlyLikeAMissingOne() async throws {
        try await withHost { _, tools in
            let caller = ToolCaller(agent: "a", role: "local_only")
            let hidden = await tools.router.call("skills_get", arguments: ["name": "review-code"], caller: caller, session: "s")
            let missing = await tools.router.call("skills_get", arguments: ["name": "no-such-skill"], caller: caller, session: "s")
            #expect(hidden.result.text == "no skill named 'review-code'")
            #expect(missing.result.text == "no skill named 'no-such-skill'")
            #expect(hidden.status == missing.status && hidden.reason == missing.reason)
            let visible = await tools.router.call("skills_get", arguments: ["name": "deploy-app"], caller: caller, session: "s")
            #expect(visible.result.text == "Run the deploy.")
            #expect(visible.result.structuredContent?["files"]?.arrayValue?.count == 2)
            let file = await tools.router.call("skills_get", arguments: ["name": "deploy-app", "path": "notes.md"], caller: caller, session: "s")
            #expect(file.result.text == "notes\n")
        }
    }

    @Test func exportPagesThroughASessionByCursor() async throws {
        try await withHost { _, tools in
            let caller = ToolCaller(agent: "pager", role: "everyone")
            for _ in 0..<3 { _ = await tools.router.call("skills_search", arguments: ["query": "deploy"], caller: caller, session: "paged") }
            var cursor: JSONValue = 0
            var types: [String] = []
            var pages = 0
            while cursor != .null, pages < 10 {
                let page = await tools.router.call("export_trace", arguments: ["session_id": "paged", "limit": 4, "since_event_id": cursor],
                                                   caller: ToolCaller(agent: "auditor", role: "auditor"), session: "export")
                let content = try #require(page.result.structuredContent)
                types += content["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
                cursor = content["next_cursor"] ?? .null
                pages += 1
            }
            #expect(types == Array(repeating: ["tool.called", "tool.result"], count: 3).flatMap { $0 })
            #expect(pages == 2)
            let jsonl = await tools.router.call("export_trace", arguments: ["session_id": "paged", "format": "jsonl", "types": ["tool.result"]],
                                                caller: caller, session: "export")
            #expect(jsonl.result.text.split(separator: "\n").count == 3)
        }
    }

    @Test func aCallerExportsOnlyItsOwnEventsUnlessARuleNamesExportTraceAll() async throws {
        try await withHost { _, tools in
            let alice = ToolCaller(agent: "alice", role: "everyone")
            let bob = ToolCaller(agent: "bob", role: "everyone")
            _ = await tools.router.call("skills_search", arguments: ["query": "alice private"], caller: alice, session: "a")
            _ = await tools.router.call("skills_search", arguments: ["query": "bob"], caller: bob, session: "b")
            let mine = await tools.router.call("export_trace", arguments: [:], caller: bob, session: "b2")
            let agents = Set(mine.result.structuredContent?["events"]?.arrayValue?.compactMap { $0["agent"]?.stringValue } ?? [])
            #expect(agents == ["bob"])
            let bySession = await tools.router.call("export_trace", arguments: ["session_id": "a"], caller: bob, session: "b2")
            #expect(bySession.result.structuredContent?["count"]?.intValue == 0)
            let other = await tools.router.call("export_trace", arguments: ["agent": "alice"], caller: bob, session: "b2")
            #expect(other.status == .failed && other.result.text.contains("export_trace_all"))
            #expect(!other.result.text.contains("alice private"))
            let audited = await tools.router.call("export_trace", arguments: ["agent": "alice"], caller: ToolCaller(agent: "aud", role: "auditor"), session: "x")
            #expect(audited.result.text.contains("alice private"))
        }
    }
}
