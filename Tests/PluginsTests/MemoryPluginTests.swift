import Base
import Core
import Foundation
import Logging
import Testing
@testable import Plugins
import Registry
import RegistryPostgres
import TestSupport

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Double = 1_800_000_000
    var now: Double { lock.withLock { seconds } }
    func advance(days: Double) { lock.withLock { seconds += days * 86400 } }
}

/// Where the memories are kept: every test here runs on both.
enum MemoryBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// memory: who reads and writes which scope, how results rank, long texts, bad input; the same on
/// SQLite and on PostgreSQL.
@Suite(.serialized) struct MemoryPluginTests {
    func withMemory(_ backend: MemoryBackend, _ body: (MemoryPlugin, TestClock) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock()
            switch backend {
            case .sqlite:
                try await body(MemoryPlugin(store: try RegistryDatabase(path: dir + "/registry.db"), now: { clock.now }), clock)
            case .postgres:
                guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
                let registry = try await PostgresRegistry.open(location, logger: Logger(label: "test"))
                defer { registry.close() }
                try await body(MemoryPlugin(store: registry, now: { clock.now }), clock)
            }
        }
    }

    func id(_ result: ToolResult) -> String { result.structuredContent?["id"]?.stringValue ?? "" }

    func ids(_ result: ToolResult) -> [String] {
        result.structuredContent?["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    let alice = context(agent: "alice", role: "researcher", group: "writers")
    let bob = context(agent: "bob", role: "researcher", group: "writers")
    let erin = context(agent: "erin", role: "editor", group: "writers", lead: true)
    let oscar = context(agent: "oscar", role: "ops")

    @Test(arguments: MemoryBackend.allCases) func agentMemoriesArePrivateAndRoleMemoriesAreSharedWithTheRole(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let mine = id(try await memory.call("memory_write", ["type": "episodic", "text": "alice private note about kiwis"], alice))
            let shared = id(try await memory.call("memory_write", ["type": "archival", "text": "researchers share kiwis", "scope": "role"], alice))
            #expect(ids(try await memory.call("memory_search", ["query": "kiwis"], alice)).sorted() == [mine, shared].sorted())
            #expect(ids(try await memory.call("memory_search", ["query": "kiwis"], bob)) == [shared])
            #expect(ids(try await memory.call("memory_search", ["query": "kiwis"], erin)) == [])
            await #expect { try await memory.call("memory_get", ["id": .string(mine)], bob) } throws: { error in
                (error as? ToolError) == ToolError(.notFound, "no memory with id '\(mine)'")
            }
            // A memory another caller cannot see looks exactly like one that does not exist.
            await #expect { try await memory.call("memory_get", ["id": "mem_999999"], bob) } throws: { error in
                (error as? ToolError) == ToolError(.notFound, "no memory with id 'mem_999999'")
            }
        }
    }

    @Test(arguments: MemoryBackend.allCases) func onlyTheGroupLeadWritesCoreMemoriesToTheBlackboard(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let note = id(try await memory.call("memory_write", ["type": "episodic", "text": "blackboard: release on friday", "scope": "group"], alice))
            await #expect { try await memory.call("memory_write", ["type": "core", "text": "we always ship on friday", "scope": "group"], alice) } throws: { error in
                (error as? ToolError)?.code == .forbidden && (error as? ToolError)?.message.contains("only the lead of group 'writers'") == true
            }
            let core = id(try await memory.call("memory_write", ["type": "core", "text": "we always ship on friday", "scope": "group"], erin))
            #expect(ids(try await memory.call("memory_search", ["query": "friday"], bob)).sorted() == [note, core].sorted())
            #expect(ids(try await memory.call("memory_search", ["query": "friday"], oscar)) == [])
            // Deleting needs the same right as writing: a member cannot delete the lead's core memory.
            await #expect(throws: ToolError.self) { try await memory.call("memory_delete", ["id": .string(core)], bob) }
            _ = try await memory.call("memory_delete", ["id": .string(note)], bob)
            _ = try await memory.call("memory_delete", ["id": .string(core)], erin)
            #expect(ids(try await memory.call("memory_search", ["query": "friday"], bob)) == [])
        }
    }

    @Test(arguments: MemoryBackend.allCases) func globalWritesNeedARuleAndEveryoneReadsThem(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            await #expect { try await memory.call("memory_write", ["type": "core", "text": "the office is closed monday", "scope": "global"], alice) } throws: { error in
                (error as? ToolError)?.message.contains("memory_write_global") == true
            }
            let allowed = context(agent: "admin", role: "editor", permissions: ListedPermissions(actions: ["memory_write_global"]))
            let global = id(try await memory.call("memory_write", ["type": "core", "text": "the office is closed monday", "scope": "global"], allowed))
            for reader in [alice, bob, erin, oscar] {
                #expect(ids(try await memory.call("memory_search", ["query": "office closed"], reader)) == [global])
            }
            await #expect { try await memory.call("memory_write", ["type": "core", "text": "x", "scope": "role"], context(agent: "anonymous")) } throws: { error in
                (error as? ToolError)?.message == "scope 'role' needs a caller with a role"
            }
        }
    }

    @Test(arguments: MemoryBackend.allCases) func anExactPhraseBeatsTheSameWordsScattered(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, clock in
            let phrase = id(try await memory.call("memory_write", ["type": "episodic", "text": "Yesterday the deployment pipeline failed again during the nightly run."], alice))
            clock.advance(days: 1)
            let scattered = id(try await memory.call("memory_write", ["type": "episodic", "text": "The pipeline was quiet yesterday; deployment notes failed to load during the run."], alice))
            #expect(ids(try await memory.call("memory_search", ["query": "deployment pipeline"], alice)) == [phrase, scattered])
        }
    }

    @Test(arguments: MemoryBackend.allCases) func importanceAndRecencyBreakTiesInRelevance(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, clock in
            let important = id(try await memory.call("memory_write", ["type": "archival", "text": "quarterly budget review", "importance": 0.9], alice))
            let minor = id(try await memory.call("memory_write", ["type": "archival", "text": "quarterly budget review", "importance": 0.1], alice))
            #expect(ids(try await memory.call("memory_search", ["query": "budget"], alice)) == [important, minor])

            // Written first (so the lower id) but dated a month later: recency, not insertion order, decides.
            clock.advance(days: 30)
            let newer = id(try await memory.call("memory_write", ["type": "episodic", "text": "standup about lanterns"], bob))
            clock.advance(days: -30)
            let older = id(try await memory.call("memory_write", ["type": "episodic", "text": "standup about lanterns"], bob))
            clock.advance(days: 31)
            let result = try await memory.call("memory_search", ["query": "lanterns"], bob)
            #expect(ids(result) == [newer, older])
            let scores = result.structuredContent?["results"]?.arrayValue?.compactMap { $0["score"]?.doubleValue } ?? []
            #expect(scores.count == 2 && scores[0] > scores[1])
        }
    }

    @Test(arguments: MemoryBackend.allCases) func aMatchDeepInsideALongTextIsFoundAndItsSnippetShowsIt(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let filler = (0..<3000).map { "word\($0 % 97)" }.joined(separator: " ")
            let long = id(try await memory.call("memory_write", ["type": "archival", "text": .string(filler + " the zanzibar protocol was chosen " + filler)], alice))
            let result = try await memory.call("memory_search", ["query": "zanzibar protocol"], alice)
            #expect(ids(result) == [long])
            let snippet = result.structuredContent?["results"]?.arrayValue?.first?["snippet"]?.stringValue ?? ""
            #expect(snippet.contains("**zanzibar protocol**"), "\(snippet)")
            let full = try await memory.call("memory_get", ["id": .string(long)], alice)
            #expect(full.text.count > 40_000)
        }
    }

    @Test(arguments: MemoryBackend.allCases) func aVisibleMemoryIsFoundBehindHundredsOfBetterInvisibleMatches(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let others = (0..<700).map { _ in
                MemoryRecord(type: .episodic, scope: .agent, owner: "bob", text: "walrus walrus walrus", metadata: nil, importance: 0.5,
                             createdAt: 1_800_000_000, agent: "bob", role: nil)
            }
            for other in others { _ = try await memory.store.storeMemory(other) }
            let mine = id(try await memory.call("memory_write", ["type": "episodic", "text": "a long note that mentions a walrus only once among many other words"], alice))
            #expect(ids(try await memory.call("memory_search", ["query": "walrus"], alice)) == [mine])
        }
    }

    @Test(arguments: MemoryBackend.allCases) func filtersNarrowByTypeScopeAndMetadata(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let a = id(try await memory.call("memory_write", ["type": "core", "text": "tea preferences", "metadata": ["topic": "drinks", "rank": 1]], alice))
            let b = id(try await memory.call("memory_write", ["type": "episodic", "text": "tea party", "metadata": ["topic": "events"]], alice))
            let c = id(try await memory.call("memory_write", ["type": "archival", "text": "tea history", "scope": "role"], alice))
            func search(_ filters: JSONValue) async throws -> [String] {
                ids(try await memory.call("memory_search", ["query": "tea", "filters": filters], alice)).sorted()
            }
            #expect(try await search(["type": "core"]) == [a])
            #expect(try await search(["types": ["core", "archival"]]) == [a, c].sorted())
            #expect(try await search(["scope": "role"]) == [c])
            #expect(try await search(["metadata": ["topic": "events"]]) == [b])
            #expect(try await search(["metadata": ["rank": 1]]) == [a])
            let got = try await memory.call("memory_get", ["id": .string(a)], alice).structuredContent
            #expect(got?["metadata"] == ["topic": "drinks", "rank": 1])
        }
    }

    @Test(arguments: MemoryBackend.allCases) func badInputGetsAClearError(backend: MemoryBackend) async throws {
        try await withMemory(backend) { memory, _ in
            let cases: [(JSONValue, String)] = [
                (["type": "core", "text": "   "], "text: must not be empty"),
                (["type": "core", "text": .string(String(repeating: "x", count: 70_000))], "text: 70000 bytes is over the limit of 65536 (plugins.memory.max_text_bytes)"),
                (["type": "semantic", "text": "x"], "type: expected core, episodic or archival, got 'semantic'"),
                (["type": "core", "text": "x", "scope": "team"], "scope: expected agent, role, group or global, got 'team'"),
                (["type": "core", "text": "x", "importance": 2], "importance: expected 0.0 to 1.0, got 2.0"),
            ]
            for (arguments, message) in cases {
                await #expect { try await memory.call("memory_write", arguments, alice) } throws: { error in
                    (error as? ToolError)?.message == message
                }
            }
            await #expect { try await memory.call("memory_get", ["id": "42"], alice) } throws: { error in
                (error as? ToolError)?.message == "id: '42' is not a memory id (they look like mem_42)"
            }
            await #expect { try await memory.call("memory_search", ["query": "!!!"], alice) } throws: { error in
                (error as? ToolError)?.message == "query: must contain at least one word"
            }
        }
    }
}
