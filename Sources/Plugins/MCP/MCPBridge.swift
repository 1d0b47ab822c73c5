import Base
import Children
import Foundation
import Logging
import Synchronization
import Registry

/// The MCP stdio bridge: every `plugins.mcp.servers` entry supervised in the background, each of its
/// tools offered as `SERVER__TOOL` through the router (policy, validation, timeouts, traces like any
/// other tool). Its tool list changes as servers start, restart and change theirs; the router
/// re-reads it when told. Each tool's definition is pinned in the registry when first seen.
public final class MCPBridge: ChangingToolPlugin, ToolPluginLifecycle, Sendable {
    /// What pinning found for a tool whose definition differs from its pin.
    public enum DefinitionChange: String, Sendable {
        /// Logged, traced and marked; the tool works.
        case changed
        /// Hidden and refused until accepted (`pin: strict`).
        case blocked
    }

    public let name = "mcp"
    /// Calls only await the server's answer: no thread is blocked, so they stay on the cooperative pool.
    public var blocksThreads: Bool { false }
    public var settings: BridgeSettings { state.withLock { $0.bridgeSettings } }
    /// Its servers, in manifest order (a reload may add, remove or replace them).
    var servers: [BridgedServer] { state.withLock { $0.running } }
    let registry: (any BridgeLedger)?
    let logger: Logger
    struct State {
        var bridgeSettings: BridgeSettings
        var running: [BridgedServer] = []
        var handlers: [Int: @Sendable () -> Void] = [:]
        var nextHandler = 0
        var tasks: [String: Task<Void, Never>] = [:]
        var started = false
        var routes: [String: (server: BridgedServer, tool: BridgedTool)] = [:]
        var visible: [ToolDescriptor] = []
        var changes: [String: DefinitionChange] = [:]
        /// Pins seen by this process (a read-only registry cannot store them).
        var memoryPins: [String: String] = [:]
        /// Servers whose tools were pinned once (in this process): a tool they add later waits to be accepted.
        var pinnedServers: Set<String> = []
        /// Changed definitions already logged and traced, as `tool digest`.
        var reported: Set<String> = []
        /// The status of each server as this process last recorded it: only a different one is written.
        var recorded: [String: String] = [:]
    }
    let state: Mutex<State>
    /// Where every read and write of the pins and status runs, in order: off the cooperative pool,
    /// since a ledger on PostgreSQL blocks its thread for each answer.
    let ledgerQueue = DispatchQueue(label: "agenthub.bridge-ledger")
    /// The OAuth logins of its remote servers (nil without a registry to keep them or a key to seal them).
    public let credentials: BridgeCredentials?
    private let box = WeakReference<MCPBridge>()
    /// Told the name of a server each time it restarts after ending (the host counts them).
    public var onRestart: (@Sendable (String) -> Void)? {
        get { restartHandler.value }
        set { restartHandler.value = newValue }
    }
    private let restartHandler = LockedValue<(@Sendable (String) -> Void)?>(nil)
    /// Told the name of a server that declares the Skills extension when it becomes ready or says
    /// its resources changed: the sources that take its skills sync again.
    public var onSkillsChanged: (@Sendable (String) -> Void)? {
        get { skillsHandler.value }
        set { skillsHandler.value = newValue }
    }
    private let skillsHandler = LockedValue<(@Sendable (String) -> Void)?>(nil)

    /// `registry` stores pins and status (nil, or read-only: pins live in memory and no status is recorded).
    /// `logins` is where OAuth logins are read when there is no `registry` (a one-shot sync).
    public init(servers: [BridgedServerSettings], settings: BridgeSettings = BridgeSettings(), registry: (any BridgeLedger)?,
                logins: (any BridgeLedger)? = nil, logger: Logger) {
        state = Mutex(State(bridgeSettings: settings))
        self.registry = registry
        credentials = (registry ?? logins).flatMap { ledger in settings.sealer.map { BridgeCredentials(ledger: ledger, sealer: $0) } }
        self.logger = logger
        box.object = self
        let made = servers.map(makeServer)
        state.withLock { $0.running = made }
    }

    private func makeServer(_ server: BridgedServerSettings) -> BridgedServer {
        let box = self.box
        return BridgedServer(settings: server, bridge: state.withLock { $0.bridgeSettings }, credentials: credentials, logger: logger,
                             restarted: { name in box.object?.onRestart?(name) },
                             skillsChanged: { name in box.object?.onSkillsChanged?(name) }) { box.object?.serverChanged() }
    }

