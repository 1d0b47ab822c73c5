import Registry

/// The event log every front reads: the router's trace events and what agents report about
/// themselves (`POST /v1/events`). Pages are in id order, so a reader that remembers the last id
/// it saw misses nothing.
public struct EventLog: Sendable {
    let store: any EventStore

    /// The event kinds an agent may report; the router's own (`tool.called`, `approval.*`, …) cannot be forged.
    public static let reportedTypes = ["session.start", "session.end", "tool.start", "tool.end", "error", "status", "model.switch"]
    /// The states an agent may report in `state`.
    public static let agentStates = ["IDLE", "RUNNING", "WAITING_USER", "WAITING_APPROVAL", "ERROR", "DONE"]

    public init(store: any EventStore) { self.store = store }

    /// A page of events matching `query`.
    public func page(_ query: TraceQuery) async throws(CoreError) -> [TraceEvent] {
        do { return try await store.events(query) } catch {
            throw CoreError(.storage, "the registry could not read events (\(error.code.rawValue))")
        }
    }

    /// The id of the newest event (0 when there is none): where a live tail that shows only what
    /// comes next starts.
    public func newestId() async -> Int64 {
        var query = TraceQuery(limit: 1)
        query.newestFirst = true
        return (try? await store.events(query).first?.id) ?? 0
    }

    /// Appends events agents reported, in one transaction; their ids in order. A type that is not
    /// one an agent reports, or an event that joins a span it does not own, refuses the whole batch.
    public func append(reported events: [TraceEvent]) async throws(CoreError) -> [Int64] {
        if let forged = events.first(where: { !Self.reportedTypes.contains($0.type) }) {
            throw CoreError(.invalid, "type '\(forged.type)' is not one an agent reports (\(Self.reportedTypes.joined(separator: ", ")))")
        }
        do { return try await store.appendReported(events, reportedTypes: Set(Self.reportedTypes)) } catch {
            if error.code == .conflict { throw CoreError(.conflict, error.message) }
            throw CoreError(.storage, "the events could not be stored (\(error.code.rawValue))")
        }
    }

    /// What each agent last reported about itself, and when it was last seen in the log.
    public func agentReports() async throws(CoreError) -> [AgentStatusRecord] {
        do { return try await store.agentReports() } catch {
            throw CoreError(.storage, "the registry could not read agents (\(error.code.rawValue))")
        }
    }

    /// When `agent`'s newest event happened (ISO 8601), nil when it has none.
    public func lastEventTime(of agent: String) async -> String? {
        (try? await store.newestEventTime(ofAgent: agent)) ?? nil
    }
}
