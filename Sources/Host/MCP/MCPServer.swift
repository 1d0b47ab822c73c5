import Base
import Core
import Registry
import Foundation
import Logging
import Synchronization
import Plugins

/// The MCP front: answers one client's JSON-RPC messages with the tools, skills (as resources)
/// and prompts its caller's role may use. It is transport-free: `receive` takes decoded lines and
/// `send` carries every outgoing message, so the stdio runner and the tests share it.
public final class MCPServer: Sendable {
    public struct Settings: Sendable {
        public var pageSize = 100
        public var serverVersion = AgentHubVersion.current
        /// Requests running at once; more wait in order, in a queue of at most `maxQueued`.
        public var maxInFlight = 64
        /// Requests waiting for a slot; the reader stops reading while this many wait, or while they
        /// hold `maxQueuedBytes` (backpressure). `ping` and cancellations are answered on arrival,
        /// however many requests wait.
        public var maxQueued = 4096
        public var maxQueuedBytes = 4 << 20
        /// How long the session's first `tools/list` waits for bridged servers still starting.
        public var startupWait: Duration = .seconds(2)
        public init() {}
    }

    enum Phase { case awaitingInitialize, initialized }

    let registry: any RegistryStore
    let settings: Settings
    let logger: Logger
    let session: String
    let send: @Sendable (JSONRPCMessage) -> Void
    /// Returns once answers have room to be queued (the client reads its output).
    let outputRoom: @Sendable () async -> Void
    /// The agent given on the command line; nil means "name it after the client".
    let fixedAgent: String?

    /// Everything that changes, behind one lock.
    struct State {
        var host: ToolHost
        var baseCaller: ToolCaller
        var phase = Phase.awaitingInitialize
        var protocolVersion = MCPProtocol.latest
        var inFlight: [JSONRPCID: Task<Void, Never>] = [:]
        /// Requests received while `maxInFlight` ran, in order; started as slots free up.
        var queued: [(id: JSONRPCID, bytes: Int, handler: @Sendable () async throws(JSONRPCError) -> JSONValue)] = []
        var queuedBytes = 0
        var cancelled: Set<JSONRPCID> = []
        /// Requests received and not yet answered (or dropped as cancelled). A request leaves `inFlight`
        /// before its answer is queued; this counts until the answer is, so EOF waits for it.
        var unanswered = 0
        var lastSeen: ListFingerprint?
        /// The last list check queued (`rememberLists`, `listsMayHaveChanged`): checks run one after another.
        var listCheck: Task<Void, Never>?
        /// Whether `tools/list` was answered once (only the first waits for servers still starting).
        var listedTools = false
        /// Whether the first `tools/list` is past its wait: before that, a change is no news to the client.
        var toolsListAnswered = false
        /// Whether this server answers one 2026-07-28 exchange (no session that ends: `session` is no approval scope).
        var stateless = false
        /// Why this session may no longer call anything (its role left the manifest in a reload), if so.
        var revoked: String?
        /// Whether the client answers form elicitations (approvals are then asked of it).
        var elicits = false
        /// The client's capabilities (from `initialize`, or a 2026-07-28 exchange's envelope).
        var clientCapabilities: JSONValue?
        /// Requests sent to the client, waiting for its answers.
        var outgoing: [JSONRPCID: CheckedContinuation<JSONRPCMessage?, Never>] = [:]
        var nextOutgoing = 0
        var outgoingClosed = false
        /// The router observer that turns a change of bridged tools into `list_changed`.
        var observer: (router: ToolRouter, token: Int)?
        /// A 2026-07-28 client's open `subscriptions/listen` (one connection, one stream of messages):
        /// its request id, which tags each change, and the kinds of change it asked for.
        var subscription: (id: JSONRPCID, kinds: Set<String>)?
        /// What sends `notifications/tasks` for the tasks the open subscription asked for.
        var taskWatch: Task<Void, Never>?
        /// A front's listen stream (HTTP `subscriptions/listen`) that filters and tags changes itself.
        var relaysChanges = false
    }
    let state: Mutex<State>

