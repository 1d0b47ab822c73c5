import Base
import Core
import Foundation
import Host
import Logging
import Plugins
import Registry
import RegistryPostgres
import Testing
import TestSupport

/// Two hosts' routers on one PostgreSQL: a `memory_write` that asks waits on host A, an operator
/// answers it on host B, and the call on A runs; the agent grant it left lets A's next call run at
/// once. Everything (the request, the answer, the grant, the memory, the trace) is in PostgreSQL.
@Suite(.serialized) struct PostgresHostApprovalTests {
    static let logger = Logger(label: "test")
    static let manifest = """
        version: 1
        policy:
          default: deny
          client_grants: agent
          rules:
            - allow: [memory_get, memory_search]
            - ask: [memory_write]
        plugins:
          memory: {}
        """

    func host(_ registry: PostgresRegistry) throws -> ToolHost {
        let parsed = try ManifestLoader.parse(Self.manifest, file: "registry.yaml", environment: [:])
        let recorder = TraceRecorder(sink: registry, logger: Self.logger)
        let desk = ApprovalDesk(ledger: registry, recorder: recorder, logger: Self.logger)
        return try ToolHost(manifest: parsed, stores: ToolStores(memory: registry, events: registry, skills: registry, pins: nil),
                            recorder: recorder, approvals: desk, logger: Self.logger)
    }

    @Test func aCallWaitingOnHostAIsReleasedByAnAnswerOnHostB() async throws {
        guard case .postgres(let location) = try RegistryLocation.parse(try await PrivatePostgres.sharedDatabase()) else { return }
        let a = try await PostgresRegistry.open(location, logger: Self.logger), b = try await PostgresRegistry.open(location, logger: Self.logger)
        defer { a.close(); b.close() }
        let hostA = try host(a), hostB = try host(b)
        let caller = ToolCaller(agent: "ada")
        let waiting = Task { await hostA.router.call("memory_write", arguments: ["type": "core", "text": "approved across hosts"], caller: caller, session: "s1") }

        var pending: [ApprovalRecord] = []
        for _ in 0..<600 where pending.isEmpty {
            pending = try await hostB.router.approvals.book.requests(status: .pending, agent: nil)
            if pending.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        let request = try #require(pending.first, "host B never saw host A's request")
        #expect(request.tool == "memory_write" && request.agent == "ada")
        let answered = ContinuousClock.now
        let decision = await hostB.router.approvals.decide(request.id, ApprovalAnswer(granted: true, by: "cli:ops", via: "cli", scope: .agent,
                                                                                         grantExpiresAt: Date().addingTimeInterval(3600)))
        guard case .success(.decided(_, let grant)) = decision else { Issue.record("not decided: \(decision)"); return }
        #expect(grant?.scope == .agent)
        let outcome = await waiting.value
        print("host A's call ran \(ContinuousClock.now - answered) after host B's answer")
        #expect(outcome.status == .succeeded, "\(outcome.result)")

        // The agent grant, made on B, lets A's next call run without asking.
        let next = await hostA.router.call("memory_write", arguments: ["type": "core", "text": "under the grant"], caller: caller, session: "s2")
        #expect(next.status == .succeeded, "\(next.result)")
        let found = await hostB.router.call("memory_search", arguments: ["query": "grant"], caller: caller, session: "s3")
        #expect(found.status == .succeeded && found.result.text.contains("under the **grant**"), "\(found.result.text)")

        await hostA.router.recorder.flush()
        await hostB.router.recorder.flush()
        let types = try await a.events(TraceQuery(types: ["approval.requested", "approval.resolved", "approval.granted"], limit: 50)).map(\.type)
        #expect(types.contains("approval.requested") && types.contains("approval.resolved") && types.filter { $0 == "approval.granted" }.count == 2,
                "\(types)")
    }
}
