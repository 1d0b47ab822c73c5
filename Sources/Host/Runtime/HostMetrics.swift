import Foundation
import Metrics
import Synchronization

/// What the host counts and times, through swift-metrics: nothing is kept unless a metrics backend
/// was bootstrapped (`agenthub serve` bootstraps Prometheus and serves it at `/metrics`).
/// Label values come from the manifest and the catalog, never from a caller's free text, so a
/// client cannot grow the number of series (an unknown tool is counted as `(unknown)`).
public struct HostMetrics: Sendable {
    /// Whether tool labels carry the tool's name (`http.metrics_tool_names`); else `(hidden)`, since
    /// `/metrics` answers without a key and names say what the host offers.
    public let namesTools: Bool
    /// The call metrics' handles by their labels: made once, where making them (the backend's
    /// lookup by name and labels) cost every call 1-2 µs. The backend is bootstrapped before any
    /// host is made (`agenthub serve`), so a handle kept here is never the no-op one.
    private let callHandles = CallHandles()

    public init(namesTools: Bool = false) { self.namesTools = namesTools }

    /// One routed call: by tool, the policy's decision and how it ended, with its latency.
    public func toolCall(tool: String, decision: String, outcome: String, duration: Duration) {
        let tool = namesTools || tool == "(unknown)" ? tool : "(hidden)"
        let (counter, timer) = callHandles.handles(tool: tool, decision: decision, outcome: outcome)
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    final class CallHandles: Sendable {
        struct Labels: Hashable, Sendable {
            var tool, decision, outcome: String
        }
        private let made = Mutex<[Labels: (Counter, Metrics.Timer)]>([:])
        /// Labels come from the manifest and the catalog; past this many sets, handles are made each time.
        static let limit = 10_000

        func handles(tool: String, decision: String, outcome: String) -> (Counter, Metrics.Timer) {
            let key = Labels(tool: tool, decision: decision, outcome: outcome)
            if let found = made.withLock({ $0[key] }) { return found }
            let handles = (Counter(label: "agenthub_tool_calls_total", dimensions: [("tool", tool), ("decision", decision), ("outcome", outcome)]),
                           Metrics.Timer(label: "agenthub_tool_call_duration_seconds", dimensions: [("tool", tool)], preferredDisplayUnit: .seconds))
            made.withLock { if $0.count < Self.limit { $0[key] = handles } }
            return handles
        }
    }

    /// One run of a source's sync: by source and outcome (`published`, `unchanged`, `failed`, …), with its duration.
    public func syncRun(source: String, outcome: String, duration: Duration) {
        Counter(label: "agenthub_sync_runs_total", dimensions: [("source", source), ("outcome", outcome)]).increment()
        Metrics.Timer(label: "agenthub_sync_run_duration_seconds", dimensions: [("source", source)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// One reload: `applied`, `unchanged` or `rejected`.
    public func reload(result: String) {
        Counter(label: "agenthub_reloads_total", dimensions: [("result", result)]).increment()
    }

    /// Trace events recorded and not yet in the database (the writer's backlog, bounded by the
    /// recorder's capacity: past it new calls wait, then fail; no event is dropped).
    public func traceBacklog(_ unwritten: Int) {
        Gauge(label: "agenthub_trace_unwritten_events").record(unwritten)
    }

    /// A batch of trace events the database refused (it stays queued and is retried).
    public func traceWriteFailed() {
        Counter(label: "agenthub_trace_write_failures_total").increment()
    }

    /// A bridged server restarted after it ended.
    public func bridgeRestart(server: String) {
        Counter(label: "agenthub_bridge_restarts_total", dimensions: [("server", server)]).increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