    /// `caller` is who the client acts as; when `agentFromClient`, its agent becomes `mcp:<clientInfo.name>`.
    /// `outputRoom` returns once answers have room to be queued: a request starts only then, so
    /// requests waiting for a slot never pile their answers up for a client that does not read.
    /// `session` names the session in traces and approvals (a new `mcp-…` name when nil; a session
    /// resumed on another host keeps its own).
    public init(host: ToolHost, registry: any RegistryStore, caller: ToolCaller, agentFromClient: Bool = false,
                settings: Settings = Settings(), logger: Logger, session: String? = nil, outputRoom: @escaping @Sendable () async -> Void = {},
                send: @escaping @Sendable (JSONRPCMessage) -> Void) {
        self.outputRoom = outputRoom
        self.state = Mutex(State(host: host, baseCaller: caller))
        self.registry = registry
        self.fixedAgent = agentFromClient ? nil : caller.agent
        self.settings = settings
        self.logger = logger
        self.send = send
        self.session = session ?? "mcp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        observe(host.router)
    }

    deinit {
        if let observer = state.withLock({ $0.observer }) { observer.router.removeObserver(observer.token) }
    }

    /// Tells the client when the router's tools change (a bridged server started or changed its list).
    func observe(_ router: ToolRouter) {
        let token = router.addObserver { [weak self] in self?.listsMayHaveChanged() }
        let previous = state.withLock { s -> (router: ToolRouter, token: Int)? in
            defer { s.observer = (router, token) }
            return s.observer
        }
        if let previous { previous.router.removeObserver(previous.token) }
    }

    /// The caller and router as of now (a live reload may swap the host between two calls).
    var current: (host: ToolHost, caller: ToolCaller) { state.withLock { s in (s.host, s.baseCaller) } }

    public var inFlightCount: Int { state.withLock { s in s.inFlight.count } }

    /// Whether the queue of requests waiting for a slot is full (the reader waits).
    public var queueIsFull: Bool { state.withLock { s in s.queued.count >= settings.maxQueued || s.queuedBytes >= settings.maxQueuedBytes } }

    /// Requests received whose answer has not been queued yet.
    public var unansweredCount: Int { state.withLock { s in s.unanswered } }

    /// Fired whenever a request is answered or leaves the queue: what the waits below wake on.
    let progress = ChangeSignal()
    /// Wakes the reading thread waiting for room in the queue.
    let room = NSCondition()

    /// Requests left the queue or were answered: wake whoever waits for that.
    /// Never called inside `state.withLock` (the reading thread holds `room`, then takes `state`).
    func madeProgress() {
        progress.fire()
        room.lock()
        room.broadcast()
        room.unlock()
    }

    /// Wakes every wait below so it looks at its stop condition again (a signal, a broken stdout).
    public func wake() { madeProgress() }

    /// Blocks the calling (reading) thread while the queue of requests waiting for a slot is full,
    /// until a request leaves it or `stopped` says to give up.
    public func waitForQueueRoom(unless stopped: () -> Bool) {
        room.lock()
        defer { room.unlock() }
        // The timed wait only bounds a stop that came without `wake`; progress signals the condition.
        while queueIsFull, !stopped() { _ = room.wait(until: Date().addingTimeInterval(0.25)) }
    }

    /// Waits until every request received is answered, `within` passes, or `stopped` says to give up.
    public func waitUntilAnswered(within grace: Duration, unless stopped: @Sendable () -> Bool = { false }) async {
        let deadline = ContinuousClock.now + grace
        while true {
            let seen = progress.generation
            let now = ContinuousClock.now
            guard unansweredCount > 0, now < deadline, !stopped() else { return }
            await progress.wait(since: seen, timeout: deadline - now)
        }
    }

    /// Handles one line. Requests run as tasks; their answers go out through `send` in any order.
    public func receive(line: [UInt8]) {
        switch JSONRPCMessage.decode(line) {
        case .failure(let failure):
            logger.debug("malformed message", metadata: ["host.mcp.error": "\(failure.error.message)"])
            if !failure.isNotification { send(.error(id: failure.id, failure.error)) }
        case .success(let message):
            receive(message, byteCount: line.count)
        }
    }

    /// A message a front has already decoded (the HTTP front reads each body once to route it);
    /// `byteCount`: its size on the wire.
    public func receive(_ message: JSONRPCMessage, byteCount: Int) {
        switch message {
        case .request(let id, let method, let params):
            handleRequest(id, method, params, bytes: byteCount)
        case .notification(let method, let params):
            handleNotification(method, params)
        case .response(let id, let result):
            answerArrived(.response(id: id, result: result), id: id)
        case .error(let id?, let error):
            answerArrived(.error(id: id, error), id: id)
        case .error(nil, _):
            break  // an error about a message of ours the client could not read: nothing to match
        }
    }

