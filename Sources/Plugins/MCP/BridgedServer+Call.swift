import Base
import Foundation

extension BridgedServer {
    /// Calls `tool` (the server's own name for it) over the server's connection. A server that is
    /// down fails at once with why; one that exits mid-call fails the call with its exit status and
    /// stderr; a JSON-RPC error becomes an error that names the server; the caller's cancellation
    /// (or the router's timeout) reaches the server as `notifications/cancelled`. A server that
    /// serves the Tasks extension may answer with a task: it is followed to its end (`followTask`).
    func call(_ tool: String, arguments: [String: JSONValue], progress: ToolProgressSink?, agent: String = "") async throws(ToolError) -> ToolResult {
        let connection = try await connection(for: agent)
        let tasks = servesTasks
        var params: [String: JSONValue] = ["name": .string(tool), "arguments": .object(arguments)]
        if tasks { params["_meta"] = Self.tasksMeta }
        var sink: MCPClientConnection.ProgressHandler?
        if let progress {
            sink = { @Sendable (params: JSONValue) in
                progress(params["progress"]?.doubleValue ?? 0, params["total"]?.doubleValue, params["message"]?.stringValue)
            }
        }
        let answer: JSONValue
        do {
            answer = try await connection.request("tools/call", .object(params), progress: sink)
        } catch {
            throw toolError(error)
        }
        if tasks, answer["resultType"]?.stringValue == "task" {
            guard let id = answer["taskId"]?.stringValue, !id.isEmpty else {
                throw ToolError(.failed, "\(name) answered tools/call with a task without a taskId")
            }
            return try await followTask(id, first: answer, connection: connection, progress: progress)
        }
        return try Self.toolResult(answer, server: name)
    }

    /// A failure of a request to the server as the router carries it.
    func toolError(_ error: any Error) -> ToolError {
        if let error = error as? BridgeError {
            switch error.code {
            case .cancelled: return ToolError(.cancelled, error.message)
            case .exited: return ToolError(.failed, "\(name) exited while the call ran: " + error.message.dropPrefix(name + " "))
            default: return ToolError(.failed, error.message)
            }
        }
        if error is CancellationError { return ToolError(.cancelled, "the call to \(name) was cancelled") }
        return ToolError(.failed, "\(name): \(error)")
    }

    /// A `tools/call` result as the router carries it; `isError` results stay tool errors.
    static func toolResult(_ answer: JSONValue, server: String) throws(ToolError) -> ToolResult {
        guard let object = answer.objectValue else {
            throw ToolError(.failed, "\(server) answered tools/call with \(answer.typeName), not a tool result")
        }
        var content: [ToolContent] = []
        if let items = object["content"] {
            guard let array = items.arrayValue else {
                throw ToolError(.failed, "\(server) answered tools/call with a content that is not an array")
            }
            for item in array {
                if item["type"]?.stringValue == "text", let text = item["text"]?.stringValue, item.objectValue?.count == 2 {
                    content.append(.text(text))
                } else {
                    content.append(.item(item))
                }
            }
        }
        let structured = object["structuredContent"].flatMap { $0.isNull ? nil : $0 }
        return ToolResult(content: content, structuredContent: structured, isError: object["isError"]?.boolValue ?? false)
    }
}

// MARK: Tasks passed through

extension BridgedServer {
    static let tasksExtension = "io.modelcontextprotocol/tasks"
    /// The per-request capabilities AgentHub declares to a server that serves tasks.
    static let tasksMeta: JSONValue = ["io.modelcontextprotocol/clientCapabilities": ["extensions": [.init(stringLiteral: tasksExtension): [:]]]]

    /// Whether the running server declared the Tasks extension.
    var servesTasks: Bool { capabilities?["extensions"]?[Self.tasksExtension]?.objectValue != nil }

    /// Follows the server's task `id` until it ends: `tasks/get` at the interval it asks for (0.05 to
    /// 5 s); each new status message reaches `progress` (a task's status message, or the caller's
    /// progress notifications); an input it asks for is declined, as AgentHub declines a server's
    /// elicitations outside tasks; the caller's cancellation (or deadline) reaches it as `tasks/cancel`.
    /// Its result is the call's; its JSON-RPC error fails the call, naming the server.
    func followTask(_ id: String, first: JSONValue, connection: MCPClientConnection, progress: ToolProgressSink?) async throws(ToolError) -> ToolResult {
        var current = first
        var told: String?
        var steps = 0.0
        var declined = Set<String>()
        do {
            while true {
                if let message = current["statusMessage"]?.stringValue, message != told {
                    told = message
                    steps += 1
                    progress?(steps, nil, "\(name): \(Redaction.text(message.utf8Prefix(512)))")
                }
                switch current["status"]?.stringValue {
                case "completed":
                    return try Self.toolResult(current["result"] ?? .null, server: name)
                case "failed":
                    let code = current["error"]?["code"]?.intValue.map(String.init) ?? "?"
                    let message = current["error"]?["message"]?.stringValue ?? current["statusMessage"]?.stringValue ?? "the task failed"
                    throw ToolError(.failed, "\(name) answered with an error (\(code)): \(Redaction.text(message.utf8Prefix(512)))")
                case "cancelled":
                    let reason = current["statusMessage"]?.stringValue.map { ": " + Redaction.text($0.utf8Prefix(512)) } ?? ""
                    throw ToolError(.failed, "\(name) cancelled its task" + reason)
                case "input_required":
                    let keys = (current["inputRequests"]?.objectValue ?? [:]).keys.filter { !declined.contains($0) }
                    if !keys.isEmpty {
                        declined.formUnion(keys)
                        let responses = Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.object(["action": "decline"])) })
                        _ = try await connection.request("tasks/update", ["taskId": .string(id), "inputResponses": .object(responses), "_meta": Self.tasksMeta])
                    }
                default:
                    break
                }
                let interval = min(max(current["pollIntervalMs"]?.intValue ?? 500, 50), 5000)
                try await Task.sleep(for: .milliseconds(interval))
                current = try await connection.request("tasks/get", ["taskId": .string(id), "_meta": Self.tasksMeta])
            }
        } catch let error as ToolError {
            throw error
        } catch {
            let failure = toolError(error)
            if failure.code == .cancelled || Task.isCancelled { cancelTask(id, connection: connection) }
            throw failure
        }
    }

    /// Asks the server to cancel its task `id` (the caller is gone: nobody waits for the answer longer than 5 s).
    func cancelTask(_ id: String, connection: MCPClientConnection) {
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { _ = try? await connection.request("tasks/cancel", ["taskId": .string(id), "_meta": Self.tasksMeta]) }
                group.addTask { try? await Task.sleep(for: .seconds(5)) }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
