import Base
import Foundation
import Host
import Hummingbird
import Plugins

/// MCP 2026-07-28 over HTTP: each POST a self-contained request (no session), its envelope in
/// `params._meta`, checked as the revision says (envelope present, headers agree with the body, a
/// supported version), answered as JSON (or SSE for progress), every result stamped with
/// `resultType` and the server's info. `subscriptions/listen` is the one long request: its answer
/// is the stream of list changes for the key's role.
extension HTTPAPI {
    static let methodHeader = HeaderName("Mcp-Method")!
    static let nameHeader = HeaderName("Mcp-Name")!

    /// Whether a session-less POST speaks 2026-07-28 (its envelope or its version header says so).
    static func isStateless(_ params: JSONValue?, _ request: Request) -> Bool {
        if params?["_meta"]?[MCPEnvelope.versionKey] != nil { return true }
        return request.headers[protocolHeader].map { MCPServer.modernVersions.contains($0) } ?? false
    }

    /// The envelope ladder: the version to serve, or the error to answer with.
    static func checkEnvelope(_ method: String, _ params: JSONValue?, _ request: Request) -> Result<String, JSONRPCError> {
        let version: String
        switch MCPServer.modernEnvelope(params) {
        case .failure(let error): return .failure(error)
        case .success(let v): version = v
        }
        guard let header = request.headers[protocolHeader] else {
            return .failure(JSONRPCError(MCPServer.headerMismatchCode, "MCP-Protocol-Version header is missing; it must equal params._meta's protocol version '\(version)'"))
        }
        if header != version {
            return .failure(JSONRPCError(MCPServer.headerMismatchCode, "MCP-Protocol-Version '\(header)' does not match params._meta's '\(version)'"))
        }
        if let named = request.headers[methodHeader], named != method {
            return .failure(JSONRPCError(MCPServer.headerMismatchCode, "Mcp-Method '\(named)' does not match the body's method '\(method)'"))
        }
        if let field = MCPEnvelope.namedParams[method], let named = request.headers[nameHeader], named != params?[field]?.stringValue {
            return .failure(JSONRPCError(MCPServer.headerMismatchCode, "Mcp-Name '\(named)' does not match params.\(field)"))
        }
        guard MCPServer.modernVersions.contains(version) else { return .failure(MCPServer.unsupported(version, supported: MCPServer.modernVersions)) }
        return .success(version)
    }

    /// The HTTP status of a JSON-RPC error: 200 in a 2025-11-25 session; in 2026-07-28, 400 for a
    /// malformed request and 404 for an unknown method, as the revision says.
    static func status(for error: JSONRPCError, stateless: Bool = true) -> HTTPResponse.Status {
        guard stateless else { return .ok }
        switch error.code {
        case JSONRPCError.parseErrorCode, JSONRPCError.invalidRequestCode, JSONRPCError.invalidParamsCode,
             MCPServer.headerMismatchCode, MCPServer.unsupportedVersionCode: return .badRequest
        case JSONRPCError.methodNotFoundCode: return .notFound
        default: return .ok
        }
    }

    /// A result as the revision wants it (`MCPServer.stamped`).
    static func stamped(_ message: JSONRPCMessage, method: String, serverInfo: JSONValue) -> JSONRPCMessage {
        guard case .response(let id, let result) = message else { return message }
        return .response(id: id, result: MCPServer.stamped(result, method: method, serverInfo: serverInfo))
    }