    /// A line over the size cap: answered with an error (with its id when its first bytes show one).
    public func receiveOversized(byteCount: Int, prefix: [UInt8], limit: Int) {
        let id = RequestIDSniffer.id(in: prefix)
        logger.warning("message over the size limit dropped", metadata: ["host.mcp.bytes": "\(byteCount)", "host.mcp.limit": "\(limit)"])
        send(.error(id: id, .invalidRequest("message of \(byteCount) bytes exceeds the \(limit)-byte limit (mcp.max_message_bytes); it was dropped")))
    }

    private func handleRequest(_ id: JSONRPCID, _ method: String, _ params: JSONValue?, bytes: Int) {
        switch method {
        case "initialize": respond(id) { () throws(JSONRPCError) in try self.initialize(params) }; return
        case "ping": send(.response(id: id, result: [:])); return
        default: break
        }
        // 2026-07-28: `server/discover`, or any request carrying its envelope, needs no handshake.
        if method == "server/discover" || params?["_meta"]?[MCPEnvelope.versionKey] != nil {
            handleModern(id, method, params, bytes: bytes)
            return
        }
        guard state.withLock({ s in s.phase == .initialized }) else {
            send(.error(id: id, .invalidRequest("\(method) before initialize; send initialize first")))
            return
        }
        guard let handler = handler(for: method, params) else { send(.error(id: id, .methodNotFound(method))); return }
        start(id, bytes: bytes, handler)
    }

    /// What answers `method`, once past the handshake (nil: no such method).
    func handler(for method: String, _ params: JSONValue?) -> (@Sendable () async throws(JSONRPCError) -> JSONValue)? {
        let handler: (@Sendable () async throws(JSONRPCError) -> JSONValue)?
        switch method {
        case "tools/list": handler = { () async throws(JSONRPCError) in try await self.listTools(params) }
        case "tools/call": handler = { () async throws(JSONRPCError) in try await self.callTool(params) }
        case "resources/list": handler = { () async throws(JSONRPCError) in try await self.listResources(params) }
        case "resources/templates/list": handler = { () throws(JSONRPCError) in try self.listResourceTemplates(params) }
        case "resources/read": handler = { () async throws(JSONRPCError) in try await self.readResource(params) }
        case "tasks/get": handler = { () async throws(JSONRPCError) in try await self.getTask(params) }
        case "tasks/update": handler = { () async throws(JSONRPCError) in try await self.updateTask(params) }
        case "tasks/cancel": handler = { () async throws(JSONRPCError) in try await self.cancelTask(params) }
        case "skills/list": handler = { () async throws(JSONRPCError) in try await self.listSkills(params) }
        case "skills/get": handler = { () async throws(JSONRPCError) in try await self.getSkill(params) }
        case "resources/directory/read": handler = { () async throws(JSONRPCError) in try await self.readDirectory(params) }
        case "prompts/list": handler = { () async throws(JSONRPCError) in try await self.listPrompts(params) }
        case "prompts/get": handler = { () async throws(JSONRPCError) in try await self.getPrompt(params) }
        default: handler = nil
        }
        return handler
    }

    /// Runs a request as a task that `notifications/cancelled` can cancel; a cancelled request is not
    /// answered. When `maxInFlight` requests run, it waits in order for a slot.
    func start(_ id: JSONRPCID, bytes: Int, _ handler: @escaping @Sendable () async throws(JSONRPCError) -> JSONValue) {
        let accepted = state.withLock { s -> Bool in
            guard s.inFlight[id] == nil, !s.queued.contains(where: { $0.id == id }) else { return false }
            s.unanswered += 1
            if s.inFlight.count >= settings.maxInFlight {
                s.queued.append((id, bytes, handler))
                s.queuedBytes += bytes
            } else {
                launch(id, handler, in: &s)
            }
            return true
        }
        if !accepted { send(.error(id: id, .invalidRequest("request id \(id) is already in use by a request in flight"))) }
    }

