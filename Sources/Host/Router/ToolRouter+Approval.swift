import Base
import Foundation
import Plugins
import Registry

extension ToolRouter {
    /// What the approval step lets a call do.
    enum ApprovalGate {
        case proceed
        case stop(ToolCallOutcome.Status, ToolResult, reason: String, detail: JSONValue)
        /// `deferred`: the client is to answer this question and call again.
        case inputRequired(ApprovalPrompt)
    }

    /// A call whose decision is `ask`: runs at once under a lasting grant for the same rule;
    /// otherwise stores an approval request and, as `mode` says, waits for the first answer from
    /// anyone (asking the caller's client when it can answer), the request's expiry, or the
    /// caller's cancellation (which withdraws it); or resumes a deferred request.
    func approve(_ name: String, arguments: JSONValue, verdict: PolicyVerdict, caller: ToolCaller, session: String,
                 sessionEnds: Bool, span: String, mode: ApprovalMode) async -> ApprovalGate {
        var approver: ToolApprover?, deferred: DeferredApproval?, waiting: (@Sendable (ApprovalPrompt) -> Void)?
        switch mode {
        case .wait(let asking, let announce): (approver, waiting) = (asking, announce)
        case .resume(let resumed): deferred = resumed
        }
        let desk = approvals
        let ruleKey = Self.ruleKey(verdict)
        let rule = ruleLocation(verdict)
        let storedName = TraceRedaction.name(name)
        let agent = TraceRedaction.name(caller.agent)
        if let grant = await desk.activeGrant(tool: storedName, agent: agent, session: TraceRedaction.name(session), ruleKey: ruleKey) {
            record("approval.granted", name, caller, session, span, [
                "approval_id": .string(grant.approvalId), "grant_id": .string(grant.id), "scope": .string(grant.scope.rawValue),
                "by": .string(grant.grantedBy), "via": "grant",
            ])
            return .proceed
        }
        let digest = ApprovalDesk.digest(arguments)
        let rights = policy.approvalRights(verdict)
        if let deferred {
            // A 2026-07-28 call does not wait: it resumes the request it was asked about (its
            // `requestState`), or the same call's request still open, with the client's answer if any.
            // Only requests asked this way resume: a request a waiting call (REST, stdio) stands on never runs a second call.
            var resumed: ApprovalRecord?
            if let state = deferred.requestState, let read = await desk.read(state) { resumed = read }
            if resumed == nil { resumed = await desk.openDeferred(agent: agent, tool: storedName, argumentsDigest: digest, ruleKey: ruleKey,
                                                                    keep: .seconds(settings.approvalTimeout.seconds)) }
            if let resumed, resumed.deferred, resumed.agent == agent, resumed.tool == storedName, resumed.argumentsDigest == digest, resumed.ruleKey == ruleKey {
                if resumed.status == .pending, let answer = deferred.answer {
                    if case .success(.refused(_, let reason)) = await desk.decide(resumed.id, clientAnswer(answer, for: resumed)) {
                        logger.notice("a client's answer was refused", metadata: ["host.approval": "\(resumed.id)", "host.reason": "\(reason)"])
                    }
                }
                let current = await desk.read(resumed.id) ?? resumed
                switch current.status {
                case .pending:
                    guard current.expiresAt <= desk.now() else { return waitingGate(for: current) }
                    await desk.close(current, .expired, reason: "no answer within policy.approval_timeout")
                    return conclude(await desk.read(current.id) ?? current, name, caller, session, span)
                case .granted:
                    // One approval, one run: a replayed requestState is a new call, asked anew below.
                    if await desk.consume(current.id) { return conclude(current, name, caller, session, span) }
                case .denied, .expired:
                    if deferred.requestState == current.id { return conclude(current, name, caller, session, span) }
                case .withdrawn: break
                }
            }
        }
        // Secrets are redacted; content arguments stay readable (capped): an approver must see what they approve.
        let redacted = TraceRedaction.forTrace(arguments, content: [], maxBytes: settings.maxTraceArgumentBytes)
        let now = desk.now()
        var draft = ApprovalRecord(
            id: "apr_" + ApprovalDesk.randomId(), tool: storedName, arguments: redacted.jsonText, argumentsDigest: digest,
            agent: agent, role: caller.role, group: caller.group, session: TraceRedaction.name(session), spanId: span,
            rule: rule, ruleKey: ruleKey, policyReason: verdict.reason, revision: settings.revision, hostId: desk.hostId,
            createdAt: now, expiresAt: now.addingTimeInterval(settings.approvalTimeout.seconds))
        draft.approvers = rights.approvers
        draft.clientScope = rights.clientGrants
        draft.sessionEnds = sessionEnds
        draft.deferred = deferred != nil
        let opened: ApprovalRecord
        do throws(RegistryError) { opened = try await desk.open(draft, maxPending: settings.maxPending).record } catch {
            if error.code == .limit {
                return .stop(.blocked, .error("\(name) needs approval, and \(error.message)."), reason: "approval_limit",
                             detail: ["error": "approval_limit", "message": .string(TraceRedaction.message(error.message))])
            }
            logger.error("approval request not stored", metadata: ["host.tool": "\(storedName)", "host.error": "\(error.message)"])
            return .stop(.failed, .error("\(name) needs approval, and the request could not be stored (\(error.code.rawValue)); try again."),
                         reason: ToolError.Code.failed.rawValue, detail: ["error": "approval_unavailable", "message": .string(TraceRedaction.message(error.message))])
        }
        if deferred != nil { return waitingGate(for: opened) }
        // Said once: to the person at the terminal when there is one (`waiting`), else in the host's log.
        logger.log(level: waiting == nil ? .notice : .info, "call waits for approval", metadata: [
            "host.tool": "\(storedName)", "host.agent": "\(draft.agent)", "host.approval": "\(opened.id)", "host.rule": "\(rule)",
            "host.hint": "agenthub approvals approve \(opened.id)"])
        let question = prompt(for: opened)
        waiting?(question)
        var elicit: (@Sendable () async -> ApprovalAnswer?)?
        if let approver, opened.approvers.admits(client: true) {
            elicit = { [self] in await approver(question).map { self.clientAnswer($0, for: opened) } }
        }
        let ended = await desk.wait(for: opened, elicit: elicit)
        if ended.status == .granted, await !desk.consume(ended.id) {
            // Another call ran on this approval first: one approval, one call, whatever the fronts.
            record("approval.used", name, caller, session, span, ["approval_id": .string(ended.id), "reason": "another call ran on this approval"])
            return .stop(.blocked, .error("The approval \(ended.id) for \(storedName) was already used by another call; call again to ask anew."),
                         reason: "approval_used", detail: ["approval_id": .string(ended.id), "reason": "approval already used"])
        }
        return conclude(ended, name, caller, session, span)
    }

