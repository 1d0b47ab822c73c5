import Foundation

// Waiting for work that blocks a thread (SQLite, libgit2, files) without holding one of the
// cooperative pool's few threads, and without letting it hold shutdown.

/// Waits for `work` at most `limit`; true when it finished. Work that outlives the limit goes on
/// unawaited (a task group would wait for it, cancelled or not: uncancellable waits, such as a write
/// blocked on another process's lock, would hold shutdown).
public func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    let done = OneShot<Void>()
    Task.detached {
        await work()
        done.set(())
    }
    return await done.wait(timeout: limit) != nil
}

/// Runs blocking work on a thread of its own and awaits its result.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
