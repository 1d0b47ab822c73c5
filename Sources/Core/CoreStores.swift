import Foundation
import Registry

// What the core services read and write. SQLite (`RegistryDatabase`, in `SQLiteStores.swift`) is
// the one implementation today; a second backend implements these protocols and nothing above
// them changes. Every operation is async and names no storage type.

/// What the skill catalog reads.
public protocol SkillStore: Sendable {
    /// Skills matching a query, best first when searching, by name when listing.
    func skills(_ query: SkillQuery) async throws(RegistryError) -> [SkillHit]
    /// Every live, loadable copy called `name`: the serving one first, then shadowed ones in source order.
    func skills(named name: String) async throws(RegistryError) -> [SkillRecord]
    /// Every live copy called `name`, loadable or not, served first.
    func liveSkills(named name: String) async throws(RegistryError) -> [SkillRecord]
    /// A skill row by id, tombstoned or not.
    func skill(id: Int64) async throws(RegistryError) -> SkillRecord?
    /// The files of a skill with their content, by path.
    func files(ofSkill id: Int64) async throws(RegistryError) -> [SkillFileRecord]
    /// One file of a skill with its content and bytes, or nil when the skill has no such path.
    func file(ofSkill id: Int64, path: String) async throws(RegistryError) -> SkillFileRecord?
    /// The files of the given skills without their content.
    func fileListings(ofSkills ids: [Int64]) async throws(RegistryError) -> [Int64: [SkillFileRecord]]
}

/// What the source directory reads.
public protocol SourceStore: Sendable {
    /// All sources, in manifest order (removed ones last).
    func sources() async throws(RegistryError) -> [SourceRecord]
    func source(named name: String) async throws(RegistryError) -> SourceRecord?
}

/// What the approval book reads and changes. Opening, answering and expiring requests belong to
/// the approval desk (Host), which waits on them.
public protocol ApprovalStore: Sendable {
    /// Requests newest first, optionally of one status and one agent, older than `before` (an id).
    func approvalRequests(status: ApprovalStatus?, agent: String?, before: String?, limit: Int) async throws(RegistryError) -> [ApprovalRecord]
    /// One request by id or unique id prefix.
    func approvalRequest(matching idOrPrefix: String) async throws(RegistryError) -> ApprovalRecord?
    /// Lasting grants newest first; revoked and expired ones too when `includingEnded`.
    func approvalGrants(agent: String?, includingEnded: Bool) async throws(RegistryError) -> [ApprovalGrantRecord]
    /// Revokes a grant and moves the approvals change stamp; the grant as it now is (nil: unknown).
    func revokeGrant(_ id: String, by: String, reason: String?) async throws(RegistryError) -> ApprovalGrantRecord?
}

/// What the event log reads and appends (the trace store is the event log).
public protocol EventStore: Sendable {
    func events(_ query: TraceQuery) async throws(RegistryError) -> [TraceEvent]
    /// Appends events agents reported in one transaction; `.conflict` when one joins a span it does not own.
    func appendReported(_ events: [TraceEvent], reportedTypes: Set<String>) async throws(RegistryError) -> [Int64]
    /// What each agent last reported about itself.
    func agentReports() async throws(RegistryError) -> [AgentStatusRecord]
    /// The time of an agent's newest event, ISO 8601.
    func newestEventTime(ofAgent agent: String) async throws(RegistryError) -> String?
}

/// What the host directory and the bridge's status read: the processes on this registry and what
/// they see of their bridged servers, and the pins of bridged tool definitions.
public protocol PresenceStore: Sendable {
    func hostRecords() async throws(RegistryError) -> [HostRecord]
    func hostRecord(id: String) async throws(RegistryError) -> HostRecord?
    func bridgeServerRecords() async throws(RegistryError) -> [BridgeServerRecord]
    /// Accepts the changed definitions of the tools (or servers) named; the tools accepted.
    func acceptChangedDefinitions(_ names: [String]) async throws(RegistryError) -> [String]
    /// Whether any pin names `name` as a tool or a server.
    func pinsExist(named name: String) async throws(RegistryError) -> Bool
}

