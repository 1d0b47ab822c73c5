import Foundation

/// The one thread every child process is spawned from. A child tied to the host with
/// `PR_SET_PDEATHSIG` dies when the *thread* that forked it ends, not the process; threads of the
/// cooperative and Dispatch pools come and go, so spawning there would kill children at random.
/// This thread lives as long as the process, so a child dies exactly when the host does.
/// Sendable, unchecked: its job queue lives under an `NSCondition` its thread waits on (a `Mutex`
/// cannot be waited on); every field is touched only with that condition held.
final class SpawnThread: TaskExecutor, @unchecked Sendable {
    static let shared = SpawnThread()
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [self] in loop() }
        thread.name = "agenthub.spawner"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    private func loop() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