    /// What a deferred call answers while its request is pending: the question, when the caller's
    /// client may answer it; else that it waits for an operator (the same call again resumes it).
    func waitingGate(for record: ApprovalRecord) -> ApprovalGate {
        if record.approvers.admits(client: true) { return .inputRequired(prompt(for: record)) }
        return .stop(.awaitingApproval, .error("""
            \(record.tool) needs approval from an operator (\(record.rule)); request \(record.id) is pending until \(TraceEvent.timestamp(record.expiresAt)). \
            Once it is approved (agenthub approvals approve \(record.id)), make the same call again.
            """), reason: "approval_pending", detail: ["approval_id": .string(record.id), "reason": "waiting for an operator"])
    }

    /// A client's answer as the request lets it stand: its scope lowered to the longest the rule
    /// lets a client grant (and never `session` where no session ends), every grant with an end.
    func clientAnswer(_ answer: ApprovalAnswer, for record: ApprovalRecord) -> ApprovalAnswer {
        var answer = answer
        answer.via = ApprovalAnswer.clientVia
        guard answer.granted else { answer.scope = .call; return answer }
        let allowed = record.scopes(client: true)
        answer.scope = allowed.last { $0 <= answer.scope } ?? .call
        answer.grantExpiresAt = answer.scope == .call ? nil : approvals.now().addingTimeInterval(settings.grantDuration.seconds)
        return answer
    }

