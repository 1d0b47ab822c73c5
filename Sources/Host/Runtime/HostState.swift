import Core
import Base
import Foundation
import Logging
import Synchronization
import Plugins
import Registry

/// What started a reload.
public enum ReloadTrigger: String, Sendable {
    /// The host's start (a manifest that did not load then is reported as a rejected reload).
    case start
    /// The manifest file changed (the watcher saw it).
    case file
    /// SIGHUP (sent by `agenthub reload`, or an operator).
    case signal
    /// A direct request (tests, the bench, an API).
    case request
}

/// How one reload went.
public struct ReloadReport: Sendable {
    public enum Result: String, Sendable {
        /// A new snapshot serves.
        case applied
        /// The manifest's bytes were those already served: nothing to do.
        case unchanged
        /// The manifest was wrong; the last good snapshot keeps serving.
        case rejected
    }

    public var result: Result
    public var trigger: ReloadTrigger
    /// The revision served after the reload.
    public var revision: String
    public var previous: String
    /// Every problem of a rejected manifest, as `registry.yaml:LINE:COL: message`.
    public var errors: [String]
    public var at: Date
    /// What an applied reload could not change until the host restarts.
    public var notes: [String] = []

    public var message: String {
        switch result {
        case .applied: "revision \(previous) → \(revision)" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
        case .unchanged: "revision \(revision) (the manifest did not change)"
        case .rejected: "\(errors.count) problem\(errors.count == 1 ? "" : "s"); still serving revision \(revision)"
        }
    }
}

/// The one owner of the host's current snapshot. Calls read `snapshot` once; a reload reads and
/// checks the whole manifest off the cooperative pool, builds a complete new snapshot, swaps it in
/// under the lock, and only then tells its observers (sessions, the scheduler, the bridge), in
/// order, each applying its part of the difference. A rejected manifest changes nothing but the report.
/// Reloads run one at a time, in the order they were asked for.
public final class HostState: Sendable {
    /// Told after a swap, with the snapshot before and after.
    public typealias Observer = @Sendable (_ old: HostSnapshot, _ new: HostSnapshot) async -> Void

    public let configPath: String
    public let registry: any RegistryStore
    public let parts: HostParts
    let logger: Logger
    let environment: [String: String]
    private struct State {
        var current: HostSnapshot
        var report: ReloadReport?
        var loaded: Bool
        var observers: [Observer] = []
        var watchers: [@Sendable (_ old: HostSnapshot, _ new: HostSnapshot) -> Void] = []
        var queue: Task<ReloadReport, Never>?
        /// Told after every reload attempt (the presence record, metrics).
        var reportHandlers: [@Sendable (ReloadReport) -> Void] = []
    }
    private let state: Mutex<State>

    /// Builds the first snapshot from `context` (already loaded and checked). With `loadError`, the
    /// context is `HostContext.unloaded`: the host serves nothing until a reload succeeds, and the
    /// error is its last reload's.
    public init(context: HostContext, configPath: String, revision: String, parts: HostParts? = nil, loadError: HostError? = nil) throws(HostError) {
        let report = loadError.map { loadError in
            ReloadReport(result: .rejected, trigger: .start, revision: revision, previous: revision, errors: loadError.problems, at: Date())
        }
        self.configPath = configPath
        self.registry = context.registry
        self.logger = context.logger
        self.environment = context.environment
        let parts = parts ?? HostParts(manifest: context.manifest, registry: context.registry, logger: context.logger, environment: context.environment)
        self.parts = parts
        let current = HostSnapshot(revision: revision, manifest: context.manifest,
                                   tools: try ToolHost(manifest: context.manifest, registry: context.registry, logger: context.logger,
                                                       environment: context.environment, parts: parts, revision: revision),
                                   loadedAt: Date())
        state = Mutex(State(current: current, report: report, loaded: loadError == nil))
    }

    /// The snapshot serving now.
    public var snapshot: HostSnapshot { state.withLock { $0.current } }

    /// The last reload attempted (nil before the first).
    public var lastReload: ReloadReport? { state.withLock { $0.report } }

    /// Whether a manifest has loaded (false while a host that started on a broken one waits for a good one).
    public var isLoaded: Bool { state.withLock { $0.loaded } }

    /// Adds an observer of swaps; observers run in the order they were added, after every watcher,
    /// and the reload's report waits for them (the scheduler syncing new sources, the bridge
    /// restarting a changed server).
    public func observe(_ observer: @escaping Observer) {
        state.withLock { $0.observers.append(observer) }
    }

