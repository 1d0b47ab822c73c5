import Base
import Registry
import Foundation
import Logging
import Plugins

// One routed call, in named stages: room (in the trace queue, see `TraceRecorder`), decide
// (policy), validate (arguments), admit (approval, then a concurrency slot), run (the plugin,
// against the deadline), record (the trace, metrics and the outcome). A stage that ends the call throws a `CallStop`; `record` turns it into the outcome.

extension ToolRouter {
    /// Runs one call. Never throws: every failure is an error result with a status.
    /// `progress` receives the call's progress when the caller asked for it. `approval` says how a
    /// call whose decision is `ask` gets its answer (wait, asking the caller's client or not; or
    /// resume a deferred request). `sessionEnds`: the caller's session is one that ends (an MCP
    /// session), so `session` can be an approval scope.
    /// `timeout`, when given, is the call's deadline instead of its tool's (a task's: `task_timeout`).
    public func call(_ name: String, arguments: JSONValue?, caller: ToolCaller, session: String, sessionEnds: Bool = false,
                     progress: ToolProgressSink? = nil, approval: ApprovalMode = .operators, timeout: Duration? = nil) async -> ToolCallOutcome {
        let arguments = arguments ?? .object([:])
        var route = self.route(name)
        if route == nil {
            // A tool held until accepted is not offered; one accepted since (`agenthub tools accept`,
            // on any host) is looked for. Costs nothing unless a plugin holds a tool.
            await refresh()
            route = self.route(name)
        }
        var call = CallInFlight(name: name, caller: caller, session: session, route: route)
        call.timeout = timeout
        do throws(CallStop) {
            let roomy = await recorder.room(within: settings.timeout)
            let verdict = try decide(&call, arguments)
            if !roomy { throw traceBacklog(call) }
            let object = try validate(call, arguments)
            try await admit(call, arguments, verdict, sessionEnds: sessionEnds, approval: approval)
            let deadline = try await slot(call)
            let result = try await run(call, object, progress: progress, until: deadline)
            return record(call, CallStop(.succeeded, result, reason: nil, detail: call.permissiveNote))
        } catch {
            return record(call, error)
        }
    }

    /// What one call carries from stage to stage.
    struct CallInFlight: Sendable {
        let name: String
        let caller: ToolCaller
        let session: String
        let route: Route?
        let started = ContinuousClock.now
        let span = TraceEvent.newSpanId()
        /// The `tool.called` event, as the later events of the span repeat it.
        var trace = TraceEvent(at: "", type: "tool.called", session: "", spanId: "", agent: "", role: nil, group: nil, tool: "", decision: nil)
        /// In permissive mode, what enforce mode would have blocked (kept in every later event).
        var permissiveNote: JSONValue?
        /// A deadline other than the tool's (a task's).
        var timeout: Duration?

        /// How long it may run, and which setting says so.
        func limit(_ settings: ToolRouter.Settings) -> (Duration, String) {
            if let timeout { return (timeout, "the task's timeout") }
            if let own = route?.descriptor.timeout { return (own, "its server's timeout") }
            return (settings.timeout, "router.timeout")
        }

        var plainRoute: Route { route! }
    }

    /// How a call ended before or after running: the status, the result the caller gets, the
    /// machine-readable reason and the detail traced.
    struct CallStop: Error {
        var status: ToolCallOutcome.Status
        var result: ToolResult
        var reason: String?
        var detail: JSONValue?
        /// For `input_required`: the question to put to the client.
        var approval: ApprovalPrompt?

        init(_ status: ToolCallOutcome.Status, _ result: ToolResult, reason: String?, detail: JSONValue?, approval: ApprovalPrompt? = nil) {
            self.status = status
            self.result = result
            self.reason = reason
            self.detail = detail
            self.approval = approval
        }
    }

    // MARK: Stages

