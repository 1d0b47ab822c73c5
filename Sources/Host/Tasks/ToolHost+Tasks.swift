import Base
import Core
import Plugins

/// Starting and retrying tasks outside MCP (the REST API, the console, `agenthub tasks retry`):
/// decided here once, so every front refuses the same calls with the same words.
extension ToolHost {
    /// Runs `tool` for `caller` as a task from the start (a retry of `retryOf` when given). A tool the
    /// caller may not use is `.notFound`, as the call itself would be; past the agent's limit, `.conflict`.
    public func startTask(_ tool: String, arguments: JSONValue?, caller: ToolCaller, session: String,
                          retryOf: String? = nil) async throws(CoreError) -> TaskRecord {
        guard let runner = tasks else { throw CoreError(.unavailable, "this host runs no tasks") }
        guard router.verdict(for: tool, caller: caller).isVisible, router.descriptor(named: tool) != nil else {
            throw CoreError(.notFound, "no tool '\(TraceRedaction.name(tool))'")
        }
        let router = self.router
        let call = TaskCall(tool: tool, arguments: arguments ?? [:], caller: caller, session: session, retryOf: retryOf) { approval, progress, timeout in
            await router.call(tool, arguments: arguments, caller: caller, session: session, progress: progress, approval: approval, timeout: timeout)
        }
        guard case .task(let record) = try await runner.start(call, settings: taskPlan(for: tool).settings, inlineWithin: nil) else {
            throw CoreError(.storage, "the task did not start")
        }
        return record
    }

    /// Runs `old`'s call again as a new task linked to it, for `caller` (its agent, as today's
    /// manifest has it) under today's policy. Refused (`.conflict`) when its stored arguments are
    /// not the ones sent (redacted or cut), and (`.forbidden`) for another agent.
    public func retryTask(_ old: TaskRecord, caller: ToolCaller) async throws(CoreError) -> TaskRecord {
        guard old.agent == caller.agent else { throw CoreError(.forbidden, "a task is retried by its own agent") }
        guard old.argumentsComplete, let arguments = JSONValue.parse(old.arguments) else {
            throw CoreError(.conflict, "task \(old.id) cannot be retried: its stored arguments were redacted or cut (they held secrets or were large); call the tool again")
        }
        do { return try await startTask(old.tool, arguments: arguments, caller: caller, session: old.session, retryOf: old.id) } catch {
            guard error.code == .notFound else { throw error }
            throw CoreError(.forbidden, "\(old.agent) may no longer call \(TraceRedaction.name(old.tool)) under today's policy; not retried")
        }
    }
}
