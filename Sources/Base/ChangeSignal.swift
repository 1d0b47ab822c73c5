import Foundation

/// A broadcast "something changed": a generation number that `fire` bumps, and waiters that
/// return once it moves past the generation they saw (or their timeout passes, or they are
/// cancelled). Readers then look at the data itself, so a signal missed or merged loses nothing.
public final class ChangeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var current: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextToken: UInt64 = 0

    public init() {}

    public var generation: UInt64 { lock.withLock { current } }

    /// Bumps the generation and wakes every waiter.
    public func fire() {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            current &+= 1
            defer { waiters.removeAll() }
            return Array(waiters.values)
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
        let token = lock.withLock { () -> UInt64 in
            nextToken += 1
            return nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if current != seen || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters[token] = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            let waiter = lock.withLock { waiters.removeValue(forKey: token) }
            waiter?.resume()
        }
    }
}
