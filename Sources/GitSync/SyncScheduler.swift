import Foundation

/// How a run of one source's sync went, as far as scheduling is concerned.
public enum SyncRunVerdict: Sendable, Equatable {
    /// Published or unchanged: the next run is one interval (plus jitter) away; backoff resets.
    case succeeded
    /// Retried after a backoff that doubles with each consecutive failure, up to a cap.
    case failed
    /// A configuration error: no more scheduled runs until the source's entry changes.
    case stalled
    /// Not run (suspended, or another process held the lease): try again after an interval.
    case skipped
    /// Not run because another process checked the source at `at`, less than an interval ago (hosts
    /// sharing one database): the next run is one interval (plus jitter) after that check, so the
    /// hosts fall into step and the source is fetched once per interval among them.
    case checkedElsewhere(at: Date)
}

/// What the scheduler knows of one source from the manifest.
public struct ScheduledSource: Sendable, Equatable {
    public var name: String
    /// Seconds between syncs.
    public var interval: Double
    /// Changes whenever the source's manifest entry does: a changed entry runs now and lifts a stall.
    public var configDigest: String
    /// What the registry remembers from earlier processes, used when the scheduler first sees the
    /// source: not due before `notBefore`, with `failures` in a row so far (a fresh source is due now).
    public var notBefore: Date?
    public var failures = 0

    public init(name: String, interval: Double, configDigest: String, notBefore: Date? = nil, failures: Int = 0) {
        self.name = name
        self.interval = interval
        self.configDigest = configDigest
        self.notBefore = notBefore
        self.failures = failures
    }

    public static func == (l: Self, r: Self) -> Bool {
        l.name == r.name && l.interval == r.interval && l.configDigest == r.configDigest
    }
}

/// Knobs of the scheduler (from `sync:` in the manifest).
public struct SchedulerSettings: Sendable {
    public var maxConcurrent = 4
    /// Fraction of the interval (or backoff) added at random.
    public var jitter = 0.1
    public var backoff = 30.0
    public var maxBackoff = 3600.0

    public init(maxConcurrent: Int = 4, jitter: Double = 0.1, backoff: Double = 30, maxBackoff: Double = 3600) {
        self.maxConcurrent = maxConcurrent
        self.jitter = jitter
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }
}

