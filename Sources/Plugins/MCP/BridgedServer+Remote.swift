import Base
import Foundation
import Logging

/// A remote server's life: a session over Streamable HTTP (either revision) or the older HTTP+SSE
/// transport, supervised as a child is. Its end (unreachable, the session forgotten, the stream
/// ended) is a restart: the server is reconnected with the same backoff.
extension BridgedServer {
    func runRemote(_ remote: RemoteEndpoint) async -> String {
        let kind = remote.transport == .sse ? "HTTP+SSE" : "streamable HTTP"
        update { $0.state = .starting; $0.pid = nil; $0.protocolVersion = nil; $0.url = remote.displayURL; $0.transport = kind }
        // The session that lists the tools: the shared login, or (per agent) the first agent's.
        let authorization: RemoteAuthorization?
        switch await listingAuthorization(remote) {
        case .success(let found): authorization = found
        case .failure(let error):
            logger.error("bridged server cannot connect", metadata: ["plugins.mcp.reason": "\(error.message)"])
            return error.message
        }
        let connection = open(remote, authorization)
        // The older transport has no stateless revision: its servers predate it.
        let revision = remote.transport == .sse ? .handshake : remote.revision
        switch await starting(connection, revision: revision, ended: { await connection.ended.wait().map { BridgeError(.exited, $0) } }) {
        case .failure(let error):
            let message = connection.ended.current ?? error.message
            connection.fail(BridgeError(.exited, message))
            logger.error("bridged server did not start", metadata: ["plugins.mcp.reason": "\(message)"])
            return message
        case .success(let handshake):
            ready(connection, handshake, where: remote.displayURL)
        }
        // Stateless: list changes come on a `subscriptions/listen` stream, kept open while the session lasts.
        let listening = connection.isStateless ? Task { await listen(connection) } : nil
        let ending = await connection.ended.wait()
        listening?.cancel()
        let sessions = state.withLock { s in
            s.connection = nil
            defer { s.agentSessions.removeAll() }
            return Array(s.agentSessions.values)
        }
        let reason = ending ?? "\(name) was disconnected: the host is shutting down"
        connection.fail(BridgeError(.exited, reason))
        for session in sessions {
            if case .success(let agentConnection) = await session.value { agentConnection.fail(BridgeError(.exited, reason)) }
        }
        guard ending != nil else {
            logger.info("bridged server disconnected")
            return "disconnected by the host"
        }
        return reason
    }

    /// A connection to `remote` carrying `authorization`, started: the server's own, or (`agentSession`)
    /// one agent's, which opens no stream of its own for unasked messages.
    private func open(_ remote: RemoteEndpoint, _ authorization: RemoteAuthorization?, agentSession: Bool = false) -> MCPClientConnection {
        let connectTimeout = min(settings.startTimeout, .seconds(10))
        let transport: any MCPClientTransport = switch remote.transport {
        case .streamableHTTP:
            StreamableHTTPTransport(server: name, endpoint: remote, connectTimeout: connectTimeout, maxMessageBytes: bridge.maxLineBytes,
                                    authorization: authorization, opensStream: !agentSession, logger: logger)
        case .sse:
            LegacySSETransport(server: name, endpoint: remote, connectTimeout: connectTimeout, maxMessageBytes: bridge.maxLineBytes,
                               authorization: authorization, logger: logger)
        }
        let connection = MCPClientConnection(server: name, transport: transport, maxMessageBytes: bridge.maxLineBytes,
                                             logger: logger) { [weak self] method, params in self?.notification(method, params) }
        connection.start()
        return connection
    }

    /// Whose login the listing session carries: nil without `auth: oauth`; the shared one; or, per
    /// agent, the first agent who logged in.
    private func listingAuthorization(_ remote: RemoteEndpoint) async -> Result<RemoteAuthorization?, BridgeError> {
        guard remote.oauth != nil else { return .success(nil) }
        guard let credentials else {
            return .failure(BridgeError(.remote, "\(name) uses OAuth, and this host cannot keep logins: \(bridge.credentialProblem ?? "it has no registry to keep them in")"))
        }
        guard remote.credentials == .perAgent else { return .success(RemoteAuthorization(credentials: credentials, server: name, agent: "")) }
        guard let agent = await credentials.agents(server: name).first(where: { !$0.isEmpty }) else {
            return .failure(BridgeError(.remote, "no agent has logged in to \(name) yet (credentials: per_agent): run `agenthub servers login \(name) --agent AGENT`"))
        }
        return .success(RemoteAuthorization(credentials: credentials, server: name, agent: agent))
    }

