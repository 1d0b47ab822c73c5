import Base
import Children
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One downstream MCP server, supervised: started in the background, initialised, its tools listed
/// (every page), restarted with backoff when it ends, killed when it does not answer in time, and
/// stopped politely with the host. Its calls share its one connection; while it is down they fail
/// at once with why.
final class BridgedServer: Sendable {
    /// The protocol versions this client speaks, newest first (the server picks one in `initialize`).
    static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    let settings: BridgedServerSettings
    let bridge: BridgeSettings
    /// Where an OAuth server's logins are (nil: none can be kept).
    let credentials: BridgeCredentials?
    let logger: Logger
    /// The first start has settled (ready, or ended): what the first `tools/list` waits for.
    let settled = OneShot<Void>()
    private let changed: @Sendable () -> Void
    private let restarted: @Sendable (String) -> Void
    /// Told when the server may serve other skills: it became ready, or said its resources changed.
    let skillsChanged: @Sendable (String) -> Void
    struct State {
        var status: BridgedServerStatus
        var tools: [BridgedTool] = []
        var connection: MCPClientConnection?
        var retryAt: Date?
        /// What the server declared in `initialize` (for the Skills extension).
        var capabilities: JSONValue?
        /// Set while it waits to start again: `startNow` ends the wait.
        var wake: OneShot<Void>?
        /// `credentials: per_agent`: each calling agent's own session, opened at its first call.
        var agentSessions: [String: Task<Result<MCPClientConnection, BridgeError>, Never>] = [:]
    }
    let state: Mutex<State>

    var name: String { settings.name }

    /// `changed` runs after its tools or its status changed.
    init(settings: BridgedServerSettings, bridge: BridgeSettings, credentials: BridgeCredentials? = nil, logger: Logger,
         restarted: @escaping @Sendable (String) -> Void = { _ in }, skillsChanged: @escaping @Sendable (String) -> Void = { _ in },
         changed: @escaping @Sendable () -> Void) {
        self.restarted = restarted
        self.credentials = credentials
        self.skillsChanged = skillsChanged
        self.settings = settings
        self.bridge = bridge
        self.logger = logger.with("plugins.mcp.server", settings.name)
        self.changed = changed
        state = Mutex(State(status: BridgedServerStatus(server: settings.name, state: .starting)))
    }

    var currentStatus: BridgedServerStatus { state.withLock { $0.status } }
    var currentTools: [BridgedTool] { state.withLock { $0.tools } }

    /// Supervises the server until the task is cancelled; then stops it and returns.
    func run() async {
        var schedule = RestartSchedule(settings: bridge.restart)
        var first = true
        while !Task.isCancelled {
            if !first {
                update { $0.restarts += 1 }
                restarted(name)
            }
            first = false
            let started = ContinuousClock.now
            let ending = await runOnce()
            settled.set(())
            if Task.isCancelled { break }
            let next = schedule.ended(after: ContinuousClock.now - started)
            let delay: Duration
            switch next {
            case .restart(let after):
                delay = after
                update { $0.state = .restarting; $0.lastExit = ending }
                logger.warning("bridged server ended; restarting", metadata: ["plugins.mcp.reason": "\(ending)", "plugins.mcp.delay": "\(delay)"])
            case .failed(let after):
                delay = after
                update { $0.state = .failed; $0.lastExit = ending }
                logger.error("bridged server keeps failing; retrying only every \(after)", metadata: [
                    "plugins.mcp.reason": "\(ending)", "plugins.mcp.restarts": "\(schedule.failures - 1)"])
            }
            let wake = OneShot<Void>()
            state.withLock { $0.retryAt = Date().addingTimeInterval(delay.seconds); $0.wake = wake }
            _ = await wake.wait(timeout: delay)
            state.withLock { $0.wake = nil }
        }
        update { $0.state = .stopped; $0.pid = nil }
    }

    /// One life of the server: returns how it ended.
    private func runOnce() async -> String {
        switch settings.endpoint {
        case .command(let command): return await runChild(command)
        case .remote(let remote): return await runRemote(remote)
        }
    }