/// What the memory tools read and write.
public protocol MemoryStore: Sendable {
    /// Whether these calls block the calling thread (SQLite does; a network database awaits): the
    /// router runs a plugin whose store blocks on threads of their own.
    var blocksThreads: Bool { get }
    /// Stores a memory and its search chunks; its id.
    func storeMemory(_ memory: MemoryRecord) async throws(RegistryError) -> Int64
    /// A memory by id.
    func storedMemory(id: Int64) async throws(RegistryError) -> MemoryRecord?
    /// Deletes a memory and its chunks; whether it existed.
    func forgetMemory(id: Int64) async throws(RegistryError) -> Bool
    /// The memories a search finds among those visible, best first.
    func findMemories(_ search: MemorySearch) async throws(RegistryError) -> [MemoryHit]
}

/// Where the trace writer puts events: called on the writer's own thread, never on the cooperative
/// pool, with a batch of up to `batchLimit` events; the batch is in the store, all of it, or the
/// call throws and the writer tries it again.
public protocol TraceSink: Sendable {
    func appendTraceEvents(_ events: [TraceEvent]) throws(RegistryError)
    /// Appends events that `writer` numbers in order from `firstIndex` on: a writer that sends
    /// events again (its earlier try may have been stored after it gave up on it) has each stored
    /// once, whatever batch it comes in. A store without that guarantee appends them.
    func appendTraceEvents(_ events: [TraceEvent], writer: String, firstIndex: Int) throws(RegistryError)
}

extension TraceSink {
    public func appendTraceEvents(_ events: [TraceEvent], writer: String, firstIndex: Int) throws(RegistryError) {
        try appendTraceEvents(events)
    }
}

/// What the approval desk writes and waits on: requests opened, adopted, answered, used, closed and
/// expired, and the grants they leave. Called on threads of their own, never on the cooperative
/// pool (SQLite blocks; PostgreSQL's implementation blocks the calling thread while it awaits).
/// Every change moves the `approvals` mark of `changes`.
public protocol ApprovalLedger: ApprovalStore {
    var changes: any ChangeFeed { get }
    func insertApproval(_ record: ApprovalRecord, maxPending: Int?) throws(RegistryError)
    func approval(_ idOrPrefix: String) throws(RegistryError) -> ApprovalRecord?
    func adoptableApproval(agent: String, tool: String, argumentsDigest: String, now: Date, isLive: (String) -> Bool) throws(RegistryError) -> ApprovalRecord?
    func openDeferredApproval(agent: String, tool: String, argumentsDigest: String, ruleKey: String, now: Date,
                              grantedSince: Date) throws(RegistryError) -> ApprovalRecord?
    func adoptApproval(_ id: String, hostId: String, session: String, spanId: String) throws(RegistryError) -> Bool
    func decideApproval(_ idOrPrefix: String, _ answer: ApprovalAnswer, grantId: String, now: Date) throws(RegistryError) -> ApprovalDecision
    func consumeApproval(_ id: String, now: Date) throws(RegistryError) -> Bool
    func closeApproval(_ id: String, _ status: ApprovalStatus, reason: String, now: Date) throws(RegistryError) -> Bool
    func expireApprovals(now: Date) throws(RegistryError) -> [ApprovalRecord]
    func activeGrant(tool: String, agent: String, session: String, ruleKey: String, now: Date) throws(RegistryError) -> ApprovalGrantRecord?
    func revokeStaleGrants(by: String, reason: String, now: Date,
                           stillAsks: (_ grant: ApprovalGrantRecord, _ role: String?, _ group: String?) -> Bool) throws(RegistryError) -> [ApprovalGrantRecord]
    func revokeSessionGrants(_ session: String, reason: String, now: Date) throws(RegistryError) -> Int
}

