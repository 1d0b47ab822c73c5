import Base
import Foundation
import Logging
import Synchronization
import Plugins
import Registry

/// MCP sessions over HTTP (Streamable HTTP, protocol 2025-11-25 and earlier): one `MCPServer` per
/// session, its answers routed back to the POST that asked, its own messages (`list_changed`) to
/// the session's GET stream. Transport-free: the HTTP front parses requests and writes responses.
/// A session belongs to the agent whose key opened it; it follows every reload like a stdio
/// session, and ends when deleted or unused for `http.session_idle`.
public final class MCPSessions: Sendable {
    /// One client's session.
    public final class Session: Sendable {
        public let id: String
        public let agent: String
        let server: MCPServer
        struct State {
            /// The POSTs waiting for answers, by request id.
            var waiters: [JSONRPCID: AsyncStream<JSONRPCMessage>.Continuation] = [:]
            /// Progress tokens of requests in flight, to send their progress on the request's own stream.
            var progressTokens: [String: JSONRPCID] = [:]
            var listener: AsyncStream<JSONRPCMessage>.Continuation?
            var lastUsed = ContinuousClock.now
            var closed = false
        }
        let state = Mutex(State())

        init(id: String, agent: String, server: MCPServer) {
            self.id = id
            self.agent = agent
            self.server = server
        }

        /// What `server/discover` answers for this session's caller.
        public var discoverResult: JSONValue { server.discoverResult() }
        /// The server's name and version (2026-07-28 results carry it).
        public var serverInfo: JSONValue { server.serverInfo }

        /// The protocol version the session agreed on in `initialize`.
        public var protocolVersion: String { server.state.withLock { $0.protocolVersion } }

        /// Sends a request to the session's server; the stream yields the messages for it (progress,
        /// then its answer) and ends with the answer. A request id already waiting is refused.
        public func request(_ message: JSONRPCMessage, byteCount: Int, id: JSONRPCID, progressToken: JSONValue?) -> AsyncStream<JSONRPCMessage> {
            let (stream, continuation) = AsyncStream<JSONRPCMessage>.makeStream()
            let accepted = state.withLock { s -> Bool in
                s.lastUsed = .now
                guard !s.closed, s.waiters[id] == nil else { return false }
                s.waiters[id] = continuation
                if let progressToken { s.progressTokens[progressToken.jsonText] = id }
                return true
            }
            guard accepted else {
                continuation.yield(.error(id: id, .invalidRequest("request id \(id) is already in use by a request in flight on this session")))
                continuation.finish()
                return stream
            }
            continuation.onTermination = { [weak self] termination in
                // The client went away before the answer: cancel the request.
                guard case .cancelled = termination, let self else { return }
                let waiting = self.state.withLock { s in s.waiters.removeValue(forKey: id) != nil }
                if waiting {
                    self.server.receive(.notification(method: "notifications/cancelled",
                                                      params: ["requestId": id.json, "reason": "the HTTP client disconnected"]), byteCount: 0)
                }
            }
            server.receive(message, byteCount: byteCount)
            return stream
        }

        /// Sends a notification or a response to the session's server (nothing comes back).
        public func deliver(_ message: JSONRPCMessage, byteCount: Int = 0) {
            state.withLock { s in s.lastUsed = .now }
            server.receive(message, byteCount: byteCount)
        }

        /// The stream of messages the server sends on its own (`list_changed`); nil while another
        /// GET holds it.
        public func listen() -> AsyncStream<JSONRPCMessage>? {
            let (stream, continuation) = AsyncStream<JSONRPCMessage>.makeStream(bufferingPolicy: .bufferingNewest(256))
            let taken = state.withLock { s -> Bool in
                guard !s.closed, s.listener == nil else { return false }
                s.listener = continuation
                s.lastUsed = .now
                return true
            }
            guard taken else { return nil }
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.state.withLock { s in
                    s.listener = nil
                    s.lastUsed = .now
                }
            }
            return stream
        }