    /// One life of a local server: its process, spoken to over stdin and stdout.
    private func runChild(_ command: ChildCommand) async -> String {
        update { $0.state = .starting; $0.pid = nil; $0.protocolVersion = nil; $0.transport = "stdio" }
        let child: ChildProcess
        do { child = try await ChildProcess.spawn(command, lifeline: bridge.lifeline) } catch {
            logger.error("cannot start the bridged server", metadata: ["plugins.mcp.error": "\(error.message)"])
            return error.message
        }
        update { $0.pid = child.pid; $0.stderrTail = [] }
        let stderrDone = readErrors(child)
        let transport = StdioClientTransport(input: child.input, output: child.output, maxLineBytes: bridge.maxLineBytes)
        let connection = MCPClientConnection(server: name, transport: transport, maxMessageBytes: bridge.maxLineBytes,
                                             logger: logger) { [weak self] method, params in self?.notification(method, params) }
        connection.start()

        let handshake = await starting(connection, revision: .handshake) {
            await child.waitForExit() != nil ? BridgeError(.exited, "exited during start") : nil
        }
        switch handshake {
        case .failure(let error):
            if child.exit == nil { child.signal(SIGKILL) }
            let exit = await Self.uncancelled { await child.waitForExit() }
            child.signalGroup(SIGKILL)
            _ = await stderrDone.wait(timeout: .milliseconds(300))
            let message = error.code == .exited ? endedMessage(exit, during: "start")
                : error.code == .timeout ? error.message + "; it was killed" : error.message
            connection.fail(BridgeError(.exited, message))
            logger.error("bridged server did not start", metadata: ["plugins.mcp.reason": "\(message)"])
            return message
        case .success(let handshake):
            ready(connection, handshake, where: "pid \(child.pid)")
        }

        let exit = await child.waitForExit()
        state.withLock { $0.connection = nil }
        guard let exit else {
            // The host is shutting down: stdin closed, then SIGTERM, then SIGKILL.
            connection.close()
            let ended = await Self.uncancelled { await child.stop(grace: self.bridge.stopGrace) }
            child.signalGroup(SIGKILL)
            connection.fail(BridgeError(.exited, "\(name) was stopped: the host is shutting down"))
            logger.info("bridged server stopped", metadata: ["plugins.mcp.exit": "\(ended)"])
            return "stopped by the host (\(ended))"
        }
        child.signalGroup(SIGKILL)
        _ = await stderrDone.wait(timeout: .milliseconds(300))
        let message = endedMessage(exit, during: "call")
        connection.fail(BridgeError(.exited, message))
        return message
    }

    /// Takes up a server that finished starting: its tools and capabilities, and the status.
    func ready(_ connection: MCPClientConnection, _ handshake: Handshake, where place: String) {
        let (tools, problems) = BridgedTool.map(handshake.tools, server: settings)
        for problem in problems { logger.warning("\(problem)") }
        state.withLock { s in
            s.tools = tools
            s.connection = connection
            s.retryAt = nil
            s.capabilities = handshake.capabilities
        }
        update {
            $0.state = .ready
            $0.protocolVersion = handshake.version
            $0.serverInfo = handshake.serverInfo
            $0.toolCount = tools.count
            $0.problems = problems
        }
        logger.info("bridged server ready", metadata: ["plugins.mcp.tools": "\(tools.count)", "plugins.mcp.protocol": "\(handshake.version)",
                                                       "plugins.mcp.at": "\(place)"])
        if handshake.capabilities?["extensions"]?[Self.skillsExtension] != nil { skillsChanged(name) }
        settled.set(())
    }

    struct Handshake: Sendable {
        let version: String
        let serverInfo: String?
        let tools: [JSONValue]
        let capabilities: JSONValue?
    }

    static let skillsExtension = "io.modelcontextprotocol/skills"