    /// Answers one stateless request.
    func stateless(_ message: JSONRPCMessage, bytes: Int, request: Request,
                   who: APIIdentity, takesJSON: Bool, takesSSE: Bool) async throws -> Response {
        guard case .request(let id, let method, let params) = message else { throw APIError.badRequest("a stateless message must be a request") }
        let version: String
        switch Self.checkEnvelope(method, params, request) {
        case .failure(let error): return Self.rpc(Self.status(for: error), .error(id: id, error))
        case .success(let v): version = v
        }
        if method == "subscriptions/listen" { return try await listen(id, params, who: who, version: version) }
        let session = sessions.stateless(caller: who.caller, snapshot: who.snapshot, version: version, listening: false,
                                         capabilities: params?["_meta"]?[MCPEnvelope.capabilitiesKey])
        let serverInfo = session.serverInfo
        if method == "server/discover" {
            return Self.rpc(.ok, Self.stamped(.response(id: id, result: session.discoverResult), method: method, serverInfo: serverInfo))
        }
        if method == "initialize" {
            let error = JSONRPCError(JSONRPCError.invalidRequestCode, "initialize is not part of protocol \(version): send requests with their _meta envelope, or initialize without one")
            return Self.rpc(.badRequest, .error(id: id, error))
        }
        return try await Self.exchange(session, message, bytes: bytes, asJSON: takesJSON, takesSSE: takesSSE) { message in
            Self.stamped(message, method: method, serverInfo: serverInfo)
        }
    }

    /// `subscriptions/listen`: acknowledged first, then `list_changed` for the kinds asked for and
    /// `notifications/tasks` for the caller's tasks asked for (each frame tagged with the
    /// subscription id), until the client leaves or the host stops.
    func listen(_ id: JSONRPCID, _ params: JSONValue?, who: APIIdentity, version: String) async throws -> Response {
        let asked = params?["notifications"]?.objectValue ?? [:]
        var honored: [String: JSONValue] = [:]
        for kind in ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] where asked[kind] == .bool(true) {
            honored[kind] = true
        }
        let methods: [String: String] = ["notifications/tools/list_changed": "toolsListChanged",
                                         "notifications/prompts/list_changed": "promptsListChanged",
                                         "notifications/resources/list_changed": "resourcesListChanged"]
        let slot = try openStream(for: who.agent)
        let session = sessions.stateless(caller: who.caller, snapshot: who.snapshot, version: version, listening: true,
                                         capabilities: params?["_meta"]?[MCPEnvelope.capabilitiesKey])
        guard let stream = session.listen() else {
            slot.release()
            throw APIError.unavailable("the host is shutting down")
        }
        // Tasks asked for are checked (the caller's own) before the acknowledgement names them.
        switch await session.followTasks(params, subscription: id) {
        case .failure(let error):
            slot.release()
            sessions.remove(session.id)
            return Self.rpc(.ok, .error(id: id, error))
        case .success(let agreed?): honored["taskIds"] = .array(agreed.map { .string($0) })
        case .success(nil): break
        }
        let kinds = honored
        let keepAlive = who.snapshot.manifest.http.keepAlive.duration
        let sessions = self.sessions
        let tag: JSONValue = [MCPEnvelope.subscriptionKey: id.json]
        let watcher = self.endWhenKeyRevoked(who, session: session.id)
        let body = ResponseBody { writer in
            defer {
                slot.release()
                watcher.cancel()
                sessions.remove(session.id)
            }
            let pinger = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: keepAlive)
                    session.keepAlive()
                }
            }
            defer { pinger.cancel() }
            let ack = JSONRPCMessage.notification(method: "notifications/subscriptions/acknowledged",
                                                  params: ["notifications": .object(kinds), "_meta": tag])
            try await writer.write(ByteBuffer(string: Self.sse(ack)))
            for await m in stream {
                guard case .notification(let method, _) = m else { continue }
                if method.isEmpty {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    continue
                }
                // A task's change is tagged already (the session follows only the tasks acknowledged).
                if method == "notifications/tasks" {
                    try await writer.write(ByteBuffer(string: Self.sse(m)))
                    continue
                }
                guard let kind = methods[method], kinds[kind] != nil else { continue }
                try await writer.write(ByteBuffer(string: Self.sse(.notification(method: method, params: ["_meta": tag]))))
            }
            // The host is stopping: the subscription ends with its result.
            try await writer.write(ByteBuffer(string: Self.sse(.response(id: id, result: ["resultType": "complete", "_meta": tag]))))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
