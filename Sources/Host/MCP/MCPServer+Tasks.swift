import Base
import Core
import Foundation
import Plugins

/// The Tasks extension (`io.modelcontextprotocol/tasks`): a `tools/call` from a client that declares
/// it may be answered with a task (`resultType: "task"`) that the client follows with `tasks/get`,
/// answers with `tasks/update` (an approval the task waits for) and stops with `tasks/cancel`. What
/// becomes a task is the manifest's (`router.tasks`, a bridged server's `tasks`); the running is the
/// host's `TaskRunner`. A caller sees only its own agent's tasks: another's reads as unknown.
extension MCPServer {
    static let tasksExtension = "io.modelcontextprotocol/tasks"
    /// `-32021`: the request needs a capability the client did not declare.
    static let missingCapabilityCode = -32021

    /// The capabilities of the client of the request being handled (a 2026-07-28 envelope's).
    @TaskLocal static var requestCapabilities: JSONValue?

    /// Whether the client of this request declared the Tasks extension.
    var clientDeclaresTasks: Bool {
        let capabilities = Self.requestCapabilities ?? state.withLock { s in s.clientCapabilities }
        return capabilities?["extensions"]?[Self.tasksExtension]?.objectValue != nil
    }

    /// `tools/call` as a task, when the client declared the extension and the tool's calls become
    /// tasks; nil when the call is to be answered as without tasks (by the caller, as usual).
    func callAsTask(_ name: String, arguments: JSONValue?, caller: ToolCaller, session: String, sessionEnds: Bool)
        async throws(JSONRPCError) -> TaskStart? {
        let host = current.host
        guard clientDeclaresTasks, let runner = host.tasks else { return nil }
        let (mode, settings) = host.taskPlan(for: name)
        guard mode != .never, host.router.verdict(for: name, caller: caller).isVisible else { return nil }
        let router = host.router
        let given = ToolArguments.given(arguments)
        let call = TaskCall(tool: name, arguments: given ?? [:], caller: caller, session: session) { approval, progress, timeout in
            await router.call(name, arguments: given, caller: caller, session: session, sessionEnds: sessionEnds, progress: progress,
                              approval: approval, timeout: timeout)
        }
        do {
            return try await runner.start(call, settings: settings, inlineWithin: mode == .auto ? host.routerSettings.taskAfter.duration : nil)
        } catch {
            throw JSONRPCError(JSONRPCError.invalidParamsCode, error.message)
        }
    }

    /// A task as the extension shows it (`Task`, with its result, error or input requests).
    func taskJSON(_ record: TaskRecord, detailed: Bool) async -> JSONValue {
        var json: [String: JSONValue] = [
            "taskId": .string(record.id), "status": .string(record.status.rawValue),
            "createdAt": .string(TraceEvent.timestamp(record.createdAt)), "lastUpdatedAt": .string(TraceEvent.timestamp(record.updatedAt)),
            "ttlMs": .int(Int(record.expiresAt.timeIntervalSince(record.createdAt) * 1000)), "pollIntervalMs": 1000,
        ]
        if let message = record.statusMessage { json["statusMessage"] = .string(message) }
        guard detailed else { return .object(json) }
        switch record.status {
        case .completed: json["result"] = record.result.flatMap { JSONValue.parse($0) } ?? [:]
        case .failed:
            json["error"] = record.error.flatMap { JSONValue.parse($0) } ?? ["code": .int(JSONRPCError.internalErrorCode), "message": "the task failed"]
        case .inputRequired:
            if let id = record.approvalId, let approval = await current.host.router.approvals.read(id) {
                let prompt = ApprovalPrompt(id: approval.id, tool: approval.tool, arguments: JSONValue.parse(approval.arguments) ?? [:],
                                            rule: approval.rule, expiresAt: approval.expiresAt, grantDuration: current.host.router.settings.grantDuration)
                json["inputRequests"] = ["approval": ["method": "elicitation/create", "params": Self.elicitation(prompt, caller: current.caller)]]
            } else {
                json["inputRequests"] = [:]
            }
        default: break
        }
        return .object(json)
    }

    /// A task created: `CreateTaskResult`.
    func createTaskResult(_ record: TaskRecord) async -> JSONValue {
        guard case .object(var json) = await taskJSON(record, detailed: false) else { return [:] }
        json["resultType"] = "task"
        return .object(json)
    }

    /// The task `params.taskId` names, if it is the caller's; the extension's errors otherwise.
    func callerTask(_ params: JSONValue?, _ method: String) async throws(JSONRPCError) -> (TaskRunner, TaskRecord) {
        guard clientDeclaresTasks else {
            throw JSONRPCError(Self.missingCapabilityCode, "Missing required client capability",
                               data: ["requiredCapabilities": ["extensions": [.init(stringLiteral: Self.tasksExtension): [:]]]])
        }
        let p = try MCPProtocol.object(params, method)
        let id = try MCPProtocol.string(p, "taskId", method)
        guard let runner = current.host.tasks else { throw .invalidParams("Failed to retrieve task: Task not found") }
        do { return (runner, try await runner.task(id, agent: current.caller.agent)) } catch {
            throw error.code == .notFound ? JSONRPCError(JSONRPCError.invalidParamsCode, error.message) : .internalError(error.message)
        }
    }

    /// `tasks/get`: the task with its result, error or the input it waits for.
    func getTask(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let (_, record) = try await callerTask(params, "tasks/get")
        guard case .object(var json) = await taskJSON(record, detailed: true) else { return [:] }
        json["resultType"] = "complete"
        return .object(json)
    }

    /// `tasks/update`: the client's answers to what the task waits for (its approval question).
    func updateTask(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let (_, record) = try await callerTask(params, "tasks/update")
        guard case .object(let responses)? = params?["inputResponses"] else {
            throw .invalidParams("tasks/update needs \"inputResponses\", an object of answers by input request key")
        }
        // Answers to keys not outstanding are ignored, as the extension says.
        if record.status == .inputRequired, let approval = record.approvalId, let response = responses["approval"] {
            let (host, caller) = current
            guard let answer = Self.approval(from: .response(id: .int(0), result: response), caller: caller,
                                             grantDuration: host.router.settings.grantDuration) else {
                throw .invalidParams("tasks/update: the approval answer must be an elicitation result (action accept, decline or cancel)")
            }
            if case .failure(let error) = await host.router.approvals.decide(approval, answer) {
                throw .invalidParams("tasks/update: \(error.message)")
            }
        }
        return ["resultType": "complete"]
    }

    /// `tasks/cancel`: asks the task to stop (its downstream call is cancelled); acknowledged at once.
    func cancelTask(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let (runner, record) = try await callerTask(params, "tasks/cancel")
        do { try await runner.cancel(record.id, agent: record.agent) } catch { throw .internalError(error.message) }
        return ["resultType": "complete"]
    }
}
