import Base
import Core
import Crypto
import Foundation
import Registry

/// One signed-in browser: the cookie's token, the hash of the key it signed in with (checked at
/// every request, so a revoked or expired key ends the session), and the CSRF token its forms carry.
struct ConsoleSession: Sendable {
    let token: String
    let keyHash: Data
    let agent: String
    let csrf: String
    let createdAt: Date
    var lastUsedAt: Date
    /// When the last use was written to the registry.
    var recordedAt: Date
    /// The `sessions` mark the session was last found in the registry under.
    var checkedMark: String
}

/// The console's sign-ins, kept in the registry (only hashes of the cookie token and of the key),
/// so any host behind a load balancer serves a browser another host signed in, and a restart signs
/// nobody out. Each host keeps the sessions it served in memory and asks the registry again when the
/// `sessions` mark moves (a sign-out or a refused key on any host). A session ends after `idle`
/// without a request, after `lifetime` in all, or at sign-out; at most `capacity` are held in memory
/// (the least recently used goes first).
final class ConsoleSessions: Sendable {
    static let cookie = "agenthub_session"
    /// The login form's own token (double-submit: cookie and hidden field must match).
    static let loginCookie = "agenthub_login"

    let store: any SessionStore
    let changes: any ChangeFeed
    let idle: TimeInterval
    let lifetime: TimeInterval
    let capacity: Int
    /// How often a session's use is written to the registry (other hosts judge its idleness by it).
    let touchEvery: TimeInterval = 10
    private let sessions = LockedValue<[String: ConsoleSession]>([:])
    private let lastForget = LockedValue<Date>(.distantPast)

    init(store: any SessionStore, changes: any ChangeFeed, idle: TimeInterval = 8 * 3600, lifetime: TimeInterval = 24 * 3600, capacity: Int = 10_000) {
        self.store = store
        self.changes = changes
        self.idle = idle
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session for the key with hash `keyHash` (its agent's), recorded in the registry.
    func open(keyHash: Data, agent: String, now: Date = Date()) async throws(RegistryError) -> ConsoleSession {
        let token = Self.token()
        let session = ConsoleSession(token: token, keyHash: keyHash, agent: agent, csrf: Self.token(), createdAt: now, lastUsedAt: now,
                                     recordedAt: now, checkedMark: changes.mark(.sessions))
        try await store.saveConsoleSession(ConsoleSessionRecord(tokenHash: Self.hash(token), agent: agent, keyHash: keyHash, csrf: session.csrf,
                                                                createdAt: now, seenAt: now))
        hold(session, now: now)
        await forgetIdle(now: now)
        return session
    }

    /// The live session for a cookie's token, its use recorded; nil when unknown or ended. A token
    /// this host has not seen (another host signed it in) is looked up in the registry.
    func session(_ token: String, now: Date = Date()) async -> ConsoleSession? {
        // A token this host never made cannot be one: no registry read for a made-up cookie.
        guard Self.wellFormed(token) else { return nil }
        let mark = changes.mark(.sessions)
        var session = sessions.value[token]
        if session == nil || session?.checkedMark != mark {
            let found: Result<ConsoleSessionRecord?, RegistryError>
            do throws(RegistryError) { found = .success(try await store.consoleSession(tokenHash: Self.hash(token))) } catch { found = .failure(error) }
            switch found {
            case .success(let record?):
                session = ConsoleSession(token: token, keyHash: record.keyHash, agent: record.agent, csrf: record.csrf, createdAt: record.createdAt,
                                         lastUsedAt: max(record.seenAt, session?.lastUsedAt ?? record.seenAt),
                                         recordedAt: session?.recordedAt ?? record.seenAt, checkedMark: mark)
            case .success(nil):
                // Signed out (here or on another host), or never signed in.
                drop(token)
                return nil
            case .failure:
                // The registry cannot say: a session held here goes on; an unknown one is not let in.
                if session == nil { return nil }
            }
        }
        guard var live = session, alive(live, now) else {
            drop(token)
            return nil
        }
        live.lastUsedAt = now
        let due = now.timeIntervalSince(live.recordedAt) >= touchEvery
        if due { live.recordedAt = now }
        hold(live, now: now)
        if due {
            let store = self.store, hash = Self.hash(token)
            Task { try? await store.touchConsoleSession(tokenHash: hash, at: now) }
        }
        return live
    }

    /// Signs a session out, on every host.
    func close(_ token: String) async {
        drop(token)
        try? await store.endConsoleSessions(tokenHash: Self.hash(token), keyHash: nil)
    }

    /// Ends every session opened with the key of this hash (the key was refused), on every host.
    func close(keyHash: Data) async {
        sessions.mutate { all in all = all.filter { $0.value.keyHash != keyHash } }
        try? await store.endConsoleSessions(tokenHash: nil, keyHash: keyHash)
    }

    /// Sessions this host holds in memory.
    var count: Int { sessions.value.count }

    private func hold(_ session: ConsoleSession, now: Date) {
        sessions.mutate { all in
            if all[session.token] == nil {
                all = all.filter { self.alive($0.value, now) }
                if all.count >= capacity, let oldest = all.min(by: { $0.value.lastUsedAt < $1.value.lastUsedAt }) { all[oldest.key] = nil }
            }
            all[session.token] = session
        }
    }

    private func drop(_ token: String) { sessions.mutate { $0[token] = nil } }

    /// Has the registry forget sign-ins idle past `idle` (at most once a minute).
    private func forgetIdle(now: Date) async {
        let due = lastForget.mutate { last -> Bool in
            guard now.timeIntervalSince(last) > 60 else { return false }
            last = now
            return true
        }
        if due { _ = try? await store.forgetConsoleSessions(seenBefore: now.addingTimeInterval(-idle)) }
    }

    private func alive(_ session: ConsoleSession, _ now: Date) -> Bool {
        now.timeIntervalSince(session.lastUsedAt) < idle && now.timeIntervalSince(session.createdAt) < lifetime
    }

    /// Whether `token` has the shape `token()` gives (43 URL-safe base64 characters).
    static func wellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
        }
    }

    /// What the registry keeps of a cookie token.
    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// 32 random bytes, URL-safe base64.
    static func token() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares two tokens in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
