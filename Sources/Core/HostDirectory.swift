import Registry

/// The processes on this registry (hosts, `agenthub mcp`, …), what they see of their bridged
/// servers, and the pins of bridged tool definitions: what `agenthub status`, `servers`, `reload`
/// and `tools accept` read.
public struct HostDirectory: Sendable {
    let store: any PresenceStore
    let isRunning: @Sendable (HostRecord) -> Bool

    /// `isRunning` says whether a recorded process still runs (its pid with the same start time).
    public init(store: any PresenceStore, isRunning: @escaping @Sendable (HostRecord) -> Bool) {
        self.store = store
        self.isRunning = isRunning
    }

    /// The processes that registered here and still run, oldest first.
    public func runningHosts() async throws(CoreError) -> [HostRecord] {
        do { return try await store.hostRecords().filter(isRunning) } catch {
            throw CoreError(.storage, "the registry could not list hosts (\(error.code.rawValue))")
        }
    }

    /// Every process on record, oldest first, with whether it still runs: a host that stopped
    /// heartbeating (or whose pid is gone) is listed as gone until its row is forgotten.
    public func hosts() async throws(CoreError) -> [(record: HostRecord, running: Bool)] {
        do { return try await store.hostRecords().map { ($0, isRunning($0)) } } catch {
            throw CoreError(.storage, "the registry could not list hosts (\(error.code.rawValue))")
        }
    }

    /// One process's row as it is now (nil when it is gone).
    public func host(_ id: String) async throws(CoreError) -> HostRecord? {
        do { return try await store.hostRecord(id: id) } catch {
            throw CoreError(.storage, "the registry could not read host '\(id)' (\(error.code.rawValue))")
        }
    }

    /// Every recorded bridged-server status, newest first; `ownerMayBeAlive` says whether the
    /// process that recorded it may still run.
    public func bridgeServers() async throws(CoreError) -> [BridgeServerRecord] {
        do { return try await store.bridgeServerRecords() } catch {
            throw CoreError(.storage, "the registry could not read bridged server status (\(error.code.rawValue))")
        }
    }

    /// Accepts the changed definitions of the bridged tools (or whole servers) named: the tools
    /// accepted, and the names no pin knows (never seen by any host).
    public func acceptChangedDefinitions(_ names: [String]) async throws(CoreError) -> (accepted: [String], unknown: [String]) {
        do {
            let accepted = try await store.acceptChangedDefinitions(names)
            var unknown: [String] = []
            for name in names where try await !store.pinsExist(named: name) { unknown.append(name) }
            return (accepted, unknown)
        } catch {
            throw CoreError(.storage, "the registry could not accept the definitions (\(error.code.rawValue))")
        }
    }
}
