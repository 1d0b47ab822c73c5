import Base
import Foundation
import Registry
import Synchronization

/// The credentials of remote bridged servers that use OAuth: stored sealed in the registry (one per
/// server and agent; "" is the shared one), kept open in memory while the host runs, refreshed a
/// minute before they expire or when the server refuses one, and never logged. A refresh another
/// host already made (shared PostgreSQL) is taken up rather than made again.
public final class BridgeCredentials: Sendable {
    private let ledger: any BridgeLedger
    private let sealer: CredentialSealer
    private struct Key: Hashable {
        let server: String
        let agent: String
    }
    private struct Opened {
        let credential: RemoteCredential
        let readAt: ContinuousClock.Instant
    }
    private struct State {
        var open: [Key: Opened] = [:]
        var refreshing: [Key: Task<Result<RemoteCredential, BridgeError>, Never>] = [:]
    }
    private let state = Mutex(State())
    /// How long before its expiry a token is refreshed.
    static let margin: TimeInterval = 60
    /// How long a login read from the registry is used before it is read again: a logout (or a
    /// refresh) on any host reaches every host within this, even where the server cannot revoke.
    static let reread: Duration = .seconds(5)

    public init(ledger: any BridgeLedger, sealer: CredentialSealer) {
        self.ledger = ledger
        self.sealer = sealer
    }

    /// The command that logs `agent` in to `server` ("" shared): what every missing or dead login names.
    public static func loginCommand(server: String, agent: String) -> String {
        agent.isEmpty ? "agenthub servers login \(server)" : "agenthub servers login \(server) --agent \(agent)"
    }

    static func who(_ server: String, _ agent: String) -> String {
        agent.isEmpty ? "the shared login to \(server)" : "agent '\(agent)''s login to \(server)"
    }

    /// The access token to send, refreshed first when it is about to expire.
    func bearer(server: String, agent: String) async throws(BridgeError) -> String {
        let key = Key(server: server, agent: agent)
        let credential: RemoteCredential
        if let open = state.withLock({ $0.open[key] }), ContinuousClock.now - open.readAt < Self.reread {
            credential = open.credential
        } else {
            guard let stored = try await load(key) else {
                let subject = agent.isEmpty ? "\(server) needs a login" : "agent '\(agent)' has not logged in to \(server)"
                throw BridgeError(.remote, "\(subject): run `\(Self.loginCommand(server: server, agent: agent))`")
            }
            credential = stored
        }
        guard credential.expires(within: Self.margin), credential.refreshToken != nil else { return credential.accessToken }
        return try await refresh(key, replacing: credential.accessToken).accessToken
    }

    /// The server refused `token` (401): a newer stored one, or a refreshed one.
    func rejected(server: String, agent: String, token: String) async throws(BridgeError) -> String {
        try await refresh(Key(server: server, agent: agent), replacing: token).accessToken
    }

    /// One refresh per credential at a time; callers waiting on it share its outcome.
    private func refresh(_ key: Key, replacing token: String) async throws(BridgeError) -> RemoteCredential {
        let task: Task<Result<RemoteCredential, BridgeError>, Never> = state.withLock { s in
            if let running = s.refreshing[key] { return running }
            let task = Task { () -> Result<RemoteCredential, BridgeError> in
                defer { self.state.withLock { _ = $0.refreshing.removeValue(forKey: key) } }
                do throws(BridgeError) { return .success(try await self.renew(key, replacing: token)) } catch { return .failure(error) }
            }
            s.refreshing[key] = task
            return task
        }
        return try await task.value.get()
    }

    private func renew(_ key: Key, replacing token: String) async throws(BridgeError) -> RemoteCredential {
        let hint = "run `\(Self.loginCommand(server: key.server, agent: key.agent))`"
        guard let stored = try await load(key) else {
            throw BridgeError(.remote, "\(Self.who(key.server, key.agent)) is gone (logged out); \(hint)")
        }
        // Another host (or an earlier caller) renewed it already.
        if stored.accessToken != token, !stored.expires(within: Self.margin) { return stored }
        guard stored.refreshToken != nil else {
            throw BridgeError(.remote, "\(Self.who(key.server, key.agent)) expired or was refused, and it has no refresh token; \(hint)")
        }
        let renewed: RemoteCredential
        do { renewed = try await OAuthClient.refresh(stored, server: key.server) } catch {
            throw BridgeError(.remote, "\(Self.who(key.server, key.agent)) expired or was refused and could not be renewed (\(error.message)); \(hint)")
        }
        try await save(renewed, key)
        return renewed
    }

