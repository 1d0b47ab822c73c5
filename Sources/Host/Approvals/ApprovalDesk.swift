import Base
import Core
import Crypto
import Foundation
import Logging
import Plugins
import Registry

/// Where calls that need approval wait, and where answers arrive, for one process. Requests and
/// grants live in the registry, so every process on it (a host, `agenthub approvals`, another host)
/// sees and answers the same ones; an answer is one conditional UPDATE, so the first wins.
///
/// A waiting call wakes when this process answers (the in-process signal), when another process
/// answers (the change feed's `approvals` mark, read every `poll`), or when its request expires by
/// the desk's clock.
public final class ApprovalDesk: Sendable {
    /// Where requests and grants are kept (the SQLite registry, or PostgreSQL).
    public let ledger: any ApprovalLedger
    /// The requests and grants as stored: what the fronts list, through the desk.
    public let book: ApprovalBook
    let recorder: TraceRecorder
    /// The process whose calls wait here (`pid@ticks`): a retry after a restart adopts requests of
    /// processes that are gone.
    public let hostId: String
    /// Its `approvals` mark moves on every request opened or ended and every grant made or revoked, in any process.
    public let changes: any ChangeFeed
    /// Fired when this process changes a request.
    public let changed = ChangeSignal()
    let poll: Duration
    let now: @Sendable () -> Date
    let logger: Logger
    private let stopping = LockedValue(false)
    /// Grant lookups as of an `approvals` mark: what `activeGrant` answered (nil: no grant) per caller, tool and rule.
    private let grants = LockedValue<(stamp: String, answers: [String: ApprovalGrantRecord?])>(("", [:]))

    public convenience init(registry: RegistryDatabase, recorder: TraceRecorder, logger: Logger, hostId: String = ProcessIdentity.current.id,
                            poll: Duration? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.init(ledger: registry, recorder: recorder, logger: logger, hostId: hostId, poll: poll, now: now)
    }

    public init(ledger: any ApprovalLedger, recorder: TraceRecorder, logger: Logger, hostId: String = ProcessIdentity.current.id,
                poll: Duration? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.ledger = ledger
        self.book = ApprovalBook(store: ledger)
        self.recorder = recorder
        self.hostId = hostId
        self.changes = ledger.changes
        self.poll = poll ?? changes.recheck(.approvals)
        self.now = now
        self.logger = logger
    }

    /// The host is shutting down: waiting calls end without withdrawing their requests, which stay
    /// pending for an operator (and for the caller's retry after the restart).
    public func hostStopping() {
        stopping.value = true
        changed.fire()
    }

    var isStopping: Bool { stopping.value }

    // MARK: Requests

    /// The grant that lets this call run without asking, if any. Answers are cached until the
    /// `approvals` mark moves (every grant made or revoked, in any process, moves it), so
    /// a call under a grant costs one mark read (a `stat`), not a registry read.
    func activeGrant(tool: String, agent: String, session: String, ruleKey: String) async -> ApprovalGrantRecord? {
        let key = "\(agent)\u{1}\(tool)\u{1}\(session)\u{1}\(ruleKey)", at = now()
        let stampNow = changes.mark(.approvals)
        let cached = grants.mutate { cache -> ApprovalGrantRecord?? in
            if cache.stamp != stampNow { cache = (stampNow, [:]) }
            return cache.answers[key]
        }
        if let cached, cached.map({ $0.expiresAt.map { $0 > at } ?? true }) ?? true { return cached }
        let ledger = self.ledger
        let found = await onThread { try? ledger.activeGrant(tool: tool, agent: agent, session: session, ruleKey: ruleKey, now: at) }
        grants.mutate { cache in
            if cache.stamp == stampNow, cache.answers.count < 10_000 { cache.answers[key] = .some(found) }
        }
        return found
    }

    /// Stores a new request for a call (or adopts the same call's pending request left by a host
    /// that is gone), records `approval.requested`, and tells other processes.
    func open(_ draft: ApprovalRecord, maxPending: Int? = nil) async throws(RegistryError) -> (record: ApprovalRecord, adopted: Bool) {
        let ledger = self.ledger, hostId = self.hostId, at = now()
        // `approval.requested` is queued on the same thread, the moment the request is stored: an
        // answer given as soon as it is visible (another task, another host) is queued after it.
        let requested: @Sendable (ApprovalRecord, Bool) -> Void = { [self] record, adopted in
            trace("approval.requested", record, [
                "rule": .string(record.rule), "expires_at": .string(TraceEvent.timestamp(record.expiresAt)),
                "policy_reason": .string(record.policyReason), "adopted": .bool(adopted),
            ])
        }
        let result: Result<(ApprovalRecord, Bool), RegistryError> = await onThread {
            do throws(RegistryError) {
                if let orphan = try ledger.adoptableApproval(agent: draft.agent, tool: draft.tool, argumentsDigest: draft.argumentsDigest,
                                                               now: at, isLive: { $0 == hostId || Self.isRunning($0) }),
                   try ledger.adoptApproval(orphan.id, hostId: hostId, session: draft.session, spanId: draft.spanId) {
                    var adopted = orphan
                    adopted.hostId = hostId
                    adopted.session = draft.session
                    adopted.spanId = draft.spanId
                    requested(adopted, true)
                    return .success((adopted, true))
                }
                try ledger.insertApproval(draft, maxPending: maxPending)
                requested(draft, false)
                return .success((draft, false))
            } catch {
                return .failure(error)
            }
        }
        let (record, adopted) = try result.get()
        changed.fire()
        return (record, adopted)
    }

