import Base
import Registry

extension TaskRecord {
    /// The one JSON shape of a task outside MCP: the REST API and `agenthub tasks --json`.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "tool": .string(tool), "agent": .string(agent), "session": .string(session),
            "status": .string(status.rawValue), "arguments": JSONValue.parse(arguments) ?? .string(arguments),
            "arguments_complete": .bool(argumentsComplete),
            "created_at": .string(TraceEvent.timestamp(createdAt)), "updated_at": .string(TraceEvent.timestamp(updatedAt)),
            "expires_at": .string(TraceEvent.timestamp(expiresAt)),
        ]
        if let role { o["role"] = .string(role) }
        if let group { o["group"] = .string(group) }
        if let statusMessage { o["status_message"] = .string(statusMessage) }
        if let result { o["result"] = JSONValue.parse(result) ?? .string(result) }
        if let error { o["error"] = JSONValue.parse(error) ?? .string(error) }
        if let approvalId { o["approval_id"] = .string(approvalId) }
        if let retryOf { o["retry_of"] = .string(retryOf) }
        if cancelRequested && !status.isTerminal { o["cancel_requested"] = true }
        return .object(o)
    }
}