/// Runs each source's sync on its interval, with jittered intervals, exponential backoff after
/// failures, stalls on configuration errors, at most one run per source in flight and at most
/// `maxConcurrent` overall. Triggers that arrive while a source runs are coalesced into exactly one
/// follow-up run; callers waiting on them get the follow-up's result.
public actor SyncScheduler<Outcome: Sendable> {
    /// Runs one source's sync. `explicit` is true when someone asked for it (not the interval).
    public typealias Runner = @Sendable (_ source: String, _ explicit: Bool) async -> (SyncRunVerdict, Outcome)
    /// Told whenever a source's next run is decided (nil: not scheduled).
    public typealias ScheduleObserver = @Sendable (_ source: String, _ next: Date?) -> Void

    struct Entry {
        var source: ScheduledSource
        var nextDue: Date?
        /// The wait chosen after the last run (interval or backoff, jitter included).
        var lastDelay: Double?
        var failures = 0
        var stalled = false
        var running = false
        var queued = false
        var explicit = false
        var followUp = false
        var followUpExplicit = false
        var waiters: [CheckedContinuation<Outcome?, Never>] = []
        var followUpWaiters: [CheckedContinuation<Outcome?, Never>] = []
    }

    private let runner: Runner
    private let observer: ScheduleObserver
    private let settings: SchedulerSettings
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var running = 0
    /// The run loop's current wait, cancelled to wake it early (an update, a run that finished).
    private var sleeper: Task<Void, Never>?
    private var inFlight: [String: Task<Void, Never>] = [:]
    /// Runs started so far, per source (for status and tests).
    public private(set) var runsStarted: [String: Int] = [:]

    public init(settings: SchedulerSettings, runner: @escaping Runner, observer: @escaping ScheduleObserver = { _, _ in }) {
        self.settings = settings
        self.runner = runner
        self.observer = observer
    }

    /// Takes the manifest's sources: new ones and changed ones are due now (a change lifts a stall),
    /// removed ones are forgotten (a run in flight finishes).
    public func update(_ sources: [ScheduledSource], now: Date = Date()) {
        var seen: Set<String> = []
        for source in sources {
            seen.insert(source.name)
            if var entry = entries[source.name] {
                if entry.source.configDigest != source.configDigest || (entry.stalled && entry.source.interval != source.interval) {
                    // A changed entry (its interval too, for a stalled source) is tried now.
                    entry.stalled = false
                    entry.failures = 0
                    entry.nextDue = now
                } else if entry.source.interval != source.interval, entry.failures == 0 {
                    entry.nextDue = min(entry.nextDue ?? now, now.addingTimeInterval(source.interval))
                }
                entry.source = source
                entries[source.name] = entry
            } else {
                // A process that starts picks up where the last one left off: a source synced a minute
                // ago, or backing off after failures, is not synced again at once.
                var entry = Entry(source: source, nextDue: max(now, source.notBefore ?? now))
                entry.failures = source.failures
                entries[source.name] = entry
            }
        }
        for name in entries.keys where !seen.contains(name) && !(entries[name]?.running ?? false) {
            entries[name] = nil
        }
        order = sources.map(\.name)
        startQueued()
        wake()
    }

    /// Asks for a run of `source` now and waits for it. While the source runs, any number of triggers
    /// add up to one follow-up run, and all of them get its outcome. Nil for an unknown source.
    public func trigger(_ source: String) async -> Outcome? {
        guard entries[source] != nil else { return nil }
        return await withCheckedContinuation { continuation in
            guard var entry = entries[source] else { return continuation.resume(returning: nil) }
            if entry.running {
                entry.followUp = true
                entry.followUpExplicit = true
                entry.followUpWaiters.append(continuation)
            } else {
                entry.queued = true
                entry.explicit = true
                entry.waiters.append(continuation)
            }
            entries[source] = entry
            startQueued()
        }
    }

    /// Runs each source as it falls due, until the task is cancelled. Between runs it sleeps until the
    /// earliest next due time, and wakes early when the sources change or a run ends: no polling.
    /// Runs in flight when it is cancelled finish (`drain` waits for them); no new one starts.
    public func run() async {
        while !Task.isCancelled {
            pump(now: Date())
            let wait = nextWait(now: Date())
            let sleeper = Task { _ = try? await Task.sleep(for: .seconds(wait)) }
            self.sleeper = sleeper
            await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
            self.sleeper = nil
        }
    }

    /// Waits for the runs in flight to finish.
    public func drain() async {
        for task in inFlight.values { await task.value }
    }

    /// Seconds until the earliest source not running or queued falls due (at most an hour).
    func nextWait(now: Date) -> Double {
        let due = entries.values.filter { !$0.running && !$0.queued }.compactMap(\.nextDue).min()
        return max(0, min(3600, due.map { $0.timeIntervalSince(now) } ?? 3600))
    }

    private func wake() {
        sleeper?.cancel()
    }

    /// When each source is next due (a stalled one too: it is retried with backoff), and whether it runs now.
    public func schedule() -> [String: (next: Date?, delay: Double?, running: Bool, failures: Int, stalled: Bool)] {
        entries.mapValues { ($0.nextDue, $0.lastDelay, $0.running, $0.failures, $0.stalled) }
    }

    /// Callers waiting for the follow-up run of `source` (triggered while it ran).
    public func followUpWaiters(_ source: String) -> Int {
        entries[source]?.followUpWaiters.count ?? 0
    }

    /// Marks due sources queued (the interval loop), then starts queued ones. A stalled source's
    /// retry is a real attempt (as if asked for): its cause may have gone away.
    private func pump(now: Date) {
        for name in order {
            guard var entry = entries[name], !entry.running, !entry.queued,
                  let due = entry.nextDue, due <= now else { continue }
            entry.queued = true
            if entry.stalled { entry.explicit = true }
            entries[name] = entry
        }
        startQueued()
    }

    /// Starts queued sources in manifest order while slots are free.
    private func startQueued() {
        for name in order where running < settings.maxConcurrent {
            guard var entry = entries[name], entry.queued, !entry.running else { continue }
            entry.queued = false
            entry.running = true
            let waiters = entry.waiters
            let explicit = entry.explicit
            entry.waiters = []
            entry.explicit = false
            entries[name] = entry
            running += 1
            runsStarted[name, default: 0] += 1
            let runner = self.runner
            inFlight[name] = Task {
                let (verdict, outcome) = await runner(name, explicit)
                self.finish(name, verdict: verdict, outcome: outcome, waiters: waiters)
            }
        }
    }

    private func finish(_ name: String, verdict: SyncRunVerdict, outcome: Outcome, waiters: [CheckedContinuation<Outcome?, Never>]) {
        running -= 1
        inFlight[name] = nil
        // Waiters are answered last, after the schedule is recorded: a caller that exits as soon as
        // its sync returns (agenthub sync) must find the next attempt already written.
        defer { for waiter in waiters { waiter.resume(returning: outcome) } }
        guard var entry = entries[name] else { return }
        let now = Date()
        entry.running = false
        switch verdict {
        case .succeeded:
            entry.failures = 0
            entry.stalled = false
            entry.lastDelay = jittered(entry.source.interval)
        case .failed:
            entry.failures += 1
            entry.stalled = false
            entry.lastDelay = jittered(min(settings.maxBackoff, settings.backoff * pow(2, Double(min(entry.failures - 1, 30)))))
        case .stalled:
            // Retried with backoff, at least as often as its interval: a missing remote, path or
            // variable may come back, and the source with it.
            entry.failures += 1
            entry.stalled = true
            let cap = min(settings.maxBackoff, max(settings.backoff, entry.source.interval))
            entry.lastDelay = jittered(min(cap, settings.backoff * pow(2, Double(min(entry.failures - 1, 30)))))
        case .skipped:
            entry.lastDelay = jittered(entry.source.interval)
        case .checkedElsewhere:
            entry.failures = 0
            entry.stalled = false
            entry.lastDelay = jittered(entry.source.interval)
        }
        entry.nextDue = entry.lastDelay.map { delay in
            if case .checkedElsewhere(let at) = verdict { return max(now, min(now, at).addingTimeInterval(delay)) }
            return now.addingTimeInterval(delay)
        }
        if entry.followUp {
            entry.followUp = false
            entry.queued = true
            entry.explicit = entry.followUpExplicit
            entry.followUpExplicit = false
            entry.waiters = entry.followUpWaiters
            entry.followUpWaiters = []
        }
        entries[name] = entry
        observer(name, entry.queued ? now : entry.nextDue)
        startQueued()
        wake()
    }

    private func jittered(_ seconds: Double) -> Double {
        seconds * (1 + Double.random(in: 0...max(0, settings.jitter)))
    }
}