    /// What the client is asked about `record`.
    func prompt(for record: ApprovalRecord) -> ApprovalPrompt {
        ApprovalPrompt(id: record.id, tool: record.tool, arguments: JSONValue.parse(record.arguments) ?? .string(record.arguments), rule: record.rule,
                       expiresAt: record.expiresAt, grantDuration: settings.grantDuration, scopes: record.scopes(client: true))
    }

    /// What an ended request means for its call, recorded in the call's trace.
    func conclude(_ ended: ApprovalRecord, _ name: String, _ caller: ToolCaller, _ session: String, _ span: String) -> ApprovalGate {
        let storedName = TraceRedaction.name(name)
        let base: [String: JSONValue] = ["approval_id": .string(ended.id)]
        func detail(_ extra: [String: JSONValue]) -> JSONValue { .object(base.merging(extra) { a, _ in a }) }
        let by = ended.decidedBy ?? "host"
        let because = ended.decisionReason.map { ": \($0)" } ?? ""
        switch ended.status {
        case .granted:
            var extra: [String: JSONValue] = ["by": .string(by), "via": .string(ended.decidedVia ?? "-"), "scope": .string(ended.scope?.rawValue ?? "call")]
            if let reason = ended.decisionReason { extra["reason"] = .string(TraceRedaction.message(reason)) }
            record("approval.granted", name, caller, session, span, detail(extra))
            return .proceed
        case .denied:
            record("approval.denied", name, caller, session, span, detail(["by": .string(by), "via": .string(ended.decidedVia ?? "-"),
                                                                             "reason": .string(TraceRedaction.message(ended.decisionReason ?? ""))]))
            return .stop(.blocked, .error("The call to \(storedName) was denied by \(by) (approval \(ended.id))\(because)."), reason: "approval_denied",
                         detail: detail(["reason": .string("denied by \(by)")]))
        case .expired:
            record("approval.expired", name, caller, session, span, detail(["timeout": .string(settings.approvalTimeout.text)]))
            return .stop(.blocked, .error("The call to \(storedName) was not approved within \(settings.approvalTimeout.text) (policy.approval_timeout); approval \(ended.id) expired."),
                         reason: "approval_expired", detail: detail(["reason": "expired"]))
        case .withdrawn:
            record("approval.withdrawn", name, caller, session, span, detail(["reason": .string(ended.decisionReason ?? "withdrawn")]))
            return .stop(.failed, .error("The call to \(storedName) was cancelled while it waited for approval \(ended.id)."),
                         reason: ToolError.Code.cancelled.rawValue, detail: detail(["error": "cancelled", "message": "cancelled while waiting for approval"]))
        case .pending:
            return .stop(.failed, .error("The host shut down while the call to \(storedName) waited for approval \(ended.id); the request stays pending: once it is approved, call again."),
                         reason: "approval_pending", detail: detail(["reason": "the host shut down"]))
        }
    }

    /// What a grant is tied to: the rule's level, decision and pattern. A reload that changes or
    /// removes the rule that asked makes every grant for it stop matching.
    static func ruleKey(_ verdict: PolicyVerdict) -> String {
        guard let rule = verdict.deciding else { return "policy.default|\(verdict.decision.rawValue)" }
        return "\(rule.level)|\(rule.decision.rawValue)|\(rule.pattern)"
    }

    func ruleLocation(_ verdict: PolicyVerdict) -> String {
        guard let rule = verdict.deciding else { return "\(policy.file): policy.default" }
        return "\(policy.file):\(rule.location.line):\(rule.location.column)"
    }

    private func record(_ type: String, _ name: String, _ caller: ToolCaller, _ session: String, _ span: String, _ detail: JSONValue) {
        var event = TraceEvent(at: TraceEvent.timestamp(), type: type, session: TraceRedaction.name(session), spanId: span,
                               agent: TraceRedaction.name(caller.agent), role: caller.role, group: caller.group, tool: TraceRedaction.name(name),
                               decision: "ask", detail: detail)
        event.revision = settings.revision
        recorder.record(event)
    }
}
