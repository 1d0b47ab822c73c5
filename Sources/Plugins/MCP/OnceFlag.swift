import Foundation

/// A flag set once that tasks can wait on, each with a deadline (a server's first start settled).
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var abandoned: Set<Int> = []
    private var nextTicket = 0

    func set() {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            guard !isSet else { return [] }
            isSet = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in ready { waiter.resume() }
    }

    /// Returns when set, when `timeout` passes, or when the task is cancelled.
    func wait(timeout: Duration) async {
        let ticket: Int? = lock.withLock {
            if isSet { return nil }
            nextTicket += 1
            return nextTicket
        }
        guard let ticket else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.abandon(ticket)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if isSet || Task.isCancelled || abandoned.remove(ticket) != nil { lock.unlock(); continuation.resume(); return }
                waiters[ticket] = continuation
                lock.unlock()
            }
        } onCancel: {
            abandon(ticket)
        }
    }

    private func abandon(_ ticket: Int) {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            guard !isSet else { return nil }
            guard let waiter = waiters.removeValue(forKey: ticket) else { abandoned.insert(ticket); return nil }
            return waiter
        }
        waiter?.resume()
    }
}
