import Base
import Registry
import Dispatch
import Foundation
import Logging
import Synchronization

/// Writes trace events to the registry off the call path. Events queue in memory and a serial
/// writer drains them after a 2 ms linger, all pending events in one transaction, so a burst of
/// calls costs one commit rather than two each. A crash can lose the events of the last moment. `flush()` waits until everything recorded so far is in the database.
public final class TraceRecorder: Sendable {
    private struct State {
        var pending: [TraceEvent] = []
        var draining = false
        var recorded = 0
        var written = 0
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    let registry: RegistryDatabase
    private let logger: Logger
    private let queue = DispatchQueue(label: "agenthub.trace-writer")
    private let state = Mutex(State())
    /// Fired after each batch reaches the database (event streams wake on it).
    public let stored: ChangeSignal

    public init(registry: RegistryDatabase, logger: Logger, stored: ChangeSignal = ChangeSignal()) {
        self.registry = registry
        self.logger = logger
        self.stored = stored
    }

    /// Queues an event; it reaches the database shortly (see `flush`).
    public func record(_ event: TraceEvent) {
        let start = state.withLock { s in
            s.pending.append(event)
            s.recorded += 1
            defer { s.draining = true }
            return !s.draining
        }
        // Linger a moment before writing, so calls in quick succession share one transaction.
        if start { queue.asyncAfter(deadline: .now() + .milliseconds(2)) { self.drain() } }
    }

    /// Returns once every event recorded before the call has been written (or failed to be).
    public func flush() async {
        let (target, done) = state.withLock { ($0.recorded, $0.written >= $0.recorded) }
        if done { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s in
                if s.written >= target { return true }
                s.waiters.append((target, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// `flush`, waiting at most `timeout`; false when events were still unwritten then (the database
    /// held by another writer): shutdown logs how many, rather than hang.
    public func flush(timeout: Duration) async -> Bool {
        await finishes(within: timeout) { await self.flush() }
    }

    /// Events recorded and not written yet.
    public var unwritten: Int { state.withLock { $0.recorded - $0.written } }

    private func drain() {
        while true {
            let batch = state.withLock { s -> [TraceEvent] in
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { s.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            do { try registry.appendTraceEvents(batch) } catch {
                logger.error("trace events lost", metadata: ["host.trace.count": "\(batch.count)", "host.trace.error": "\(error.message)"])
            }
            stored.fire()
            let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                s.written += batch.count
                let written = s.written
                let ready = s.waiters.filter { $0.target <= written }.map(\.continuation)
                s.waiters.removeAll { $0.target <= written }
                return ready
            }
            for waiter in ready { waiter.resume() }
        }
    }
}
