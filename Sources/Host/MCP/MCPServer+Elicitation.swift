import Base
import Foundation
import Plugins
import Registry

/// Requests this server sends to its client (`elicitation/create` for approvals), and the client's answers.
extension MCPServer {
    /// The client request being handled by the current task: a message the server sends while
    /// handling it travels on that request's own stream (Streamable HTTP).
    @TaskLocal static var handling: JSONRPCID?

    /// Whether the client of the request being handled answers form elicitations: as its 2026-07-28
    /// envelope says (each request carries its own capabilities), else as it said in `initialize`.
    @TaskLocal static var requestElicits: Bool?

    var clientElicits: Bool { Self.requestElicits ?? state.withLock { s in s.elicits } }

    /// Reads the client's `capabilities.elicitation`: `{}` (form mode, 2025-06-18) or `{form: {}, …}`.
    static func elicitsForms(_ capabilities: JSONValue?) -> Bool {
        guard case .object(let elicitation)? = capabilities?["elicitation"] else { return false }
        return elicitation.isEmpty || elicitation["form"]?.objectValue != nil
    }

    /// Sends a request to the client and waits for its answer; nil when the task is cancelled (the
    /// client is told with `notifications/cancelled`) or the session ends first.
    func ask(_ method: String, _ params: JSONValue) async -> JSONRPCMessage? {
        let id = state.withLock { s -> JSONRPCID in
            s.nextOutgoing += 1
            return .string("agenthub-\(s.nextOutgoing)")
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<JSONRPCMessage?, Never>) in
                let open = state.withLock { s -> Bool in
                    guard !Task.isCancelled, !s.outgoingClosed else { return false }
                    s.outgoing[id] = continuation
                    return true
                }
                if open { send(.request(id: id, method: method, params: params)) } else { continuation.resume(returning: nil) }
            }
        } onCancel: {
            let waiting = state.withLock { s in s.outgoing.removeValue(forKey: id) }
            if let waiting {
                waiting.resume(returning: nil)
                send(.notification(method: "notifications/cancelled", params: ["requestId": id.json, "reason": "answered elsewhere, or the call ended"]))
            }
        }
    }

    /// A response from the client to one of our requests.
    func answerArrived(_ message: JSONRPCMessage, id: JSONRPCID) {
        let waiting = state.withLock { s in s.outgoing.removeValue(forKey: id) }
        waiting?.resume(returning: message)
    }

    /// Ends every request still waiting for the client (the session ends).
    func closeOutgoing() {
        let waiting = state.withLock { s -> [CheckedContinuation<JSONRPCMessage?, Never>] in
            s.outgoingClosed = true
            defer { s.outgoing.removeAll() }
            return Array(s.outgoing.values)
        }
        for continuation in waiting { continuation.resume(returning: nil) }
    }

    /// Asks the client, with `elicitation/create`, to approve a call; nil when it cannot answer.
    func approver(for caller: ToolCaller) -> ToolApprover? {
        guard clientElicits else { return nil }
        return { [weak self] prompt in
            guard let self else { return nil }
            let answer = await self.ask("elicitation/create", Self.elicitation(prompt, caller: caller))
            return Self.approval(from: answer, caller: caller, grantDuration: prompt.grantDuration)
        }
    }

    static func elicitation(_ prompt: ApprovalPrompt, caller: ToolCaller) -> JSONValue {
        let message = """
            Approve a tool call? \(caller.description) wants to call '\(prompt.tool)' (\(prompt.rule) asks for approval; request \(prompt.id)).
            Arguments: \(prompt.arguments.jsonText)
            """
        return [
            "mode": "form",
            "message": .string(message),
            "requestedSchema": [
                "type": "object",
                "properties": [
                    "scope": [
                        "type": "string", "title": "Approve for",
                        "description": "How long this approval lasts",
                        "enum": .array(prompt.scopes.map { .string($0.rawValue) }),
                        "enumNames": .array(prompt.scopes.map { scope -> JSONValue in
                            switch scope {
                            case .call: return "This call only"
                            case .session: return .string("The rest of this session (at most \(prompt.grantDuration.text))")
                            case .agent: return .string("This agent for \(prompt.grantDuration.text)")
                            }
                        }),
                        "default": "call",
                    ],
                    "reason": ["type": "string", "title": "Note", "description": "Why (kept with the decision)", "maxLength": 500],
                ],
            ],
        ]
    }

    /// The client's answer as an approval: accept grants (for the scope it chose), decline and
    /// cancel deny; an error or no answer is no decision.
    static func approval(from answer: JSONRPCMessage?, caller: ToolCaller, grantDuration: ManifestDuration) -> ApprovalAnswer? {
        guard case .response(_, let result)? = answer, let action = result["action"]?.stringValue else { return nil }
        let by = "client:\(caller.agent)"
        let note = result["content"]?["reason"]?.stringValue.map { String($0.prefix(500)) }
        switch action {
        case "accept":
            let scope = result["content"]?["scope"]?.stringValue.flatMap(ApprovalScope.init(rawValue:)) ?? .call
            return ApprovalAnswer(granted: true, by: by, via: ApprovalAnswer.clientVia, reason: note, scope: scope,
                                  grantExpiresAt: scope == .call ? nil : Date().addingTimeInterval(grantDuration.seconds))
        case "decline": return ApprovalAnswer(granted: false, by: by, via: ApprovalAnswer.clientVia, reason: note ?? "declined in the client")
        case "cancel": return ApprovalAnswer(granted: false, by: by, via: ApprovalAnswer.clientVia, reason: "dismissed in the client")
        default: return nil
        }
    }
}
