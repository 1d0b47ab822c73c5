import Foundation
import Logging
import Registry

/// What happened to one source in a sync.
public struct SourceSyncResult: Codable, Sendable {
    public enum Outcome: String, Codable, Sendable { case published, unchanged, held, failed, skipped }
    public var source: String
    public var outcome: Outcome
    public var revision: String?
    public var report: PublishReport?
    public var message: String?
    public var skills: Int = 0
    public var seconds: Double = 0
}

/// Syncs the manifest's sources into the registry: discover, parse, publish in one transaction.
/// A failure leaves the last good revision published and records why.
public struct SourceSyncer: Sendable {
    public let manifest: Manifest
    public let registry: RegistryDatabase
    let logger: Logger

    public init(manifest: Manifest, registry: RegistryDatabase, logger: Logger) {
        self.manifest = manifest
        self.registry = registry
        self.logger = logger
    }

    /// Registers the manifest's sources in manifest order.
    public func declareSources() throws(HostError) {
        let descriptors = manifest.sources.enumerated().map { index, source in
            switch source.location {
            case .path(let path): SourceDescriptor(name: source.name, kind: .local, location: manifest.resolve(path), position: index)
            case .git(let url): SourceDescriptor(name: source.name, kind: .git, location: Redaction.url(url), position: index)
            }
        }
        do { try registry.declareSources(descriptors) } catch { throw HostError(.registry, error.message) }
    }

    /// Syncs one source, or every source when `name` is nil, in manifest order.
    public func sync(source name: String? = nil, acceptRemovals: Bool = false) throws(HostError) -> [SourceSyncResult] {
        let chosen: [SourceConfig]
        if let name {
            guard let source = manifest.source(named: name) else {
                let hint = Suggestion.closest(to: name, in: manifest.sources.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                throw HostError(.sourceNotFound, "no source named '\(name)' in \(manifest.file)\(hint)")
            }
            chosen = [source]
        } else {
            chosen = manifest.sources
        }
        return chosen.map { sync($0, acceptRemovals: acceptRemovals) }
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

    func sync(_ source: SourceConfig, acceptRemovals: Bool) -> SourceSyncResult {
        let started = Date()
        let meta: Logger.Metadata = ["host.source": "\(source.name)"]
        guard case .path(let path) = source.location else {
            return SourceSyncResult(source: source.name, outcome: .skipped, message: "git sources are synced by the GitSync service, which is not built yet")
        }
        do {
            try registry.markSyncing(source.name, at: started)
            let tree = try LocalSkillTree(root: manifest.resolve(path), displayName: path)
            let known = try registry.knownDigests(of: source.name)
            let snapshot = SkillDiscovery(options: Self.discoveryOptions(for: source)).snapshot(of: tree, known: known)
            for warning in snapshot.warnings { logger.warning("\(warning)", metadata: meta) }
            let options = PublishOptions(maxVanishedFraction: source.maxVanished ?? manifest.sync.maxVanished,
                                         acceptRemovals: acceptRemovals, now: started)
            let report = try registry.publish(snapshot, to: source.name, options: options)
            logger.info("synced", metadata: meta.merging(["host.outcome": "\(report.outcome.rawValue)", "host.added": "\(report.added)",
                                                           "host.updated": "\(report.updated)", "host.removed": "\(report.removed)"]) { $1 })
            let outcome: SourceSyncResult.Outcome = switch report.outcome {
            case .published: .published
            case .unchanged: .unchanged
            case .held: .held
            }
            return SourceSyncResult(source: source.name, outcome: outcome, revision: snapshot.revision, report: report,
                                    message: report.warnings.first, skills: snapshot.skills.count, seconds: Date().timeIntervalSince(started))
        } catch {
            logger.error("sync failed: \(error.message)", metadata: meta)
            try? registry.recordFailure(source.name, reason: error.message, startedAt: started)
            return SourceSyncResult(source: source.name, outcome: .failed, message: error.message, seconds: Date().timeIntervalSince(started))
        }
    }
}

/// Keeps secrets out of logs, traces and the registry.
public enum Redaction {
    /// A URL with any user-info (`https://user:token@host/...`) replaced by `***`.
    public static func url(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
              !url[scheme.upperBound..<at].contains("/") else { return url }
        return url[..<scheme.upperBound] + "***" + url[at...]
    }
}
