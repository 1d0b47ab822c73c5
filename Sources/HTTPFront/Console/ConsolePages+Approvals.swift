import Base
import Core
import Foundation
import Host
import Hummingbird

extension WebConsole {
    /// `GET /approvals` (pending requests with the tool, arguments and caller; the latest answers; the
    /// lasting grants), `POST /approvals/{id}/approve|deny` and `POST /approvals/grants/{id}/revoke`
    /// (admin, as over the API). The page updates itself when an approval event arrives.
    func addApprovalPages(_ pages: RouterGroup<APIContext>) {
        pages.get("approvals") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let desk = self.api.desk, agent: String? = who.admin ? nil : who.agent
            // Pending requests a page at a time (newest first): older ones are a link away, never hidden.
            let before = request.query("before"), pageSize = Self.pendingPageSize
            let pending: [ApprovalRecord], recent: ArraySlice<ApprovalRecord>, grants: [ApprovalGrantRecord]
            do throws(CoreError) {
                pending = try await desk.requests(status: .pending, agent: agent, before: before, limit: pageSize)
                recent = try await desk.book.requests(status: nil, agent: agent, limit: 60).filter { $0.status != .pending }.prefix(20)
                grants = try await desk.book.grants(agent: agent)
            } catch { throw ConsoleError(error) }
            var flash: ConsoleFlash?
            if let id = request.query("answered"), let record = try? await desk.book.request(id, agent: agent) {
                flash = .ok("Request \(record.id) (\(record.tool) for \(record.agent)) is \(record.status.rawValue).")
            }
            if let id = request.query("revoked"), let grant = try? await desk.book.grant(id, agent: agent), grant.revokedAt != nil {
                flash = .ok("Grant \(grant.id) (\(grant.tool) for \(grant.agent)) is revoked.")
            }
            let newestEvent = await self.api.events.newestId()
            let scopes = ApprovalScope.allCases.map { ["value": $0.rawValue, "label": Self.scopeLabel($0, who)] }
            let pendingRows = pending.map { record -> [String: Any] in
                var row = Self.approvalRow(record)
                // Only what an operator may grant here (no session where none ends), and whether operators answer at all.
                row["scopes"] = record.scopes(client: false).map { ["value": $0.rawValue, "label": Self.scopeLabel($0, who)] }
                row["approvers"] = record.approvers.description
                row["operatorsAnswer"] = record.approvers.admits(client: false)
                return row
            }
            var data: [String: Any] = [
                "admin": who.admin, "pending": pendingRows, "nonePending": pending.isEmpty,
                "recent": recent.map(Self.approvalRow), "noneRecent": recent.isEmpty,
                "grants": grants.map { g -> [String: Any] in
                    ["id": g.id, "tool": g.tool, "agent": g.agent, "scope": g.scope.rawValue, "session": g.session ?? "–", "rule": g.rule,
                     "by": g.grantedBy, "created": ConsoleFormat.relative(g.createdAt), "expires": g.expiresAt.map { ConsoleFormat.relative($0) } ?? "never",
                     "status": g.status()]
                },
                "noneGrants": grants.isEmpty, "scopes": scopes,
                "stream": "/events/stream?type=approval.requested,approval.granted,approval.denied,approval.expired,approval.withdrawn&after=\(newestEvent)",
            ]
            if pending.count == pageSize, let last = pending.last { data["olderPending"] = "/approvals?before=" + ConsoleFormat.encode(last.id) }
            if before != nil { data["newestPending"] = "/approvals" }
            return self.view.page("approvals", title: "Approvals", section: "/approvals", data: data, who: viewer, flash: flash)
        }
        pages.post("approvals/grants/:id/revoke") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            try Self.requireAdmin(who, "revoke grants")
            let id = try context.pathParameter("id")
            let reason = context.form["reason"].flatMap { $0.isEmpty ? nil : $0 }
            do throws(CoreError) { _ = try await self.api.desk.revokeGrant(id, by: "console:\(who.agent)", reason: reason) } catch {
                throw error.code == .notFound ? ConsoleError.notFound("No grant '\(TraceRedaction.name(id))'.") : ConsoleError(error)
            }
            return ConsoleView.redirect("/approvals?revoked=" + ConsoleFormat.encode(id))
        }
        pages.post("approvals/:id/:answer") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            let id = try context.pathParameter("id")
            let word = try context.pathParameter("answer")
            guard word == "approve" || word == "deny" else { throw ConsoleError.notFound("No such form: approve or deny.") }
            try Self.requireAdmin(who, "answer approval requests")
            let form = context.form.mapValues { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.value.isEmpty }
            let scope = word == "approve" ? form["scope"] : nil
            // A duration is for an agent grant; the other scopes ignore the field (it sits beside the list).
            let answerForm = ApprovalAnswerForm(granted: word == "approve", scope: scope, duration: scope == "agent" || scope == "session" ? form["duration"] : nil,
                                                reason: form["reason"])
            let answer: ApprovalAnswer
            do throws(HostError) { answer = try answerForm.answer(by: "console:\(who.agent)", via: "console", manifest: who.snapshot.manifest) } catch {
                throw ConsoleError.badRequest(error.message)
            }
            switch await self.api.desk.decide(id, answer) {
            case .success(.decided(let record, _)):
                self.api.logger.info("console answered approval", metadata: ["approval": "\(record.id)", "answer": "\(word)", "agent": "\(who.agent)"])
                return ConsoleView.redirect("/approvals?answered=" + ConsoleFormat.encode(record.id))
            case .success(.alreadyResolved(let record)):
                throw ConsoleError(.conflict, "Request \(record.id) is already \(record.status.rawValue)" + (record.decidedBy.map { " (by \($0))" } ?? "") + "; nothing changed.")
            case .success(.refused(_, let reason)):
                throw ConsoleError(.conflict, reason.prefix(1).uppercased() + reason.dropFirst() + "; nothing changed.")
            case .success(.notFound):
                throw ConsoleError.notFound("No approval request '\(TraceRedaction.name(id))'.")
            case .failure(let error):
                throw ConsoleError(.serviceUnavailable, "The registry could not record the answer (\(error.code.rawValue)); nothing changed, send it again.")
            }
        }
    }

    /// Pending requests per page of the approvals page.
    static let pendingPageSize = 50

    static func scopeLabel(_ scope: ApprovalScope, _ who: APIIdentity) -> String {
        let hours = ConsoleFormat.duration(who.snapshot.manifest.policy.grantDuration.seconds)
        switch scope {
        case .call: return "This call only"
        case .session: return "Its session, while it lasts (at most \(hours))"
        case .agent: return "This agent, for \(hours) or as given"
        }
    }
}