    /// The connection a call of `agent` goes over: the server's own, or with `credentials: per_agent`
    /// the agent's session, opened (handshake, no listing) at its first call and kept while the server is up.
    func connection(for agent: String) async throws(ToolError) -> MCPClientConnection {
        guard let main = readyConnection else {
            throw ToolError(.failed, unavailableReason() ?? "\(name) is not running")
        }
        guard case .remote(let remote) = settings.endpoint, remote.oauth != nil, remote.credentials == .perAgent, let credentials else { return main }
        for _ in 0..<2 {
            let session: Task<Result<MCPClientConnection, BridgeError>, Never> = state.withLock { s in
                if let open = s.agentSessions[agent] { return open }
                let opening = Task { await self.openSession(remote, RemoteAuthorization(credentials: credentials, server: self.name, agent: agent)) }
                s.agentSessions[agent] = opening
                return opening
            }
            let result = await session.value
            if case .success(let connection) = result {
                if connection.ended.current == nil { return connection }
                // Ended since (the server forgot it, or went away): closed, and opened again below.
                connection.fail(BridgeError(.exited, connection.ended.current ?? "the session ended"))
            }
            state.withLock { s in if s.agentSessions[agent] == session { s.agentSessions.removeValue(forKey: agent) } }
            if case .failure(let error) = result { throw ToolError(.failed, error.message) }
        }
        throw ToolError(.failed, "\(name): agent '\(agent)''s session keeps ending; try again shortly")
    }

    private func openSession(_ remote: RemoteEndpoint, _ authorization: RemoteAuthorization) async -> Result<MCPClientConnection, BridgeError> {
        let connection = open(remote, authorization, agentSession: true)
        let revision = remote.transport == .sse ? .handshake : remote.revision
        switch await starting(connection, revision: revision, listing: false, ended: { await connection.ended.wait().map { BridgeError(.exited, $0) } }) {
        case .failure(let error):
            let message = connection.ended.current ?? error.message
            connection.fail(BridgeError(.exited, message))
            return .failure(BridgeError(error.code, message))
        case .success:
            // The server went down while this session opened: nobody would close it later.
            guard readyConnection != nil else {
                connection.fail(BridgeError(.exited, "\(name) went down"))
                return .failure(BridgeError(.exited, unavailableReason() ?? "\(name) is not running"))
            }
            logger.debug("agent session opened", metadata: ["plugins.mcp.agent": "\(authorization.agent)"])
            return .success(connection)
        }
    }

    /// `server/discover` at the stateless revision: its handshake when the server speaks it; nil
    /// when it does not (unless `required`, when that is an error).
    static func discover(_ connection: MCPClientConnection, _ name: String, required: Bool, listing: Bool = true) async throws -> Handshake? {
        let version = MCPEnvelope.version
        let envelope: [String: JSONValue] = [
            MCPEnvelope.versionKey: .string(version),
            MCPEnvelope.clientInfoKey: clientInfo,
            MCPEnvelope.capabilitiesKey: clientCapabilities,
        ]
        connection.stamp(envelope: envelope)
        connection.agreed(version: version, stateless: true)
        let result: JSONValue
        do { result = try await connection.request("server/discover", [:]) } catch let error as BridgeError {
            // A server that cannot be reached is not a handshake server: say why it failed.
            if required || connection.ended.current != nil { throw error }
            connection.stamp(envelope: nil)
            connection.agreed(version: "", stateless: false)
            return nil
        }
        let versions = result["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard versions.contains(version) else {
            if required {
                throw BridgeError(.protocolViolation, "\(name) does not speak MCP \(version) (it names \(versions.prefix(8).joined(separator: ", ")))")
            }
            connection.stamp(envelope: nil)
            connection.agreed(version: "", stateless: false)
            return nil
        }
        let info = result["_meta"]?[MCPEnvelope.serverInfoKey] ?? result["serverInfo"]
        let serverInfo = info.map { "\($0["name"]?.stringValue ?? "?") \($0["version"]?.stringValue ?? "")".utf8Prefix(128) }
        return Handshake(version: version, serverInfo: serverInfo, tools: listing ? try await listTools(connection, name) : [],
                         capabilities: result["capabilities"])
    }

    /// Keeps a `subscriptions/listen` open for list changes: reopened (and the tools listed again,
    /// in case a change was missed) when the server ends it; given up when the server has none.
    private func listen(_ connection: MCPClientConnection) async {
        var failures = 0
        while !Task.isCancelled, connection.ended.current == nil {
            let opened = ContinuousClock.now
            do {
                _ = try await connection.request("subscriptions/listen", [
                    "notifications": ["toolsListChanged": true, "resourcesListChanged": true],
                ])
            } catch let error as BridgeError {
                if Task.isCancelled || connection.ended.current != nil { return }
                if error.code == .remote, error.message.contains("(-32601)") {
                    logger.info("the server has no subscriptions/listen; its list changes go unnoticed until it reconnects")
                    return
                }
                logger.debug("the listen stream ended; reopening", metadata: ["plugins.mcp.reason": "\(error.message)"])
            } catch {
                return
            }
            failures = ContinuousClock.now - opened < .seconds(2) ? failures + 1 : 0
            try? await Task.sleep(for: .milliseconds(min(5000, 100 << min(failures, 6))))
            if !Task.isCancelled { await relist() }
        }
    }
}
