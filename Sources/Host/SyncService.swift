import Base
import Registry
import Foundation
import GitSync
import Logging

/// The manifest's sources under the scheduler: each synced on its interval (jittered), retried with
/// backoff, stalled on configuration errors, and synced now on request. Every run happens on a
/// thread of its own, so blocking git and SQLite work never occupies the cooperative pool.
public final class SyncService: Sendable {
    public let scheduler: SyncScheduler<SourceSyncResult>
    private let current: LockedValue<SourceSyncer>

    /// The syncer of the manifest serving now (a reload replaces it with `apply`).
    public var syncer: SourceSyncer { current.value }

    /// - Parameters:
    ///   - acceptRemovals: publish even when the mass-deletion guard would hold (only for `agenthub sync --accept-removals`).
    ///   - progress: fetch progress per source (the terminal display of `agenthub sync`).
    ///   - metrics: counts and times every run (by source and outcome).
    ///   - logsWarnings: log each publish's warnings (a running host); `agenthub sync` prints them itself.
    public init(syncer: SourceSyncer, acceptRemovals: Bool = false, metrics: HostMetrics = HostMetrics(), logsWarnings: Bool = true,
                progress: @escaping @Sendable (String, FetchEvent) -> Void = { _, _ in }) {
        let current = LockedValue(syncer)
        self.current = current
        let manifest = syncer.manifest
        let registry = syncer.registry
        let settings = SchedulerSettings(maxConcurrent: manifest.sync.maxConcurrent, jitter: manifest.sync.jitter,
                                         backoff: manifest.sync.backoff.seconds, maxBackoff: manifest.sync.maxBackoff.seconds)
        scheduler = SyncScheduler(settings: settings, runner: { name, explicit in
            let syncer = current.value
            guard let source = syncer.manifest.source(named: name) else {
                return (.skipped, SourceSyncResult(source: name, outcome: .skipped, message: "no longer in the manifest"))
            }
            let started = ContinuousClock.now
            let (before, result) = await onThread {
                let before = try? registry.source(named: name)
                return (before, syncer.sync(source, acceptRemovals: acceptRemovals, force: explicit, progress: progress))
            }
            metrics.syncRun(source: name, outcome: result.outcome.rawValue, duration: ContinuousClock.now - started)
            if logsWarnings {
                for warning in result.report?.warnings ?? [] { syncer.logger.warning("\(warning)", metadata: ["host.source": "\(name)"]) }
            }
            if let before, [.failed, .stalled].contains(before.status), [.published, .unchanged].contains(result.outcome) {
                syncer.logger.notice("source recovered", metadata: [
                    "host.source": "\(name)", "host.was": "\(before.status.rawValue)", "host.failures": "\(before.consecutiveFailures)",
                    "host.revision": "\(result.revision ?? "-")"])
            }
            return (Self.verdict(result), result)
        }, observer: { name, next in
            // Off the scheduler's thread (a cooperative one): a ledger call blocks its thread.
            Self.schedules.async { try? registry.scheduleNextAttempt(name, at: next) }
        })
    }

    /// Where the scheduler's "next due" writes run, in order.
    static let schedules = DispatchQueue(label: "agenthub.sync-schedules")

    static func verdict(_ result: SourceSyncResult) -> SyncRunVerdict {
        switch result.outcome {
        case .published, .unchanged, .held: .succeeded
        case .failed: .failed
        case .stalled: .stalled
        case .suspended, .busy, .skipped: .skipped
        case .recent: result.checkedAt.map { .checkedElsewhere(at: $0) } ?? .skipped
        }
    }

    /// What the scheduler is told of each source: its interval and a digest of its manifest entry.
    /// `known` is what the registry remembers of each source (when it is next due, its failures).
    public func scheduledSources(known: [String: SourceRecord] = [:]) -> [ScheduledSource] {
        let manifest = syncer.manifest
        return manifest.sources.map { source in
            let location: String = switch source.location {
            case .git(let url): url
            case .path(let path): "path:" + manifest.resolve(path)
            case .mcp(let server): "mcp:" + server + "\u{1}" + source.uris.joined(separator: "\u{1}")
            }
            let record = known[source.name]
            // A source that never published is due now, whatever an earlier process scheduled.
            let notBefore = record?.revision == nil ? nil : record?.nextAttemptAt
            return ScheduledSource(name: source.name, interval: (source.interval ?? manifest.sync.interval).seconds,
                                   configDigest: SourceSyncer.configDigest(of: source, url: location) + (source.suspend ? "+suspended" : ""),
                                   notBefore: notBefore, failures: record?.consecutiveFailures ?? 0)
        }
    }

    /// Takes a reloaded manifest: declares its sources in the registry (a removed one is marked
    /// removed, and its skills stop being served), then gives the scheduler the new list: new and
    /// changed sources sync now, removed ones stop.
    public func apply(_ manifest: Manifest) async {
        let syncer = current.value.replacing(manifest: manifest)
        current.value = syncer
        let declared: HostError? = await onThread {
            do throws(HostError) { try syncer.declareSources(); return nil } catch { return error }
        }
        if let declared { syncer.logger.error("could not declare the reloaded manifest's sources", metadata: ["host.error": "\(declared.message)"]) }
        await update()
    }

    /// Gives the scheduler the manifest's sources.
    public func update() async {
        await scheduler.update(scheduledSources())
    }

    /// Syncs every source on its interval until the task is cancelled, starting from where the
    /// registry says each one is: a source synced recently, or backing off, is not synced at once (a
    /// fresh one is). Runs in flight when it is cancelled finish; `drain` waits for them.
    public func run() async {
        let registry = syncer.registry
        let known: [String: SourceRecord] = await onThread {
            Dictionary(((try? registry.sources()) ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }
        await scheduler.update(scheduledSources(known: known))
        await scheduler.run()
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
