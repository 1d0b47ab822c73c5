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
    /// `progress` (the request's own notifications) is told of progress while the call may still be
    /// answered inline; once it is a task, progress goes into the task's status message instead.
    func callAsTask(_ name: String, arguments: JSONValue?, caller: ToolCaller, session: String, sessionEnds: Bool,
                    progress: ToolProgressSink? = nil) async throws(JSONRPCError) -> TaskStart? {
        let host = current.host
        guard clientDeclaresTasks, let runner = host.tasks else { return nil }
        let (mode, settings) = host.taskPlan(for: name)
        guard mode != .never, host.router.verdict(for: name, caller: caller).isVisible else { return nil }
        let router = host.router
        let given = ToolArguments.given(arguments)
        var call = TaskCall(tool: name, arguments: given ?? [:], caller: caller, session: session) { approval, progress, timeout in
            await router.call(name, arguments: given, caller: caller, session: session, sessionEnds: sessionEnds, progress: progress,
                              approval: approval, timeout: timeout)
        }
        call.inlineProgress = progress
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
        guard clientDeclaresTasks else { throw Self.missingTasksCapability }
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

    // MARK: notifications/tasks

    /// The most tasks one subscription follows.
    static let maxWatchedTasks = 100

    /// The task ids a `subscriptions/listen` asks to follow (`notifications.taskIds`), nil when it
    /// asks for none; `-32021` when the client did not declare the extension on the request.
    func askedTaskIds(_ params: JSONValue?) throws(JSONRPCError) -> [String]? {
        guard let raw = params?["notifications"]?["taskIds"] else { return nil }
        guard case .array(let items) = raw, items.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidParams("subscriptions/listen: notifications.taskIds must be an array of task id strings")
        }
        guard clientDeclaresTasks else { throw Self.missingTasksCapability }
        var seen = Set<String>()
        return items.compactMap(\.stringValue).filter { seen.insert($0).inserted }
    }

    static var missingTasksCapability: JSONRPCError {
        JSONRPCError(missingCapabilityCode, "Missing required client capability",
                     data: ["requiredCapabilities": ["extensions": [.init(stringLiteral: tasksExtension): [:]]]])
    }

    /// Follows `ids` for subscription `subscription`: the caller's own tasks among the first
    /// `maxWatchedTasks` (another agent's, unknown and expired ones are left out) are acknowledged,
    /// then each is sent as `notifications/tasks` (the `tasks/get` shape, tagged with `tag`) now and
    /// whenever it changes, until it ends. A change on this host is sent at once; one made by
    /// another host (a shared registry) within a second.
    @discardableResult
    func watchTasks(_ ids: [String], tag: JSONValue, subscription: JSONRPCID,
                    acknowledge: @escaping @Sendable ([String]) -> Void = { _ in }) async -> [String] {
        let (host, caller) = current
        guard let runner = host.tasks else { acknowledge([]); return [] }
        // At most `maxWatchedTasks` ids are looked at (a listen naming thousands costs no more reads).
        var mine: [String] = []
        for id in ids.prefix(Self.maxWatchedTasks) where id.utf8.count <= 128 {
            if (try? await runner.task(id, agent: caller.agent)) != nil { mine.append(id) }
        }
        let agreed = mine
        let signal = ChangeSignal()
        let followed = Set(agreed)
        let token = runner.observe { record in if followed.contains(record.id) { signal.fire() } }
        let follow: @Sendable () async -> Void = { [weak self] in
            defer { runner.unobserve(token) }
            acknowledge(agreed)
            var open = agreed
            var sent: [String: String] = [:]
            while !open.isEmpty, !Task.isCancelled, let self {
                let generation = signal.generation
                var still: [String] = []
                for id in open {
                    guard let record = try? await runner.task(id, agent: caller.agent) else { continue }
                    let seen = "\(record.status.rawValue) \(record.updatedAt.timeIntervalSince1970) \(record.statusMessage ?? "")"
                    if sent[id] != seen {
                        sent[id] = seen
                        guard case .object(var params) = await self.taskJSON(record, detailed: true) else { continue }
                        params["_meta"] = tag
                        guard !Task.isCancelled else { return }
                        self.send(.notification(method: "notifications/tasks", params: .object(params)))
                    }
                    if !record.status.isTerminal { still.append(id) }
                }
                open = still
                if !open.isEmpty { await signal.wait(since: generation, timeout: .seconds(1)) }
            }
        }
        let started = state.withLock { s -> Bool in
            guard s.subscription?.id == subscription else { return false }
            s.taskWatch?.cancel()
            s.taskWatch = Task { await follow() }
            return true
        }
        if !started { runner.unobserve(token) }
        return agreed
    }

    /// For a front's listen stream (HTTP `subscriptions/listen`, whose acknowledgement the front
    /// writes): follows the tasks `params` asks for, as `watchTasks`; the ids agreed, nil when none
    /// were asked for, or the extension's error.
    public func followTasks(_ params: JSONValue?, subscription: JSONRPCID) async -> Result<[String]?, JSONRPCError> {
        let ids: [String]?
        do throws(JSONRPCError) { ids = try askedTaskIds(params) } catch { return .failure(error) }
        guard let ids else { return .success(nil) }
        state.withLock { s in s.subscription = (subscription, []) }
        return .success(await watchTasks(ids, tag: [MCPEnvelope.subscriptionKey: subscription.json], subscription: subscription))
    }
}
