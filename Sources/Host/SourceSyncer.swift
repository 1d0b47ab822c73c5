import Base
import Core
import Registry
import Foundation
import Logging
import GitSync

/// What happened to one source in a sync.
public struct SourceSyncResult: Codable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        case published, unchanged, held, failed
        /// A configuration error: not retried until the source's manifest entry changes.
        case stalled
        /// `suspend: true`: the source keeps serving what it has.
        case suspended
        /// Another process holds the source's sync lease.
        case busy
        case skipped
        /// A scheduled run that found the source fetched by another process (a host on the same
        /// database) less than an interval ago: not fetched again (`checkedAt` says when it was).
        case recent
    }
    public var source: String
    public var outcome: Outcome
    public var revision: String?
    public var report: PublishReport?
    public var message: String?
    public var skills: Int = 0
    public var seconds: Double = 0
    /// For failures: timeout, auth, not found, network, validation, config.
    public var failureKind: SyncFailureKind?
    /// For git sources: whether objects were downloaded, and how many bytes.
    public var downloaded: Bool?
    public var receivedBytes: Int?
    /// For `recent`: when the other process last fetched the source.
    public var checkedAt: Date?

    /// Whether `agenthub sync` should exit non-zero for it.
    public var isFailure: Bool { [.failed, .held, .stalled].contains(outcome) }
}

/// Syncs the manifest's sources into the registry: discover, parse, publish in one transaction.
/// A failure leaves the last good revision published and records why.
public struct SourceSyncer: Sendable {
    public private(set) var manifest: Manifest
    /// Where sources, syncs, leases and skills are recorded (the SQLite registry, or PostgreSQL).
    public let registry: any SyncLedger
    let logger: Logger
    /// Runs git fetches in a child process it can kill at the deadline.
    public var supervisor: FetchSupervisor
    /// Where `token_env` variables are read, at every sync.
    public var environment: [String: String]
    /// Who holds a source's sync lease while this syncer syncs it.
    public var leaseOwner: String
    /// Told the pid of each fetch worker as it starts.
    public var onWorkerStarted: @Sendable (Int32) -> Void = { _ in }
    /// The bridged servers `mcp` sources take skills from (nil: none running in this process).
    public var skillServers: (any SkillServers)?
    /// Where `mcp` sources rank among sources: after every other.
    static let bridgedPosition = 1_000_000

    public init(manifest: Manifest, registry: any SyncLedger, logger: Logger,
                supervisor: FetchSupervisor = .current(), environment: [String: String] = HostEnvironment.values) {
        self.manifest = manifest
        self.registry = registry
        self.logger = logger
        self.supervisor = supervisor
        self.environment = environment
        self.leaseOwner = Self.processLeaseOwner
    }

    /// The same syncer over a reloaded manifest (its supervisor, environment and lease owner kept).
    public func replacing(manifest: Manifest) -> SourceSyncer {
        var copy = self
        copy.manifest = manifest
        return copy
    }

    /// `host:pid:nonce`: the lease owner of every syncer in this process (the scheduler keeps runs of
    /// one source apart inside a process; the lease keeps processes apart).
    public static let processLeaseOwner = SyncOwner.thisProcess

    /// Registers the manifest's sources in manifest order.
    public func declareSources() throws(HostError) {
        let descriptors = manifest.sources.enumerated().map { index, source in
            switch source.location {
            case .path(let path): SourceDescriptor(name: source.name, kind: .local, location: manifest.resolve(path), position: index)
            case .git(let url): SourceDescriptor(name: source.name, kind: .git, location: Redaction.url(url), position: index)
            // After every git and local source, whatever the manifest order: a skill a bridged
            // server publishes never shadows one from another origin (the warning says it lost).
            case .mcp(let server): SourceDescriptor(name: source.name, kind: .mcp, location: "mcp:" + server, position: Self.bridgedPosition + index)
            }
        }
        do { try registry.declareSources(descriptors) } catch { throw HostError(.registry, error.message) }
    }

    /// Syncs one source, or every source when `name` is nil, in manifest order, one after another.
    /// `force` retries a stalled source even though its manifest entry did not change.
    public func sync(source name: String? = nil, acceptRemovals: Bool = false, force: Bool = true,
                     progress: @escaping @Sendable (String, FetchEvent) -> Void = { _, _ in }) throws(HostError) -> [SourceSyncResult] {
        let chosen = if let name { [try source(named: name)] } else { manifest.sources }
        return chosen.map { sync($0, acceptRemovals: acceptRemovals, force: force, progress: progress) }
    }

