import Base
import Foundation
import Registry

// The SQLite registry as the core's stores. Its reads and writes block a thread (SQLite, and a
// write may wait on another process's lock), so the blocking ones run off the cooperative pool.
// The skill and source reads stay on the caller's thread: they are short, read-only and cached
// statements, and the skill bench measures the hop.

extension RegistryDatabase: SkillStore, SourceStore, TraceSink, SyncLedger {}

extension RegistryDatabase: ApprovalLedger {
    public func approvalRequests(status: ApprovalStatus?, agent: String?, before: String?, limit: Int) async throws(RegistryError) -> [ApprovalRecord] {
        try await offPool { () throws(RegistryError) in try self.approvals(status: status, agent: agent, before: before, limit: limit) }
    }

    public func approvalRequest(matching idOrPrefix: String) async throws(RegistryError) -> ApprovalRecord? {
        try await offPool { () throws(RegistryError) in try self.approval(idOrPrefix) }
    }

    public func approvalGrants(agent: String?, includingEnded: Bool) async throws(RegistryError) -> [ApprovalGrantRecord] {
        try await offPool { () throws(RegistryError) in try self.approvalGrants(all: includingEnded, agent: agent) }
    }

    public func revokeGrant(_ id: String, by: String, reason: String?) async throws(RegistryError) -> ApprovalGrantRecord? {
        try await offPool { () throws(RegistryError) in try self.revokeApprovalGrant(id, by: by, reason: reason) }
    }
}

extension RegistryDatabase: EventStore {
    public func events(_ query: TraceQuery) async throws(RegistryError) -> [TraceEvent] {
        try await offPool { () throws(RegistryError) in try self.traceEvents(query) }
    }

    public func appendReported(_ events: [TraceEvent], reportedTypes: Set<String>) async throws(RegistryError) -> [Int64] {
        try await offPool { () throws(RegistryError) in try self.ingestAgentEvents(events, reportedTypes: reportedTypes) }
    }

    public func agentReports() async throws(RegistryError) -> [AgentStatusRecord] {
        try await offPool { () throws(RegistryError) in try self.agentStatuses() }
    }

    public func newestEventTime(ofAgent agent: String) async throws(RegistryError) -> String? {
        try await offPool { () throws(RegistryError) in try self.lastEventTime(agent: agent) }
    }
}

// Memory calls run on the caller's thread: the memory plugin runs on the router's plugin threads
// (`blocksThreads`), so a hop here would be a second one.
extension RegistryDatabase: MemoryStore {
    public var blocksThreads: Bool { true }

    public func storeMemory(_ memory: MemoryRecord) async throws(RegistryError) -> Int64 { try insertMemory(memory) }

    public func storedMemory(id: Int64) async throws(RegistryError) -> MemoryRecord? { try memory(id: id) }

    public func forgetMemory(id: Int64) async throws(RegistryError) -> Bool { try deleteMemory(id: id) }

    public func findMemories(_ search: MemorySearch) async throws(RegistryError) -> [MemoryHit] { try searchMemories(search) }
}

// A key lookup is one indexed read on the caller's thread (the HTTP front checks a key on every
// request the key cache misses); making, listing and revoking keys run off the pool.
extension RegistryDatabase: KeyLedger {
    public func storeKey(_ record: APIKeyRecord, hash: Data) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.insertAPIKey(record, hash: hash) }
    }

    public func key(hash: Data) async throws(RegistryError) -> APIKeyRecord? { try apiKey(hash: hash) }

    public func keys(agent: String?) async throws(RegistryError) -> [APIKeyRecord] {
        try await offPool { () throws(RegistryError) in try self.apiKeys(agent: agent) }
    }

    public func revokeKey(_ idOrHint: String) async throws(RegistryError) -> APIKeyRecord? {
        try await offPool { () throws(RegistryError) in try self.revokeAPIKey(idOrHint) }
    }
}

extension RegistryDatabase: HostLedger {
    public func removeGoneHosts(isRunning: (HostRecord) -> Bool) throws(RegistryError) -> [String] {
        var gone: [String] = []
        for host in try hosts() where !isRunning(host) {
            try removeHost(host.id)
            gone.append(host.id)
        }
        return gone
    }
}

extension RegistryDatabase: PresenceStore {
    public func hostRecords() async throws(RegistryError) -> [HostRecord] {
        try await offPool { () throws(RegistryError) in try self.hosts() }
    }

    public func hostRecord(id: String) async throws(RegistryError) -> HostRecord? {
        try await offPool { () throws(RegistryError) in try self.host(id) }
    }

    public func bridgeServerRecords() async throws(RegistryError) -> [BridgeServerRecord] {
        try await offPool { () throws(RegistryError) in try self.bridgeServers() }
    }

