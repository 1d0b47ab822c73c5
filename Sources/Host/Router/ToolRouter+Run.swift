import Base
import Foundation
import Plugins

/// Running a plugin call against a deadline and the caller's cancellation. The call runs in its
/// own task so the router answers at the deadline even if a plugin ignores cancellation; the
/// concurrency slot is held until the plugin really returns.
extension ToolRouter {
    enum RunOutcome: Sendable {
        case value(ToolResult)
        case error(any Error)
        case timedOut
        case cancelled
    }

    func run(_ plugin: any ToolPlugin, _ name: String, _ arguments: [String: JSONValue], _ context: ToolCallContext,
             until deadline: ContinuousClock.Instant) async -> RunOutcome {
        let race = Race()
        let limiter = self.limiter
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RunOutcome, Never>) in
                race.start(continuation)
                let body: @Sendable () async -> Void = {
                    defer { limiter.release() }
                    do { race.finish(.value(try await plugin.call(name, arguments: arguments, context: context))) } catch {
                        race.finish(.error(error))
                    }
                }
                let work = plugin.blocksThreads ? Task(executorPreference: BlockingWorkExecutor.shared, operation: body) : Task(operation: body)
                let timer = Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if !Task.isCancelled { race.finish(.timedOut) }
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.finish(.cancelled)
        }
    }
}

/// The first of work, timer and cancellation to finish wins; the others are cancelled.
private final class Race: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<ToolRouter.RunOutcome, Never>?
    private var outcome: ToolRouter.RunOutcome?
    private var resumed = false
    private var work: Task<Void, Never>?
    private var timer: Task<Void, Never>?

    func start(_ continuation: CheckedContinuation<ToolRouter.RunOutcome, Never>) {
        lock.lock()
        if let outcome, !resumed {
            resumed = true
            lock.unlock()
            continuation.resume(returning: outcome)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        lock.lock()
        let done = resumed || outcome != nil
        self.work = work
        self.timer = timer
        lock.unlock()
        if done {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: ToolRouter.RunOutcome) {
        lock.lock()
        guard outcome == nil else { lock.unlock(); return }
        outcome = result
        let continuation = self.continuation
        if continuation != nil { resumed = true }
        let work = self.work
        let timer = self.timer
        lock.unlock()
        continuation?.resume(returning: result)
        timer?.cancel()
        switch result {
        case .timedOut, .cancelled: work?.cancel()
        case .value, .error: break
        }
    }
}
