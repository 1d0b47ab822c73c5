import Foundation

/// A value set once (how a child ended) that any number of tasks await, each with an optional
/// deadline. Waiters are resumed when it is set, when their deadline passes, or when cancelled.
final class ExitLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ChildExit?
    private var waiters: [Int: CheckedContinuation<ChildExit?, Never>] = [:]
    private var nextTicket = 0
    /// Tickets whose deadline or cancellation came before their continuation was registered.
    private var abandoned: Set<Int> = []

    var current: ChildExit? { lock.withLock { value } }

    func finish(_ exit: ChildExit) {
        let ready: [CheckedContinuation<ChildExit?, Never>] = lock.withLock {
            guard value == nil else { return [] }
            value = exit
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in ready { waiter.resume(returning: exit) }
    }

    /// The exit, or nil when `timeout` passed first or the task was cancelled.
    func wait(timeout: Duration? = nil) async -> ChildExit? {
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
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildExit?, Never>) in
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
        let waiter: CheckedContinuation<ChildExit?, Never>? = lock.withLock {
            guard value == nil else { return nil }
            guard let waiter = waiters.removeValue(forKey: ticket) else { abandoned.insert(ticket); return nil }
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}
