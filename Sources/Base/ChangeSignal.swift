import Synchronization

/// A broadcast "something changed": a generation number that `fire` bumps, and waiters that
/// return once it moves past the generation they saw (or their timeout passes, or they are
/// cancelled). Readers then look at the data itself, so a signal missed or merged loses nothing.
public final class ChangeSignal: Sendable {
    private struct State {
        var current: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextToken: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    public var generation: UInt64 { state.withLock { $0.current } }

    /// Bumps the generation and wakes every waiter.
    public func fire() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.current &+= 1
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once the generation is past `seen`, or after `timeout`, or when the task is cancelled.
    public func wait(since seen: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(since: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func wait(since seen: UInt64) async {
        let token = state.withLock { s -> UInt64 in
            s.nextToken += 1
            return s.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.current != seen || Task.isCancelled { return true }
                    s.waiters[token] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
            waiter?.resume()
        }
    }
}
