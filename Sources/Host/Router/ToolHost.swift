import Base
import Children
import Core
import Registry
import Foundation
import Logging
import Plugins

/// The tool side of a running host: the plugins the manifest enables, the policy engine, the
/// trace recorder and the router over them.
public struct ToolHost: Sendable {
    public let router: ToolRouter
    public let identity: CallerIdentity
    public let plugins: [any ToolPlugin]
    /// Where calls run as tasks (the running host's, kept across reloads); nil: no tasks here.
    public let tasks: TaskRunner?
    /// The manifest's `router` section (the task settings among it).
    public let routerSettings: RouterSettings
    /// Each bridged server's `tasks` and `task_timeout`, by server name.
    let bridgedTaskSettings: [String: (mode: TaskMode?, timeout: ManifestDuration?)]
    /// `router.task_tools`' patterns, compiled once, most specific first.
    let taskToolPatterns: [(glob: Glob, mode: TaskMode)]

    /// `environment` is the host's: bridged servers inherit only its PATH, HOME and locale, and
    /// `AGENTHUB_BINARY` names the `agenthub` that ties them to the host (else this executable).
    ///
    /// `parts`, when given, are what a running host keeps across reloads: the trace recorder, the
    /// concurrency limit and the bridge (whose servers the caller updates with `MCPBridge.apply`).
    /// Without them (one-shot commands) the host has parts of its own. `revision` goes into every trace.
    public init(manifest: Manifest, registry: any RegistryStore, logger: Logger,
                environment: [String: String] = HostEnvironment.values,
                parts: HostParts? = nil, revision: String? = nil) throws(HostError) {
        let recorder = parts?.recorder ?? TraceRecorder(sink: registry, logger: logger)
        let approvals = parts?.approvals ?? ApprovalDesk(ledger: registry, recorder: recorder, logger: logger)
        try self.init(manifest: manifest, stores: ToolStores(registry: registry), recorder: recorder, approvals: approvals,
                      logger: logger, environment: environment, parts: parts, revision: revision,
                      tasks: parts?.tasks ?? TaskRunner(store: registry, approvals: approvals, logger: logger))
    }

    /// The same over any backend's stores, with the recorder and approval desk given.
    public init(manifest: Manifest, stores: ToolStores, recorder: TraceRecorder, approvals: ApprovalDesk, logger: Logger,
                environment: [String: String] = HostEnvironment.values,
                parts: HostParts? = nil, revision: String? = nil, tasks: TaskRunner? = nil) throws(HostError) {
        var plugins: [any ToolPlugin] = []
        let config = manifest.plugins
        if var settings = config.file {
            // Roots as written, resolved against the manifest's folder.
            settings.roots = settings.roots.map(manifest.resolve)
            settings.hardLinkRoots = Set(settings.hardLinkRoots.map(manifest.resolve))
            let plugin = FilePlugin(settings: settings)
            for problem in plugin.rootProblems { logger.warning("\(problem)", metadata: ["host.plugin": "file"]) }
            plugins.append(plugin)
        }
        if let settings = config.memory {
            plugins.append(MemoryPlugin(store: stores.memory, settings: settings))
        }
        if let settings = config.export {
            plugins.append(ExportPlugin(store: stores.events, settings: settings, flush: { await recorder.flush() }))
        }
        if config.skills != nil {
            plugins.append(SkillsPlugin(store: stores.skills))
        }
        if let bridge = parts?.bridge {
            plugins.append(bridge)
        } else if let mcp = config.mcp, !mcp.servers.isEmpty {
            plugins.append(MCPBridge(servers: Self.bridgedServers(manifest, environment: environment),
                                     settings: Self.bridgeSettings(manifest, environment: environment), registry: stores.pins, logger: logger))
        }
        let policy = PolicyEngine(manifest: manifest)
        var settings = ToolRouter.Settings()
        settings.timeout = manifest.router.timeout.duration
        settings.maxConcurrent = manifest.router.maxConcurrent
        settings.maxTraceArgumentBytes = manifest.router.maxTraceArgumentBytes
        settings.revision = revision
        settings.approvalTimeout = manifest.policy.approvalTimeout
        settings.grantDuration = manifest.policy.grantDuration
        settings.maxPending = manifest.policy.maxPending
        let skillPatterns = ManifestPermissions.skillPatterns(manifest)
        router = try ToolRouter(plugins: plugins, policy: policy, recorder: recorder, settings: settings, limiter: parts?.limiter,
                                metrics: parts?.metrics ?? HostMetrics(), approvals: approvals, logger: logger) { caller in
            ManifestPermissions(policy: policy, caller: caller, skillPatterns: caller.role.map { skillPatterns[$0] ?? [] })
        }
        identity = CallerIdentity(manifest: manifest)
        self.plugins = plugins
        self.tasks = tasks ?? parts?.tasks
        routerSettings = manifest.router
        var bridged: [String: (mode: TaskMode?, timeout: ManifestDuration?)] = [:]
        for server in config.mcp?.servers ?? [] { bridged[server.name] = (server.tasks, server.taskTimeout) }
        bridgedTaskSettings = bridged
        taskToolPatterns = Self.taskToolPatterns(manifest.router.taskTools)
    }
}

