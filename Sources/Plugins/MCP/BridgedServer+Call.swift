import Base
import Foundation

extension BridgedServer {
    /// Calls `tool` (the server's own name for it) over the server's connection. A server that is
    /// down fails at once with why; one that exits mid-call fails the call with its exit status and
    /// stderr; a JSON-RPC error becomes an error that names the server; the caller's cancellation
    /// (or the router's timeout) reaches the server as `notifications/cancelled`.
    func call(_ tool: String, arguments: [String: JSONValue], progress: ToolProgressSink?) async throws(ToolError) -> ToolResult {
        guard let connection = readyConnection else {
            throw ToolError(.failed, unavailableReason() ?? "\(name) is not running")
        }
        var sink: MCPClientConnection.ProgressHandler?
        if let progress {
            sink = { @Sendable (params: JSONValue) in
                progress(params["progress"]?.doubleValue ?? 0, params["total"]?.doubleValue, params["message"]?.stringValue)
            }
        }
        let answer: JSONValue
        do {
            answer = try await connection.request("tools/call", ["name": .string(tool), "arguments": .object(arguments)], progress: sink)
        } catch let error as BridgeError {
            switch error.code {
            case .cancelled: throw ToolError(.cancelled, error.message)
            case .exited: throw ToolError(.failed, "\(name) exited while the call ran: " + error.message.dropPrefix(name + " "))
            default: throw ToolError(.failed, error.message)
            }
        } catch {
            throw ToolError(.failed, "\(name): \(error)")
        }
        return try Self.toolResult(answer, server: name)
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

extension String {
    func dropPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