    /// The same deferred call's request that can still let it run: pending, or granted and unused.
    /// A granted one stays usable for `keep` after its answer (the caller comes back to run it).
    func openDeferred(agent: String, tool: String, argumentsDigest: String, ruleKey: String, keep: Duration) async -> ApprovalRecord? {
        let ledger = self.ledger, at = now(), since = at.addingTimeInterval(-Double(keep.components.seconds))
        return await onThread {
            try? ledger.openDeferredApproval(agent: agent, tool: tool, argumentsDigest: argumentsDigest, ruleKey: ruleKey, now: at, grantedSince: since)
        }
    }

    /// Waits until `record` is answered, expires, or the caller cancels (which withdraws it); returns
    /// the request as it ended. While the host shuts down it returns the request still pending.
    /// `elicit`, when given, asks the caller's client; its answer races every other approver.
    func wait(for record: ApprovalRecord, elicit: (@Sendable () async -> ApprovalAnswer?)?) async -> ApprovalRecord {
        let asking = elicit.map { ask in
            Task {
                guard let answer = await ask(), !Task.isCancelled else { return }
                _ = await self.decide(record.id, answer)
            }
        }
        defer { asking?.cancel() }
        var seenStamp = changes.mark(.approvals)
        var latest = record
        // Read once before the first wait: an answer that came between storing the request and
        // now (another process's, or this one's before the waiter looked) moved no mark it would see.
        var mustRead = true
        while true {
            let generation = changed.generation
            if mustRead {
                let ledger = self.ledger, id = record.id
                if let read = await onThread({ try? ledger.approval(id) }) { latest = read }
                mustRead = false
            }
            if latest.status != .pending { return latest }
            if isStopping { return latest }
            let at = now()
            if latest.expiresAt <= at {
                await close(latest, .expired, reason: "no answer within policy.approval_timeout")
                mustRead = true
                continue
            }
            if Task.isCancelled {
                await close(latest, .withdrawn, reason: "the caller cancelled the call")
                mustRead = true
                continue
            }
            let remaining = Duration.seconds(latest.expiresAt.timeIntervalSince(at))
            await changed.wait(since: generation, timeout: min(poll, remaining))
            let stampNow = changes.mark(.approvals)
            if changed.generation != generation || stampNow != seenStamp || now() >= latest.expiresAt || Task.isCancelled {
                seenStamp = stampNow
                mustRead = true
            }
        }
    }

    /// The request as stored now.
    func read(_ id: String) async -> ApprovalRecord? {
        let ledger = self.ledger
        return await onThread { try? ledger.approval(id) }
    }

    /// Marks a granted request as used by its call; false when it was used already.
    func consume(_ id: String) async -> Bool {
        let ledger = self.ledger, at = now()
        return await onThread { (try? ledger.consumeApproval(id, now: at)) ?? false }
    }

    /// Answers a request (an operator, an admin key, the caller's client). The first answer wins;
    /// the winner records `approval.resolved`.
    public func decide(_ idOrPrefix: String, _ answer: ApprovalAnswer) async -> Result<ApprovalDecision, RegistryError> {
        let ledger = self.ledger, at = now()
        let grantId = "grt_" + Self.randomId()
        let result: Result<ApprovalDecision, RegistryError> = await onThread {
            do throws(RegistryError) { return .success(try ledger.decideApproval(idOrPrefix, answer, grantId: grantId, now: at)) } catch { return .failure(error) }
        }
        if case .success(.decided(let record, let grant)) = result {
            var detail: [String: JSONValue] = ["status": .string(record.status.rawValue), "by": .string(answer.by), "via": .string(answer.via)]
            if let scope = record.scope { detail["scope"] = .string(scope.rawValue) }
            if let reason = answer.reason { detail["reason"] = .string(TraceRedaction.message(reason)) }
            if let grant { detail["grant_id"] = .string(grant.id) }
            if let end = grant?.expiresAt { detail["grant_expires_at"] = .string(TraceEvent.timestamp(end)) }
            trace("approval.resolved", record, detail)
            logger.info("approval answered", metadata: ["host.approval": "\(record.id)", "host.tool": "\(record.tool)",
                                                        "host.approval.status": "\(record.status.rawValue)", "host.approval.by": "\(answer.by)"])
            changed.fire()
        }
        if case .success(.alreadyResolved(let record)) = result, record.status == .expired { changed.fire() }
        return result
    }

