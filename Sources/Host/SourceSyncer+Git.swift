import Base
import Registry
import Crypto
import Foundation
import GitSync
import Logging

/// A git source's manifest entry turned into what a sync needs: the fetch request with credentials
/// read now (a rotated token is picked up without a restart), the deadline, and the entry's digest.
struct GitSyncPlan {
    var request: FetchRequest
    var timeout: Double
    var configDigest: String
}

extension SourceSyncer {
    /// The bare cache repository of a source.
    public func cacheRepository(of source: SourceConfig) -> String {
        PathText.join(manifest.resolve(manifest.host.cache), source.name + ".git")
    }

    /// A digest of everything in the entry that decides what is fetched and read: the same digest at
    /// the same commit means the registry already holds what a sync would publish.
    public static func configDigest(of source: SourceConfig, url: String) -> String {
        let fields: [String] = [
            url, source.ref.map { "\($0)" } ?? "HEAD", source.paths.joined(separator: "\u{1}"), "\(source.includeHidden)",
            "\(source.maxDepth)", "\(source.maxDirs)", source.tokenEnv ?? "", source.tokenFile ?? "", source.username ?? "",
            source.sshKey ?? "", source.knownHosts ?? "", "\(source.strictHostKeys)", source.caFile ?? "",
            SkillDiscovery.storageFormat,
        ]
        return String(SHA256.hash(data: Data(fields.joined(separator: "\u{0}").utf8)).hex.prefix(32))
    }

    /// Reads the entry's URL and credentials. Every error here is a configuration error: retrying
    /// without changing the manifest (or the environment) cannot help.
    func gitPlan(_ source: SourceConfig, url: String) throws(GitError) -> GitSyncPlan {
        let label = "sources.\(source.name)"
        let remote = try GitURL.check(url, resolvingPathsAgainst: manifest.directory, source: label)
        var credentials = GitCredentials()
        credentials.username = source.username
        credentials.strictHostKeys = source.strictHostKeys
        if let name = source.tokenEnv {
            guard let token = environment[name], !token.isEmpty else {
                throw GitError(.config, "\(label).token_env names the environment variable \(name), which is not set")
            }
            credentials.token = token
        }
        if let file = source.tokenFile {
            let path = manifest.resolve(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw GitError(.config, "\(label).token_file \(path) cannot be read")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw GitError(.config, "\(label).token_file \(path) is empty") }
            credentials.token = token
        }
        if let key = source.sshKey {
            let path = manifest.resolve(key)
            guard FileManager.default.isReadableFile(atPath: path) else { throw GitError(.config, "\(label).ssh_key \(path) cannot be read") }
            credentials.sshPrivateKey = path
            if FileManager.default.isReadableFile(atPath: path + ".pub") { credentials.sshPublicKey = path + ".pub" }
        }
        if let hosts = source.knownHosts {
            let path = manifest.resolve(hosts)
            guard FileManager.default.isReadableFile(atPath: path) else { throw GitError(.config, "\(label).known_hosts \(path) cannot be read") }
            credentials.knownHosts = path
        }
        if let ca = source.caFile {
            let path = manifest.resolve(ca)
            guard FileManager.default.isReadableFile(atPath: path) else { throw GitError(.config, "\(label).ca_file \(path) cannot be read") }
            credentials.caFile = path
        }
        if case .semver(let range) = source.ref {
            do { _ = try SemverRange(range) } catch { throw GitError(.config, "\(label).ref: \(error.message)") }
        }
        let ref: RefSelector = switch source.ref {
        case nil: .remoteHead
        case .branch(let b)?: .branch(b)
        case .tag(let t)?: .tag(t)
        case .semver(let r)?: .semver(r)
        case .commit(let c)?: .commit(c)
        }
        let request = FetchRequest(url: remote, repository: cacheRepository(of: source), ref: ref, credentials: credentials)
        return GitSyncPlan(request: request, timeout: (source.timeout ?? manifest.sync.timeout).seconds,
                           configDigest: Self.configDigest(of: source, url: url))
    }

