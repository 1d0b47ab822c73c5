import Foundation

/// At most `limit` calls at once; the rest wait in order for a slot, up to a deadline, and stop
/// waiting when their task is cancelled.
public final class ConcurrencyLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var available: Int
    private var limit: Int
    private var nextId: UInt64 = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []

    public init(limit: Int) {
        self.limit = max(1, limit)
        available = self.limit
    }

    /// Changes the limit (a reloaded `router.max_concurrent`): calls running keep their slots; a
    /// larger limit lets waiting calls start now, a smaller one lets no new call start until enough end.
    public func resize(to newLimit: Int) {
        let newLimit = max(1, newLimit)
        let woken: [CheckedContinuation<Bool, Never>] = lock.withLock {
            available += newLimit - limit
            limit = newLimit
            var woken: [CheckedContinuation<Bool, Never>] = []
            while available > 0, !waiters.isEmpty {
                available -= 1
                woken.append(waiters.removeFirst().continuation)
            }
            return woken
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Takes a slot; false when none freed up within `timeout` or the task was cancelled.
    func acquire(timeout: Duration) async -> Bool {
        let (acquired, id): (Bool, UInt64) = lock.withLock {
            if available > 0 {
                available -= 1
                return (true, 0)
            }
            nextId += 1
            return (false, nextId)
        }
        if acquired { return true }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.abandon(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                lock.lock()
                if available > 0 {
                    available -= 1
                    lock.unlock()
                    continuation.resume(returning: true)
                } else if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(returning: false)
                } else {
                    waiters.append((id, continuation))
                    lock.unlock()
                }
            }
        } onCancel: {
            self.abandon(id)
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            available += 1
            lock.unlock()
        } else {
            let waiter = waiters.removeFirst()
            lock.unlock()
            waiter.continuation.resume(returning: true)
        }
    }

    private func abandon(_ id: UInt64) {
        lock.lock()
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { lock.unlock(); return }
        let waiter = waiters.remove(at: index)
        lock.unlock()
        waiter.continuation.resume(returning: false)
    }
}