    public func acceptChangedDefinitions(_ names: [String]) async throws(RegistryError) -> [String] {
        try await offPool { () throws(RegistryError) in try self.acceptToolDefinitions(names) }
    }

    public func pinsExist(named name: String) async throws(RegistryError) -> Bool {
        try await offPool { () throws(RegistryError) in try self.hasToolPins(named: name) }
    }
}

extension RegistryDatabase {
    /// The registry's change feed: its stamp files.
    public var changes: any ChangeFeed {
        StampFeed(stamps: [.skills: skillsChanged, .approvals: approvalsChanged, .keys: keysChanged, .sessions: sessionsChanged])
    }

    /// Runs a blocking registry call on a thread of its own and awaits it.
    func offPool<T: Sendable>(_ body: @escaping @Sendable () throws(RegistryError) -> T) async throws(RegistryError) -> T {
        let result: Result<T, RegistryError> = await onThread {
            do throws(RegistryError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension RegistryDatabase: RegistryStore {
    public var place: String { path }
    public var pins: (any BridgeLedger)? { self }
    public var pepperFolder: String? { URL(fileURLWithPath: path).deletingLastPathComponent().path }
    public var hostsAreLocal: Bool { true }
}

extension RegistryDatabase: TaskStore {
    public func insertTask(_ record: TaskRecord, maxActive: Int?) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.insertTaskRecord(record, maxActive: maxActive) }
    }

    public func task(id: String) async throws(RegistryError) -> TaskRecord? {
        try await offPool { () throws(RegistryError) in try self.taskRecord(id: id) }
    }

    public func tasks(agent: String?, status: TaskStatus?, limit: Int) async throws(RegistryError) -> [TaskRecord] {
        try await offPool { () throws(RegistryError) in try self.taskRecords(agent: agent, status: status, limit: limit) }
    }

    public func changeTask(id: String, _ change: TaskChange, now: Date) async throws(RegistryError) -> Bool {
        try await offPool { () throws(RegistryError) in try self.changeTaskRecord(id: id, change, now: now) }
    }

    public func requestTaskCancel(id: String, now: Date) async throws(RegistryError) -> TaskRecord? {
        try await offPool { () throws(RegistryError) in try self.requestTaskRecordCancel(id: id, now: now) }
    }

    public func cancelRequestedTasks(_ ids: [String]) async throws(RegistryError) -> [String] {
        try await offPool { () throws(RegistryError) in try self.cancelRequestedTaskIds(ids) }
    }

    public func failTasks(ofStoppedHosts stoppedHosts: [String], message: String, error: String, now: Date) async throws(RegistryError) -> Int {
        try await offPool { () throws(RegistryError) in try self.failTaskRecords(ofStoppedHosts: stoppedHosts, message: message, error: error, now: now) }
    }

    public func forgetExpiredTasks(now: Date) async throws(RegistryError) -> Int {
        try await offPool { () throws(RegistryError) in try self.forgetExpiredTaskRecords(now: now) }
    }
}

extension RegistryDatabase: SessionStore {
    public func saveSession(_ record: MCPSessionRecord) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.saveMCPSessionRecord(record) }
    }

    public func session(id: String) async throws(RegistryError) -> MCPSessionRecord? {
        try await offPool { () throws(RegistryError) in try self.mcpSessionRecord(id: id) }
    }

    public func touchSession(id: String, at date: Date) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.touchMCPSessionRecord(id: id, at: date) }
    }

    public func endSession(id: String) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.deleteMCPSessionRecord(id: id) }
    }

    public func forgetSessions(seenBefore date: Date) async throws(RegistryError) -> Int {
        try await offPool { () throws(RegistryError) in try self.deleteMCPSessionRecords(seenBefore: date) }
    }

    public func saveConsoleSession(_ record: ConsoleSessionRecord) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.saveConsoleSessionRecord(record) }
    }

    public func consoleSession(tokenHash: Data) async throws(RegistryError) -> ConsoleSessionRecord? {
        try await offPool { () throws(RegistryError) in try self.consoleSessionRecord(tokenHash: tokenHash) }
    }

    public func touchConsoleSession(tokenHash: Data, at date: Date) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.touchConsoleSessionRecord(tokenHash: tokenHash, at: date) }
    }

    public func endConsoleSessions(tokenHash: Data?, keyHash: Data?) async throws(RegistryError) {
        try await offPool { () throws(RegistryError) in try self.deleteConsoleSessionRecords(tokenHash: tokenHash, keyHash: keyHash) }
    }

    public func forgetConsoleSessions(seenBefore date: Date) async throws(RegistryError) -> Int {
        try await offPool { () throws(RegistryError) in try self.deleteConsoleSessionRecords(seenBefore: date) }
    }
}
