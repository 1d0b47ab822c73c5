import Registry
import Foundation
import GitSync
import Logging

/// The manifest's sources under the scheduler: each synced on its interval (jittered), retried with
/// backoff, stalled on configuration errors, and synced now on request. Every run happens on a
/// thread of its own, so blocking git and SQLite work never occupies the cooperative pool.
public final class SyncService: Sendable {
    public let syncer: SourceSyncer
    public let scheduler: SyncScheduler<SourceSyncResult>

    /// - Parameters:
    ///   - acceptRemovals: publish even when the mass-deletion guard would hold (only for `agenthub sync --accept-removals`).
    ///   - progress: fetch progress per source (the terminal display of `agenthub sync`).
    public init(syncer: SourceSyncer, acceptRemovals: Bool = false,
                progress: @escaping @Sendable (String, FetchEvent) -> Void = { _, _ in }) {
        self.syncer = syncer
        let manifest = syncer.manifest
        let registry = syncer.registry
        let settings = SchedulerSettings(maxConcurrent: manifest.sync.maxConcurrent, jitter: manifest.sync.jitter,
                                         backoff: manifest.sync.backoff.seconds, maxBackoff: manifest.sync.maxBackoff.seconds)
        scheduler = SyncScheduler(settings: settings, runner: { name, explicit in
            guard let source = manifest.source(named: name) else {
                return (.skipped, SourceSyncResult(source: name, outcome: .skipped, message: "no longer in the manifest"))
            }
            let result = await onThread { syncer.sync(source, acceptRemovals: acceptRemovals, force: explicit, progress: progress) }
            return (Self.verdict(result.outcome), result)
        }, observer: { name, next in
            try? registry.scheduleNextAttempt(name, at: next)
        })
    }

    static func verdict(_ outcome: SourceSyncResult.Outcome) -> SyncRunVerdict {
        switch outcome {
        case .published, .unchanged, .held: .succeeded
        case .failed: .failed
        case .stalled: .stalled
        case .suspended, .busy, .skipped: .skipped
        }
    }

    /// What the scheduler is told of each source: its interval and a digest of its manifest entry.
    public var scheduledSources: [ScheduledSource] {
        let manifest = syncer.manifest
        return manifest.sources.map { source in
            let location: String = switch source.location {
            case .git(let url): url
            case .path(let path): "path:" + manifest.resolve(path)
            }
            return ScheduledSource(name: source.name, interval: (source.interval ?? manifest.sync.interval).seconds,
                                   configDigest: SourceSyncer.configDigest(of: source, url: location) + (source.suspend ? "+suspended" : ""))
        }
    }

    /// Gives the scheduler the manifest's sources (call again after a manifest reload).
    public func update() async {
        await scheduler.update(scheduledSources)
    }

    /// Starts syncing every source on its interval, beginning now.
    public func start() async {
        await update()
        await scheduler.start()
    }

    /// Syncs the named sources (all when nil) now, at most `sync.max_concurrent` at a time, and
    /// returns their results in manifest order.
    public func syncNow(_ names: [String]? = nil) async -> [SourceSyncResult] {
        await update()
        let chosen = names ?? syncer.manifest.sources.map(\.name)
        let results = await withTaskGroup(of: (String, SourceSyncResult?).self) { group in
            for name in chosen {
                group.addTask { (name, await self.scheduler.trigger(name)) }
            }
            var out: [String: SourceSyncResult] = [:]
            for await (name, result) in group { out[name] = result }
            return out
        }
        return chosen.map { results[$0] ?? SourceSyncResult(source: $0, outcome: .skipped, message: "no source named '\($0)'") }
    }
}

/// Runs blocking work on a thread of its own and awaits its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
