import Base
import Crypto
import Foundation

/// One signed-in browser: the cookie's token, the key it signed in with (kept in memory only, so a
/// revoked or expired key ends the session at its next request), and the CSRF token its forms carry.
struct ConsoleSession: Sendable {
    let token: String
    let key: String
    let csrf: String
    let createdAt: Date
    var lastUsedAt: Date
}

/// The console's sessions, in this process's memory: a restart signs everyone out. A session ends
/// after `idle` without a request, after `lifetime` in all, or at sign-out; at most `capacity` are
/// kept (the least recently used goes first), so signing in in a loop cannot exhaust memory.
final class ConsoleSessions: Sendable {
    static let cookie = "agenthub_session"
    /// The login form's own token (double-submit: cookie and hidden field must match).
    static let loginCookie = "agenthub_login"

    let idle: TimeInterval
    let lifetime: TimeInterval
    let capacity: Int
    private let sessions = LockedValue<[String: ConsoleSession]>([:])

    init(idle: TimeInterval = 8 * 3600, lifetime: TimeInterval = 24 * 3600, capacity: Int = 10_000) {
        self.idle = idle
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session for `key`.
    func open(key: String, now: Date = Date()) -> ConsoleSession {
        let session = ConsoleSession(token: Self.token(), key: key, csrf: Self.token(), createdAt: now, lastUsedAt: now)
        sessions.mutate { all in
            all = all.filter { self.alive($0.value, now) }
            if all.count >= capacity, let oldest = all.min(by: { $0.value.lastUsedAt < $1.value.lastUsedAt }) { all[oldest.key] = nil }
            all[session.token] = session
        }
        return session
    }

    /// The live session for a cookie's token, its use recorded; nil when unknown or ended.
    func session(_ token: String, now: Date = Date()) -> ConsoleSession? {
        sessions.mutate { all in
            guard var session = all[token] else { return nil }
            guard alive(session, now) else { all[token] = nil; return nil }
            session.lastUsedAt = now
            all[token] = session
            return session
        }
    }

    func close(_ token: String) { sessions.mutate { $0[token] = nil } }

    /// Ends every session opened with `key` (its key was refused).
    func close(key: String) { sessions.mutate { all in all = all.filter { $0.value.key != key } } }

    var count: Int { sessions.value.count }

    private func alive(_ session: ConsoleSession, _ now: Date) -> Bool {
        now.timeIntervalSince(session.lastUsedAt) < idle && now.timeIntervalSince(session.createdAt) < lifetime
    }

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