    /// The handshake (`initialize` and `notifications/initialized`, or in the stateless revision
    /// `server/discover`) and every page of `tools/list`, within the start timeout and racing
    /// `ended` (the child's exit, the remote session's end).
    func starting(_ connection: MCPClientConnection, revision: RemoteEndpoint.Revision, listing: Bool = true,
                  ended: @escaping @Sendable () async -> BridgeError?) async -> Result<Handshake, BridgeError> {
        let name = self.name
        let timeout = settings.startTimeout
        return await withTaskGroup(of: Result<Handshake, BridgeError>?.self) { group in
            group.addTask {
                do {
                    if revision != .handshake, let handshake = try await Self.discover(connection, name, required: revision == .stateless, listing: listing) {
                        return .success(handshake)
                    }
                    let result = try await connection.request("initialize", [
                        "protocolVersion": .string(Self.protocolVersions[0]),
                        // Tasks: a server that serves them may answer a long call with one (followed to its end).
                        "capabilities": Self.clientCapabilities,
                        "clientInfo": Self.clientInfo,
                    ])
                    guard case .string(let version)? = result["protocolVersion"] else {
                        return .failure(BridgeError(.protocolViolation, "\(name) answered initialize without a protocolVersion"))
                    }
                    guard Self.protocolVersions.contains(version) else {
                        return .failure(BridgeError(.protocolViolation, "\(name) speaks MCP \(version.utf8Prefix(128)); AgentHub speaks \(Self.protocolVersions.joined(separator: ", "))"))
                    }
                    connection.agreed(version: version, stateless: false)
                    connection.notify("notifications/initialized")
                    let info = result["serverInfo"].map { "\($0["name"]?.stringValue ?? "?") \($0["version"]?.stringValue ?? "")" }
                    return .success(Handshake(version: version, serverInfo: info.map { $0.utf8Prefix(128) }, tools: listing ? try await Self.listTools(connection, name) : [],
                                              capabilities: result["capabilities"]))
                } catch let error as BridgeError {
                    return .failure(error)
                } catch {
                    return .failure(BridgeError(.protocolViolation, "\(name): \(error)"))
                }
            }
            group.addTask {
                guard let error = await ended() else { return nil }
                return .failure(error)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return nil }
                return .failure(BridgeError(.timeout, "\(name) did not answer initialize and tools/list within \(timeout.text) (start_timeout)"))
            }
            defer { group.cancelAll() }
            while let result = await group.next() {
                if let result { return result }
            }
            return .failure(BridgeError(.cancelled, "\(name): the host is shutting down"))
        }
    }

    static let clientCapabilities: JSONValue = ["extensions": [.init(stringLiteral: tasksExtension): [:]]]
    static var clientInfo: JSONValue { ["name": "agenthub", "title": "AgentHub", "version": .string(AgentHubVersion.current)] }

    /// Every page of `tools/list` (bounded: a server that pages forever is a broken server).
    static func listTools(_ connection: MCPClientConnection, _ name: String) async throws -> [JSONValue] {
        var all: [JSONValue] = []
        var cursor: String?
        var pages = 0
        repeat {
            let result = try await connection.request("tools/list", cursor.map { ["cursor": .string($0)] } ?? [:])
            guard let page = result["tools"]?.arrayValue else {
                throw BridgeError(.protocolViolation, "\(name) answered tools/list without a tools array")
            }
            all += page
            cursor = result["nextCursor"]?.stringValue
            pages += 1
            if pages > 1000 || all.count > 10_000 {
                throw BridgeError(.protocolViolation, "\(name) lists more than 10000 tools or 1000 pages")
            }
        } while cursor != nil
        return all
    }

    func notification(_ method: String, _ params: JSONValue?) {
        switch method {
        // A list change; or a stream that can carry one (re)opened (its acknowledgement, in the
        // stateless revision), after which a change made in between would go unheard.
        case "notifications/tools/list_changed", "notifications/subscriptions/acknowledged", MCPClientConnection.listeningMethod:
            Task { await self.relist() }
        case "notifications/resources/list_changed":
            if state.withLock({ $0.capabilities?["extensions"]?[Self.skillsExtension] }) != nil { skillsChanged(name) }
        case "notifications/message":
            let text = params?["data"].map { $0.stringValue ?? $0.jsonText } ?? ""
            logger.info("[\(name)] \(Redaction.text(text).utf8Prefix(2000))")
        default:
            break
        }
    }

    /// Lists again after the server said its tools changed, and applies the difference.
    func relist() async {
        guard let connection = state.withLock({ $0.connection }) else { return }
        do {
            let listed = try await Self.listTools(connection, name)
            let (tools, problems) = BridgedTool.map(listed, server: settings)
            let differs = state.withLock { s -> Bool in
                guard s.connection === connection else { return false }
                let differs = s.tools != tools
                s.tools = tools
                return differs
            }
            update { $0.toolCount = tools.count; $0.problems = problems }
            if differs { logger.info("bridged server changed its tools", metadata: ["plugins.mcp.tools": "\(tools.count)"]) }
        } catch {
            logger.warning("listing the tools again failed; the previous list stays", metadata: ["plugins.mcp.error": "\(error)"])
        }
    }

    /// Starts it again now if it waits to (a login it lacked was just made); a running server is left alone.
    func startNow() {
        state.withLock { $0.wake }?.set(())
    }

    /// Why its tools fail right now, or nil when it is ready.
    func unavailableReason() -> String? {
        state.withLock { s in
            let status = s.status
            guard s.connection == nil else { return nil }
            let wait = s.retryAt.map { " (next start in \(max(0, Int($0.timeIntervalSinceNow.rounded(.up))))s)" } ?? ""
            switch status.state {
            case .ready, .starting: return "\(name) is starting; try again shortly"
            case .restarting: return "\(name) is restarting\(wait): \(status.lastExit ?? "it ended")"
            case .failed: return "\(name) failed and is retried only every \(bridge.restart.failedRetry.text)\(wait): \(status.lastExit ?? "it kept ending")"
            case .stopped: return "\(name) is stopped"
            }
        }
    }

    var readyConnection: MCPClientConnection? { state.withLock { $0.connection } }

    /// What the running server declared in `initialize`, or nil while it is not running.
    var capabilities: JSONValue? { state.withLock { $0.connection == nil ? nil : $0.capabilities } }

    /// One request to the running server (a server that is down fails at once with why).
    func request(_ method: String, _ params: JSONValue?) async throws(BridgeError) -> JSONValue {
        guard let connection = readyConnection else {
            throw BridgeError(.exited, unavailableReason() ?? "\(name) is not running")
        }
        do { return try await connection.request(method, params) } catch let error as BridgeError {
            throw error
        } catch {
            throw BridgeError(.protocolViolation, "\(name): \(error)")
        }
    }

    private func endedMessage(_ exit: ChildExit?, during phase: String) -> String {
        let how = exit.map { "\($0)" } ?? "ended"
        let tail = state.withLock { $0.status.stderrTail.suffix(5) }
        let when = phase == "start" ? " before it finished starting" : ""
        return "\(name) \(how)\(when)" + (tail.isEmpty ? "" : "; its last stderr lines: " + tail.joined(separator: " | "))
    }

    /// Logs each stderr line with the server's name and keeps the last ones. Returns a flag set when stderr ends.
    private func readErrors(_ child: ChildProcess) -> OneShot<Void> {
        let done = OneShot<Void>()
        let reader = LineReader(fd: child.errors, maxLineBytes: 16 << 10, maxPending: 64, closesDescriptor: true)
        reader.start()
        let keep = bridge.stderrLines
        Task.detached { [self] in
            for await event in reader.events {
                let line: String
                switch event {
                case .line(let bytes): line = Redaction.text(String(decoding: bytes, as: UTF8.self)).utf8Prefix(500)
                case .oversized(let count, _): line = "[a stderr line of \(count) bytes, dropped]"
                case .closed: reader.consumed(); continue
                }
                reader.consumed()
                logger.notice("[\(name)] \(line)")
                update(notify: false) { status in
                    status.stderrTail.append(line)
                    if status.stderrTail.count > keep { status.stderrTail.removeFirst(status.stderrTail.count - keep) }
                }
            }
            done.set(())
        }
        return done
    }

    func update(notify: Bool = true, _ change: (inout BridgedServerStatus) -> Void) {
        state.withLock { s in
            let before = s.status.state
            change(&s.status)
            if s.status.state != before { s.status.since = Date() }
        }
        if notify { changed() }
    }

    /// Runs `body` in a task of its own, so a cancelled caller still waits for it (stopping a child
    /// must not be cut short by the cancellation that asked for it).
    static func uncancelled<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        await Task { await body() }.value
    }
}

extension Duration {
    /// `2s`, `500ms`, `1.5s`.
    var text: String {
        let s = seconds
        if s < 1 { return "\(Int((s * 1000).rounded()))ms" }
        return s == s.rounded() ? "\(Int(s))s" : String(format: "%.1fs", s)
    }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}