    /// Decide: the policy's verdict for this caller, recorded as `tool.called` with the arguments
    /// (capped and redacted, like everything stored from the caller). An unknown tool and a denied
    /// one end the same way, so a denial reveals nothing.
    private func decide(_ call: inout CallInFlight, _ arguments: JSONValue) throws(CallStop) -> PolicyVerdict {
        let verdict = call.route.map { policy.decide(call.name, declaredRisk: $0.descriptor.risk, role: call.caller.role, group: call.caller.group) }
        var trace = TraceEvent(at: TraceEvent.timestamp(), type: "tool.called", session: TraceRedaction.name(call.session), spanId: call.span,
                               agent: TraceRedaction.name(call.caller.agent), role: call.caller.role, group: call.caller.group,
                               tool: TraceRedaction.name(call.name), decision: verdict?.decision.rawValue ?? "unknown",
                               argumentBytes: arguments.jsonByteCount,
                               detail: ["arguments": TraceRedaction.forTrace(arguments, content: call.route?.descriptor.contentArguments ?? [],
                                                                             maxBytes: settings.maxTraceArgumentBytes)])
        trace.revision = settings.revision
        recorder.record(trace)
        trace.detail = nil
        call.trace = trace
        guard call.route != nil, let verdict else {
            throw CallStop(.blocked, .error(Self.unavailableMessage(call.name)), reason: "unknown", detail: ["reason": "unknown tool"])
        }
        if !verdict.permitsCall, verdict.decision != .ask {
            throw CallStop(.blocked, .error(Self.unavailableMessage(call.name)), reason: "denied", detail: ["reason": .string(verdict.reason)])
        }
        if verdict.decision != .allow, verdict.mode == .permissive {
            logger.warning("permissive mode: a call that enforce mode would block runs", metadata: [
                "host.tool": "\(trace.tool)", "host.agent": "\(trace.agent)", "host.reason": "\(verdict.reason)"])
            call.permissiveNote = ["would_block": true, "reason": .string(verdict.reason)]
        }
        return verdict
    }

    /// A call that waited `router.timeout` for room in the trace queue (the database refusing writes
    /// all that time) does not run: it would leave no trace.
    private func traceBacklog(_ call: CallInFlight) -> CallStop {
        failure(call, .busy, "\(call.name) could not start: \(recorder.unwritten) trace events wait to be written (the queue holds \(recorder.capacity)) "
                + "because the registry refuses writes; the host's log says why.",
                traced: "trace queue full: \(recorder.writerProblem ?? "the writer is behind")")
    }

    /// Validate: the arguments are an object (`ToolArguments`, the rule every front shares) that
    /// the tool's input schema accepts.
    private func validate(_ call: CallInFlight, _ arguments: JSONValue) throws(CallStop) -> [String: JSONValue] {
        guard let object = arguments.objectValue else {
            throw failure(call, .invalidArguments, "Invalid arguments for \(call.name): arguments: expected an object, got \(arguments.typeName)",
                          traced: "arguments must be an object")
        }
        let problems = call.plainRoute.inputSchema.problems(in: arguments)
        if !problems.isEmpty {
            throw failure(call, .invalidArguments, "Invalid arguments for \(call.name): \(problems.joined(separator: "; "))")
        }
        return object
    }

    /// Admit, first half: a call whose decision is `ask` runs only once approved (nobody is asked
    /// about a call that could not run anyway: decide and validate come first).
    private func admit(_ call: CallInFlight, _ arguments: JSONValue, _ verdict: PolicyVerdict, sessionEnds: Bool,
                       approval: ApprovalMode) async throws(CallStop) {
        guard !verdict.permitsCall else { return }
        switch await approve(call.name, arguments: arguments, verdict: verdict, caller: call.caller, session: call.session,
                             sessionEnds: sessionEnds, span: call.span, mode: approval) {
        case .proceed: return
        case .stop(let status, let result, let reason, let detail): throw CallStop(status, result, reason: reason, detail: detail)
        case .inputRequired(let prompt):
            throw CallStop(.awaitingApproval, .error("\(call.name) needs approval: answer the question the server sent (approval \(prompt.id))."),
                           reason: "input_required", detail: ["approval_id": .string(prompt.id), "reason": "input required from the client"],
                           approval: prompt)
        }
    }

