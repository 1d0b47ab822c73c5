import Core
import Foundation
import Logging
import Plugins
import Registry

/// What a running host keeps across reloads, shared by the routers of every snapshot: the trace
/// recorder (one writer, flushed last at shutdown), the concurrency limit (calls still running under
/// an old snapshot keep counting), the bridge (servers outlive snapshots; a reload restarts only those
/// whose entry changed), and the metrics.
public final class HostParts: Sendable {
    public let recorder: TraceRecorder
    public let limiter: ConcurrencyLimiter
    public let bridge: MCPBridge
    public let metrics: HostMetrics
    /// Where calls needing approval wait (their requests and grants are in the registry).
    public let approvals: ApprovalDesk
    /// Calls that outlive their request (MCP tasks, `Prefer: respond-async`).
    public let tasks: TaskRunner

    public init(manifest: Manifest, registry: any RegistryStore, logger: Logger, environment: [String: String]) {
        metrics = HostMetrics(namesTools: manifest.http.metricsToolNames)
        recorder = TraceRecorder(sink: registry, logger: logger, metrics: metrics)
        limiter = ConcurrencyLimiter(limit: manifest.router.maxConcurrent)
        approvals = ApprovalDesk(ledger: registry, recorder: recorder, logger: logger)
        tasks = TaskRunner(store: registry, approvals: approvals, logger: logger)
        bridge = MCPBridge(servers: ToolHost.bridgedServers(manifest, environment: environment),
                           settings: ToolHost.bridgeSettings(manifest, environment: environment), registry: registry.pins, logger: logger)
        let metrics = self.metrics
        bridge.onRestart = { metrics.bridgeRestart(server: $0) }
    }
}

/// One immutable state of the host: the manifest, its compiled policy, the tool table and the
/// plugins built from it, with the manifest's revision. A reload builds a new one whole and swaps it;
/// each call reads the snapshot once and finishes under it.
public struct HostSnapshot: Sendable {
    /// The first 12 hex digits of the SHA-256 of the manifest's bytes.
    public let revision: String
    public let manifest: Manifest
    public let tools: ToolHost
    public let loadedAt: Date
}
