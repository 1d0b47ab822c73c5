import Registry

/// The approval requests and lasting grants as stored, for every front to read, and the one place
/// a grant is revoked. Asking, waiting, answering and expiring belong to the approval desk (Host),
/// which reads through this book and expires due requests before every listing.
public struct ApprovalBook: Sendable {
    let store: any ApprovalStore

    public init(store: any ApprovalStore) { self.store = store }

    /// Requests newest first: of one status (every status when nil), of one agent (every agent when
    /// nil), older than the request `before`; a full page means there may be more.
    public func requests(status: ApprovalStatus?, agent: String?, before: String? = nil, limit: Int = 200) async throws(CoreError) -> [ApprovalRecord] {
        guard (1...1000).contains(limit) else { throw CoreError(.invalid, "a page of approval requests holds 1 to 1000, asked for \(limit)") }
        do { return try await store.approvalRequests(status: status, agent: agent, before: before, limit: limit) } catch {
            throw CoreError(.storage, "the registry could not list approval requests (\(error.code.rawValue))")
        }
    }

    /// How many requests wait for an answer (at most 200 counted): the console's badge.
    public func pendingCount(agent: String?) async throws(CoreError) -> Int {
        try await requests(status: .pending, agent: agent).count
    }

    /// One request by id or unique prefix, as `agent` may see it (its own only; nil: every agent's).
    /// Not found and not yours look the same.
    public func request(_ idOrPrefix: String, agent: String?) async throws(CoreError) -> ApprovalRecord {
        let found: ApprovalRecord?
        do { found = try await store.approvalRequest(matching: idOrPrefix) } catch {
            throw CoreError(.storage, "the registry could not read approval request '\(TraceEvent.storedName(idOrPrefix))' (\(error.code.rawValue))")
        }
        guard let found, agent == nil || found.agent == agent else { throw CoreError(.notFound, "no approval request '\(TraceEvent.storedName(idOrPrefix))'") }
        return found
    }

    /// Lasting grants newest first, of one agent (every agent's when nil); ended ones too when asked.
    public func grants(agent: String?, includingEnded: Bool = false) async throws(CoreError) -> [ApprovalGrantRecord] {
        do { return try await store.approvalGrants(agent: agent, includingEnded: includingEnded) } catch {
            throw CoreError(.storage, "the registry could not list approval grants (\(error.code.rawValue))")
        }
    }

    /// One grant by id, ended or not, as `agent` may see it.
    public func grant(_ id: String, agent: String?) async throws(CoreError) -> ApprovalGrantRecord {
        guard let found = try await grants(agent: agent, includingEnded: true).first(where: { $0.id == id }) else {
            throw CoreError(.notFound, "no grant '\(TraceEvent.storedName(id))'")
        }
        return found
    }

    /// Revokes a grant: the next call it covered is asked again. Revoking twice keeps the first
    /// revocation and answers the grant as it is.
    public func revokeGrant(_ id: String, by: String, reason: String?) async throws(CoreError) -> ApprovalGrantRecord {
        let revoked: ApprovalGrantRecord?
        do { revoked = try await store.revokeGrant(id, by: by, reason: reason) } catch {
            throw CoreError(.storage, "the registry could not revoke grant '\(TraceEvent.storedName(id))' (\(error.code.rawValue)); nothing changed")
        }
        guard let revoked else { throw CoreError(.notFound, "no grant '\(TraceEvent.storedName(id))'") }
        return revoked
    }
}