        /// Marks the GET stream's keep-alive: the stream yields a notification with an empty method.
        public func keepAlive() {
            let target = state.withLock { s in s.listener }
            target?.yield(.notification(method: "", params: nil))
        }

        /// Routes one message the server sends.
        func route(_ message: JSONRPCMessage) {
            switch message {
            case .response(let id, _), .error(let id?, _):
                let waiter = state.withLock { s in
                    s.progressTokens = s.progressTokens.filter { $0.value != id }
                    return s.waiters.removeValue(forKey: id)
                }
                waiter?.yield(message)
                waiter?.finish()
            case .notification(let method, let params):
                let target = state.withLock { s in
                    if method == "notifications/progress", let token = params?["progressToken"], let id = s.progressTokens[token.jsonText] {
                        return s.waiters[id]
                    }
                    return s.listener
                }
                target?.yield(message)
            case .request(let id, let method, _):
                // A request of the server's own (`elicitation/create`): on the stream of the client
                // request it serves, else on the GET stream; with neither, the client cannot answer.
                let handling = MCPServer.handling
                let target = state.withLock { s in handling.flatMap { s.waiters[$0] } ?? s.listener }
                if let target {
                    target.yield(message)
                } else {
                    server.answerArrived(.error(id: id, JSONRPCError(JSONRPCError.internalErrorCode, "no stream open to send \(method) to the client")), id: id)
                }
            default:
                let target = state.withLock { $0.listener }
                target?.yield(message)
            }
        }

        /// Whether the session is idle past `idle` (no request waiting, no GET stream open).
        func expired(idle: Duration, now: ContinuousClock.Instant) -> Bool {
            state.withLock { s in s.waiters.isEmpty && s.listener == nil && now - s.lastUsed > idle }
        }

