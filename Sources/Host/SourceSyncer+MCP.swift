import Base
import Foundation
import Logging
import Registry

extension SourceSyncer {
    /// Syncs a source that takes the skills a bridged server publishes (see `BridgedSkillImport`):
    /// within the source's timeout, so a server that never answers fails the sync instead of
    /// holding it; a failure keeps the last good revision served.
    func syncBridged(_ source: SourceConfig, server: String, acceptRemovals: Bool) -> SourceSyncResult {
        let started = Date()
        let meta: Logger.Metadata = ["host.source": "\(source.name)", "host.server": "\(server)"]
        if source.suspend {
            try? registry.markSuspended(source.name)
            return SourceSyncResult(source: source.name, outcome: .suspended, message: "suspend: true in the manifest")
        }
        func failed(_ message: String, kind: SyncFailureKind = .network) -> SourceSyncResult {
            logger.error("sync failed: \(message)", metadata: meta)
            try? registry.recordFailure(source.name, kind: kind, reason: message, configDigest: nil, startedAt: started)
            var result = SourceSyncResult(source: source.name, outcome: .failed, message: message, seconds: Date().timeIntervalSince(started))
            result.failureKind = kind
            return result
        }
        guard let servers = skillServers else {
            return failed("bridged server '\(server)' is not running in this process (agenthub serve and agenthub mcp run it; agenthub sync starts it)")
        }
        do {
            try registry.resume(source.name)
            try registry.markSyncing(source.name, owner: leaseOwner, at: started)
            let known = try registry.knownDigests(of: source.name)
            let importer = BridgedSkillImport(source: source.name, server: server, servers: servers, known: known, options: DiscoveryOptions())
            let timeout = (source.timeout ?? manifest.sync.timeout).seconds
            let outcome = Self.waitOnThread(timeout: timeout) { () async -> Result<SkillSnapshot, BridgedSkillImport.Failure> in
                do throws(BridgedSkillImport.Failure) { return .success(try await importer.snapshot(uris: source.uris)) } catch { return .failure(error) }
            }
            let snapshot: SkillSnapshot
            switch outcome {
            case nil: return failed("bridged server '\(server)' did not finish listing and reading its skills within \(Int(timeout))s (the source's timeout)", kind: .timeout)
            case .failure(let error)?: return failed(error.message)
            case .success(let taken)?: snapshot = taken
            }
            for warning in snapshot.warnings { logger.warning("\(warning)", metadata: meta) }
            let options = PublishOptions(maxVanishedFraction: source.maxVanished ?? manifest.sync.maxVanished, acceptRemovals: acceptRemovals, now: started)
            let report = try registry.publish(snapshot, to: source.name, options: options)
            logger.info("synced", metadata: meta.merging(["host.outcome": "\(report.outcome.rawValue)", "host.added": "\(report.added)",
                                                           "host.updated": "\(report.updated)", "host.removed": "\(report.removed)"]) { $1 })
            var result = SourceSyncResult(source: source.name, outcome: SourceSyncResult.Outcome(report.outcome), revision: snapshot.revision,
                                          report: report, message: (snapshot.warnings + report.warnings).first, skills: snapshot.skills.count,
                                          seconds: Date().timeIntervalSince(started))
            result.report?.warnings = snapshot.warnings + report.warnings
            return result
        } catch {
            return failed(error.message, kind: .validation)
        }
    }

    /// Runs async work from a blocking thread (the syncer's), waiting at most `timeout` seconds; the
    /// work is cancelled at the deadline and nil is returned.
    static func waitOnThread<T: Sendable>(timeout: Double, _ work: @escaping @Sendable () async -> T) -> T? {
        let done = DispatchSemaphore(value: 0)
        let box = LockedValue<T?>(nil)
        let task = Task.detached {
            let value = await work()
            box.value = value
            done.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            task.cancel()
            return nil
        }
        return box.value
    }
}
