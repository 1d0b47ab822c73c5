import Base
import Foundation
import Logging
import Plugins
import Registry
import Testing
@testable import Host

/// A clock the test moves by hand: expiry without sleeping.
final class HandClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date()
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// A router over `ProbePlugin` whose `approve_me` asks, with its own approval desk on `clock`.
func approvalRouter(_ dir: String, manifest: String = probeManifest, clock: HandClock = HandClock(),
                    registry: RegistryDatabase? = nil) throws -> (ToolRouter, RegistryDatabase, ApprovalDesk) {
    let registry = try registry ?? RegistryDatabase(path: dir + "/registry.db")
    let parsed = try ManifestLoader.parse(manifest, file: "registry.yaml", environment: [:])
    let logger = Logger(label: "test")
    let recorder = TraceRecorder(registry: registry, logger: logger)
    let desk = ApprovalDesk(registry: registry, recorder: recorder, logger: logger, poll: .milliseconds(50), now: { clock.now })
    var settings = ToolRouter.Settings()
    settings.maxPending = parsed.policy.maxPending
    settings.grantDuration = parsed.policy.grantDuration
    let router = try ToolRouter(plugins: [ProbePlugin()], policy: PolicyEngine(manifest: parsed), recorder: recorder, settings: settings,
                                approvals: desk, logger: logger, permissions: { _ in UnrestrictedPermissions() })
    return (router, registry, desk)
}