extension ToolHost {
    /// A host over an already built router (tests, and fronts that bring their own plugins).
    init(router: ToolRouter, identity: CallerIdentity, plugins: [any ToolPlugin]) {
        self.router = router
        self.identity = identity
        self.plugins = plugins
        tasks = nil
        routerSettings = RouterSettings()
        bridgedTaskSettings = [:]
        taskToolPatterns = []
    }

    /// Whether calls of `tool` become tasks, and the settings they run under: a bridged server's
    /// `tasks` and `task_timeout` over the `router` section's.
    public func taskPlan(for tool: String) -> (mode: TaskMode, settings: TaskRunner.Settings) {
        let server = tool.range(of: "__").map { String(tool[..<$0.lowerBound]) }
        let bridged = server.flatMap { bridgedTaskSettings[$0] }
        var settings = TaskRunner.Settings()
        settings.ttl = routerSettings.taskTTL.duration
        settings.timeout = (bridged?.timeout ?? routerSettings.taskTimeout).duration
        settings.maxPerAgent = routerSettings.maxTasksPerAgent
        settings.resultBytes = routerSettings.taskResultBytes
        // The most specific says: router.task_tools, the bridged server's entry, the tool itself, router.tasks.
        let mode = taskToolMode(tool) ?? bridged?.mode ?? router.descriptor(named: tool)?.tasks ?? routerSettings.tasks
        return (mode, settings)
    }

    /// `router.task_tools`' say for `tool`: the first of its patterns that matches (see `taskToolPatterns`).
    func taskToolMode(_ tool: String) -> TaskMode? {
        taskToolPatterns.first { $0.glob.matches(tool) }?.mode
    }

    /// The patterns in the order they decide: an exact name first, then the most literal
    /// characters, then the longer pattern, then name order. (The manifest checked each one.)
    static func taskToolPatterns(_ patterns: [String: TaskMode]) -> [(glob: Glob, mode: TaskMode)] {
        let literal = { (p: String) in p.filter { !"*?[]".contains($0) }.count }
        let ordered = patterns.keys.sorted { a, b in
            let (ea, eb) = (!a.contains(where: { "*?[".contains($0) }), !b.contains(where: { "*?[".contains($0) }))
            if ea != eb { return ea }
            if literal(a) != literal(b) { return literal(a) > literal(b) }
            return a.count != b.count ? a.count > b.count : a < b
        }
        return ordered.compactMap { pattern in (try? Glob(pattern)).map { ($0, patterns[pattern]!) } }
    }

    /// Starts the plugins that do background work (in manifest order).
    public func start() async throws {
        for plugin in plugins { if let p = plugin as? any ToolPluginLifecycle { try await p.start() } }
    }

    /// Stops them in reverse order and writes the traces still queued.
    public func stop() async {
        for plugin in plugins.reversed() { if let p = plugin as? any ToolPluginLifecycle { await p.stop() } }
        await router.recorder.flush()
    }
}

extension HostContext {
    /// The plugins, policy and router this context's manifest describes.
    public func tools() throws(HostError) -> ToolHost {
        try ToolHost(manifest: manifest, registry: registry, logger: logger, environment: environment)
    }
}

extension ToolHost {
    /// The manifest's bridged servers, as the bridge runs them.
    public static func bridgedServers(_ manifest: Manifest, environment: [String: String]) -> [BridgedServerSettings] {
        (manifest.plugins.mcp?.servers ?? []).map { bridged($0, manifest: manifest, environment: environment) }
    }