    /// Starts a request's task, under the lock (`s` is the locked state).
    private func launch(_ id: JSONRPCID, _ handler: @escaping @Sendable () async throws(JSONRPCError) -> JSONValue, in s: inout State) {
        let task = Task {
          await MCPServer.$handling.withValue(id) {
            await self.outputRoom()
            let message: JSONRPCMessage
            do throws(JSONRPCError) { message = .response(id: id, result: try await handler()) } catch { message = .error(id: id, error) }
            let wasCancelled = self.state.withLock { s in
                s.inFlight[id] = nil
                return s.cancelled.remove(id) != nil
            }
            if !wasCancelled { self.send(message) }
            // Only now, with the answer queued, may EOF handling let the writer close.
            self.state.withLock { s in
                s.unanswered -= 1
                if !s.queued.isEmpty, s.inFlight.count < self.settings.maxInFlight {
                    let next = s.queued.removeFirst()
                    s.queuedBytes -= next.bytes
                    self.launch(next.id, next.handler, in: &s)
                }
            }
            self.madeProgress()
          }
        }
        s.inFlight[id] = task
    }

    private func respond(_ id: JSONRPCID, _ body: () throws(JSONRPCError) -> JSONValue) {
        do { send(.response(id: id, result: try body())) } catch { send(.error(id: id, error)) }
    }

    private func handleNotification(_ method: String, _ params: JSONValue?) {
        switch method {
        case "notifications/cancelled":
            guard let raw = params?["requestId"], let id = JSONRPCID(raw) else { return }
            // The client left its `subscriptions/listen` stream: no more changes go to it.
            if let left = state.withLock({ s -> Task<Void, Never>?? in
                guard s.subscription?.id == id else { return nil }
                defer { s.subscription = nil; s.taskWatch = nil }
                return .some(s.taskWatch)
            }) {
                left?.cancel()
                return
            }
            let task: Task<Void, Never>? = state.withLock { s in
                if let index = s.queued.firstIndex(where: { $0.id == id }) {
                    // Not started yet: it never will be, and is not answered.
                    s.queuedBytes -= s.queued.remove(at: index).bytes
                    s.unanswered -= 1
                    return nil
                }
                guard let task = s.inFlight[id] else { return nil }
                s.cancelled.insert(id)
                return task
            }
            if let task {
                logger.debug("request cancelled by the client", metadata: ["host.mcp.id": "\(id)",
                                                                          "host.mcp.reason": "\(params?["reason"]?.stringValue ?? "-")"])
                task.cancel()
            } else {
                madeProgress()
            }
        case "notifications/initialized":
            break  // initialize already moved the session on; a client that never sends this still works
        default:
            break  // notifications are never answered, known or not
        }
    }

    /// Cancels every request in flight and waits (at most `grace`) for them to end; used at EOF and on
    /// SIGTERM. With `answer` (EOF: the client still reads), each cancelled request is still answered:
    /// with its own result when it ends in time, else with an error saying the server shut down.
    public func shutdown(grace: Duration = .milliseconds(500), answer: Bool = false) async {
        closeOutgoing()
        endSubscription()
        if !state.withLock({ s in s.stateless }) {
            // A session grant lasts no longer than its session.
            let registry = self.registry, session = self.session
            _ = await onThread { try? registry.revokeSessionGrants(session, reason: "the session ended", now: Date()) }
        }
        let (tasks, waiting) = state.withLock { s -> ([Task<Void, Never>], [JSONRPCID]) in
            if !answer { for id in s.inFlight.keys { s.cancelled.insert(id) } }
            let waiting = s.queued.map(\.id)
            s.unanswered -= s.queued.count
            s.queued.removeAll()
            s.queuedBytes = 0
            return (Array(s.inFlight.values), waiting)
        }
        // Requests that never started: told the server shut down (when the client still reads).
        if answer {
            for id in waiting { send(.error(id: id, JSONRPCError(JSONRPCError.internalErrorCode, "the server shut down (stdin closed) before this request started"))) }
        }
        madeProgress()
        for task in tasks { task.cancel() }
        await waitUntilAnswered(within: grace)
        if answer {
            // Requests whose plugin ignores cancellation: answer now, and drop their late answer.
            let late = state.withLock { s -> [JSONRPCID] in
                let ids = s.inFlight.keys.filter { !s.cancelled.contains($0) }
                for id in ids { s.cancelled.insert(id) }
                return Array(ids)
            }
            for id in late { send(.error(id: id, JSONRPCError(JSONRPCError.internalErrorCode, "the server shut down (stdin closed) before this request finished"))) }
        }
        if !tasks.isEmpty { logger.info("cancelled requests in flight at shutdown", metadata: ["host.mcp.count": "\(tasks.count)"]) }
    }
}