/// Waits until `count` requests are pending, and returns them (newest first).
func pendingApprovals(_ registry: RegistryDatabase, count: Int = 1) async throws -> [ApprovalRecord] {
    for _ in 0..<600 {
        let pending = try registry.approvals(status: .pending)
        if pending.count >= count { return pending }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw HTTPTestError("no pending approval request appeared")
}

/// Calls `approve_me` in session `s`, approves it for `scope` as an operator, and waits for the call.
func callApproved(for scope: ApprovalScope, _ router: ToolRouter, _ registry: RegistryDatabase,
                  _ desk: ApprovalDesk) async throws -> (request: ApprovalRecord, grant: ApprovalGrantRecord?) {
    let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s") }
    let request = try #require(try await pendingApprovals(registry).first)
    let decision = await desk.decide(request.id, approve(scope))
    #expect(await call.value.status == .succeeded)
    guard case .success(.decided(_, let grant)) = decision else { throw HTTPTestError("not decided: \(decision)") }
    return (request, grant)
}

func approve(_ scope: ApprovalScope = .call, by: String = "cli:ops") -> ApprovalAnswer {
    ApprovalAnswer(granted: true, by: by, via: "cli", reason: "fine", scope: scope,
                   grantExpiresAt: scope == .call ? nil : Date().addingTimeInterval(3600))
}

/// Calls whose policy decision is `ask`: a stored request, the first answer from anyone, expiry,
/// withdrawal, lasting grants, and the trace they leave.
@Suite struct ApprovalTests {
    @Test func aCallThatAsksWaitsAndRunsOnceAnOperatorApproves() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            #expect(router.tools(for: worker).map(\.descriptor.name).contains("approve_me"))
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s1") }
            let request = try #require(try await pendingApprovals(registry).first)
            #expect(request.tool == "approve_me" && request.agent == "agent-1" && request.role == "worker" && request.session == "s1")
            #expect(request.rule == "registry.yaml:6:7" && request.arguments == "{}")
            #expect(request.expiresAt.timeIntervalSince(request.createdAt) == 300)
            guard case .success(.decided(let record, nil)) = await desk.decide(request.id, approve()) else { Issue.record("not decided"); return }
            #expect(record.status == .granted && record.decidedBy == "cli:ops" && record.scope == .call)
            let outcome = await call.value
            #expect(outcome.status == .succeeded && outcome.result.structuredContent == [:])
            await router.recorder.flush()
            let types = try registry.traceEvents(TraceQuery(session: "s1")).map(\.type)
            // The call records its own events in order. The answerer records `approval.resolved` from
            // another task once its answer is stored, and it may answer the moment the request is
            // visible in the registry: before the call has queued `approval.requested`, even.
            #expect(types.count == 5, "\(types)")
            #expect(types.filter { $0 != "approval.resolved" } == ["tool.called", "approval.requested", "approval.granted", "tool.result"], "\(types)")
            #expect(types.filter { $0 == "approval.resolved" }.count == 1 && types.first == "tool.called", "\(types)")
        }
    }

    @Test func anAnswerThatComesBeforeTheCallStartsToWaitIsSeenAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, _) = try approvalRouter(dir)
            // Another process answers between the request being stored and the call starting to
            // wait: no in-process signal fires, and the mark has already moved when the waiter looks.
            let outcome = LockedValue<ToolCallOutcome?>(nil)
            // The desk's clock never moves here, so a waiter that missed the answer waits forever: a
            // minute tells that from a machine busy with the whole suite (one CI run took 20 s and more).
            let finished = await finishes(within: .seconds(60)) {
                let ended = await router.call("approve_me", arguments: nil, caller: worker, session: "early", approval: .wait(announce: { prompt in
                    _ = try? registry.decideApproval(prompt.id, approve(), grantId: "grt_early")
                }))
                outcome.value = ended
            }
            #expect(finished, "the call kept waiting for an answer it already had (the desk's clock never reaches the expiry)")
            #expect(outcome.value?.status == .succeeded)
        }
    }

    @Test func aDeniedCallEndsWithAnErrorThatSaysWhoDeniedItAndWhy() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s") }
            let request = try #require(try await pendingApprovals(registry).first)
            _ = await desk.decide(request.id, ApprovalAnswer(granted: false, by: "http:boss", via: "http", reason: "not today"))
            let outcome = await call.value
            #expect(outcome.status == .blocked && outcome.reason == "approval_denied")
            #expect(outcome.result.text == "The call to approve_me was denied by http:boss (approval \(request.id)): not today.")
            await router.recorder.flush()
            let denied = try #require(try registry.traceEvents(TraceQuery(types: ["approval.denied"])).first)
            #expect(denied.detail?["by"] == "http:boss" && denied.detail?["via"] == "http" && denied.spanId == outcome.spanId)
        }
    }

    @Test func aRequestNobodyAnswersExpiresAndTheCallSaysSo() async throws {
        try await withTemporaryDirectory { dir in
            let clock = HandClock()
            let (router, registry, desk) = try approvalRouter(dir, clock: clock)
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s") }
            let request = try #require(try await pendingApprovals(registry).first)
            clock.advance(301)
            desk.changed.fire()
            let outcome = await call.value
            #expect(outcome.status == .blocked && outcome.reason == "approval_expired")
            #expect(outcome.result.text.contains("not approved within 5m (policy.approval_timeout)"))
            #expect(try registry.approval(request.id)?.status == .expired)
            // A late answer changes nothing.
            #expect(await desk.decide(request.id, approve()) == .success(.alreadyResolved(try #require(try registry.approval(request.id)))))
            await router.recorder.flush()
            #expect(try registry.traceEvents(TraceQuery(types: ["approval.expired"])).count == 1)
        }
    }

    @Test func cancellingTheWaitingCallWithdrawsItsRequest() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, _) = try approvalRouter(dir)
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s") }
            let request = try #require(try await pendingApprovals(registry).first)
            call.cancel()
            let outcome = await call.value
            #expect(outcome.status == .failed && outcome.reason == "cancelled")
            let record = try #require(try registry.approval(request.id))
            #expect(record.status == .withdrawn && record.decisionReason == "the caller cancelled the call")
        }
    }

    @Test func aSessionGrantLetsTheNextCallRunWithoutAskingWhileANewSessionIsAskedAgain() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let first = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s1", sessionEnds: true) }
            let request = try #require(try await pendingApprovals(registry).first)
            guard case .success(.decided(_, let grant?)) = await desk.decide(request.id, approve(.session)) else { Issue.record("no grant"); return }
            #expect(grant.scope == .session && grant.session == "s1" && grant.rule == "registry.yaml:6:7")
            #expect(await first.value.status == .succeeded)
            // The same session: runs at once, under the grant.
            #expect(await router.call("approve_me", arguments: nil, caller: worker, session: "s1", sessionEnds: true).status == .succeeded)
            #expect(try registry.approvals().count == 1)
            // Another session is asked.
            let other = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "s2") }
            let second = try #require(try await pendingApprovals(registry).first)
            #expect(second.session == "s2" && second.id != request.id)
            _ = await desk.decide(second.id, ApprovalAnswer(granted: false, by: "cli:ops", via: "cli"))
            #expect(await other.value.reason == "approval_denied")
            await router.recorder.flush()
            let viaGrant = try registry.traceEvents(TraceQuery(types: ["approval.granted"])).filter { $0.detail?["via"] == "grant" }
            #expect(viaGrant.count == 1 && viaGrant[0].detail?["grant_id"] == .string(grant.id))
        }
    }

    @Test func aRevokedGrantAsksAgain() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let (request, granted) = try await callApproved(for: .agent, router, registry, desk)
            let grant = try #require(granted)
            #expect(await router.call("approve_me", arguments: nil, caller: worker, session: "other").status == .succeeded)
            #expect(try registry.revokeApprovalGrant(grant.id, by: "cli:ops", reason: "enough")?.status() == "revoked")
            let again = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "other") }
            let asked = try #require(try await pendingApprovals(registry).first)
            #expect(asked.id != request.id)
            again.cancel()
            _ = await again.value
        }
    }

    @Test func aGrantEndsWhenTheRuleThatAskedChangesAndNeverWidensADeny() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            _ = try await callApproved(for: .agent, router, registry, desk)
            // The same registry under a manifest where the role asks instead: the grant does not match.
            let moved = probeManifest.replacingOccurrences(of: "    - ask: [approve_me]\n", with: "")
                .replacingOccurrences(of: "worker: {}", with: "worker: { ask: [approve_me] }")
            let (reloaded, _, _) = try approvalRouter(dir, manifest: moved, registry: registry)
            let asked = Task { await reloaded.call("approve_me", arguments: nil, caller: worker, session: "s") }
            _ = try await pendingApprovals(registry)
            asked.cancel()
            _ = await asked.value
            // A deny wins whatever grants exist.
            let denying = probeManifest.replacingOccurrences(of: "worker: {}", with: "worker: { deny: [approve_me] }")
            let (denied, _, _) = try approvalRouter(dir, manifest: denying, registry: registry)
            #expect(await denied.call("approve_me", arguments: nil, caller: worker, session: "s").reason == "denied")
        }
    }

    @Test func aReloadRevokesTheGrantsOfARuleThatChanged() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            _ = try await callApproved(for: .agent, router, registry, desk)
            let moved = probeManifest.replacingOccurrences(of: "- ask: [approve_me]", with: "- allow: [approve_me]")
            let (reloaded, _, _) = try approvalRouter(dir, manifest: moved, registry: registry)
            let manifest = try ManifestLoader.parse(moved, file: "registry.yaml", environment: [:])
            let snapshot = HostSnapshot(revision: "r2", manifest: manifest,
                                        tools: ToolHost(router: reloaded, identity: CallerIdentity(manifest: manifest), plugins: []), loadedAt: Date())
            await desk.revokeStaleGrants(under: snapshot)
            let grants = try registry.approvalGrants(all: true)
            #expect(grants.count == 1 && grants[0].status() == "revoked" && grants[0].revokeReason == "the rule that asked changed in revision r2")
        }
    }

    @Test func twoApproversAnsweringAtOnceRecordExactlyOneDecisionAndTheCallRunsOnce() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            let call = Task { await router.call("approve_me", arguments: nil, caller: worker, session: "race") }
            let request = try #require(try await pendingApprovals(registry).first)
            let results = await withTaskGroup(of: ApprovalDecision?.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        let answer = i % 2 == 0 ? approve(by: "approver-\(i)") : ApprovalAnswer(granted: false, by: "approver-\(i)", via: "http")
                        return try? await desk.decide(request.id, answer).get()
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.compactMap { result -> ApprovalRecord? in if case .decided(let r, _)? = result { return r } else { return nil } }
            #expect(winners.count == 1)
            #expect(results.allSatisfy { if case .alreadyResolved? = $0 { return true }; if case .decided? = $0 { return true }; return false })
            let outcome = await call.value
            #expect(outcome.status == (winners[0].status == .granted ? .succeeded : .blocked))
            await router.recorder.flush()
            #expect(try registry.traceEvents(TraceQuery(session: "race", types: ["approval.resolved"])).count == 1)
            #expect(try registry.traceEvents(TraceQuery(session: "race", types: ["tool.result"])).count == (winners[0].status == .granted ? 1 : 0))
        }
    }

    @Test func theCallersClientIsAskedAndItsAnswerRacesTheOperators() async throws {
        try await withTemporaryDirectory { dir in
            let (router, registry, desk) = try approvalRouter(dir)
            // A client that answers: its accept runs the call.
            let accepted = await router.call("approve_me", arguments: nil, caller: worker, session: "c1", approval: .wait(asking: { prompt in
                #expect(prompt.tool == "approve_me" && prompt.rule == "registry.yaml:6:7")
                return ApprovalAnswer(granted: true, by: "client:agent-1", via: "elicitation")
            }))
            #expect(accepted.status == .succeeded)
            // A client that never answers: an operator decides, and the client's question is withdrawn.
            let withdrawn = LockedValue(false)
            let call = Task {
                await router.call("approve_me", arguments: nil, caller: worker, session: "c2", approval: .wait(asking: { _ in
                    do { try await Task.sleep(for: .seconds(3600)) } catch { withdrawn.value = true }
                    return nil
                }))
            }
            let request = try #require(try await pendingApprovals(registry).first { $0.session == "c2" })
            _ = await desk.decide(request.id, approve())
            #expect(await call.value.status == .succeeded)
            for _ in 0..<200 where !withdrawn.value { try await Task.sleep(for: .milliseconds(10)) }
            #expect(withdrawn.value)
            #expect(try registry.approval(request.id)?.decidedBy == "cli:ops")
        }
    }
}
