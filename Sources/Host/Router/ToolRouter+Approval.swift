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
    /// otherwise stores an approval request, asks the caller's client when it can answer
    /// (`approver`), and waits for the first answer from anyone, the request's expiry, or the
    /// caller's cancellation (which withdraws it).
    func approve(_ name: String, arguments: JSONValue, route: Route, verdict: PolicyVerdict, caller: ToolCaller, session: String,
                 span: String, approver: ToolApprover?, deferred: DeferredApproval? = nil) async -> ApprovalGate {
        let desk = approvals
        let ruleKey = Self.ruleKey(verdict)
        let rule = ruleLocation(verdict)
        let storedName = TraceRedaction.name(name)
        if let grant = await desk.activeGrant(tool: storedName, agent: TraceRedaction.name(caller.agent), session: TraceRedaction.name(session),
                                              ruleKey: ruleKey) {
            record("approval.granted", name, caller, session, span, [
                "approval_id": .string(grant.approvalId), "grant_id": .string(grant.id), "scope": .string(grant.scope.rawValue),
                "by": .string(grant.grantedBy), "via": "grant",
            ])
            return .proceed
        }
        let digest = ApprovalDesk.digest(arguments)
        if let state = deferred?.requestState, let resumed = await desk.read(state), resumed.agent == TraceRedaction.name(caller.agent),
           resumed.tool == storedName, resumed.argumentsDigest == digest {
            // A 2026-07-28 retry: the client's answer (if any) to the request it was asked about.
            if resumed.status == .pending, let answer = deferred?.answer { _ = await desk.decide(resumed.id, answer) }
            let current = await desk.read(resumed.id) ?? resumed
            switch current.status {
            case .pending:
                guard current.expiresAt <= desk.now() else { return .inputRequired(prompt(for: current)) }
                await desk.close(current, .expired, reason: "no answer within policy.approval_timeout")
                return conclude(await desk.read(current.id) ?? current, name, caller, session, span)
            case .granted:
                // One approval, one run: a replayed requestState is a new call, asked anew below.
                if await desk.consume(current.id) { return conclude(current, name, caller, session, span) }
            case .denied, .expired: return conclude(current, name, caller, session, span)
            case .withdrawn: break
            }
        }
        // Secrets are redacted; content arguments stay readable (capped): an approver must see what they approve.
        let redacted = TraceRedaction.forTrace(arguments, content: [], maxBytes: settings.maxTraceArgumentBytes)
        let now = desk.now()
        let draft = ApprovalRecord(
            id: "apr_" + ApprovalDesk.randomId(), tool: storedName, arguments: redacted.jsonText, argumentsDigest: digest,
            agent: TraceRedaction.name(caller.agent), role: caller.role, group: caller.group, session: TraceRedaction.name(session), spanId: span,
            rule: rule, ruleKey: ruleKey, policyReason: verdict.reason, revision: settings.revision, hostId: desk.hostId,
            createdAt: now, expiresAt: now.addingTimeInterval(settings.approvalTimeout.seconds))
        let opened: ApprovalRecord
        do throws(RegistryError) { opened = try await desk.open(draft).record } catch {
            logger.error("approval request not stored", metadata: ["host.tool": "\(storedName)", "host.error": "\(error.message)"])
            return .stop(.failed, .error("\(name) needs approval, and the request could not be stored (\(error.code.rawValue)); try again."),
                         reason: ToolError.Code.failed.rawValue, detail: ["error": "approval_unavailable", "message": .string(TraceRedaction.message(error.message))])
        }
        if deferred != nil { return .inputRequired(prompt(for: opened)) }
        logger.notice("call waits for approval", metadata: [
            "host.tool": "\(storedName)", "host.agent": "\(draft.agent)", "host.approval": "\(opened.id)", "host.rule": "\(rule)",
            "host.hint": "agenthub approvals approve \(opened.id)"])
        let question = prompt(for: opened)
        var elicit: (@Sendable () async -> ApprovalAnswer?)?
        if let approver { elicit = { await approver(question) } }
        let ended = await desk.wait(for: opened, elicit: elicit)
        if ended.status == .granted { _ = await desk.consume(ended.id) }
        return conclude(ended, name, caller, session, span)
    }

    /// What the client is asked about `record`.
    func prompt(for record: ApprovalRecord) -> ApprovalPrompt {
        ApprovalPrompt(id: record.id, tool: record.tool, arguments: JSONValue.parse(record.arguments) ?? .string(record.arguments), rule: record.rule,
                       expiresAt: record.expiresAt, grantDuration: settings.grantDuration)
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
