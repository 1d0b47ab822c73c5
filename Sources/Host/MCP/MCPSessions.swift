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
///
/// Sessions are recorded in the registry (`SessionStore`): a request naming a session this host
/// does not hold (a load balancer sent it here; on PostgreSQL another host opened it) takes the
/// session up where `initialize` left it. What is live (streams, requests in flight) stays with
/// the host that holds it; a session's last use is written at most every `touchEvery`.
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
            /// When the last use was written to the registry.
            var lastRecorded = ContinuousClock.now
            /// The `sessions` mark the session was last found in the registry under.
            var checkedMark: String?
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

        /// Follows the tasks a `subscriptions/listen` asks for (`MCPServer.followTasks`).
        public func followTasks(_ params: JSONValue?, subscription: JSONRPCID) async -> Result<[String]?, JSONRPCError> {
            await server.followTasks(params, subscription: subscription)
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
        var lastForget = ContinuousClock.now - .seconds(3600)
    }
    private let table = Mutex(Table())
    /// Watches the registry's `skills` mark: a publish by any process on the registry (this host's
    /// sync, another host's) makes every session compare its lists and send `list_changed`.
    private let skillsWatch = Mutex<Task<Void, Never>?>(nil)

    public init(state: HostState, logger: Logger) {
        self.state = state
        self.logger = logger
        state.watch { [weak self] _, new in self?.follow(new) }
        state.observe { [weak self] _, _ in
            for session in self?.all ?? [] { session.server.listsMayHaveChanged() }
        }
        let changes = state.registry.changes
        let watch = Task { [weak self] in
            var mark = changes.mark(.skills)
            while !Task.isCancelled {
                try? await Task.sleep(for: changes.recheck(.skills))
                let now = changes.mark(.skills)
                guard now != mark else { continue }
                mark = now
                guard let sessions = self?.all else { return }
                for session in sessions { session.server.listsMayHaveChanged() }
            }
        }
        skillsWatch.withLock { $0 = watch }
    }

    deinit { skillsWatch.withLock { $0?.cancel() } }

    var all: [Session] { table.withLock { s in Array(s.sessions.values) } }

    public var count: Int { table.withLock { s in s.sessions.count } }

    /// A new session for `caller` (its agent from the key); or why not: `http.max_sessions` are
    /// open, or the agent holds its `http.max_sessions_per_agent`.
    public func create(caller: ToolCaller, snapshot: HostSnapshot) -> Result<Session, SessionRefusal> {
        sweep(force: true)
        let session = makeSession(caller: caller, snapshot: snapshot, id: Self.newID())
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

    static func newID(prefix: String = "") -> String {
        prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Whether `id` has the shape of a session `initialize` opened (32 lowercase hex digits).
    static func wellFormed(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A session with its own server for `caller`, under `snapshot`'s settings.
    private func makeSession(caller: ToolCaller, snapshot: HostSnapshot, id: String, traceSession: String? = nil) -> Session {
        var settings = MCPServer.Settings()
        settings.pageSize = snapshot.manifest.mcp.pageSize
        settings.startupWait = snapshot.manifest.plugins.mcp?.shared.startupWait ?? settings.startupWait
        // The server sends through its session, which owns it: the session is held weakly.
        let owner = WeakReference<Session>()
        let server = MCPServer(host: snapshot.tools, registry: state.registry, caller: caller, settings: settings,
                               logger: logger, session: traceSession) { message in owner.object?.route(message) }
        let session = Session(id: id, agent: caller.agent, server: server)
        owner.object = session
        return session
    }

    /// Records a session `initialize` opened, so every host on the registry can serve it; false
    /// (and the session is not kept) when the registry cannot record it.
    public func record(_ session: Session, capabilities: JSONValue?) async -> Bool {
        let now = Date()
        let record = MCPSessionRecord(id: session.id, agent: session.agent, traceSession: session.server.session,
                                      protocolVersion: session.protocolVersion, capabilities: capabilities?.jsonText,
                                      createdAt: now, seenAt: now)
        session.state.withLock { $0.checkedMark = state.registry.changes.mark(.sessions) }
        do throws(RegistryError) {
            try await state.registry.saveSession(record)
            return true
        } catch {
            logger.error("could not record an MCP session; it is not opened", metadata: ["host.error": "\(error.message)"])
            return false
        }
    }

    /// A session for one stateless (2026-07-28) exchange: not kept, unless `listening` (a
    /// `subscriptions/listen` stream), which follows reloads like any session until `remove`.
    public func stateless(caller: ToolCaller, snapshot: HostSnapshot, version: String, listening: Bool,
                          capabilities: JSONValue? = nil) -> Session {
        let session = makeSession(caller: caller, snapshot: snapshot, id: Self.newID(prefix: listening ? "listen-" : "once-"))
        session.server.adoptStateless(version: version, listening: listening, capabilities: capabilities)
        if listening { table.withLock { s in s.sessions[session.id] = session } }
        return session
    }

    /// The session `id` of `caller`'s agent: nil when unknown, ended, expired, or another agent's.
    /// A session this host does not hold is taken up from the registry (another host opened it, or
    /// this one let it go while another host served it).
    public func session(id: String, caller: ToolCaller, snapshot: HostSnapshot) async -> Session? {
        sweep(force: false)
        let idle = state.snapshot.manifest.http.sessionIdle.duration
        if let session = table.withLock({ s in s.sessions[id] }) {
            guard session.agent == caller.agent else { return nil }
            if !session.expired(idle: idle, now: .now) {
                // A session ended on another host (DELETE there, a revoked key) moves the mark.
                let mark = state.registry.changes.mark(.sessions)
                if session.state.withLock({ $0.checkedMark }) != mark {
                    if case .success(nil) = await lookUp(id) {
                        drop(id)
                        return nil
                    }
                    session.state.withLock { $0.checkedMark = mark }
                }
                used(session)
                return session
            }
            // Idle here; it may have been busy elsewhere.
            drop(id)
        }
        // Only an id this host (or another) could have made is looked up: no registry read for a made-up one.
        guard Self.wellFormed(id) else { return nil }
        let mark = state.registry.changes.mark(.sessions)
        guard case .success(let record?) = await lookUp(id), record.agent == caller.agent,
              Date().timeIntervalSince(record.seenAt) < idle.seconds else { return nil }
        let adopted = makeSession(caller: caller, snapshot: snapshot, id: record.id, traceSession: record.traceSession)
        adopted.server.resume(version: record.protocolVersion, capabilities: record.capabilities.flatMap { try? JSONValue.parse($0) })
        adopted.state.withLock { $0.checkedMark = mark }
        let (session, fresh) = table.withLock { s -> (Session, Bool) in
            if let raced = s.sessions[id] { return (raced, false) }
            s.sessions[id] = adopted
            return (adopted, true)
        }
        if fresh {
            logger.info("MCP session taken up from the registry", metadata: [
                "host.agent": "\(record.agent)", "host.session": "\(record.traceSession)", "host.mcp.protocol": "\(record.protocolVersion)"])
        } else {
            adopted.close()
        }
        used(session)
        return session
    }

    /// The registry's record of session `id` (a failure to read is logged: the caller decides).
    private func lookUp(_ id: String) async -> Result<MCPSessionRecord?, RegistryError> {
        do throws(RegistryError) { return .success(try await state.registry.session(id: id)) } catch {
            logger.warning("could not look up an MCP session in the registry", metadata: ["host.error": "\(error.message)"])
            return .failure(error)
        }
    }

    /// How often a session's use is written to the registry (other hosts judge its idleness by it).
    var touchEvery: Duration { min(.seconds(10), state.snapshot.manifest.http.sessionIdle.duration / 4) }

    /// Marks `session` used; writes the use to the registry when the last write is `touchEvery` old.
    public func used(_ session: Session) {
        let now = ContinuousClock.now
        let due = session.state.withLock { s -> Bool in
            s.lastUsed = now
            guard now - s.lastRecorded >= touchEvery else { return false }
            s.lastRecorded = now
            return true
        }
        guard due else { return }
        let registry = state.registry, id = session.id, logger = self.logger
        Task {
            do throws(RegistryError) { try await registry.touchSession(id: id, at: Date()) } catch {
                logger.debug("could not record an MCP session's use", metadata: ["host.error": "\(error.message)"])
            }
        }
    }

    /// Ends a session everywhere (DELETE, a failed `initialize`, a revoked key): this host closes
    /// it and the registry forgets it, so no host serves it again.
    public func remove(_ id: String) {
        drop(id)
        guard !id.hasPrefix("listen-"), !id.hasPrefix("once-") else { return }
        let registry = state.registry
        Task { try? await registry.endSession(id: id) }
    }

    /// `remove`, returning once the registry has forgotten the session (a DELETE answered means no
    /// host serves it any more).
    public func end(_ id: String) async {
        drop(id)
        do throws(RegistryError) { try await state.registry.endSession(id: id) } catch {
            logger.warning("could not end an MCP session in the registry; it ends when idle", metadata: ["host.error": "\(error.message)"])
        }
    }

    /// Lets go of this host's part of a session (idle here, or the host stops); the session itself
    /// lives on in the registry while another host uses it.
    func drop(_ id: String) {
        let session = table.withLock { s in s.sessions.removeValue(forKey: id) }
        session?.close()
    }

    /// Ends every session (the host shuts down).
    public func closeAll() {
        skillsWatch.withLock { $0?.cancel() }
        let all = table.withLock { s -> [Session] in
            defer { s.sessions.removeAll() }
            return Array(s.sessions.values)
        }
        for session in all { session.close() }
    }

    /// Lets go of sessions idle here past `http.session_idle` (at most once a second unless forced),
    /// and has the registry forget sessions no host used for that long (at most once a minute).
    private func sweep(force: Bool) {
        let now = ContinuousClock.now
        let idle = state.snapshot.manifest.http.sessionIdle.duration
        let (expired, forget) = table.withLock { s -> ([Session], Bool) in
            guard force || now - s.lastSweep > .seconds(1) else { return ([], false) }
            s.lastSweep = now
            let gone = s.sessions.values.filter { $0.expired(idle: idle, now: now) }
            for session in gone { s.sessions[session.id] = nil }
            let forget = now - s.lastForget > .seconds(60)
            if forget { s.lastForget = now }
            return (gone, forget)
        }
        for session in expired { session.close() }
        if forget, !state.registry.isReadOnly {
            let registry = state.registry, before = Date().addingTimeInterval(-idle.seconds)
            Task { _ = try? await registry.forgetSessions(seenBefore: before) }
        }
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