        func close() {
            let (waiting, listening) = state.withLock { s -> ([AsyncStream<JSONRPCMessage>.Continuation], AsyncStream<JSONRPCMessage>.Continuation?) in
                s.closed = true
                defer {
                    s.waiters.removeAll()
                    s.listener = nil
                }
                return (Array(s.waiters.values), s.listener)
            }
            for waiter in waiting { waiter.finish() }
            listening?.finish()
            let server = self.server
            Task { await server.shutdown(grace: .milliseconds(500)) }
        }
    }

    let state: HostState
    let logger: Logger
    private struct Table {
        var sessions: [String: Session] = [:]
        var lastSweep = ContinuousClock.now
    }
    private let table = Mutex(Table())

    public init(state: HostState, logger: Logger) {
        self.state = state
        self.logger = logger
        state.watch { [weak self] _, new in self?.follow(new) }
        state.observe { [weak self] _, _ in
            for session in self?.all ?? [] { session.server.listsMayHaveChanged() }
        }
    }

    var all: [Session] { table.withLock { s in Array(s.sessions.values) } }

    public var count: Int { table.withLock { s in s.sessions.count } }

    /// A new session for `caller` (its agent from the key); or why not: `http.max_sessions` are
    /// open, or the agent holds its `http.max_sessions_per_agent`.
    public func create(caller: ToolCaller, snapshot: HostSnapshot) -> Result<Session, SessionRefusal> {
        sweep(force: true)
        let session = makeSession(caller: caller, snapshot: snapshot, prefix: "")
        let limits = snapshot.manifest.http
        let refusal = table.withLock { s -> SessionRefusal? in
            if s.sessions.count >= limits.maxSessions { return SessionRefusal(message: "\(limits.maxSessions) MCP sessions are open (http.max_sessions)") }
            if s.sessions.values.count(where: { $0.agent == caller.agent && !$0.id.hasPrefix("listen-") }) >= limits.maxSessionsPerAgent {
                return SessionRefusal(message: "agent '\(caller.agent)' has \(limits.maxSessionsPerAgent) MCP sessions open (http.max_sessions_per_agent)")
            }
            s.sessions[session.id] = session
            return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(session)
    }

    /// Why a session was not opened.
    public struct SessionRefusal: Error, Sendable {
        public let message: String
    }

    /// A session with its own server for `caller`, under `snapshot`'s settings.
    private func makeSession(caller: ToolCaller, snapshot: HostSnapshot, prefix: String) -> Session {
        var settings = MCPServer.Settings()
        settings.pageSize = snapshot.manifest.mcp.pageSize
        settings.startupWait = snapshot.manifest.plugins.mcp?.shared.startupWait ?? settings.startupWait
        // The server sends through its session, which owns it: the session is held weakly.
        let owner = WeakReference<Session>()
        let server = MCPServer(host: snapshot.tools, registry: state.registry, caller: caller, settings: settings,
                               logger: logger) { message in owner.object?.route(message) }
        let session = Session(id: prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), agent: caller.agent,
                              server: server)
        owner.object = session
        return session
    }

    /// A session for one stateless (2026-07-28) exchange: not kept, unless `listening` (a
    /// `subscriptions/listen` stream), which follows reloads like any session until `remove`.
    public func stateless(caller: ToolCaller, snapshot: HostSnapshot, version: String, listening: Bool,
                          capabilities: JSONValue? = nil) -> Session {
        let session = makeSession(caller: caller, snapshot: snapshot, prefix: listening ? "listen-" : "once-")
        session.server.adoptStateless(version: version, listening: listening, capabilities: capabilities)
        if listening { table.withLock { s in s.sessions[session.id] = session } }
        return session
    }

    /// The session `id` of `agent`: nil when unknown, ended, expired, or another agent's.
    public func session(id: String, agent: String) -> Session? {
        sweep(force: false)
        guard let session = table.withLock({ s in s.sessions[id] }), session.agent == agent else { return nil }
        let idle = state.snapshot.manifest.http.sessionIdle.duration
        if session.expired(idle: idle, now: .now) {
            remove(id)
            return nil
        }
        return session
    }

    /// Ends a session (DELETE, or a failed `initialize`).
    public func remove(_ id: String) {
        let session = table.withLock { s in s.sessions.removeValue(forKey: id) }
        session?.close()
    }

    /// Ends every session (the host shuts down).
    public func closeAll() {
        let all = table.withLock { s -> [Session] in
            defer { s.sessions.removeAll() }
            return Array(s.sessions.values)
        }
        for session in all { session.close() }
    }

    /// Ends sessions idle past `http.session_idle` (at most once a second unless forced).
    private func sweep(force: Bool) {
        let now = ContinuousClock.now
        let idle = state.snapshot.manifest.http.sessionIdle.duration
        let expired = table.withLock { s -> [Session] in
            guard force || now - s.lastSweep > .seconds(1) else { return [] }
            s.lastSweep = now
            let gone = s.sessions.values.filter { $0.expired(idle: idle, now: now) }
            for session in gone { s.sessions[session.id] = nil }
            return gone
        }
        for session in expired { session.close() }
    }

    /// Moves every session to a new snapshot: its next call runs under it; a session whose agent
    /// left `agents:` (or no longer fits) is told and refused from then on.
    private func follow(_ snapshot: HostSnapshot) {
        for session in all {
            guard snapshot.manifest.agents.contains(where: { $0.name == session.agent }) else {
                session.server.revoke(host: snapshot.tools, reason: "agent '\(session.agent)' is no longer declared in agents: (revision \(snapshot.revision))")
                continue
            }
            do throws(HostError) {
                session.server.replace(host: snapshot.tools, caller: try snapshot.tools.identity.caller(agent: session.agent, role: nil, group: nil))
            } catch {
                session.server.revoke(host: snapshot.tools, reason: "this session's agent no longer fits the manifest (revision \(snapshot.revision)): \(error.message)")
            }
        }
    }
}
