import Base
import Registry
import Foundation
import Logging
import Plugins

extension ToolRouter {
    /// Runs one call. Never throws: every failure is an error result with a status.
    /// `progress` receives the call's progress when the caller asked for it. A call whose decision
    /// is `ask` waits for approval (`approver` asks the caller's own client, when it can answer;
    /// `waiting` hears the question when the call starts to wait, to tell a person at a terminal).
    /// `sessionEnds`: the caller's session is one that ends (an MCP session), so `session` can be an approval scope.
    public func call(_ name: String, arguments: JSONValue?, caller: ToolCaller, session: String, sessionEnds: Bool = false,
                     progress: ToolProgressSink? = nil, approver: ToolApprover? = nil,
                     deferred: DeferredApproval? = nil, waiting: (@Sendable (ApprovalPrompt) -> Void)? = nil) async -> ToolCallOutcome {
        let started = ContinuousClock.now
        let span = TraceEvent.newSpanId()
        let args = arguments ?? .object([:])
        let route = self.route(name)
        let verdict = route.map { policy.decide(name, declaredRisk: $0.descriptor.risk, role: caller.role, group: caller.group) }
        // Everything stored from the caller is capped and redacted: names, ids, arguments, messages.
        var trace = TraceEvent(at: TraceEvent.timestamp(), type: "tool.called", session: TraceRedaction.name(session), spanId: span,
                               agent: TraceRedaction.name(caller.agent), role: caller.role, group: caller.group,
                               tool: TraceRedaction.name(name), decision: verdict?.decision.rawValue ?? "unknown",
                               argumentBytes: args.jsonByteCount,
                               detail: ["arguments": TraceRedaction.forTrace(args, content: route?.descriptor.contentArguments ?? [],
                                                                             maxBytes: settings.maxTraceArgumentBytes)])
        trace.revision = settings.revision
        recorder.record(trace)
        trace.detail = nil

        func finish(_ status: ToolCallOutcome.Status, _ result: ToolResult, reason: String?, detail: JSONValue? = nil) -> ToolCallOutcome {
            var event = trace
            event.at = TraceEvent.timestamp()
            switch status {
            case .succeeded: event.type = "tool.result"
            case .failed: event.type = "tool.failed"
            case .blocked: event.type = "tool.blocked"
            case .awaitingApproval: event.type = "tool.awaiting_approval"
            }
            event.durationMs = (ContinuousClock.now - started).milliseconds
            event.resultBytes = result.byteCount
            event.argumentBytes = nil
            event.detail = detail
            recorder.record(event)
            metrics.toolCall(tool: route == nil ? "(unknown)" : name, decision: trace.decision ?? "unknown", outcome: status.rawValue,
                             duration: ContinuousClock.now - started)
            logger.debug("tool call", metadata: ["host.tool": "\(trace.tool)", "host.span": "\(span)", "host.status": "\(status.rawValue)",
                                                 "host.agent": "\(trace.agent)"])
            return ToolCallOutcome(result: result, status: status, spanId: span, reason: reason)
        }

        guard let route, let verdict else {
            return finish(.blocked, .error(Self.unavailableMessage(name)), reason: "unknown", detail: ["reason": "unknown tool"])
        }
        if !verdict.permitsCall, verdict.decision != .ask {
            return finish(.blocked, .error(Self.unavailableMessage(name)), reason: "denied", detail: ["reason": .string(verdict.reason)])
        }
        var permissiveNote: JSONValue?
        if verdict.decision != .allow, verdict.mode == .permissive {
            logger.warning("permissive mode: a call that enforce mode would block runs", metadata: [
                "host.tool": "\(trace.tool)", "host.agent": "\(trace.agent)", "host.reason": "\(verdict.reason)"])
            permissiveNote = ["would_block": true, "reason": .string(verdict.reason)]
        }
        guard let object = args.objectValue else {
            return finish(.failed, .error("Invalid arguments for \(name): arguments: expected an object, got \(args.typeName)"),
                          reason: ToolError.Code.invalidArguments.rawValue, detail: detail(.invalidArguments, "arguments must be an object", permissiveNote))
        }
        let problems = SchemaValidator.problems(in: args, schema: route.descriptor.inputSchema)
        if !problems.isEmpty {
            let message = "Invalid arguments for \(name): \(problems.joined(separator: "; "))"
            return finish(.failed, .error(message), reason: ToolError.Code.invalidArguments.rawValue,
                          detail: detail(.invalidArguments, message, permissiveNote))
        }
        if !verdict.permitsCall {
            // `ask`: nobody is asked about a call that could not run anyway (checked above).
            switch await approve(name, arguments: args, route: route, verdict: verdict, caller: caller, session: session,
                                 sessionEnds: sessionEnds, span: span, approver: approver, deferred: deferred, waiting: waiting) {
            case .proceed: break
            case .stop(let status, let result, let reason, let detail): return finish(status, result, reason: reason, detail: detail)
            case .inputRequired(let prompt):
                var outcome = finish(.awaitingApproval, .error("\(name) needs approval: answer the question the server sent (approval \(prompt.id))."),
                                     reason: "input_required", detail: ["approval_id": .string(prompt.id), "reason": "input required from the client"])
                outcome.approval = prompt
                return outcome
            }
        }
        let timeout = route.descriptor.timeout ?? settings.timeout
        let deadline = ContinuousClock.now + timeout
        guard await limiter.acquire(timeout: timeout) else {
            if Task.isCancelled {
                return finish(.failed, .error("The call to \(name) was cancelled."), reason: ToolError.Code.cancelled.rawValue,
                              detail: detail(.cancelled, "cancelled while waiting for a slot", permissiveNote))
            }
            let message = "\(name) could not start: \(settings.maxConcurrent) calls are already running (router.max_concurrent) and none finished within \(timeout)."
            return finish(.failed, .error(message), reason: ToolError.Code.busy.rawValue, detail: detail(.busy, message, permissiveNote))
        }
        let context = ToolCallContext(caller: caller, session: session, spanId: span,
                                      logger: logger.with("host.tool", name).with("host.span", span), permissions: permissions(caller),
                                      progress: progress)
        let outcome = await run(route.plugin, name, object, context, until: deadline)
        switch outcome {
        case .value(let result):
            if result.isError {
                return finish(.failed, result, reason: ToolError.Code.failed.rawValue, detail: detail(.failed, result.text, permissiveNote))
            }
            return finish(.succeeded, result, reason: nil, detail: permissiveNote)
        case .error(let error as ToolError):
            return finish(.failed, .error(error.message), reason: error.code.rawValue, detail: detail(error.code, error.message, permissiveNote))
        case .error(is CancellationError), .cancelled:
            return finish(.failed, .error("The call to \(name) was cancelled."), reason: ToolError.Code.cancelled.rawValue,
                          detail: detail(.cancelled, "cancelled", permissiveNote))
        case .error(let error as RegistryError):
            logger.error("tool failed on the registry", metadata: ["host.tool": "\(trace.tool)", "host.error": "\(TraceRedaction.message(error.message))"])
            return finish(.failed, .error("\(name) failed: the registry could not complete it (\(error.code.rawValue))."),
                          reason: ToolError.Code.failed.rawValue, detail: detail(.failed, error.message, permissiveNote))
        case .error(let error):
            logger.error("tool failed", metadata: ["host.tool": "\(trace.tool)", "host.error": "\(TraceRedaction.message("\(error)"))"])
            return finish(.failed, .error("\(name) failed: \(error)"), reason: ToolError.Code.failed.rawValue,
                          detail: detail(.failed, "\(error)", permissiveNote))
        case .timedOut:
            let which = route.descriptor.timeout == nil ? "router.timeout" : "its server's timeout"
            let message = "\(name) did not finish within \(timeout) (\(which)) and was cancelled."
            return finish(.failed, .error(message), reason: ToolError.Code.timeout.rawValue, detail: detail(.timeout, message, permissiveNote))
        }
    }

    private func detail(_ code: ToolError.Code, _ message: String, _ note: JSONValue?) -> JSONValue {
        var o: [String: JSONValue] = ["error": .string(code.rawValue), "message": .string(TraceRedaction.message(message))]
        if let note { o["permissive"] = note }
        return .object(o)
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}