    public var tools: [ToolDescriptor] { state.withLock { $0.visible } }

    /// The names of its servers, in manifest order.
    public var serverNames: [String] { servers.map(\.name) }

    /// The longest start timeout of its servers: how long a one-shot command waits for them.
    public var longestStartTimeout: Duration { servers.map(\.settings.startTimeout).max() ?? .seconds(10) }

    /// What the running server `name` declared in `initialize`; nil when it is not running (or not bridged).
    public func capabilities(ofServer name: String) -> JSONValue? {
        servers.first { $0.name == name }?.capabilities
    }

    /// One request to the running server `name` (for the Skills extension: `skills/list`,
    /// `skills/get`, `resources/read`). Fails at once, with why, when it is not running.
    public func request(server name: String, _ method: String, _ params: JSONValue?) async throws(BridgeError) -> JSONValue {
        guard let server = servers.first(where: { $0.name == name }) else {
            throw BridgeError(.exited, "no bridged server named '\(name)'")
        }
        return try await server.request(method, params)
    }

    /// Whether the server `name` is known, and if it is not running, why.
    public func unavailableReason(ofServer name: String) -> String? {
        guard let server = servers.first(where: { $0.name == name }) else { return "no bridged server named '\(name)'" }
        return server.unavailableReason()
    }

    /// The status of every server, in manifest order.
    public var statuses: [BridgedServerStatus] { servers.map(\.currentStatus) }

    /// Tools whose definition differs from their pin, and what that does to them.
    public var definitionChanges: [String: DefinitionChange] { state.withLock { $0.changes } }

    @discardableResult
    public func onToolsChanged(_ handler: @escaping @Sendable () -> Void) -> Int {
        state.withLock { s in
            s.nextHandler += 1
            s.handlers[s.nextHandler] = handler
            return s.nextHandler
        }
    }

    /// Handlers registered now (one per live router).
    var handlerCount: Int { state.withLock { $0.handlers.count } }

    public func removeToolsChangedHandler(_ token: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Starts every server in the background and returns at once: a slow server delays nobody.
    public func start() async throws {
        if let registry, !registry.isReadOnly { await onLedger { try? registry.pruneBridgeServers() } }
        state.withLock { s in
            s.started = true
            for server in s.running where s.tasks[server.name] == nil {
                s.tasks[server.name] = Task.detached { await server.run() }
            }
        }
    }

    /// Stops every server (stdin closed, then SIGTERM, then SIGKILL) and waits for them.
    public func stop() async {
        let stopping = state.withLock { s -> [Task<Void, Never>] in
            defer { s.tasks.removeAll(); s.started = false }
            return Array(s.tasks.values)
        }
        for task in stopping { task.cancel() }
        for task in stopping { await task.value }
        await onLedger { self.recordStatus() }
    }

    /// Takes a reloaded manifest's servers: a server whose entry is unchanged keeps running untouched;
    /// a removed one stops; an added one starts; a changed one (or every one, when the shared
    /// settings changed) stops and starts again with its new entry. Returns the names it started or
    /// stopped, once the stopped ones have ended.
    @discardableResult
    public func apply(servers wanted: [BridgedServerSettings], settings: BridgeSettings) async -> (started: [String], stopped: [String]) {
        let (toStop, kept, sharedChanged) = state.withLock { s -> ([(BridgedServer, Task<Void, Never>?)], [String: BridgedServer], Bool) in
            // How long a session's first list waits changes no server: it restarts none.
            var compared = settings
            compared.startupWait = s.bridgeSettings.startupWait
            let sharedChanged = s.bridgeSettings != compared
            s.bridgeSettings = settings
            let byName = Dictionary(wanted.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var toStop: [(BridgedServer, Task<Void, Never>?)] = []
            var kept: [String: BridgedServer] = [:]
            for server in s.running {
                if !sharedChanged, let entry = byName[server.name], entry == server.settings {
                    kept[server.name] = server
                } else {
                    toStop.append((server, s.tasks.removeValue(forKey: server.name)))
                }
            }
            return (toStop, kept, sharedChanged)
        }
        for (_, task) in toStop { task?.cancel() }
        for (_, task) in toStop { await task?.value }
        var startedNames: [String] = []
        let next = wanted.map { entry -> BridgedServer in
            if let server = kept[entry.name] { return server }
            startedNames.append(entry.name)
            return makeServer(entry)
        }
        state.withLock { s in
            s.running = next
            if s.started {
                for server in next where s.tasks[server.name] == nil {
                    s.tasks[server.name] = Task.detached { await server.run() }
                }
            }
        }
        if !toStop.isEmpty || !startedNames.isEmpty {
            logger.info("bridged servers changed by a reload", metadata: [
                "plugins.mcp.started": "\(startedNames.joined(separator: ","))",
                "plugins.mcp.stopped": "\(toStop.map(\.0.name).joined(separator: ","))", "plugins.mcp.shared_settings_changed": "\(sharedChanged)"])
            await onLedger { self.applyChanges() }
        }
        return (startedNames, toStop.map(\.0.name))
    }

    public func settle(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { _ = await server.settled.wait(timeout: timeout) } }
        }
        // What the servers told before they settled is applied (it waits on the ledger queue).
        await onLedger {}
    }

