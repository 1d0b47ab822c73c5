import Foundation
import Logging
import Plugins
import Registry
import ServiceLifecycle

/// The running host: one graph of services under one `ServiceGroup`, the same for `agenthub serve`
/// (with the HTTP front) and `agenthub mcp` (with the stdio front).
///
/// Services, in start order (the group shuts them down in reverse, so the fronts drain first and the
/// trace writer flushes last):
/// 1. the trace writer: flushes every queued trace event when all else has stopped;
/// 2. presence: records this host in the registry for `agenthub reload` and `agenthub status`;
/// 3. the bridge: the downstream MCP servers;
/// 4. the sync scheduler: every source on its interval;
/// 5. reload: the manifest watcher and SIGHUP, feeding `HostState.reload`;
/// 6. the fronts.
///
/// A reload flows: trigger → `HostState` reads and checks the whole manifest off the pool, builds a
/// snapshot, swaps it → sessions take it for their next call and send `list_changed` → the sync
/// service declares the sources and reschedules (new and changed ones now) → the bridge restarts
/// only the servers whose entry changed → presence records the outcome.
public final class HostRuntime: Sendable {
    public let context: HostContext
    public let state: HostState
    public let sync: SyncService?
    public let presence: HostPresence
    let logger: Logger

    /// `syncing: false` runs no scheduler (`agenthub mcp --no-sync`). `loadError`: the manifest did not
    /// load and `context` is `HostContext.unloaded` (serve waits for a good one).
    public init(context: HostContext, configPath: String, kind: String, syncing: Bool = true, loadError: HostError? = nil) throws(HostError) {
        self.context = context
        self.logger = context.logger
        ProcessHardening.scrub(secretsOf: context.manifest)
        let parts = HostParts(manifest: context.manifest, registry: context.registry, logger: context.logger, environment: context.environment)
        let state = try HostState(context: context, configPath: configPath, revision: context.revision, parts: parts, loadError: loadError)
        self.state = state
        let environment = context.environment
        if syncing {
            var syncer = context.syncer
            syncer.skillServers = parts.bridge
            let sync = SyncService(syncer: syncer, metrics: parts.metrics)
            state.observe { _, new in await sync.apply(new.manifest) }
            // A bridged server that publishes skills syncs its sources when it becomes ready and
            // each time it says its resources changed, not only on their interval.
            parts.bridge.onSkillsChanged = { server in
                Task {
                    let names = sync.syncer.manifest.sources.filter { $0.location == .mcp(server) }.map(\.name)
                    if !names.isEmpty { _ = await sync.syncNow(names) }
                }
            }
            self.sync = sync
        } else {
            sync = nil
        }
        state.observe { _, new in
            await parts.bridge.apply(servers: ToolHost.bridgedServers(new.manifest, environment: environment),
                                     settings: ToolHost.bridgeSettings(new.manifest, environment: environment))
        }
        state.observe { _, new in await parts.approvals.revokeStaleGrants(under: new) }
        presence = HostPresence(state: state, kind: kind, logger: context.logger)
        // SIGHUP's default is to end the process: ignored from now, so a reload asked for while the
        // services start (presence may record the host before reload listens) never kills it.
        signal(SIGHUP, SIG_IGN)
    }

    /// Runs every service and the `fronts` until SIGTERM or SIGINT (or a front that ends the group),
    /// then shuts them down in reverse order within `shutdownLimit`.
    public func run(fronts: [ServiceGroupConfiguration.ServiceConfiguration], reload: ReloadService.Settings = ReloadService.Settings(),
                    shutdownLimit: Duration = .seconds(10)) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: TraceWriterService(recorder: state.parts.recorder, logger: logger, limit: shutdownLimit / 2), serviceName: "trace-writer"),
            .init(service: presence, serviceName: "presence"),
            .init(service: BridgeService(bridge: state.parts.bridge, logger: logger), serviceName: "bridge"),
        ]
        if let sync { services.append(.init(service: SyncSchedulerService(sync: sync), serviceName: "sync-scheduler")) }
        services.append(.init(service: ReloadService(state: state, settings: reload, logger: logger), serviceName: "reload"))
        services += fronts
        services.append(.init(service: TaskStopService(tasks: state.parts.tasks), serviceName: "tasks"))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownLimit
        configuration.maximumCancellationDuration = .seconds(3)
        try await ServiceGroup(configuration: configuration).run()
    }
}
