import Foundation
import Synchronization
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
        /// The manifest revision this router was built from; every trace event carries it.
        public var revision: String?
        /// How long a call needing approval waits for an answer (`policy.approval_timeout`).
        public var approvalTimeout = PolicyConfig().approvalTimeout
        /// How long an agent grant lasts by default (`policy.grant_duration`).
        public var grantDuration = PolicyConfig().grantDuration
        /// How many approval requests one agent may have pending (`policy.max_pending`).
        public var maxPending = PolicyConfig().maxPending
        public init() {}
    }

    /// A tool as the catalog holds it: a class, so a call carries it with one retain (a copy of the
    /// descriptor was a retain of each of its fields), with its input schema compiled once.
    final class Route: Sendable {
        let plugin: any ToolPlugin
        let descriptor: ToolDescriptor
        let inputSchema: CompiledSchema

        init(plugin: any ToolPlugin, descriptor: ToolDescriptor) {
            self.plugin = plugin
            self.descriptor = descriptor
            inputSchema = CompiledSchema(descriptor.inputSchema)
        }
    }

    /// The tools at one moment: built whole and swapped, never edited in place.
    struct Catalog: Sendable {
        var routes: [String: Route] = [:]
        /// Every tool, in plugin order.
        var descriptors: [ToolDescriptor] = []
    }

    public let policy: PolicyEngine
    public let recorder: TraceRecorder
    let plugins: [any ToolPlugin]
    let settings: Settings
    let limiter: ConcurrencyLimiter
    let permissions: @Sendable (ToolCaller) -> any CallerPermissions
    let metrics: HostMetrics
    let logger: Logger
    /// Where calls whose decision is `ask` wait for an answer.
    public let approvals: ApprovalDesk
    private struct State {
        var catalog: Catalog
        var observers: [Int: @Sendable () -> Void] = [:]
        var nextObserver = 0
        /// What this router registered with plugins whose tools change, removed when it goes away.
        var registrations: [(plugin: any ChangingToolPlugin, token: Int)] = []
    }
    private let state: Mutex<State>

    /// Fails when two plugins offer the same tool name or a name clients would reject. Plugins whose
    /// tools change (the MCP bridge) are re-read when they say so; their tools never fail the router.
    /// `limiter`, when given, is shared with the routers of other snapshots (a reload keeps the
    /// calls running under the old one counted); else the router has its own.
    public init(plugins: [any ToolPlugin], policy: PolicyEngine, recorder: TraceRecorder, settings: Settings = Settings(),
                limiter: ConcurrencyLimiter? = nil, metrics: HostMetrics = HostMetrics(), approvals: ApprovalDesk? = nil,
                logger: Logger, permissions: @escaping @Sendable (ToolCaller) -> any CallerPermissions) throws(HostError) {
        guard let approvals = approvals ?? recorder.registry.map({ ApprovalDesk(registry: $0, recorder: recorder, logger: logger) }) else {
            throw HostError(.registry, "a router whose traces do not go to the SQLite registry needs its approval desk given")
        }
        self.approvals = approvals
        self.plugins = plugins
        self.policy = policy
        self.recorder = recorder
        self.settings = settings
        self.limiter = limiter ?? ConcurrencyLimiter(limit: settings.maxConcurrent)
        self.metrics = metrics
        self.permissions = permissions
        self.logger = logger
        state = Mutex(State(catalog: try Self.catalog(plugins, logger: logger)))
        for case let plugin as any ChangingToolPlugin in plugins {
            let token = plugin.onToolsChanged { [weak self] in self?.toolsChanged() }
            state.withLock { $0.registrations.append((plugin, token)) }
        }
    }

    deinit {
        for registration in state.withLock({ $0.registrations }) { registration.plugin.removeToolsChangedHandler(registration.token) }
    }

    private static func catalog(_ plugins: [any ToolPlugin], logger: Logger) throws(HostError) -> Catalog {
        var catalog = Catalog()
        for plugin in plugins {
            let changing = plugin is any ChangingToolPlugin
            for tool in plugin.tools {
                guard PluginCatalog.isValidToolName(tool.name) else {
                    if changing { logger.warning("tool skipped: name clients reject", metadata: ["host.tool": "\(TraceRedaction.name(tool.name))"]); continue }
                    throw HostError(.plugin, "plugin \(plugin.name): tool name '\(tool.name)' must be 1-64 letters, digits, '_' or '-'")
                }
                if let existing = catalog.routes[tool.name] {
                    if changing {
                        logger.warning("tool skipped: another plugin offers the same name", metadata: [
                            "host.tool": "\(tool.name)", "host.plugin": "\(existing.plugin.name)"])
                        continue
                    }
                    throw HostError(.plugin, "plugins \(existing.plugin.name) and \(plugin.name) both offer a tool named '\(tool.name)'")
                }
                catalog.routes[tool.name] = Route(plugin: plugin, descriptor: tool)
                catalog.descriptors.append(tool)
            }
        }
        return catalog
    }

    /// Every tool, in plugin order, as of now.
    public var descriptors: [ToolDescriptor] { state.withLock { $0.catalog.descriptors } }

    func route(_ name: String) -> Route? { state.withLock { $0.catalog.routes[name] } }

    /// Re-reads the tools of plugins whose tools change, swaps the catalog in, and tells the observers.
    func toolsChanged() {
        let rebuilt = (try? Self.catalog(plugins, logger: logger)) ?? state.withLock { $0.catalog }
        let observers = state.withLock { s -> [@Sendable () -> Void] in
            s.catalog = rebuilt
            return Array(s.observers.values)
        }
        for observer in observers { observer() }
    }

    /// Calls `observer` after the tools changed (a bridged server started, restarted or changed its
    /// list). Returns a token for `removeObserver`.
    @discardableResult
    public func addObserver(_ observer: @escaping @Sendable () -> Void) -> Int {
        state.withLock { s in
            s.nextObserver += 1
            s.observers[s.nextObserver] = observer
            return s.nextObserver
        }
    }

    public func removeObserver(_ token: Int) {
        _ = state.withLock { $0.observers.removeValue(forKey: token) }
    }

    /// Waits (at most `timeout`) for plugins whose tools are still arriving: servers still starting.
    public func settle(timeout: Duration) async {
        for plugin in plugins { await (plugin as? any ChangingToolPlugin)?.settle(timeout: timeout) }
    }

    /// Re-reads what another process may have changed (accepted tool definitions).
    public func refresh() async {
        for plugin in plugins { await (plugin as? any ChangingToolPlugin)?.refresh() }
    }

    /// The tools `caller` may see (allowed or asking), with each one's verdict.
    public func tools(for caller: ToolCaller) -> [(descriptor: ToolDescriptor, verdict: PolicyVerdict)] {
        descriptors.compactMap { tool in
            let verdict = policy.decide(tool.name, declaredRisk: tool.risk, role: caller.role, group: caller.group)
            return verdict.isVisible ? (tool, verdict) : nil
        }
    }

    /// What the manifest lets `caller` see beyond tools (skills, explicitly allowed actions).
    public func permissions(for caller: ToolCaller) -> any CallerPermissions { permissions(caller) }

    /// The plugin's descriptor for `name`, whether or not any caller may use it.
    public func descriptor(named name: String) -> ToolDescriptor? { route(name)?.descriptor }

    /// What the policy decides for `name` and `caller` (unknown tools are decided as if low risk).
    public func verdict(for name: String, caller: ToolCaller) -> PolicyVerdict {
        // Actions (`memory_write_global`) are decided as plugins check them: high risk, exact names only.
        let risk = CallerActions.all.contains(name) ? .high : route(name)?.descriptor.risk
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
        /// It did not run yet: its approval request is pending (a caller that does not wait calls again).
        case awaitingApproval = "awaiting_approval"
    }

    public let result: ToolResult
    public let status: Status
    public let spanId: String
    /// The machine-readable reason of a failure or block (a `ToolError` code, `denied`, `approval_denied`,
    /// `approval_expired`, `input_required`).
    public let reason: String?
    /// For `input_required`: the question to put to the client.
    public var approval: ApprovalPrompt? = nil

    /// How a call ended, typed once here so that every front only translates it to its wire shape.
    public enum Ending: Sendable, Equatable {
        case succeeded
        /// The tool ran and failed, its arguments were invalid, it timed out or was cancelled (`code`: a `ToolError` code).
        case failed(code: String?)
        /// Policy denies it, or no such tool exists: the two look the same to the caller.
        case unavailable
        case approvalDenied
        case approvalExpired
        /// The agent has as many approval requests pending as `policy.max_pending` allows.
        case approvalLimit
        /// The approval it named was used by another call.
        case approvalUsed
        /// Its approval request is not answered yet (a caller that does not wait calls again).
        case approvalPending
        /// The client is to answer the approval question (`approval`) and call again.
        case inputRequired
    }

    public var ending: Ending {
        switch status {
        case .succeeded: return .succeeded
        case .failed: return .failed(code: reason)
        case .blocked, .awaitingApproval:
            switch reason {
            case "approval_denied": return .approvalDenied
            case "approval_expired": return .approvalExpired
            case "approval_limit": return .approvalLimit
            case "approval_used": return .approvalUsed
            case "approval_pending": return .approvalPending
            case "input_required": return .inputRequired
            default: return .unavailable
            }
        }
    }
}
