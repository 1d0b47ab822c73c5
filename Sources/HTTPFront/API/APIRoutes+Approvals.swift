import Base
import Core
import Foundation
import Host
import Hummingbird

extension HTTPAPI {
    /// `GET /v1/approvals` (an admin sees every request, another key its own agent's),
    /// `GET /v1/approvals/{id}`, `POST /v1/approvals/{id}/approve|deny` (admin), and the lasting
    /// grants: `GET /v1/approvals/grants`, `DELETE /v1/approvals/grants/{id}` (admin).
    func addApprovalRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("approvals") { request, context -> Response in
            let who = try context.who()
            var status: ApprovalStatus? = .pending
            if let raw = request.uri.queryParameters.get("status") {
                if raw == "all" { status = nil } else {
                    guard let parsed = ApprovalStatus(rawValue: String(raw)) else {
                        throw APIError.badRequest("status must be pending, granted, denied, expired, withdrawn or all, found '\(TraceRedaction.name(String(raw)))'")
                    }
                    status = parsed
                }
            }
            var limit = 200
            if let raw = request.uri.queryParameters.get("limit") {
                guard let n = Int(raw), (1...1000).contains(n) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000, found '\(TraceRedaction.name(String(raw)))'") }
                limit = n
            }
            let before = request.uri.queryParameters.get("before").map { String($0) }
            let records = try await Self.core { () throws(CoreError) in
                try await self.desk.requests(status: status, agent: who.admin ? nil : who.agent, before: before, limit: limit)
            }
            // A full page says where the next one starts: every request can be reached, however many.
            let next: JSONValue = records.count == limit ? records.last.map { .string($0.id) } ?? .null : .null
            return HTTPFront.json(.ok, ["approvals": .array(records.map(\.json)), "next_before": next])
        }
        v1.get("approvals/grants") { _, context -> Response in
            let who = try context.who()
            let grants = try await Self.core { () throws(CoreError) in try await self.desk.book.grants(agent: who.admin ? nil : who.agent) }
            return HTTPFront.json(.ok, ["grants": .array(grants.map { $0.json() })])
        }
        v1.delete("approvals/grants/:id") { _, context -> Response in
            let who = try context.who()
            guard who.admin else { throw APIError.forbidden("only an admin agent (agents.NAME.admin: true) may revoke grants") }
            let id = try context.pathParameter("id")
            let grant = try await Self.core { () throws(CoreError) in try await self.desk.revokeGrant(id, by: "http:\(who.agent)", reason: nil) }
            return HTTPFront.json(.ok, grant.json())
        }
        v1.get("approvals/:id") { _, context -> Response in
            let who = try context.who()
            let id = try context.pathParameter("id")
            let record = try await Self.core { () throws(CoreError) in try await self.desk.request(id, agent: who.admin ? nil : who.agent) }
            return HTTPFront.json(.ok, record.json)
        }
        v1.post("approvals/:id/:answer") { request, context -> Response in
            let who = try context.who()
            let id = try context.pathParameter("id")
            let word = try context.pathParameter("answer")
            guard word == "approve" || word == "deny" else { throw APIError.notFound("no route: POST /v1/approvals/{id}/approve or /deny") }
            guard who.admin else { throw APIError.forbidden("only an admin agent (agents.NAME.admin: true) may answer approval requests") }
            var request = request
            let body = try await self.json(&request, empty: [:])
            guard case .object(let fields) = body else { throw APIError.badRequest("the body must be an object like {\"scope\": \"session\", \"reason\": \"…\"}, got \(body.typeName)") }
            let allowed = word == "approve" ? ["scope", "duration", "reason"] : ["reason"]
            if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw APIError.badRequest("unknown field \"\(TraceRedaction.name(unknown))\": \(word) takes \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            func text(_ key: String) throws -> String? {
                switch fields[key] {
                case nil, .null?: return nil
                case .string(let s)?: return s
                case let other?: throw APIError.badRequest("\"\(key)\" must be a string, got \(other.typeName)")
                }
            }
            let form = ApprovalAnswerForm(granted: word == "approve", scope: try text("scope"), duration: try text("duration"), reason: try text("reason"))
            let answer: ApprovalAnswer
            do throws(HostError) { answer = try form.answer(by: "http:\(who.agent)", via: "http", manifest: who.snapshot.manifest) } catch {
                throw APIError.badRequest(error.message)
            }
            switch await self.desk.decide(id, answer) {
            case .success(.decided(let record, let grant)):
                var out = record.json.objectValue ?? [:]
                out["grant"] = grant.map { $0.json() } ?? .null
                return HTTPFront.json(.ok, .object(out))
            case .success(.alreadyResolved(let record)):
                throw APIError(.conflict, "already_resolved", "approval request \(record.id) is already \(record.status.rawValue)"
                               + (record.decidedBy.map { " (by \($0) via \(record.decidedVia ?? "-"))" } ?? ""))
            case .success(.refused(_, let reason)):
                throw APIError(.conflict, "refused", reason + "; nothing changed")
            case .success(.notFound):
                throw APIError.notFound("no approval request '\(TraceRedaction.name(id))'")
            case .failure(let error):
                throw APIError.unavailable("the registry could not record the answer (\(error.code.rawValue)); nothing changed, send it again")
            }
        }
    }

    /// A core service's answer, its error as the API's: not found 404, invalid 400, conflict 409,
    /// storage 500. The messages name the thing, with names from the caller passed through redaction.
    static func core<T>(_ body: () async throws(CoreError) -> T) async throws -> T {
        do throws(CoreError) { return try await body() } catch {
            throw APIError(error)
        }
    }
}
