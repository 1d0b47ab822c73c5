import Base
import Foundation
import Logging
import Plugins
import Registry
import Testing
@testable import Host

/// Who may answer a request and what an answer may grant: the rule that asks decides, the caller's
/// client grants at most what the rule allows (one call by default), `session` exists only where a
/// session ends, every grant ends, one approval runs one call, and one agent cannot flood the queue.
@Suite struct ApprovalRightsTests {
    /// A client that accepts every question for `scope`.
    static func accepting(_ scope: ApprovalScope, asked: LockedValue<[ApprovalPrompt]> = LockedValue([])) -> ToolApprover {
        { prompt in
            asked.mutate { $0.append(prompt) }
            return ApprovalAnswer(granted: true, by: "client:agent-1", via: "elicitation", scope: scope, grantExpiresAt: Date().addingTimeInterval(86_400))
        }
    }

    @Test func byDefaultTheCallersClientApprovesOneCallAndItsAskForALastingGrantIsLowered() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, _) = try approvalRouter(dir)
            let asked = LockedValue<[ApprovalPrompt]>([])
            let first = await router.call("approve_me", arguments: nil, caller: worker, session: "s1", sessionEnds: true,
                                          approval: .wait(asking: Self.accepting(.agent, asked: asked)))
            #expect(first.status == .succeeded)
            #expect(asked.value.first?.scopes == [.call], "the client is offered only what it may grant")
            #expect(try registry.approvalGrants().isEmpty, "no lasting grant from the caller's own client")
            #expect(try registry.approvals().first?.scope == .call)
            // The next call is asked again.
            _ = await router.call("approve_me", arguments: nil, caller: worker, session: "s1", sessionEnds: true, approval: .wait(asking: Self.accepting(.agent, asked: asked)))
            #expect(asked.value.count == 2)
        }
    }

    @Test func aRuleWithApproversOperatorNeverAsksTheClientAndRefusesItsAnswer() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = probeManifest.replacingOccurrences(of: "    - ask: [approve_me]\n", with: "    - ask: [approve_me]\n      approvers: operator\n")
            let (router, registry, desk) = try approvalRouter(dir, manifest: manifest)
            let asked = LockedValue<[ApprovalPrompt]>([])
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s", approval: .wait(asking: Self.accepting(.call, asked: asked))) }
            let request = try #require(try await pendingApprovals(registry).first)
            #expect(request.approvers == .operator)
            // The caller's client answering (as over stateless MCP) is refused; nothing changes.
            let selfAnswer = ApprovalAnswer(granted: true, by: "client:agent-1", via: "elicitation", scope: .call)
            guard case .success(.refused(_, let reason)) = await desk.decide(request.id, selfAnswer) else { Issue.record("the client's answer was not refused"); return }
            #expect(reason.contains("operator"))
            #expect(try registry.approval(request.id)?.status == .pending)
            _ = await desk.decide(request.id, approve(.call))
            #expect(await call.value.status == .succeeded)
            #expect(asked.value.isEmpty, "the client was asked although only operators answer")
        }
    }

    @Test func aHighRiskToolIsAnsweredByOperatorsUnlessItsRuleSaysOtherwise() throws {
        let text = """
            version: 1
            policy:
              risk: { "danger*": high }
              rules:
                - ask: [danger_one]
                - ask: [danger_two]
                  approvers: any
                  client_grants: session
                - ask: [calm]
            roles:
              worker: {}
            """
        let manifest = try ManifestLoader.parse(text, file: "registry.yaml", environment: [:])
        let engine = PolicyEngine(manifest: manifest)
        func rights(_ tool: String) -> (ApprovalApprovers, ApprovalScope) {
            let r = engine.approvalRights(engine.decide(tool, declaredRisk: nil, role: "worker", group: nil))
            return (r.approvers, r.clientGrants)
        }
        #expect(rights("danger_one") == (.operator, .call))
        #expect(rights("danger_two") == (.any, .session))
        #expect(rights("calm") == (.any, .call))
    }

    @Test func approversAndClientGrantsBelongToAskRulesAndTakeKnownWords() throws {
        let text = """
            version: 1
            policy:
              rules:
                - allow: [a]
                  approvers: operator
                - ask: [b]
                  client_grants: forever
            roles:
              worker: {}
            """
        #expect { try ManifestLoader.parse(text, file: "registry.yaml", environment: [:]) } throws: { error in
            let message = "\(error)"
            return message.contains("registry.yaml:5:") && message.contains("approvers is for ask rules")
                && message.contains("registry.yaml:7:") && message.contains("client_grants")
        }
    }

    @Test func aSessionScopeIsRefusedWhereNoSessionEndsAndEveryGrantEnds() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            // A REST caller: its session never ends, so no session grant.
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "http:agent-1") }
            let request = try #require(try await pendingApprovals(registry).first)
            #expect(!request.sessionEnds && request.scopes(client: false) == [.call, .agent])
            guard case .success(.refused(_, let reason)) = await desk.decide(request.id, approve(.session)) else { Issue.record("a session grant was made"); return }
            #expect(reason.contains("without a session that ends"))
            // A lasting grant without an end is refused too.
            let endless = ApprovalAnswer(granted: true, by: "cli:ops", via: "cli", scope: .agent, grantExpiresAt: nil)
            guard case .success(.refused) = await desk.decide(request.id, endless) else { Issue.record("an endless grant was made"); return }
            _ = await desk.decide(request.id, approve(.agent))
            #expect(await call.value.status == .succeeded)
            #expect(try registry.approvalGrants().allSatisfy { $0.expiresAt != nil })
            // The operator's form gives a session grant an end as well.
            let form = try ApprovalAnswerForm(granted: true, scope: "session").answer(by: "cli:ops", via: "cli", manifest: try ManifestLoader.parse(probeManifest, file: "registry.yaml", environment: [:]))
            #expect(form.grantExpiresAt != nil)
        }
    }

    @Test func aSessionGrantEndsWithItsSession() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "mcp-1", sessionEnds: true) }
            let request = try #require(try await pendingApprovals(registry).first)
            _ = await desk.decide(request.id, approve(.session))
            _ = await call.value
            #expect(try registry.approvalGrants().count == 1)
            #expect(try registry.revokeSessionGrants("mcp-1", reason: "the session ended") == 1)
            #expect(try registry.approvalGrants().isEmpty)
        }
    }

    @Test func oneApprovalRunsOneCallWhenAStatelessRetryReplaysTheRequestAWaitingCallStandsOn() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let waiting = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "http:agent-1") }
            let request = try #require(try await pendingApprovals(registry).first)
            // The same agent replays the waiting call's id with an answer, as a stateless MCP retry.
            let replay = await router.call("approve_me", arguments: nil, caller: worker, session: "once",
                                          approval: .resume(DeferredApproval(requestState: request.id, answer: ApprovalAnswer(granted: true, by: "client:agent-1", via: "elicitation"))))
            #expect(replay.status == .awaitingApproval, "the replay must not run: \(replay.result.text)")
            #expect(try registry.approval(request.id)?.status == .pending, "the replay must not answer the waiting call's request")
            _ = await desk.decide(request.id, approve(.call))
            #expect(await waiting.value.status == .succeeded)
            await router.recorder.flush()
            let runs = try registry.traceEvents(TraceQuery(types: ["tool.result"])).filter { $0.tool == "approve_me" }
            #expect(runs.count == 1)
        }
    }

    @Test func anOperatorOnlyRequestAskedWithoutWaitingRunsWhenTheSameCallComesBackApproved() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = probeManifest.replacingOccurrences(of: "    - ask: [approve_me]\n", with: "    - ask: [approve_me]\n      approvers: operator\n")
            let (router, registry, desk) = try approvalRouter(dir, manifest: manifest)
            let deferred = DeferredApproval(requestState: nil, answer: nil)
            let first = await router.call("approve_me", arguments: ["x": 1], caller: worker, session: "once-1", approval: .resume(deferred))
            #expect(first.status == .awaitingApproval && first.result.text.contains("agenthub approvals approve"))
            let again = await router.call("approve_me", arguments: ["x": 1], caller: worker, session: "once-2", approval: .resume(deferred))
            #expect(again.status == .awaitingApproval)
            let pending = try registry.approvals(status: .pending)
            #expect(pending.count == 1, "the same call asks once")
            _ = await desk.decide(pending[0].id, approve(.call))
            #expect(await router.call("approve_me", arguments: ["x": 1], caller: worker, session: "once-3", approval: .resume(deferred)).status == .succeeded)
            #expect(await router.call("approve_me", arguments: ["x": 1], caller: worker, session: "once-4", approval: .resume(deferred)).status == .awaitingApproval,
                    "one approval, one call")
        }
    }

    @Test func oneAgentCannotFloodTheQueueAndTheListPagesBack() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = probeManifest.replacingOccurrences(of: "  default: deny\n", with: "  default: deny\n  max_pending: 3\n")
            let (router, registry, _) = try approvalRouter(dir, manifest: manifest)
            let deferred = DeferredApproval(requestState: nil, answer: nil)
            for n in 0..<3 {
                #expect(await router.call("approve_me", arguments: ["n": .int(n)], caller: worker, session: "s", approval: .resume(deferred)).status == .awaitingApproval)
            }
            let refused = await router.call("approve_me", arguments: ["n": 9], caller: worker, session: "s", approval: .resume(deferred))
            #expect(refused.status == .blocked && refused.reason == "approval_limit" && refused.result.text.contains("policy.max_pending"))
            // Another agent still asks.
            let other = ToolCaller(agent: "agent-2", role: "worker")
            #expect(await router.call("approve_me", arguments: nil, caller: other, session: "s", approval: .resume(deferred)).status == .awaitingApproval)
            // Paging: two pages of two and one, every request once.
            let page1 = try registry.approvals(limit: 2)
            try #require(page1.count == 2)
            let page2 = try registry.approvals(before: page1.last?.id, limit: 2)
            let page3 = try registry.approvals(before: page2.last?.id, limit: 2)
            #expect(Set((page1 + page2 + page3).map(\.id)).count == 4 && page3.isEmpty)
        }
    }

    @Test func aRESTCallerOverItsPendingLimitIsToldSoNotThatTheToolIsMissing() async throws {
        try await withTemporaryDirectory { dir in
            let manifest = ApprovalInteropTests.askingManifest.replacingOccurrences(of: "  default: deny\n", with: "  default: deny\n  max_pending: 1\n")
            let api = try await APIHost.start(dir, manifest: manifest)
            let waiting = Task { await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments": {"type": "core", "text": "one"}}"#) }
            let registry = try RegistryDatabase(path: dir + "/registry.db", access: .readOnly)
            _ = try await pendingApprovals(registry)
            let over = await api.call("POST", "/v1/tools/memory_write/call", as: "writer", body: #"{"arguments": {"type": "core", "text": "two"}}"#)
            #expect(over.status == 429 && over.body.contains("max_pending"), "\(over.status) \(over.body)")
            waiting.cancel()
        }
    }
}