    /// Runs `body` on the ledger queue and waits for it.
    func onLedger(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            ledgerQueue.async {
                body()
                continuation.resume()
            }
        }
    }

    /// Re-reads the pins when a tool's definition differs from its pin (an `agenthub tools accept`
    /// in another process can only change those); otherwise there is nothing to re-read.
    public func refresh() async {
        guard state.withLock({ !$0.changes.isEmpty }) else { return }
        await onLedger { self.applyChanges() }
    }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        let (route, change) = state.withLock { ($0.routes[tool], $0.changes[tool]) }
        guard let route else { throw ToolError(.notFound, "no bridged server offers \(tool)") }
        if change == .blocked {
            await refresh()  // it may have been accepted since
            if state.withLock({ $0.changes[tool] }) == .blocked {
                throw ToolError(.forbidden, "\(tool) is new or changed since its server's tools were pinned, and is held (pin: strict, or a name that differs only in case from another tool); "
                                + "review it, then run `agenthub tools accept \(tool)`")
            }
        }
        return try await route.server.call(route.tool.downstreamName, arguments: arguments, progress: context.progress, agent: context.caller.agent)
    }

    /// Starts server `name` again at once if it waits to (after a login it lacked).
    public func startNow(server name: String) {
        servers.first { $0.name == name }?.startNow()
    }

    /// A server's tools or state changed: `applyChanges` on the ledger queue.
    func serverChanged() {
        ledgerQueue.async { self.applyChanges() }
    }

    /// Re-reads every server's tools, applies the pins, records status, and tells the handlers when
    /// the tools offered changed. On the ledger queue only.
    func applyChanges() {
        var newRoutes: [String: (server: BridgedServer, tool: BridgedTool)] = [:]
        var newVisible: [ToolDescriptor] = []
        var newChanges: [String: DefinitionChange] = [:]
        for server in servers {
            let pins = (try? registry?.toolPins(server: server.name)) ?? [:]
            let tools = server.currentTools
            let serverPinned = !pins.isEmpty || state.withLock { $0.pinnedServers.contains(server.name) }
            for tool in tools {
                newRoutes[tool.descriptor.name] = (server, tool)
                if let change = pinCheck(tool, server: server.settings, stored: pins[tool.descriptor.name], serverPinned: serverPinned) {
                    newChanges[tool.descriptor.name] = change
                    if change == .blocked { continue }
                }
                newVisible.append(tool.descriptor)
            }
            if !tools.isEmpty { state.withLock { _ = $0.pinnedServers.insert(server.name) } }
        }
        // Look-alike names: a tool not accepted as it is (new or changed) is held while it collides.
        let colliding = caseCollisions(Array(newRoutes.keys))
        for name in colliding where newChanges[name] != nil {
            newChanges[name] = .blocked
            newVisible.removeAll { $0.name == name }
        }
        let (differs, handlers) = state.withLock { s -> (Bool, [@Sendable () -> Void]) in
            let differs = s.visible != newVisible || s.changes != newChanges
            s.routes = newRoutes
            s.visible = newVisible
            s.changes = newChanges
            return (differs, Array(s.handlers.values))
        }
        recordStatus()
        if differs { for handler in handlers { handler() } }
    }
}

