import Base
import Foundation
import Synchronization
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

    /// A quick read (`ToolDescriptor.runsInline`) on the caller's own task: no hand-off, no race.
    func runInline(_ plugin: any ToolPlugin, _ name: String, _ arguments: [String: JSONValue], _ context: ToolCallContext) async -> RunOutcome {
        defer { limiter.release() }
        if Task.isCancelled { return .cancelled }
        do { return .value(try await plugin.call(name, arguments: arguments, context: context)) } catch { return .error(error) }
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
                race.attach(work: work, deadline: CallDeadlines.shared.watch(until: deadline) { race.finish(.timedOut) })
            }
        } onCancel: {
            race.finish(.cancelled)
        }
    }
}

/// The first of work, deadline and cancellation to finish wins; the others are cancelled.
private final class Race: Sendable {
    private struct State {
        var continuation: CheckedContinuation<ToolRouter.RunOutcome, Never>?
        var outcome: ToolRouter.RunOutcome?
        var resumed = false
        var work: Task<Void, Never>?
        var deadline: CallDeadlines.Watch?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<ToolRouter.RunOutcome, Never>) {
        let ready: ToolRouter.RunOutcome? = state.withLock { s in
            if let outcome = s.outcome, !s.resumed {
                s.resumed = true
                return outcome
            }
            s.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    func attach(work: Task<Void, Never>, deadline: CallDeadlines.Watch) {
        let done = state.withLock { s in
            s.work = work
            s.deadline = deadline
            return s.resumed || s.outcome != nil
        }
        if done {
            CallDeadlines.shared.cancel(deadline)
            work.cancel()
        }
    }

    func finish(_ result: ToolRouter.RunOutcome) {
        let taken = state.withLock { s -> (CheckedContinuation<ToolRouter.RunOutcome, Never>?, Task<Void, Never>?, CallDeadlines.Watch?)? in
            guard s.outcome == nil else { return nil }
            s.outcome = result
            if s.continuation != nil { s.resumed = true }
            return (s.continuation, s.work, s.deadline)
        }
        guard let (continuation, work, deadline) = taken else { return }
        continuation?.resume(returning: result)
        if let deadline { CallDeadlines.shared.cancel(deadline) }
        switch result {
        case .timedOut, .cancelled: work?.cancel()
        case .value, .error: break
        }
    }
}