    /// The manifest's source called `name`; the error suggests the closest name there is.
    public func source(named name: String) throws(HostError) -> SourceConfig {
        guard let source = manifest.source(named: name) else {
            let hint = Suggestion.closest(to: name, in: manifest.sources.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
            throw HostError(.sourceNotFound, "no source named '\(name)' in \(manifest.file)\(hint)")
        }
        return source
    }

    /// The discovery options a source's settings give.
    public static func discoveryOptions(for source: SourceConfig) -> DiscoveryOptions {
        var options = DiscoveryOptions()
        options.maxDepth = source.maxDepth
        options.maxDirectories = source.maxDirs
        options.includeHidden = source.includeHidden
        options.paths = source.paths.compactMap { try? Glob($0, mode: .path) }
        return options
    }

    /// Syncs one source now, blocking the calling thread (a git fetch waits for its worker).
    public func sync(_ source: SourceConfig, acceptRemovals: Bool = false, force: Bool = true,
                     progress: @escaping @Sendable (String, FetchEvent) -> Void = { _, _ in }) -> SourceSyncResult {
        switch source.location {
        case .git(let url): syncGit(source, url: url, acceptRemovals: acceptRemovals, force: force) { progress(source.name, $0) }
        case .path(let path): syncLocal(source, path: path, acceptRemovals: acceptRemovals)
        case .mcp(let server): syncBridged(source, server: server, acceptRemovals: acceptRemovals)
        }
    }

    func syncLocal(_ source: SourceConfig, path: String, acceptRemovals: Bool) -> SourceSyncResult {
        let started = Date()
        let meta: Logger.Metadata = ["host.source": "\(source.name)"]
        if source.suspend {
            try? registry.markSuspended(source.name)
            return SourceSyncResult(source: source.name, outcome: .suspended, message: "suspend: true in the manifest")
        }
        do {
            try registry.resume(source.name)
            try registry.markSyncing(source.name, owner: leaseOwner, at: started)
            let tree = try LocalSkillTree(root: manifest.resolve(path), displayName: path)
            let known = try registry.knownDigests(of: source.name)
            let snapshot = SkillDiscovery(options: Self.discoveryOptions(for: source)).snapshot(of: tree, known: known)
            for warning in snapshot.warnings { logger.warning("\(warning)", metadata: meta) }
            if let held = holdIncomplete(snapshot, source: source.name, started: started) { return held }
            let options = PublishOptions(maxVanishedFraction: source.maxVanished ?? manifest.sync.maxVanished,
                                         acceptRemovals: acceptRemovals, now: started)
            let report = try registry.publish(snapshot, to: source.name, options: options)
            logger.info("synced", metadata: meta.merging(["host.outcome": "\(report.outcome.rawValue)", "host.added": "\(report.added)",
                                                           "host.updated": "\(report.updated)", "host.removed": "\(report.removed)"]) { $1 })
            let outcome = SourceSyncResult.Outcome(report.outcome)
            return SourceSyncResult(source: source.name, outcome: outcome, revision: snapshot.revision, report: report,
                                    message: report.warnings.first, skills: snapshot.skills.count, seconds: Date().timeIntervalSince(started))
        } catch {
            logger.error("sync failed: \(error.message)", metadata: meta)
            try? registry.recordFailure(source.name, reason: error.message, startedAt: started)
            return SourceSyncResult(source: source.name, outcome: .failed, message: error.message, seconds: Date().timeIntervalSince(started))
        }
    }
}

extension SourceSyncer {
    /// A snapshot discovery could not finish is not published (it would remove what it did not
    /// see): the last good listing stays, and the source is marked `failed (truncated)`.
    func holdIncomplete(_ snapshot: SkillSnapshot, source: String, started: Date) -> SourceSyncResult? {
        guard let reason = snapshot.incomplete else { return nil }
        logger.error("sync not published: \(reason)", metadata: ["host.source": "\(source)"])
        try? registry.recordFailure(source, kind: .truncated, reason: reason, configDigest: nil, startedAt: started)
        var result = SourceSyncResult(source: source, outcome: .failed, message: reason, skills: snapshot.skills.count,
                                      seconds: Date().timeIntervalSince(started))
        result.failureKind = .truncated
        return result
    }
}

extension SourceSyncResult.Outcome {
    init(_ outcome: PublishReport.Outcome) {
        switch outcome {
        case .published: self = .published
        case .unchanged: self = .unchanged
        case .held: self = .held
        }
    }
}
