import Synchronization

/// A value set once, from any thread, that any number of tasks await, each with an optional
/// deadline: how a child ended, whether a server's first start settled, why a read loop stopped.
public final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        /// Tickets whose deadline or cancellation came before their continuation was registered.
        var abandoned: Set<Int> = []
        var nextTicket = 0
    }
    private let state = Mutex(State())
    /// What a waiter finds when it registers.
    private enum Arrival { case value(Value), gone, waiting }

    public init() {}

    /// The value, once set.
    public var current: Value? { state.withLock { $0.value } }

    /// Sets the value and resumes every waiter. Returns false (and changes nothing) when it was set already.
    @discardableResult
    public func set(_ newValue: Value) -> Bool {
        let ready: [CheckedContinuation<Value?, Never>]? = state.withLock { s in
            guard s.value == nil else { return nil }
            s.value = newValue
            defer { s.waiters.removeAll(); s.abandoned.removeAll() }
            return Array(s.waiters.values)
        }
        guard let ready else { return false }
        for waiter in ready { waiter.resume(returning: newValue) }
        return true
    }

    /// The value; nil when `timeout` passed first or the waiting task was cancelled.
    public func wait(timeout: Duration? = nil) async -> Value? {
        let ticket: Int? = state.withLock { s in
            if s.value != nil { return nil }
            s.nextTicket += 1
            return s.nextTicket
        }
        guard let ticket else { return current }
        let timer = timeout.map { timeout in
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.abandon(ticket)
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let now: Arrival = state.withLock { s in
                    if let value = s.value { return .value(value) }
                    if Task.isCancelled || s.abandoned.remove(ticket) != nil { return .gone }
                    s.waiters[ticket] = continuation
                    return .waiting
                }
                switch now {
                case .value(let value): continuation.resume(returning: value)
                case .gone: continuation.resume(returning: nil)
                case .waiting: break
                }
            }
        } onCancel: {
            abandon(ticket)
        }
    }

    private func abandon(_ ticket: Int) {
        let waiter: CheckedContinuation<Value?, Never>? = state.withLock { s in
            guard s.value == nil else { return nil }
            guard let waiter = s.waiters.removeValue(forKey: ticket) else { s.abandoned.insert(ticket); return nil }
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}