    /// Admit, second half: a concurrency slot (`router.max_concurrent`) within the call's timeout.
    /// Returns the call's deadline; the slot is released when the plugin really returns.
    private func slot(_ call: CallInFlight) async throws(CallStop) -> ContinuousClock.Instant {
        let timeout = call.limit(settings).0
        let deadline = ContinuousClock.now + timeout
        guard await limiter.acquire(timeout: timeout) else {
            if Task.isCancelled {
                throw failure(call, .cancelled, "The call to \(call.name) was cancelled.", traced: "cancelled while waiting for a slot")
            }
            throw failure(call, .busy, "\(call.name) could not start: \(settings.maxConcurrent) calls are already running (router.max_concurrent) and none finished within \(timeout).")
        }
        return deadline
    }

    /// Run: the plugin, against the deadline and the caller's cancellation. Every way it can end
    /// that is not a result becomes a failure with a `ToolError` code.
    private func run(_ call: CallInFlight, _ object: [String: JSONValue], progress: ToolProgressSink?,
                     until deadline: ContinuousClock.Instant) async throws(CallStop) -> ToolResult {
        let route = call.plainRoute, name = call.name
        let context = ToolCallContext(caller: call.caller, session: call.session, spanId: call.span,
                                      logger: logger.with("host.tool", name).with("host.span", call.span), permissions: permissions(call.caller),
                                      progress: progress)
        let ended = route.descriptor.runsInline ? await runInline(route.plugin, name, object, context)
                                                : await run(route.plugin, name, object, context, until: deadline)
        switch ended {
        case .value(let result):
            if result.isError { throw CallStop(.failed, result, reason: ToolError.Code.failed.rawValue, detail: detail(.failed, result.text, call.permissiveNote)) }
            return result
        case .error(let error as ToolError):
            throw failure(call, error.code, error.message)
        case .error(is CancellationError), .cancelled:
            throw failure(call, .cancelled, "The call to \(name) was cancelled.", traced: "cancelled")
        case .error(let error as RegistryError):
            logger.error("tool failed on the registry", metadata: ["host.tool": "\(call.trace.tool)", "host.error": "\(TraceRedaction.message(error.message))"])
            throw failure(call, .failed, "\(name) failed: the registry could not complete it (\(error.code.rawValue)).", traced: error.message)
        case .error(let error):
            logger.error("tool failed", metadata: ["host.tool": "\(call.trace.tool)", "host.error": "\(TraceRedaction.message("\(error)"))"])
            throw failure(call, .failed, "\(name) failed: \(error)", traced: "\(error)")
        case .timedOut:
            let (timeout, which) = call.limit(settings)
            throw failure(call, .timeout, "\(name) did not finish within \(timeout) (\(which)) and was cancelled.")
        }
    }

    /// Record: the span's last event (`tool.result`, `tool.failed`, `tool.blocked` or
    /// `tool.awaiting_approval`) with the duration and sizes, the call metric, and the outcome.
    private func record(_ call: CallInFlight, _ end: CallStop) -> ToolCallOutcome {
        var event = call.trace
        event.at = TraceEvent.timestamp()
        switch end.status {
        case .succeeded: event.type = "tool.result"
        case .failed: event.type = "tool.failed"
        case .blocked: event.type = "tool.blocked"
        case .awaitingApproval: event.type = "tool.awaiting_approval"
        }
        let duration = ContinuousClock.now - call.started
        event.durationMs = duration.milliseconds
        event.resultBytes = end.result.byteCount
        event.argumentBytes = nil
        event.detail = end.detail
        recorder.record(event)
        metrics.toolCall(tool: call.route == nil ? "(unknown)" : call.name, decision: call.trace.decision ?? "unknown", outcome: end.status.rawValue,
                         duration: duration)
        logger.debug("tool call", metadata: ["host.tool": "\(call.trace.tool)", "host.span": "\(call.span)", "host.status": "\(end.status.rawValue)",
                                             "host.agent": "\(call.trace.agent)"])
        var outcome = ToolCallOutcome(result: end.result, status: end.status, spanId: call.span, reason: end.reason)
        outcome.approval = end.approval
        return outcome
    }

    /// A failed call: the caller's message, the code, and what the trace keeps (redacted).
    private func failure(_ call: CallInFlight, _ code: ToolError.Code, _ message: String, traced: String? = nil) -> CallStop {
        CallStop(.failed, .error(message), reason: code.rawValue, detail: detail(code, traced ?? message, call.permissiveNote))
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