    /// Ends a pending request without an answer (expired or withdrawn) and records it.
    func close(_ record: ApprovalRecord, _ status: ApprovalStatus, reason: String) async {
        let ledger = self.ledger, at = now(), id = record.id
        let closed = await onThread { (try? ledger.closeApproval(id, status, reason: reason, now: at)) ?? false }
        guard closed else { return }
        trace("approval.resolved", record, ["status": .string(status.rawValue), "by": "host", "via": "host", "reason": .string(reason)])
        changed.fire()
    }

    /// Expires every pending request past its time (their callers are gone, or never looked):
    /// what listing does first, so nothing shows pending that can no longer be answered.
    public func expireDue() async {
        let ledger = self.ledger, at = now()
        let expired = await onThread { (try? ledger.expireApprovals(now: at)) ?? [] }
        for record in expired {
            trace("approval.resolved", record, ["status": "expired", "by": "host", "via": "host", "reason": "no answer within policy.approval_timeout"])
            trace("approval.expired", record, ["reason": "no answer within policy.approval_timeout; the caller was gone"])
        }
        if !expired.isEmpty { changed.fire() }
    }

    // MARK: What the fronts read and revoke

    /// Requests newest first (see `ApprovalBook.requests`), after expiring the due ones, so nothing
    /// shows pending that can no longer be answered. `agent` nil: every agent's.
    public func requests(status: ApprovalStatus?, agent: String?, before: String? = nil, limit: Int = 200) async throws(CoreError) -> [ApprovalRecord] {
        await expireDue()
        return try await book.requests(status: status, agent: agent, before: before, limit: limit)
    }

    /// One request by id or unique prefix, as `agent` may see it (nil: any), after expiring the due ones.
    public func request(_ idOrPrefix: String, agent: String?) async throws(CoreError) -> ApprovalRecord {
        await expireDue()
        return try await book.request(idOrPrefix, agent: agent)
    }

    /// Revokes a lasting grant (an operator, an admin key, the console) and says so in the log:
    /// the next call it covered is asked again, in every process (the stamp moves).
    public func revokeGrant(_ id: String, by: String, reason: String?) async throws(CoreError) -> ApprovalGrantRecord {
        let grant = try await book.revokeGrant(id, by: by, reason: reason)
        logger.info("approval grant revoked", metadata: ["host.grant": "\(grant.id)", "host.tool": "\(grant.tool)", "host.agent": "\(grant.agent)",
                                                         "host.grant.revoked_by": "\(grant.revokedBy ?? by)"])
        changed.fire()
        return grant
    }

    /// Waits until the approval events recorded so far are written (one-shot commands, before exit).
    public func flush() async { await recorder.flush() }

    /// Records an approval event in the span of the call that asked.
    func trace(_ type: String, _ record: ApprovalRecord, _ detail: [String: JSONValue]) {
        var detail = detail
        detail["approval_id"] = .string(record.id)
        var event = TraceEvent(at: TraceEvent.timestamp(), type: type, session: record.session, spanId: record.spanId, agent: record.agent,
                               role: record.role, group: record.group, tool: record.tool, decision: "ask", detail: .object(detail))
        event.revision = record.revision
        recorder.record(event)
    }

    /// After a reload: revokes the lasting grants whose rule no longer asks the same way (changed
    /// or removed), so a grant never outlives the rule that asked, and records why.
    public func revokeStaleGrants(under snapshot: HostSnapshot) async {
        let ledger = self.ledger, router = snapshot.tools.router, agents = snapshot.manifest.agents
        let reason = "the rule that asked changed in revision \(snapshot.revision)"
        let revoked = await onThread {
            (try? ledger.revokeStaleGrants(by: "host", reason: reason, now: Date()) { grant, role, group in
                let declared = agents.first { $0.name == grant.agent }
                let caller = ToolCaller(agent: grant.agent, role: declared?.role ?? role, group: declared.map { $0.group } ?? group)
                let verdict = router.verdict(for: grant.tool, caller: caller)
                return verdict.decision == .ask && ToolRouter.ruleKey(verdict) == grant.ruleKey
            }) ?? []
        }
        for grant in revoked {
            logger.notice("approval grant revoked by a reload", metadata: ["host.grant": "\(grant.id)", "host.tool": "\(grant.tool)",
                                                                         "host.agent": "\(grant.agent)", "host.revision": "\(snapshot.revision)"])
        }
    }

    // MARK: Ids and digests

    static func randomId() -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        return String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// SHA-256 of the arguments as sent (sorted keys): the same call has the same digest.
    static func digest(_ arguments: JSONValue) -> String {
        SHA256.hash(data: Data(arguments.jsonText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the process `pid@ticks` still runs.
    static func isRunning(_ hostId: String) -> Bool {
        let parts = hostId.split(separator: "@")
        guard parts.count == 2, let pid = Int32(parts[0]) else { return false }
        return ProcessIdentity.startTicks(of: pid) == String(parts[1])
    }
}
