import Foundation
import Plugins
import Registry
import Testing
@testable import Host

/// What traces keep from a caller: capped names, redacted messages, content as size and digest.
@Suite struct TraceConfidentialityTests {
    static let manifest = """
        version: 1
        policy:
          default: deny
          rules:
            - allow: [memory_write, memory_get, write_file]
        roles:
          agent: {}
        plugins:
          memory: {}
          file: { roots: [./files] }
        """

    func withTools(_ body: (HostContext, ToolHost) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            try write(Self.manifest, to: "registry.yaml", in: dir)
            try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
            let context = try HostContext.open(configPath: dir + "/registry.yaml", logger: .init(label: "test"), environment: [:])
            try await body(context, try context.tools())
        }
    }

    func events(_ context: HostContext, _ tools: ToolHost) async throws -> [TraceEvent] {
        await tools.router.recorder.flush()
        return try context.db.traceEvents(TraceQuery(limit: 5000))
    }

    @Test func aHugeToolNameIsStoredCappedAndNotEchoedInFull() async throws {
        try await withTools { context, tools in
            let name = String(repeating: "x", count: 1_000_000)
            let outcome = await tools.router.call(name, arguments: [:], caller: ToolCaller(agent: String(repeating: "a", count: 100_000), role: "agent"),
                                                  session: String(repeating: "s", count: 100_000))
            #expect(outcome.status == .blocked)
            #expect(outcome.result.text.utf8.count < 1000)
            for event in try await events(context, tools) {
                #expect(event.tool.utf8.count < 400 && event.agent.utf8.count < 400 && event.session.utf8.count < 400)
            }
        }
    }

    @Test func storedContentIsTracedAsItsSizeAndDigestNeverItsText() async throws {
        try await withTools { context, tools in
            let caller = ToolCaller(agent: "writer", role: "agent")
            let secretText = "my private diary entry about the merger"
            _ = await tools.router.call("memory_write", arguments: ["type": "episodic", "text": .string(secretText), "metadata": ["topic": "merger"]],
                                        caller: caller, session: "s")
            _ = await tools.router.call("write_file", arguments: ["path": "notes.txt", "content": .string(secretText)], caller: caller, session: "s")
            let stored = try await events(context, tools).map { $0.json.jsonText }.joined(separator: "\n")
            #expect(!stored.contains("private diary") && !stored.contains("merger"))
            #expect(stored.contains("sha256"))
        }
    }

    @Test func errorMessagesInTracesAreRedactedLikeArguments() async throws {
        try await withTools { context, tools in
            let token = "ghp_" + String(repeating: "Z9", count: 18)
            let outcome = await tools.router.call("memory_get", arguments: ["id": .string(token)], caller: ToolCaller(agent: "a", role: "agent"), session: "s")
            #expect(outcome.status == .failed)
            let stored = try await events(context, tools).map { $0.json.jsonText }.joined(separator: "\n")
            #expect(!stored.contains(token), "\(stored)")
        }
    }

    @Test func aDeclaredAgentCannotBeRunWithAnotherRoleOrGroup() throws {
        let manifest = try ManifestLoader.parse("""
            version: 1
            roles: { lead: {}, helper: {} }
            groups: { team: { members: [lead, helper] } }
            agents: { bot1: { role: helper } }
            """)
        let identity = CallerIdentity(manifest: manifest)
        #expect(throws: HostError.self) { try identity.caller(agent: "bot1", role: "lead", group: nil) }
        #expect(throws: HostError.self) { try identity.caller(agent: "bot1", role: nil, group: "team") }
        #expect(try identity.caller(agent: "bot1", role: "helper", group: nil).role == "helper")
        #expect(try identity.caller(agent: "bot1", role: nil, group: nil).role == "helper")
        #expect(try identity.caller(agent: "someone", role: "lead", group: "team").group == "team")
    }
}
