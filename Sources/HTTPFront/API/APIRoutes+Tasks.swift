import Base
import Core
import Foundation
import Host
import Hummingbird

extension HTTPAPI {
    /// Tool calls as tasks outside MCP: `POST /v1/tools/{name}/call` with `Prefer: respond-async`
    /// (answered `202` with `Location`), `GET /v1/tasks[?status=]`, `GET /v1/tasks/{id}`,
    /// `POST /v1/tasks/{id}/cancel`, `POST /v1/tasks/{id}/retry`. A key sees its own agent's tasks,
    /// an admin every agent's.
    func addTaskRoutes(_ v1: RouterGroup<APIContext>) {
        v1.get("tasks") { request, context -> Response in
            let who = try context.who()
            let runner = try Self.runner(who)
            var status: TaskStatus?
            if let raw = request.uri.queryParameters.get("status"), raw != "all" {
                guard let parsed = TaskStatus(rawValue: String(raw)) else {
                    throw APIError.badRequest("status must be working, input_required, completed, failed, cancelled or all, found '\(TraceRedaction.name(String(raw)))'")
                }
                status = parsed
            }
            var limit = 200
            if let raw = request.uri.queryParameters.get("limit") {
                guard let n = Int(raw), (1...1000).contains(n) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000, found '\(TraceRedaction.name(String(raw)))'") }
                limit = n
            }
            let records = try await Self.core { () throws(CoreError) in try await runner.tasks(agent: who.admin ? nil : who.agent, status: status, limit: limit) }
            return HTTPFront.json(.ok, ["tasks": .array(records.map(\.json))])
        }
        v1.get("tasks/:id") { _, context -> Response in
            let who = try context.who()
            let record = try await self.visibleTask(context, who)
            return HTTPFront.json(.ok, record.json)
        }
        v1.post("tasks/:id/:action") { _, context -> Response in
            let who = try context.who()
            let action = try context.pathParameter("action")
            guard action == "cancel" || action == "retry" else { throw APIError.notFound("no route: POST /v1/tasks/{id}/cancel or /retry") }
            let runner = try Self.runner(who)
            let record = try await self.visibleTask(context, who)
            if action == "cancel" {
                let now = try await Self.core { () throws(CoreError) in try await runner.cancel(record.id, agent: nil) }
                return HTTPFront.json(.ok, now.json)
            }
            let retried = try await Self.core { () throws(CoreError) in try await who.snapshot.tools.retryTask(record, caller: who.caller) }
            return Self.accepted(retried)
        }
    }

    static func runner(_ who: APIIdentity) throws -> TaskRunner {
        guard let runner = who.snapshot.tools.tasks else { throw APIError(.serviceUnavailable, "unavailable", "this host runs no tasks") }
        return runner
    }

    /// The task `{id}` names, if the key may see it (its agent's, or any for an admin).
    func visibleTask(_ context: APIContext, _ who: APIIdentity) async throws -> TaskRecord {
        let runner = try Self.runner(who)
        let id = try context.pathParameter("id")
        return try await Self.core { () throws(CoreError) in try await runner.task(id, agent: who.admin ? nil : who.agent) }
    }

    /// Starts `tool` as a task for the key's agent: `202 Accepted` with `Location: /v1/tasks/{id}`.
    /// A tool the caller may not use is refused here, as the call itself would be.
    func startTask(_ tool: String, arguments: JSONValue?, who: APIIdentity, session: String) async throws -> Response {
        let host = who.snapshot.tools, caller = who.caller
        return Self.accepted(try await Self.core { () throws(CoreError) in
            try await host.startTask(tool, arguments: arguments, caller: caller, session: session)
        })
    }

    /// `202 Accepted` for a task started, with where to follow it.
    static func accepted(_ record: TaskRecord) -> Response {
        var response = HTTPFront.json(.accepted, record.json)
        response.headers[.location] = "/v1/tasks/\(record.id)"
        response.headers[.preferenceApplied] = "respond-async"
        return response
    }
}

extension HeaderName {
    static let preferenceApplied = Self("Preference-Applied")!
}
