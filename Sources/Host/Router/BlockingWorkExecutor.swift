import Foundation

/// Where plugin calls run: threads of its own rather than the cooperative pool (two threads on these
/// machines) or Dispatch's global pool. Plugins block on SQLite and the file system. Run on the
/// cooperative pool, two long calls would stall every other task; run on Dispatch's pool, calls
/// blocked on another process's write lock would starve what Dispatch runs for everyone else
/// (signal handlers: a SIGTERM went unhandled for 13 s, because on Linux that pool only grows about
/// one thread a second past the core count while its threads are blocked).
///
/// Threads are started as jobs need them, up to `maxThreads`, and wait for more work when idle.
/// Sendable, unchecked: its job queue lives under an `NSCondition` its threads wait on (a `Mutex`
/// cannot be waited on); every field is touched only with that condition held.
public final class BlockingWorkExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = BlockingWorkExecutor(maxThreads: 64)

    private let maxThreads: Int
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var threads = 0
    private var idle = 0

    init(maxThreads: Int) { self.maxThreads = maxThreads }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        // Idle threads wake only after this returns: count the jobs waiting, not just this one, or a
        // burst would queue behind one idle thread (and behind a job of it that blocks).
        let start = jobs.count - head > idle && threads < maxThreads
        if start { threads += 1 }
        condition.signal()
        condition.unlock()
        if start {
            let thread = Thread { [self] in work() }
            thread.name = "agenthub-plugin-call"
            thread.start()
        }
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while head == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            if head > 1024, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
