import Foundation
import Logging
import Plugins

/// Every tool call goes through here: `front → ToolRouter → PolicyEngine → plugin`. The router
/// lists what a caller may see, re-checks policy at call time, validates arguments against the
/// tool's input schema, enforces a timeout and a concurrency limit, honours cancellation, turns
/// every failure into an error result, and leaves trace events for every call.
public final class ToolRouter: Sendable {
    public struct Settings: Sendable {
        public var timeout: Duration = .seconds(30)
        public var maxConcurrent = 16
        public var maxTraceArgumentBytes = 4096
        public init() {}
    }

    struct Route: Sendable {
        let plugin: any ToolPlugin
        let descriptor: ToolDescriptor
    }

    public let policy: PolicyEngine
    public let recorder: TraceRecorder
    let routes: [String: Route]
    /// Every tool, in plugin order.
    public let descriptors: [ToolDescriptor]
    let settings: Settings
    let limiter: ConcurrencyLimiter
    let permissions: @Sendable (ToolCaller) -> any CallerPermissions
    let logger: Logger

    /// Fails when two plugins offer the same tool name or a name clients would reject.
    public init(plugins: [any ToolPlugin], policy: PolicyEngine, recorder: TraceRecorder, settings: Settings = Settings(),
                logger: Logger, permissions: @escaping @Sendable (ToolCaller) -> any CallerPermissions) throws(HostError) {
        var routes: [String: Route] = [:]
        var descriptors: [ToolDescriptor] = []
        for plugin in plugins {
            for tool in plugin.tools {
                guard PluginCatalog.isValidToolName(tool.name) else {
                    throw HostError(.plugin, "plugin \(plugin.name): tool name '\(tool.name)' must be 1-64 letters, digits, '_' or '-'")
                }
                if let existing = routes[tool.name] {
                    throw HostError(.plugin, "plugins \(existing.plugin.name) and \(plugin.name) both offer a tool named '\(tool.name)'")
                }
                routes[tool.name] = Route(plugin: plugin, descriptor: tool)
                descriptors.append(tool)
            }
        }
        self.routes = routes
        self.descriptors = descriptors
        self.policy = policy
        self.recorder = recorder
        self.settings = settings
        self.limiter = ConcurrencyLimiter(limit: settings.maxConcurrent)
        self.permissions = permissions
        self.logger = logger
    }

    /// The tools `caller` may see (allowed or asking), with each one's verdict.
    public func tools(for caller: ToolCaller) -> [(descriptor: ToolDescriptor, verdict: PolicyVerdict)] {
        descriptors.compactMap { tool in
            let verdict = policy.decide(tool.name, declaredRisk: tool.risk, role: caller.role, group: caller.group)
            return verdict.isVisible ? (tool, verdict) : nil
        }
    }

    /// The plugin's descriptor for `name`, whether or not any caller may use it.
    public func descriptor(named name: String) -> ToolDescriptor? { routes[name]?.descriptor }

    /// What the policy decides for `name` and `caller` (unknown tools are decided as if low risk).
    public func verdict(for name: String, caller: ToolCaller) -> PolicyVerdict {
        // Actions (`memory_write_global`) are decided as plugins check them: high risk, exact names only.
        let risk = CallerActions.all.contains(name) ? .high : routes[name]?.descriptor.risk
        return policy.decide(name, declaredRisk: risk, role: caller.role, group: caller.group)
    }

    /// The answer to a tool a caller may not use, identical for denied and unknown tools.
    public static func unavailableMessage(_ name: String) -> String { "Tool '\(TraceRedaction.name(name))' is not available." }
}

/// How a routed call ended.
public struct ToolCallOutcome: Sendable {
    public enum Status: String, Sendable {
        /// The tool ran and returned a result.
        case succeeded
        /// The tool failed, the arguments were invalid, it timed out or was cancelled.
        case failed
        /// Policy blocked it, or no such tool exists (the two look the same to the caller).
        case blocked
    }

    public let result: ToolResult
    public let status: Status
    public let spanId: String
    /// The machine-readable reason of a failure or block (a `ToolError` code, `denied`, `approval_required`).
    public let reason: String?
}
