import Foundation
import Logging
import Plugins
import ServiceLifecycle

/// The trace writer as a service: first in the group, so it stops last, once every front and
/// plugin has ended, and writes every trace event still queued before the process exits.
struct TraceWriterService: Service {
    let recorder: TraceRecorder
    let logger: Logger
    /// How long shutdown waits for the last events (another process may hold the database).
    var limit: Duration = .seconds(15)

    func run() async throws {
        // Cancelled rather than shut down (another service failed): the group allows only moments.
        let cancelled = (try? await gracefulShutdown()) == nil
        let limit = cancelled ? min(self.limit, .seconds(2)) : self.limit
        let recorder = self.recorder
        guard recorder.unwritten > 0 else { return }
        // In a task of its own: a cancelled one would stop waiting at once.
        if await !Task(operation: { await recorder.flush(timeout: limit) }).value {
            logger.error("trace events not written at shutdown: the registry stayed busy", metadata: ["host.trace.count": "\(recorder.unwritten)"])
        }
    }
}

/// The bridge's servers as a service: started in the background when the group starts (a slow
/// server delays nobody), stopped (stdin closed, SIGTERM, SIGKILL) when it shuts down, after the
/// fronts and the scheduler.
struct BridgeService: Service {
    let bridge: MCPBridge
    let logger: Logger

    func run() async throws {
        do { try await bridge.start() } catch {
            logger.error("the bridge could not start", metadata: ["host.error": "\(error)"])
        }
        try? await gracefulShutdown()
        await bridge.stop()
    }
}

/// The tasks this host runs, as a service: last in the group, so it is the first told of shutdown.
/// Their calls are stopped while the fronts, the bridge and the trace writer still run, and each
/// ends `failed` with "the host stopped while the task ran" (never `cancelled`, never a tool error
/// from a bridge going away), written before the host goes.
struct TaskStopService: Service {
    let tasks: TaskRunner

    func run() async throws {
        try? await gracefulShutdown()
        await tasks.stopAll(within: .seconds(3))
    }
}
