import Base
import Foundation

/// Fires the deadlines of running calls from one thread. A timer task per call (a `Task.sleep`
/// started and cancelled around every handed-off call) cost ~20 µs of a routed `read_file`; here
/// watching a deadline is a lock and a heap insert, and finishing first is a dictionary removal.
///
/// The thread sleeps until the earliest deadline it knows of and is woken only when a sooner one
/// arrives. Calls mostly share one timeout, so each new deadline is later than the one it sleeps
/// towards: a steady stream of calls wakes it about once per timeout, not once per call. Entries of
/// calls that finished stay in the heap until they reach its top (or a compaction drops them).
///
/// Sendable, unchecked: every field is touched only with `condition` held (a `Mutex` cannot be
/// waited on).
final class CallDeadlines: @unchecked Sendable {
    static let shared = CallDeadlines()

    struct Watch: Sendable { fileprivate let id: UInt64 }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let fire: @Sendable () -> Void
    }

    private let condition = NSCondition()
    private var heap: [(deadline: ContinuousClock.Instant, id: UInt64)] = []
    private var entries: [UInt64: Entry] = [:]
    private var nextId: UInt64 = 0
    /// Where the thread's current sleep ends (nil: it waits for a signal, or is not started).
    private var sleepsUntil: ContinuousClock.Instant?
    private var started = false

    /// Runs `fire` at `deadline` unless `cancel` comes first. `fire` runs on the watch's thread and
    /// must be quick.
    func watch(until deadline: ContinuousClock.Instant, _ fire: @escaping @Sendable () -> Void) -> Watch {
        condition.lock()
        defer { condition.unlock() }
        nextId &+= 1
        let id = nextId
        entries[id] = Entry(deadline: deadline, fire: fire)
        push((deadline, id))
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "agenthub-call-deadlines"
            thread.start()
        }
        if sleepsUntil.map({ deadline < $0 }) ?? true { condition.signal() }
        return Watch(id: id)
    }

    /// The call finished: its deadline will not fire (if it has not already).
    func cancel(_ watch: Watch) {
        condition.lock()
        defer { condition.unlock() }
        entries[watch.id] = nil
        if heap.count > 4096, heap.count > 4 * entries.count { compact() }
    }

    /// How many deadlines are watched (for tests).
    var watching: Int {
        condition.lock()
        defer { condition.unlock() }
        return entries.count
    }

    /// How many entries the heap holds, finished calls' included (for tests).
    var heapSize: Int {
        condition.lock()
        defer { condition.unlock() }
        return heap.count
    }

    private func run() {
        while true {
            condition.lock()
            var due: [@Sendable () -> Void] = []
            let now = ContinuousClock.now
            while let top = heap.first {
                guard let entry = entries[top.id] else { pop(); continue }
                guard top.deadline <= now else { break }
                pop()
                entries[top.id] = nil
                due.append(entry.fire)
            }
            if due.isEmpty {
                if let next = heap.first?.deadline {
                    sleepsUntil = next
                    _ = condition.wait(until: Date(timeIntervalSinceNow: (next - now).seconds))
                } else {
                    sleepsUntil = nil
                    condition.wait()
                }
                sleepsUntil = nil
            }
            condition.unlock()
            for fire in due { fire() }
        }
    }

    // MARK: The heap (earliest deadline on top)

    private func push(_ item: (deadline: ContinuousClock.Instant, id: UInt64)) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var least = parent
            if left < heap.count, heap[left].deadline < heap[least].deadline { least = left }
            if right < heap.count, heap[right].deadline < heap[least].deadline { least = right }
            guard least != parent else { return }
            heap.swapAt(parent, least)
            parent = least
        }
    }

    /// Drops the entries of finished calls from the heap.
    private func compact() {
        heap = entries.map { (deadline: $0.value.deadline, id: $0.key) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }
}