/// What the source syncer and its scheduler write: the declared sources, each sync's start, its
/// failure or its publish, the lease that keeps hosts from syncing one source at once, and when it
/// is due next. Called on threads of their own, never on the cooperative pool (SQLite blocks;
/// PostgreSQL's implementation blocks the calling thread while it awaits).
public protocol SyncLedger: Sendable {
    func declareSources(_ sources: [SourceDescriptor]) throws(RegistryError)
    func sources() throws(RegistryError) -> [SourceRecord]
    func source(named name: String) throws(RegistryError) -> SourceRecord?
    func knownDigests(of source: String) throws(RegistryError) -> [String: String]
    /// Takes the lease for `seconds` unless another owner holds an unexpired one (or it is `replacing`'s, a gone process's).
    func acquireLease(_ source: String, owner: String, seconds: Double, replacing: String?, now: Date) throws(RegistryError) -> Bool
    func releaseLease(_ source: String, owner: String, checkedAt: Date?) throws(RegistryError)
    func scheduleNextAttempt(_ source: String, at date: Date?) throws(RegistryError)
    func markSyncing(_ source: String, owner: String, at now: Date) throws(RegistryError)
    func markSuspended(_ source: String) throws(RegistryError)
    func resume(_ source: String) throws(RegistryError)
    func recordFailure(_ source: String, reason: String, startedAt: Date, at now: Date) throws(RegistryError)
    func recordFailure(_ source: String, kind: SyncFailureKind, reason: String, configDigest: String?, startedAt: Date, at now: Date) throws(RegistryError)
    func publish(_ snapshot: SkillSnapshot, to source: String, options: PublishOptions) throws(RegistryError) -> PublishReport
}

extension SyncLedger {
    public func acquireLease(_ source: String, owner: String, seconds: Double, replacing: String? = nil) throws(RegistryError) -> Bool {
        try acquireLease(source, owner: owner, seconds: seconds, replacing: replacing, now: Date())
    }
    public func markSyncing(_ source: String, owner: String) throws(RegistryError) { try markSyncing(source, owner: owner, at: Date()) }
    public func recordFailure(_ source: String, reason: String, startedAt: Date) throws(RegistryError) {
        try recordFailure(source, reason: reason, startedAt: startedAt, at: Date())
    }
    public func recordFailure(_ source: String, kind: SyncFailureKind, reason: String, configDigest: String?, startedAt: Date) throws(RegistryError) {
        try recordFailure(source, kind: kind, reason: reason, configDigest: configDigest, startedAt: startedAt, at: Date())
    }
}

/// Where API keys are kept: only their keyed hashes. Every key made or revoked moves the `keys`
/// mark of `changes`, so every host's key cache drops what it holds.
public protocol KeyLedger: Sendable {
    var changes: any ChangeFeed { get }
    func storeKey(_ record: APIKeyRecord, hash: Data) async throws(RegistryError)
    /// The key whose hash this is, revoked or not (one indexed lookup).
    func key(hash: Data) async throws(RegistryError) -> APIKeyRecord?
    /// Keys, of one agent or all, newest first.
    func keys(agent: String?) async throws(RegistryError) -> [APIKeyRecord]
    /// Revokes a key by id or hint; the key as it now is, nil when none matches.
    func revokeKey(_ idOrHint: String) async throws(RegistryError) -> APIKeyRecord?
}

/// Where each host keeps its row (who it is, where it listens, its reloads) while it runs. Called
/// on threads of their own, never on the cooperative pool.
public protocol HostLedger: Sendable {
    func registerHost(_ host: HostRecord) throws(RegistryError)
    /// The host is alive (and where it listens, once it knows); `now` where the store has no clock of its own.
    func heartbeat(host id: String, http: String?, at now: Date) throws(RegistryError)
    func recordReload(host id: String, revision: String, trigger: String, result: String, message: String, errors: [String],
                      at now: Date) throws(RegistryError)
    func removeHost(_ id: String) throws(RegistryError)
    /// Forgets the hosts that are gone and returns their ids. On one machine (SQLite) a host is gone
    /// when `isRunning` says its process is; across machines (PostgreSQL) when it stopped heartbeating,
    /// and the leases it held are released.
    func removeGoneHosts(isRunning: (HostRecord) -> Bool) throws(RegistryError) -> [String]
}

