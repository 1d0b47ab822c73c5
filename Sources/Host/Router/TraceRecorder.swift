import Base
import Core
import Registry
import Dispatch
import Foundation
import Logging
import Synchronization

/// Writes trace events to the registry off the call path. A call never waits for its events to
/// reach the database: `record` queues them in memory, and a serial writer drains the queue after a
/// 2 ms linger, up to `batchLimit` events in one transaction, so a burst of calls costs one commit
/// rather than two each.
///
/// The queue is bounded: while `capacity` events or more wait for the writer, `room(within:)` (which
/// the router awaits before a call starts) holds new calls back until the writer catches up; the
/// events of calls already running are always queued, so nothing a call did goes untraced. A batch
/// the database refuses (disk full, locked past the busy timeout, read-only) stays at the head of
/// the queue and is retried with backoff, so a stalled database slows calls down instead of losing
/// their trace. `flush()` waits until everything recorded so far is in the database; a crash can
/// lose the events of the last moment.
public final class TraceRecorder: Sendable {
    private struct State {
        /// Recorded, not yet taken by the writer.
        var pending: [TraceEvent] = []
        /// The batch the writer is writing, or will try again: the oldest unwritten events. Taken
        /// from `pending` whole (a swap), so a call recording while a batch is written appends to an
        /// array of its own: a slice of `pending` held by the writer made that append copy every
        /// queued event (a copy of a trace event is a dozen retains: 3-4 µs of every routed call).
        var head: [TraceEvent] = []
        var draining = false
        var recorded = 0
        var written = 0
        var failures = 0
        var lastError: String?
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var roomWaiters: [CheckedContinuation<Void, Never>] = []

        var unwritten: Int { recorded - written }
    }
    /// Where the events go (the SQLite registry, or PostgreSQL).
    let sink: any TraceSink
    /// The SQLite registry, when that is the sink.
    var registry: RegistryDatabase? { sink as? RegistryDatabase }
    /// How many unwritten events make new calls wait (`room`).
    public let capacity: Int
    /// The most events one transaction writes.
    public let batchLimit: Int
    private let logger: Logger
    private let queue = DispatchQueue(label: "agenthub.trace-writer")
    private let state = Mutex(State())
    /// Fired after each batch reaches the database (event streams wake on it).
    public let stored: ChangeSignal

    public convenience init(registry: RegistryDatabase, logger: Logger, stored: ChangeSignal = ChangeSignal(), capacity: Int = 8192, batchLimit: Int = 1024) {
        self.init(sink: registry, logger: logger, stored: stored, capacity: capacity, batchLimit: batchLimit)
    }

    /// This writer's name in the store, with which it numbers its events (`appendTraceEvents(_:writer:firstIndex:)`).
    let writer = SyncOwner.thisProcess + ":" + UUID().uuidString.prefix(8)
    /// Told the backlog after each batch and each refusal (`/metrics`).
    let metrics: HostMetrics?

    public init(sink: any TraceSink, logger: Logger, stored: ChangeSignal = ChangeSignal(), capacity: Int = 8192, batchLimit: Int = 1024,
                metrics: HostMetrics? = nil) {
        self.sink = sink
        self.metrics = metrics
        self.logger = logger
        self.stored = stored
        self.capacity = max(1, capacity)
        self.batchLimit = max(1, batchLimit)
    }

    /// Queues an event; it reaches the database shortly (see `flush`). Never waits and never drops.
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

    /// Back-pressure: returns true at once while fewer than `capacity` events wait for the writer;
    /// otherwise waits until the writer has made room, false if it has not within `limit` (the
    /// database has refused writes for that long; `writerProblem` says why).
    public func room(within limit: Duration) async -> Bool {
        if state.withLock({ $0.unwritten < capacity }) { return true }
        return await finishes(within: limit) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLock { s in
                    if s.unwritten < self.capacity { return true }
                    s.roomWaiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Returns once every event recorded before the call has been written.
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
    public var unwritten: Int { state.withLock { $0.unwritten } }

    /// Why the writer is behind: the database's last refusal, while it keeps refusing.
    public var writerProblem: String? { state.withLock { $0.failures > 0 ? $0.lastError : nil } }

    private func drain() {
        while true {
            let (batch, firstIndex) = state.withLock { s -> ([TraceEvent], Int) in
                if s.head.isEmpty {
                    if s.pending.count <= batchLimit {
                        swap(&s.head, &s.pending)
                    } else {
                        s.head = Array(s.pending.prefix(batchLimit))
                        s.pending.removeFirst(batchLimit)
                    }
                }
                if s.head.isEmpty { s.draining = false }
                return (s.head, s.written)
            }
            if batch.isEmpty { return }
            do {
                // The head of the queue is event number `written`: a batch sent again numbers its events alike.
                try sink.appendTraceEvents(batch, writer: writer, firstIndex: firstIndex)
            } catch {
                retryLater(batch.count, error)
                return
            }
            stored.fire()
            let (ready, recovered) = state.withLock { s -> ([CheckedContinuation<Void, Never>], Int) in
                s.head = []
                s.written += batch.count
                let recovered = s.failures
                s.failures = 0
                s.lastError = nil
                let written = s.written
                var ready = s.waiters.filter { $0.target <= written }.map(\.continuation)
                s.waiters.removeAll { $0.target <= written }
                if s.unwritten < capacity {
                    ready += s.roomWaiters
                    s.roomWaiters.removeAll()
                }
                return (ready, recovered)
            }
            if recovered > 0 { logger.notice("trace writer recovered", metadata: ["host.trace.failures": "\(recovered)"]) }
            metrics?.traceBacklog(unwritten)
            for waiter in ready { waiter.resume() }
        }
    }

    /// The database refused a batch: it stays at the head of the queue and the writer tries again
    /// after a backoff (50 ms, doubling to 2 s). The first refusal and every tenth are logged.
    private func retryLater(_ count: Int, _ error: RegistryError) {
        let failures = state.withLock { s in
            s.failures += 1
            s.lastError = error.message
            return s.failures
        }
        metrics?.traceWriteFailed()
        metrics?.traceBacklog(unwritten)
        if failures == 1 || failures % 10 == 0 {
            logger.error("trace writer cannot write; the events wait and are retried", metadata: [
                "host.trace.count": "\(count)", "host.trace.unwritten": "\(unwritten)", "host.trace.failures": "\(failures)",
                "host.trace.error": "\(error.message)"])
        }
        let delay = min(2000, 50 << min(failures - 1, 6))
        queue.asyncAfter(deadline: .now() + .milliseconds(delay)) { self.drain() }
    }
}
