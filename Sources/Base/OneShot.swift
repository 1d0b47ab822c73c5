import Foundation

/// A value set once, from any thread, that any number of tasks await, each with an optional
/// deadline: how a child ended, whether a server's first start settled, why a read loop stopped.
public final class OneShot<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    private var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
    /// Tickets whose deadline or cancellation came before their continuation was registered.
    private var abandoned: Set<Int> = []
    private var nextTicket = 0

    public init() {}

    /// The value, once set.
    public var current: Value? { lock.withLock { value } }

    /// Sets the value and resumes every waiter. Returns false (and changes nothing) when it was set already.
    @discardableResult
    public func set(_ newValue: Value) -> Bool {
        let ready: [CheckedContinuation<Value?, Never>]? = lock.withLock {
            guard value == nil else { return nil }
            value = newValue
            defer { waiters.removeAll(); abandoned.removeAll() }
            return Array(waiters.values)
        }
        guard let ready else { return false }
        for waiter in ready { waiter.resume(returning: newValue) }
        return true
    }

    /// The value; nil when `timeout` passed first or the waiting task was cancelled.
    public func wait(timeout: Duration? = nil) async -> Value? {
        let ticket: Int? = lock.withLock {
            if value != nil { return nil }
            nextTicket += 1
            return nextTicket
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
                lock.lock()
                if let value { lock.unlock(); continuation.resume(returning: value); return }
                if Task.isCancelled || abandoned.remove(ticket) != nil { lock.unlock(); continuation.resume(returning: nil); return }
                waiters[ticket] = continuation
                lock.unlock()
            }
        } onCancel: {
            abandon(ticket)
        }
    }

    private func abandon(_ ticket: Int) {
        let waiter: CheckedContinuation<Value?, Never>? = lock.withLock {
            guard value == nil else { return nil }
            guard let waiter = waiters.removeValue(forKey: ticket) else { abandoned.insert(ticket); return nil }
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}