/// Everything a host keeps in its registry, as one value: the SQLite file, or PostgreSQL.
/// Where MCP sessions over HTTP are kept, so that any host on the store can serve a session
/// another host opened (a load balancer may send each request elsewhere).
public protocol SessionStore: Sendable {
    func saveSession(_ record: MCPSessionRecord) async throws(RegistryError)
    func session(id: String) async throws(RegistryError) -> MCPSessionRecord?
    /// Records that the session was used at `date` (never moves its last use back).
    func touchSession(id: String, at date: Date) async throws(RegistryError)
    func endSession(id: String) async throws(RegistryError)
    /// Forgets sessions not used since `date`; how many.
    func forgetSessions(seenBefore date: Date) async throws(RegistryError) -> Int

    /// Console sign-ins, by the hash of their cookie token.
    func saveConsoleSession(_ record: ConsoleSessionRecord) async throws(RegistryError)
    func consoleSession(tokenHash: Data) async throws(RegistryError) -> ConsoleSessionRecord?
    func touchConsoleSession(tokenHash: Data, at date: Date) async throws(RegistryError)
    /// Ends the sign-in with this token, or every sign-in made with this key (moves the `sessions` mark).
    func endConsoleSessions(tokenHash: Data?, keyHash: Data?) async throws(RegistryError)
    func forgetConsoleSessions(seenBefore date: Date) async throws(RegistryError) -> Int
}

/// Tool calls that outlive their request (tasks): the task runner writes them, every front reads them.
public protocol TaskStore: Sendable {
    /// Stores a new task; `.limit` when the agent already has `maxActive` running.
    func insertTask(_ record: TaskRecord, maxActive: Int?) async throws(RegistryError)
    func task(id: String) async throws(RegistryError) -> TaskRecord?
    /// Tasks newest first, of one agent and one status when given.
    func tasks(agent: String?, status: TaskStatus?, limit: Int) async throws(RegistryError) -> [TaskRecord]
    /// Changes a task that has not ended; false when it had.
    func changeTask(id: String, _ change: TaskChange, now: Date) async throws(RegistryError) -> Bool
    /// Marks a running task to be cancelled; the task as it now is (nil: unknown).
    func requestTaskCancel(id: String, now: Date) async throws(RegistryError) -> TaskRecord?
    /// Which of `ids` someone asked to cancel.
    func cancelRequestedTasks(_ ids: [String]) async throws(RegistryError) -> [String]
    /// Fails every running task of `stoppedHosts`; how many.
    func failTasks(ofStoppedHosts stoppedHosts: [String], message: String, error: String, now: Date) async throws(RegistryError) -> Int
    /// Forgets tasks past their TTL; how many.
    func forgetExpiredTasks(now: Date) async throws(RegistryError) -> Int
}

public protocol RegistryStore: SkillStore, SourceStore, ApprovalLedger, EventStore, PresenceStore, MemoryStore, TraceSink, SyncLedger,
                               KeyLedger, HostLedger, SessionStore, TaskStore {
    /// Opened only to read (`agenthub status` and the like): it writes nothing.
    var isReadOnly: Bool { get }
    /// Where it is, for messages (a path, or a URL without its password).
    var place: String { get }
    /// Where bridged tool definitions are pinned and their servers' status recorded (the store itself).
    var pins: (any BridgeLedger)? { get }
    /// Where the key pepper file sits when `AGENTHUB_KEY_PEPPER` is not set (nil: the variable is required).
    var pepperFolder: String? { get }
    /// Whether every host on it runs on this machine (SQLite: a host is alive while its pid runs);
    /// otherwise a host is alive while it heartbeats.
    var hostsAreLocal: Bool { get }
}