    /// Fetches the source's ref in the worker (killed at the deadline), reads skills from the commit's
    /// tree, and publishes them in one transaction as `REF@COMMIT`. Nothing is written when neither the
    /// commit nor the manifest entry changed; any failure keeps the last good revision.
    func syncGit(_ source: SourceConfig, url: String, acceptRemovals: Bool, force: Bool,
                 progress: @escaping (FetchEvent) -> Void) -> SourceSyncResult {
        let started = Date()
        let name = source.name
        let meta: Logger.Metadata = ["host.source": "\(name)"]
        func result(_ outcome: SourceSyncResult.Outcome, _ message: String?, kind: SyncFailureKind? = nil) -> SourceSyncResult {
            SourceSyncResult(source: name, outcome: outcome, message: message, seconds: Date().timeIntervalSince(started), failureKind: kind)
        }
        let record: SourceRecord?
        do {
            if source.suspend {
                try registry.markSuspended(name)
                return result(.suspended, "suspend: true in the manifest")
            }
            var current = try registry.source(named: name)
            if current?.status == .suspended {
                try registry.resume(name)
                current = try registry.source(named: name)
            }
            record = current
        } catch {
            return result(.failed, error.message, kind: .validation)
        }

        let plan: GitSyncPlan
        do { plan = try gitPlan(source, url: url) } catch {
            // A remote path that is not there (yet, or any more) fails the run and is retried with
            // backoff; a setting that cannot work as written stalls it until it changes.
            let kind = error.kind.failureKind
            logger.error("sync \(kind == .config ? "stalled" : "failed (\(kind.rawValue))"): \(error.message)", metadata: meta)
            try? registry.recordFailure(name, kind: kind, reason: error.message, configDigest: Self.configDigest(of: source, url: url), startedAt: started)
            return result(kind == .config ? .stalled : .failed, error.message, kind: kind)
        }
        if let record, record.status == .stalled, record.configDigest == plan.configDigest, !force {
            return result(.stalled, (record.statusReason ?? "stalled") + " (change the source's manifest entry, or run agenthub sync --source \(name))", kind: .config)
        }

        let leaseSeconds = plan.timeout + 600
        do {
            guard try takeLease(name, seconds: leaseSeconds) else {
                return result(.busy, "another process is syncing \(name) now")
            }
        } catch {
            return result(.failed, error.message, kind: .validation)
        }
        var checked: Date?
        defer { try? registry.releaseLease(name, owner: leaseOwner, checkedAt: checked) }
        if !force, let elsewhere = checkedElsewhere(name, digest: plan.configDigest, interval: (source.interval ?? manifest.sync.interval).seconds, now: started) {
            var r = result(.recent, "fetched by another process at \(elsewhere.formatted(.iso8601))")
            r.checkedAt = elsewhere
            r.revision = record?.revision
            r.skills = record?.skillCount ?? 0
            return r
        }

        do {
            let fetched = try supervisor.fetch(plan.request, timeout: plan.timeout, progress: progress, started: onWorkerStarted)
            checked = Date()
            let revision = "\(fetched.label)@\(fetched.commit)"
            if let record, record.commit == fetched.commit, record.configDigest == plan.configDigest, record.status == .ready {
                logger.debug("unchanged at \(revision)", metadata: meta)
                var r = result(.unchanged, nil)
                r.revision = revision
                r.skills = record.skillCount
                r.downloaded = fetched.downloaded
                r.receivedBytes = fetched.receivedBytes
                return r
            }
            let repository = try GitRepository.open(plan.request.repository)
            let tree = try GitSkillTree(repository: repository, commit: fetched.commit, displayName: "\(name)@\(fetched.commit.prefix(12))")
            let known = record?.configDigest == plan.configDigest ? try registry.knownDigests(of: name) : [:]
            let snapshot = SkillDiscovery(options: Self.discoveryOptions(for: source)).snapshot(of: tree, revision: revision, known: known)
            for warning in snapshot.warnings { logger.warning("\(warning)", metadata: meta) }
            if let held = holdIncomplete(snapshot, source: name, started: started) {
                var r = result(.failed, held.message, kind: .truncated)
                r.revision = revision
                r.skills = snapshot.skills.count
                return r
            }
            let options = PublishOptions(maxVanishedFraction: source.maxVanished ?? manifest.sync.maxVanished, acceptRemovals: acceptRemovals,
                                         now: started, commit: fetched.commit, configDigest: plan.configDigest)
            let report = try registry.publish(snapshot, to: name, options: options)
            logger.info("synced", metadata: meta.merging(["host.outcome": "\(report.outcome.rawValue)", "host.revision": "\(revision)",
                                                           "host.added": "\(report.added)", "host.updated": "\(report.updated)",
                                                           "host.removed": "\(report.removed)"]) { $1 })
            var r = result(SourceSyncResult.Outcome(report.outcome), report.warnings.first)
            r.revision = revision
            r.report = report
            r.skills = snapshot.skills.count
            r.downloaded = fetched.downloaded
            r.receivedBytes = fetched.receivedBytes
            return r
        } catch {
            let (kind, message) = Self.describe(error, secrets: plan.request.credentials.secrets)
            logger.error("sync failed (\(kind.rawValue)): \(message)", metadata: meta)
            try? registry.recordFailure(name, kind: kind, reason: message, configDigest: plan.configDigest, startedAt: started)
            return result(kind == .config ? .stalled : .failed, message, kind: kind)
        }
    }

    /// When another process fetched the source, if that was recently enough (under 90% of its
    /// interval ago) that a scheduled run has nothing to add: hosts on one database each schedule
    /// every source, and only the first of them in each interval fetches. Read under the lease, so
    /// the check a host just finished is seen. A source whose last run failed, or whose manifest
    /// entry differs, is fetched anyway.
    func checkedElsewhere(_ name: String, digest: String, interval: Double, now: Date) -> Date? {
        guard let record = try? registry.source(named: name), record.status == .ready, record.configDigest == digest,
              let checked = record.lastCheckedAt, now.timeIntervalSince(checked) < interval * 0.9 else { return nil }
        return checked
    }

    /// Takes the source's lease; a lease whose owner was a process on this machine that no longer
    /// exists (a host killed mid-sync) is taken over rather than waited out.
    func takeLease(_ name: String, seconds: Double) throws(RegistryError) -> Bool {
        if try registry.acquireLease(name, owner: leaseOwner, seconds: seconds) { return true }
        guard let holder = try registry.source(named: name)?.leaseOwner, !SyncOwner.mayBeAlive(holder) else { return false }
        logger.warning("taking over the sync lease of \(name) from \(holder), which no longer runs", metadata: ["host.source": "\(name)"])
        return try registry.acquireLease(name, owner: leaseOwner, seconds: seconds, replacing: holder)
    }

    /// The failure kind and a message with every secret of the source scrubbed out.
    static func describe(_ error: any Error, secrets: [String]) -> (SyncFailureKind, String) {
        switch error {
        case let e as GitError: (e.kind.failureKind, Redaction.removing(secrets, from: e.message))
        case let e as RegistryError: (.validation, Redaction.removing(secrets, from: e.message))
        default: (.validation, Redaction.removing(secrets, from: "\(error)"))
        }
    }
}
