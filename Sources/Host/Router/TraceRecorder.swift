import Base
import Registry
import Dispatch
import Foundation
import Logging

/// Writes trace events to the registry off the call path. Events queue in memory and a serial
/// writer drains them after a 2 ms linger, all pending events in one transaction, so a burst of
/// calls costs one commit rather than two each. A crash can lose the events of the last moment. `flush()` waits until everything recorded so far is in the database.
public final class TraceRecorder: @unchecked Sendable {
    let registry: RegistryDatabase
    private let logger: Logger
    private let queue = DispatchQueue(label: "agenthub.trace-writer")
    private let lock = NSLock()
    private var pending: [TraceEvent] = []
    private var draining = false
    private var recorded = 0
    private var written = 0
    private var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    /// Fired after each batch reaches the database (event streams wake on it).
    public let stored: ChangeSignal

    public init(registry: RegistryDatabase, logger: Logger, stored: ChangeSignal = ChangeSignal()) {
        self.registry = registry
        self.logger = logger
        self.stored = stored
    }

    /// Queues an event; it reaches the database shortly (see `flush`).
    public func record(_ event: TraceEvent) {
        lock.lock()
        pending.append(event)
        recorded += 1
        let start = !draining
        draining = true
        lock.unlock()
        // Linger a moment before writing, so calls in quick succession share one transaction.
        if start { queue.asyncAfter(deadline: .now() + .milliseconds(2)) { self.drain() } }
    }

    /// Returns once every event recorded before the call has been written (or failed to be).
    public func flush() async {
        let (target, done) = lock.withLock { (recorded, written >= recorded) }
        if done { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if written >= target {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append((target, continuation))
                lock.unlock()
            }
        }
    }

    /// `flush`, waiting at most `timeout`; false when events were still unwritten then (the database
    /// held by another writer): shutdown logs how many, rather than hang.
    public func flush(timeout: Duration) async -> Bool {
        await finishes(within: timeout) { await self.flush() }
    }

    /// Events recorded and not written yet.
    public var unwritten: Int { lock.withLock { recorded - written } }

    private func drain() {
        while true {
            lock.lock()
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            if batch.isEmpty {
                draining = false
                lock.unlock()
                return
            }
            lock.unlock()
            do { try registry.appendTraceEvents(batch) } catch {
                logger.error("trace events lost", metadata: ["host.trace.count": "\(batch.count)", "host.trace.error": "\(error.message)"])
            }
            stored.fire()
            lock.lock()
            written += batch.count
            let ready = waiters.filter { $0.target <= written }
            waiters.removeAll { $0.target <= written }
            lock.unlock()
            for waiter in ready { waiter.continuation.resume() }
        }
    }
}
