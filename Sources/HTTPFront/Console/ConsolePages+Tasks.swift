import Base
import Core
import Foundation
import Host
import Hummingbird

extension WebConsole {
    /// `GET /tasks` (the viewer's tasks, every agent's for an admin, newest first, by status),
    /// `GET /tasks/{id}` (one task: its arguments, status, result or error, the approval it waits
    /// for, the task it retries) and `POST /tasks/{id}/cancel|retry`. Both pages follow running
    /// tasks live: they reload their region when a task event arrives and every two seconds while a
    /// task shown still runs (its status message moves without an event).
    func addTaskPages(_ pages: RouterGroup<APIContext>) {
        pages.get("tasks") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let runner = try Self.taskRunner(who)
            let raw = request.query("status").flatMap { $0.isEmpty || $0 == "all" ? nil : $0 }
            let status = try raw.map { raw throws -> TaskStatus in
                guard let status = TaskStatus(rawValue: raw) else {
                    throw ConsoleError.badRequest("Status must be working, input_required, completed, failed, cancelled or all.")
                }
                return status
            }
            let records: [TaskRecord]
            do throws(CoreError) { records = try await runner.tasks(agent: who.admin ? nil : who.agent, status: status, limit: Self.tasksPageSize) } catch {
                throw ConsoleError(error)
            }
            let newestEvent = await self.api.events.newestId()
            let data: [String: Any] = [
                "tasks": records.map(Self.taskRow), "none": records.isEmpty, "admin": who.admin,
                "statuses": (["all"] + TaskStatus.allCases.map(\.rawValue)).map { ["value": $0, "selected": $0 == (raw ?? "all")] },
                "stream": "/events/stream?type=task.created,task.ended&after=\(newestEvent)",
                "poll": records.contains { !$0.status.isTerminal } ? "2" : "",
                "full": records.count == Self.tasksPageSize, "pageSize": Self.tasksPageSize,
            ]
            return self.view.page("tasks", title: "Tasks", section: "/tasks", data: data, who: viewer, flash: Self.taskFlash(request))
        }
        pages.get("tasks/:id") { request, context -> Response in
            let (viewer, who) = try await self.viewer(context)
            let record = try await self.visibleTask(context, who)
            var row = Self.taskRow(record)
            row["arguments"] = Self.pretty(record.arguments)
            row["argumentsCut"] = !record.argumentsComplete
            if let result = record.result { row["result"] = Self.resultText(result) }
            if let error = record.error { row["error"] = Self.pretty(error) }
            if let approval = record.approvalId, record.status == .inputRequired { row["approval"] = approval }
            if let retryOf = record.retryOf { row["retryOf"] = retryOf }
            row["mayCancel"] = !record.status.isTerminal
            row["mayRetry"] = record.agent == who.agent && record.argumentsComplete
            row["expires"] = ConsoleFormat.relative(record.expiresAt)
            row["session"] = record.session
            if let message = record.statusMessage, !message.isEmpty { row["detailMessage"] = message }
            let newestEvent = await self.api.events.newestId()
            var data: [String: Any] = ["task": row]
            data["stream"] = record.status.isTerminal ? "" : "/events/stream?type=task.ended&after=\(newestEvent)"
            data["poll"] = record.status.isTerminal ? "" : "2"
            return self.view.page("task", title: "Task \(record.id)", section: "/tasks", data: data, who: viewer,
                                  flash: Self.taskFlash(request))
        }
        pages.post("tasks/:id/:action") { _, context -> Response in
            let (_, who) = try await self.viewer(context)
            let action = try context.pathParameter("action")
            guard action == "cancel" || action == "retry" else { throw ConsoleError.notFound("No such form: cancel or retry.") }
            let record = try await self.visibleTask(context, who)
            let runner = try Self.taskRunner(who)
            do throws(CoreError) {
                if action == "cancel" {
                    try await runner.cancel(record.id, agent: nil)
                    self.api.logger.info("console cancelled a task", metadata: ["task": "\(record.id)", "agent": "\(who.agent)"])
                    return ConsoleView.redirect("/tasks/\(ConsoleFormat.encode(record.id))?cancelled=1")
                }
                let retried = try await who.snapshot.tools.retryTask(record, caller: who.caller)
                return ConsoleView.redirect("/tasks/\(ConsoleFormat.encode(retried.id))?retried=" + ConsoleFormat.encode(record.id))
            } catch {
                throw ConsoleError(error)
            }
        }
    }

    /// Tasks per page of the tasks page.
    static let tasksPageSize = 100

    static func taskRunner(_ who: APIIdentity) throws -> TaskRunner {
        guard let runner = who.snapshot.tools.tasks else { throw ConsoleError(.serviceUnavailable, "This host runs no tasks.") }
        return runner
    }

    /// The task `{id}` names, if the viewer may see it (its agent's, or any for an admin).
    func visibleTask(_ context: APIContext, _ who: APIIdentity) async throws -> TaskRecord {
        let runner = try Self.taskRunner(who)
        let id = try context.pathParameter("id")
        do throws(CoreError) { return try await runner.task(id, agent: who.admin ? nil : who.agent) } catch {
            throw error.code == .notFound ? ConsoleError.notFound("No task '\(TraceRedaction.name(id))'; tasks are kept until their TTL (router.task_ttl).") : ConsoleError(error)
        }
    }

    /// What a form just did, said on the page it led to.
    static func taskFlash(_ request: Request) -> ConsoleFlash? {
        if request.query("cancelled") != nil { return .ok("Cancellation asked; the task's host stops its call within a second.") }
        if let old = request.query("retried"), old.hasPrefix("tsk_"), old.count <= 40, old.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            return .ok("This task retries \(old), under today's policy.")
        }
        return nil
    }

    static func taskRow(_ t: TaskRecord) -> [String: Any] {
        var row: [String: Any] = [
            "id": t.id, "tool": t.tool, "agent": t.agent, "status": t.status.rawValue.replacingOccurrences(of: "_", with: " "),
            "statusClass": Self.statusClass(t.status), "message": t.statusMessage ?? "", "href": "/tasks/" + ConsoleFormat.encode(t.id),
            "created": ConsoleFormat.relative(t.createdAt), "createdAt": ConsoleFormat.time(t.createdAt),
            "updated": ConsoleFormat.relative(t.updatedAt), "updatedAt": ConsoleFormat.time(t.updatedAt),
        ]
        if t.cancelRequested && !t.status.isTerminal { row["cancelAsked"] = true }
        return row
    }

    static func statusClass(_ status: TaskStatus) -> String {
        switch status {
        case .working: ""
        case .inputRequired: "warn"
        case .completed: "good"
        case .failed, .cancelled: "bad"
        }
    }

    /// A stored tool result as a person reads it: its text parts, else its JSON.
    static func resultText(_ stored: String) -> String {
        guard let result = JSONValue.parse(stored), case .array(let content)? = result["content"] else { return pretty(stored) }
        let texts = content.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
        guard texts.count == content.count, !texts.isEmpty else { return pretty(stored) }
        return texts.joined(separator: "\n\n") + (result["isError"]?.boolValue == true ? "\n\n(the tool reported an error)" : "")
    }
}