    /// Adds a watcher of swaps: told at once, before any observer, and must return quickly (a
    /// session taking the new snapshot for its next call and telling its client what changed).
    public func watch(_ watcher: @escaping @Sendable (_ old: HostSnapshot, _ new: HostSnapshot) -> Void) {
        state.withLock { $0.watchers.append(watcher) }
    }

    /// Adds a handler told of every reload's report.
    public func onReport(_ handler: @escaping @Sendable (ReloadReport) -> Void) {
        state.withLock { $0.reportHandlers.append(handler) }
    }

    /// Reloads the manifest now, after any reload already asked for. Bytes identical to those served
    /// change nothing (`unchanged`).
    @discardableResult
    public func reload(trigger: ReloadTrigger) async -> ReloadReport {
        let task = state.withLock { s -> Task<ReloadReport, Never> in
            let previous = s.queue
            let task = Task {
                _ = await previous?.value
                return await self.performReload(trigger: trigger)
            }
            s.queue = task
            return task
        }
        return await task.value
    }

    private func performReload(trigger: ReloadTrigger) async -> ReloadReport {
        let started = ContinuousClock.now
        let old = snapshot
        let configPath = self.configPath, registry = self.registry, logger = self.logger, environment = self.environment, parts = self.parts
        // Reading, checking and building touch files and SQLite: off the cooperative pool.
        let built: Result<HostSnapshot?, HostError> = await onThread {
            do throws(HostError) {
                let (manifest, revision) = try ManifestLoader.loadWithRevision(path: configPath, environment: environment)
                if revision == old.revision { return .success(nil) }
                let tools = try ToolHost(manifest: manifest, registry: registry, logger: logger, environment: environment,
                                         parts: parts, revision: revision)
                for warning in manifest.warnings { logger.warning("\(warning.located)", metadata: ["host.reload.trigger": "\(trigger.rawValue)"]) }
                return .success(HostSnapshot(revision: revision, manifest: manifest, tools: tools, loadedAt: Date()))
            } catch {
                return .failure(error)
            }
        }
        let report: ReloadReport
        switch built {
        case .success(nil):
            report = ReloadReport(result: .unchanged, trigger: trigger, revision: old.revision, previous: old.revision, errors: [], at: Date())
            logger.debug("manifest unchanged", metadata: ["host.reload.trigger": "\(trigger.rawValue)"])
        case .failure(let error):
            let errors = error.problems
            report = ReloadReport(result: .rejected, trigger: trigger, revision: old.revision, previous: old.revision, errors: errors, at: Date())
            // An operator's mistake: every problem at warning level, where they will see it.
            for line in errors {
                logger.warning("manifest rejected: \(line)", metadata: ["host.reload.trigger": "\(trigger.rawValue)", "host.revision": "\(old.revision)"])
            }
        case .success(let snapshot?):
            // Served from now on; "loaded" (what /ready says) only once the reload is reported below,
            // so /ready never shows a loaded host beside the report of the load that had failed.
            let (watchers, observers) = state.withLock { s -> ([@Sendable (HostSnapshot, HostSnapshot) -> Void], [Observer]) in
                s.current = snapshot
                return (s.watchers, s.observers)
            }
            parts.limiter.resize(to: snapshot.manifest.router.maxConcurrent)
            for watcher in watchers { watcher(old, snapshot) }
            let swapped = ContinuousClock.now - started
            for observer in observers { await observer(old, snapshot) }
            let notes = RestartOnlySettings.changed(from: old.manifest, to: snapshot.manifest)
            for note in notes { logger.warning("\(note)", metadata: ["host.revision": "\(snapshot.revision)"]) }
            report = ReloadReport(result: .applied, trigger: trigger, revision: snapshot.revision, previous: old.revision, errors: [], at: Date(),
                                  notes: notes)
            if state.withLock({ $0.report?.result == .rejected }) {
                // Said at the level the rejection was: the operator's last lines must not be the old errors.
                logger.notice("manifest fixed: the problems reported before are gone", metadata: ["host.revision": "\(snapshot.revision)"])
            }
            logger.notice("manifest reloaded", metadata: ["host.reload.trigger": "\(trigger.rawValue)", "host.revision": "\(snapshot.revision)",
                                                         "host.revision.previous": "\(old.revision)",
                                                         "host.reload.swapped_ms": "\(swapped.milliseconds)",
                                                         "host.reload.applied_ms": "\((ContinuousClock.now - started).milliseconds)"])
        }
        parts.metrics.reload(result: report.result.rawValue)
        let handlers = state.withLock { s -> [@Sendable (ReloadReport) -> Void] in
            s.report = report
            if report.result == .applied { s.loaded = true }
            return s.reportHandlers
        }
        for handler in handlers { handler(report) }
        return report
    }
}