    private func load(_ key: Key) async throws(BridgeError) -> RemoteCredential? {
        let ledger = self.ledger
        let read: Result<String?, RegistryError> = await onThread {
            do throws(RegistryError) { return .success(try ledger.bridgeCredential(server: key.server, agent: key.agent)) } catch { return .failure(error) }
        }
        let sealed: String?
        do { sealed = try read.get() } catch { throw BridgeError(.remote, "cannot read \(Self.who(key.server, key.agent)): \(error.message)") }
        guard let sealed else {
            state.withLock { _ = $0.open.removeValue(forKey: key) }
            return nil
        }
        do {
            let credential = try sealer.open(sealed, server: key.server, agent: key.agent)
            state.withLock { $0.open[key] = Opened(credential: credential, readAt: .now) }
            return credential
        } catch {
            throw BridgeError(.remote, "\(Self.who(key.server, key.agent)) cannot be opened with this host's secret key (another key sealed it); "
                              + "run `\(Self.loginCommand(server: key.server, agent: key.agent))` again")
        }
    }

    private func save(_ credential: RemoteCredential, _ key: Key) async throws(BridgeError) {
        let sealed: String
        do { sealed = try sealer.seal(credential, server: key.server, agent: key.agent) } catch {
            throw BridgeError(.remote, "cannot seal \(Self.who(key.server, key.agent))")
        }
        let ledger = self.ledger
        let written: Result<Void, RegistryError> = await onThread {
            do throws(RegistryError) { return .success(try ledger.storeBridgeCredential(server: key.server, agent: key.agent, sealed: sealed, at: Date())) }
            catch { return .failure(error) }
        }
        do { try written.get() } catch { throw BridgeError(.remote, "cannot store \(Self.who(key.server, key.agent)): \(error.message)") }
        state.withLock { $0.open[key] = Opened(credential: credential, readAt: .now) }
    }

    /// Stores a fresh login.
    public func store(_ credential: RemoteCredential, server: String, agent: String) async throws(BridgeError) {
        try await save(credential, Key(server: server, agent: agent))
    }

    /// Forgets a login (revoking its tokens where the server offers that); whether there was one.
    /// `notRevoked` says why the tokens were not revoked (nil: they were, or there was no login).
    public func remove(server: String, agent: String) async throws(BridgeError) -> (removed: Bool, notRevoked: String?) {
        let key = Key(server: server, agent: agent)
        let credential = try? await load(key)
        var notRevoked: String?
        if let credential { notRevoked = await OAuthClient.revoke(credential, server: server) }
        let ledger = self.ledger
        let deleted: Result<Bool, RegistryError> = await onThread {
            do throws(RegistryError) { return .success(try ledger.deleteBridgeCredential(server: server, agent: agent)) } catch { return .failure(error) }
        }
        state.withLock { _ = $0.open.removeValue(forKey: key) }
        do { return (try deleted.get(), notRevoked) } catch { throw BridgeError(.remote, "cannot forget \(Self.who(server, agent)): \(error.message)") }
    }

    /// Who has logged in to `server` ("" for the shared login), in name order.
    public func agents(server: String) async -> [String] {
        let ledger = self.ledger
        return await onThread { (try? ledger.bridgeCredentialAgents(server: server).map(\.agent)) ?? [] }
    }
}

/// The credential one remote session sends: its server's, for one agent ("" shared).
struct RemoteAuthorization: Sendable {
    let credentials: BridgeCredentials
    let server: String
    let agent: String

    func bearer() async throws(BridgeError) -> String { try await credentials.bearer(server: server, agent: agent) }
    func rejected(_ token: String) async throws(BridgeError) -> String { try await credentials.rejected(server: server, agent: agent, token: token) }
}
