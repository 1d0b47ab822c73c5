import Synchronization

/// At most `limit` calls at once; the rest wait in order for a slot, up to a deadline, and stop
/// waiting when their task is cancelled.
public final class ConcurrencyLimiter: Sendable {
    private struct State {
        var available: Int
        var limit: Int
        var nextId: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        /// Waits given an id whose continuation is not registered yet.
        var unregistered: Set<UInt64> = []
        /// Of those, the ones whose deadline or cancellation came first: they give up on registering.
        var abandoned: Set<UInt64> = []
    }
    private let state: Mutex<State>

    public init(limit: Int) {
        let limit = max(1, limit)
        state = Mutex(State(available: limit, limit: limit))
    }

    /// Changes the limit (a reloaded `router.max_concurrent`): calls running keep their slots; a
    /// larger limit lets waiting calls start now, a smaller one lets no new call start until enough end.
    public func resize(to newLimit: Int) {
        let newLimit = max(1, newLimit)
        let woken: [CheckedContinuation<Bool, Never>] = state.withLock { s in
            s.available += newLimit - s.limit
            s.limit = newLimit
            var woken: [CheckedContinuation<Bool, Never>] = []
            while s.available > 0, !s.waiters.isEmpty {
                s.available -= 1
                woken.append(s.waiters.removeFirst().continuation)
            }
            return woken
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Takes a slot; false when none freed up within `timeout` or the task was cancelled.
    func acquire(timeout: Duration) async -> Bool {
        let (acquired, id): (Bool, UInt64) = state.withLock { s in
            if s.available > 0 {
                s.available -= 1
                return (true, 0)
            }
            s.nextId += 1
            s.unregistered.insert(s.nextId)
            return (false, s.nextId)
        }
        if acquired { return true }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.abandon(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = state.withLock { s in
                    s.unregistered.remove(id)
                    let gaveUp = s.abandoned.remove(id) != nil
                    if s.available > 0 {
                        s.available -= 1
                        return true
                    }
                    if gaveUp || Task.isCancelled { return false }
                    s.waiters.append((id, continuation))
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            self.abandon(id)
        }
    }

    func release() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: true)
    }

    private func abandon(_ id: UInt64) {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else {
                // Not registered yet: it finds this when it registers, and gives up at once.
                if s.unregistered.contains(id) { s.abandoned.insert(id) }
                return nil
            }
            return s.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: false)
    }
}
