import Base
import Foundation
import Plugins

extension MCPServer {
    /// `tools/list`: the tools the role may call (allowed, or asking for approval), a page at a time.
    /// The session's first list waits (at most `startupWait`) for bridged servers still starting;
    /// servers ready later arrive with `notifications/tools/list_changed`.
    func listTools(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "tools/list")
        let first = state.withLock { s -> Bool in defer { s.listedTools = true }; return !s.listedTools }
        if first {
            await current.host.router.settle(timeout: settings.startupWait)
            // What this answer shows is what the client knows from now on: a server that became ready
            // while it waited is in the answer, not a list_changed before it.
            await listChecksSettled()
            let tools = toolsFingerprint()
            state.withLock { s in
                s.lastSeen?.tools = tools
                s.toolsListAnswered = true
            }
        }
        let (host, caller) = current
        let version = state.withLock { s in s.protocolVersion }
        let tools = isRevoked ? [] : host.router.tools(for: caller).map { Self.toolJSON($0.descriptor, version: version) }
        return try MCPProtocol.page("tools", tools, params: params, size: settings.pageSize)
    }

    static func toolJSON(_ descriptor: ToolDescriptor, version: String) -> JSONValue {
        guard !MCPProtocol.hasStructuredTools(version) else { return descriptor.json }
        var json = descriptor.json
        if case .object(var o) = json {
            o["title"] = nil
            o["outputSchema"] = nil
            json = .object(o)
        }
        return json
    }

    /// `tools/call`: through the router (policy, validation, timeout, trace). Tool failures are
    /// `isError` results; a tool the role may not see, or that does not exist, is an invalid-params
    /// error, worded the same for both so a denied tool reveals nothing.
    func callTool(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "tools/call")
        let name = try MCPProtocol.string(p, "name", "tools/call")
        let arguments = p["arguments"]
        if let problem = ToolArguments.problem(in: arguments) { throw .invalidParams("tools/call: \"arguments\" \(problem)") }
        if let reason = state.withLock({ s in s.revoked }) {
            throw JSONRPCError(JSONRPCError.invalidRequestCode, "\(reason); no call is accepted until the role is back in the manifest")
        }
        let (host, caller) = current
        // A tool no plugin offers yet may be a bridged server's that is still starting (a 2026-07-28
        // client calls without listing first): wait for the servers' first start, as a first list does.
        if host.router.descriptor(named: name) == nil { await host.router.settle(timeout: settings.startupWait) }
        var progress: ToolProgressSink?
        if let token = p["_meta"]?["progressToken"], JSONRPCID(token) != nil {
            let send = self.send
            progress = { value, total, message in
                func number(_ n: Double) -> JSONValue { n == n.rounded() && abs(n) < 9e15 ? .int(Int(n)) : .double(n) }
                var params: [String: JSONValue] = ["progressToken": token, "progress": number(value)]
                if let total { params["total"] = number(total) }
                if let message { params["message"] = .string(message) }
                send(.notification(method: "notifications/progress", params: .object(params)))
            }
        }
        // 2026-07-28 is stateless: a call that needs approval is answered "input required" with the
        // question, and the client's retry brings the answer (`requestState`, `inputResponses`).
        var deferred: DeferredApproval?
        if Self.modernVersions.contains(state.withLock({ s in s.protocolVersion })), clientElicits {
            let answer = p["inputResponses"]?["approval"].flatMap {
                Self.approval(from: .response(id: .int(0), result: $0), caller: caller, grantDuration: host.router.settings.grantDuration)
            }
            deferred = DeferredApproval(requestState: p["requestState"]?.stringValue, answer: answer)
        }
        // A stateless client has no session: its calls are grouped by the trace they carry in `_meta`
        // (W3C `traceparent`) when they carry one, and `session` is never an approval scope for them.
        let stateless = state.withLock { s in s.stateless }
        let session = stateless ? (Self.traceSession(p["_meta"]) ?? self.session) : self.session
        // A client that declared the Tasks extension may get a task instead (never for an approval it answers inline).
        var asTask: TaskStart?
        if deferred?.requestState == nil {
            asTask = try await callAsTask(name, arguments: arguments, caller: caller, session: session, sessionEnds: !stateless, progress: progress)
            if case .task(let record)? = asTask { return await createTaskResult(record) }
        }
        let outcome: ToolCallOutcome
        if case .inline(let ended)? = asTask {
            outcome = ended
        } else {
            outcome = await host.router.call(name, arguments: ToolArguments.given(arguments), caller: caller, session: session,
                                             sessionEnds: !stateless, progress: progress,
                                             approval: deferred.map { .resume($0) } ?? .wait(asking: approver(for: caller)))
        }
        if outcome.ending == .inputRequired, let prompt = outcome.approval {
            return [
                "resultType": "input_required",
                "inputRequests": ["approval": ["method": "elicitation/create", "params": Self.elicitation(prompt, caller: caller)]],
                "requestState": .string(prompt.id),
            ]
        }
        if outcome.ending == .unavailable {
            throw JSONRPCError(JSONRPCError.invalidParamsCode, "Unknown tool: \(TraceRedaction.name(name))")
        }
        var result = outcome.result
        let version = state.withLock { s in s.protocolVersion }
        if !MCPProtocol.hasStructuredTools(version) { result.structuredContent = nil }
        return result.json
    }

    /// `trace-<trace id>` from a W3C `traceparent` in `_meta` (`00-<32 hex>-<16 hex>-<2 hex>`), or nil.
    static func traceSession(_ meta: JSONValue?) -> String? {
        guard let text = meta?["traceparent"]?.stringValue else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[1].utf8.count == 32, parts[1].allSatisfy(\.isHexDigit),
              parts[1] != "00000000000000000000000000000000" else { return nil }
        return "trace-" + parts[1].lowercased()
    }
}
