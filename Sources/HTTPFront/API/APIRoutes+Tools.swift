import Base
import Host
import Hummingbird
import Plugins

extension HTTPAPI {
    /// `GET /v1/tools` and `POST /v1/tools/{name}/call`.
    func addToolRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("tools") { _, context -> Response in
            let who = try context.who()
            let tools: [JSONValue] = who.snapshot.tools.router.tools(for: who.caller).map { tool in
                var json = tool.descriptor.json
                if case .object(var o) = json {
                    o["decision"] = .string(tool.verdict.decision.rawValue)
                    json = .object(o)
                }
                return json
            }
            return HTTPFront.json(.ok, ["tools": .array(tools)])
        }
        v1.post("tools/:name/call") { request, context -> Response in
            let who = try context.who()
            let name = try context.pathParameter("name")
            var request = request
            let body = try await self.json(&request, empty: [:])
            guard case .object(let fields) = body else { throw APIError.badRequest("the body must be an object like {\"arguments\": {…}}, got \(body.typeName)") }
            if let unknown = fields.keys.first(where: { !["arguments", "session"].contains($0) }) {
                throw APIError.badRequest("unknown field \"\(unknown)\": the body takes \"arguments\" (an object) and \"session\" (a string)")
            }
            let arguments = fields["arguments"]
            if let problem = ToolArguments.problem(in: arguments) { throw APIError.badRequest("\"arguments\" \(problem)") }
            var session = "http:\(who.agent)"
            if let value = fields["session"] {
                guard case .string(let s) = value, !s.isEmpty, s.utf8.count <= 256 else { throw APIError.badRequest("\"session\" must be a string of 1 to 256 bytes") }
                session = s
            }
            // `Prefer: respond-async` (RFC 7240): the call runs as a task, answered 202 with where to follow it.
            // A tool whose calls are never tasks (`router.task_tools`, the tool's own say) is answered inline.
            if request.headers[values: .prefer].contains(where: { $0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "respond-async" } }),
               who.snapshot.tools.taskPlan(for: name).mode != .never {
                return try await self.startTask(name, arguments: ToolArguments.given(arguments), who: who, session: session)
            }
            let outcome = await who.snapshot.tools.router.call(name, arguments: ToolArguments.given(arguments), caller: who.caller, session: session)
            switch outcome.ending {
            case .succeeded, .failed: break
            case .approvalDenied: throw APIError(.forbidden, "approval_denied", outcome.result.text)
            case .approvalExpired: throw APIError(.forbidden, "approval_expired", outcome.result.text)
            case .approvalLimit: throw APIError(.tooManyRequests, "approval_limit", outcome.result.text)
            case .approvalUsed: throw APIError(.conflict, "approval_used", outcome.result.text)
            case .approvalPending: throw APIError(.conflict, "approval_pending", outcome.result.text)
            case .inputRequired: throw APIError(.conflict, "input_required", outcome.result.text)
            case .unavailable:
                // Denied and unknown tools get the same answer: it never says whether the tool exists.
                throw APIError.notFound("no tool '\(TraceRedaction.name(name))'")
            }
            var result = outcome.result.json
            if case .object(var o) = result {
                o["span_id"] = .string(outcome.spanId)
                result = .object(o)
            }
            return HTTPFront.json(.ok, result)
        }
    }
}

extension HeaderName {
    static let prefer = Self("Prefer")!
}

extension APIContext {
    /// A path parameter, percent-decoded.
    func pathParameter(_ name: String) throws -> String {
        guard let raw = parameters.get(name) else { throw APIError.badRequest("missing \(name) in the path") }
        // Tool names rarely carry escapes: Foundation's decoding was a fifth of a tool route's own time.
        if !raw.isEmpty, !raw.utf8.contains(UInt8(ascii: "%")), !raw.utf8.contains(0) { return String(raw) }
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty, !decoded.utf8.contains(0) else {
            throw APIError.badRequest("\(name) in the path is not valid percent-encoded text")
        }
        return decoded
    }
}
