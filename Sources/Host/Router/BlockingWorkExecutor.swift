import Dispatch

/// Where plugin calls run: threads of Dispatch's global pool rather than the cooperative pool
/// (two threads on these machines). Plugins block on SQLite and the file system; run there, two
/// long calls would stall every other task, including the MCP front's ping and cancellation answers.
final class BlockingWorkExecutor: TaskExecutor {
    static let shared = BlockingWorkExecutor()
    private let queue = DispatchQueue(label: "agenthub.plugin-calls", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