    /// The bridge's shared settings (the defaults when the manifest has no `plugins.mcp`).
    public static func bridgeSettings(_ manifest: Manifest, environment: [String: String]) -> BridgeSettings {
        var settings = manifest.plugins.mcp.map { bridgeSettings($0, environment: environment) }
            ?? bridgeSettings(MCPPluginConfig(), environment: environment)
        // The logins of OAuth servers are sealed with the host's secret key, made only when one needs it.
        if HostSecret.needed(manifest) {
            switch HostSecret.sealer(manifest, environment: environment) {
            case .success(let sealer): settings.sealer = sealer
            case .failure(let error): settings.credentialProblem = error.message
            }
        }
        return settings
    }

    /// A manifest server entry as the bridge runs it: its environment filtered, its folder resolved.
    static func bridged(_ entry: MCPServerConfig, manifest: Manifest, environment: [String: String]) -> BridgedServerSettings {
        var settings = BridgedServerSettings(name: entry.name, endpoint: endpoint(entry, manifest: manifest, environment: environment))
        settings.risk = ToolRisk(rawValue: entry.risk.rawValue) ?? .medium
        settings.tools = entry.tools
        settings.timeout = entry.timeout?.duration
        settings.startTimeout = entry.startTimeout.duration
        settings.pin = BridgedServerSettings.PinMode(rawValue: entry.pin) ?? .warn
        settings.location = "\(manifest.file):\(entry.location.line):\(entry.location.column)"
        return settings
    }

    /// Where the server is: its command (environment filtered, folder resolved, sandbox wrapped), or its URL.
    static func endpoint(_ entry: MCPServerConfig, manifest: Manifest, environment: [String: String]) -> BridgedServerSettings.Endpoint {
        if let remote = entry.remote {
            var endpoint = RemoteEndpoint(url: remote.url)
            endpoint.transport = remote.transport
            endpoint.revision = remote.revision
            endpoint.headers = remote.headers
            endpoint.credentials = remote.credentials
            if let oauth = remote.oauth {
                var settings = RemoteEndpoint.OAuth()
                settings.clientId = oauth.clientId
                settings.clientSecret = oauth.clientSecret
                settings.scopes = oauth.scopes
                endpoint.oauth = settings
            }
            return .remote(endpoint)
        }
        var command = ChildCommand(executable: entry.command, arguments: entry.args,
                                   environment: ChildEnvironment.filtered(environment, adding: entry.env),
                                   workingDirectory: manifest.resolve(entry.cwd ?? "."))
        if let sandbox = entry.sandbox {
            command = BridgedSandbox.wrap(command, sandbox, protected: protectedPaths(manifest), hostPath: environment["PATH"] ?? "/usr/bin:/bin")
        }
        return .command(command)
    }

    /// What no sandbox may see: the SQLite registry with its journals and key pepper, and the git cache.
    static func protectedPaths(_ manifest: Manifest) -> BridgedSandbox.Protected {
        var protected = BridgedSandbox.Protected(folders: [manifest.resolve(manifest.host.cache)])
        if !PostgresLocation.hasScheme(manifest.host.database) {
            let database = manifest.resolve(manifest.host.database)
            protected.files = ["", "-wal", "-shm", "-journal"].map { database + $0 }
                + [KeyPepper.fileName, HostSecret.fileName].map { PathText.resolve($0, against: PathText.parent(database)) }
        }
        return protected
    }

    static func bridgeSettings(_ config: MCPPluginConfig, environment: [String: String]) -> BridgeSettings {
        var settings = config.shared
        settings.lifeline = .shim(executable: ChildCommand.agenthub(environment: environment))
        return settings
    }

    /// The bridge, when the manifest declares servers.
    public var bridge: MCPBridge? { plugins.lazy.compactMap { $0 as? MCPBridge }.first }
}

/// What the tools read and write: the SQLite registry's stores, or another backend's.
public struct ToolStores: Sendable {
    public var memory: any MemoryStore
    public var events: any EventStore
    public var skills: any SkillStore
    /// Where bridged tool definitions are pinned and server status recorded (nil: pins live in memory).
    public var pins: (any BridgeLedger)?

    public init(memory: any MemoryStore, events: any EventStore, skills: any SkillStore, pins: (any BridgeLedger)?) {
        self.memory = memory
        self.events = events
        self.skills = skills
        self.pins = pins
    }

    public init(registry: any RegistryStore) {
        self.init(memory: registry, events: registry, skills: registry, pins: registry.pins)
    }
}
