import Base
import Foundation
import Host
import Hummingbird
import Plugins

/// MCP over Streamable HTTP at `/mcp` (protocol 2025-11-25 and earlier, and the stateless 2026-07-28
/// revision: `MCPStatelessExchange.swift`): the same server as
/// `agenthub mcp`, its caller from the key. `initialize` opens a session (`Mcp-Session-Id`); a
/// request is answered as JSON, or as an SSE stream when the client accepts only that or asked
/// for progress; GET is the stream of the server's own messages (`list_changed`); DELETE ends the
/// session; an unknown or expired session gets 404.
extension HTTPAPI {
    static let sessionHeader = HeaderName("Mcp-Session-Id")!
    static let protocolHeader = HeaderName("MCP-Protocol-Version")!

    func addMCPRoutes(_ mcp: RouterGroup<APIContext>) {
        mcp.post { request, context -> Response in
            let who = try context.who()
            let accept = request.headers[.accept] ?? "*/*"
            let takesJSON = accept.contains("application/json") || accept.contains("*/*") || accept.contains("application/*")
            let takesSSE = accept.contains("text/event-stream")
            guard takesJSON || takesSSE else {
                throw APIError(.notAcceptable, "not_acceptable", "Accept must include application/json or text/event-stream")
            }
            // A message is JSON: anything else (a form a page can post without asking) is refused.
            let contentType = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard contentType == "application/json" else {
                throw APIError(.unsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json, found \(contentType.map { "'\(TraceRedaction.name($0))'" } ?? "none")")
            }
            var request = request
            let buffer = try await self.body(&request)
            let bytes = Array(buffer.readableBytesView)
            let value: JSONValue
            do throws(JSONParseError) { value = try JSONParser.parse(bytes) } catch {
                return Self.rpc(.badRequest, .error(id: nil, .parseError(error.description)))
            }
            if case .array = value {
                return Self.rpc(.badRequest, .error(id: nil, .invalidRequest("JSON-RPC batches are not supported; send one message per POST")))
            }
            let message: JSONRPCMessage
            switch JSONRPCMessage.decode(value) {
            case .success(let m): message = m
            case .failure(let failure): return Self.rpc(.badRequest, .error(id: failure.id, failure.error))
            }
            let sessionId = request.headers[Self.sessionHeader]
            if sessionId == nil {
                switch message {
                case .request(_, _, let params) where Self.isStateless(params, request):
                    return try await self.stateless(message, bytes: bytes.count, request: request, who: who, takesJSON: takesJSON, takesSSE: takesSSE)
                case .notification where request.headers[Self.protocolHeader].map({ MCPServer.modernVersions.contains($0) }) ?? false:
                    // 2026-07-28 defines no client notifications on this wire: accepted and dropped.
                    return Response(status: .accepted)
                default: break
                }
            }
            try Self.checkProtocolHeader(request)
            switch message {
            case .request(let id, "initialize", _):
                guard sessionId == nil else {
                    return Self.rpc(.badRequest, .error(id: id, .invalidRequest("initialize opens a session; this request already names one (Mcp-Session-Id)")))
                }
                let session: MCPSessions.Session
                switch self.sessions.create(caller: who.caller, snapshot: who.snapshot) {
                case .success(let opened): session = opened
                case .failure(let refusal): throw APIError.unavailable("\(refusal.message); end one or try later")
                }
                var answer: JSONRPCMessage?
                for await m in session.request(message, byteCount: bytes.count, id: id, progressToken: nil) { answer = m }
                guard let answer else { throw APIError.unavailable("the host is shutting down") }
                if case .error = answer { self.sessions.remove(session.id) }
                // Recorded before the client learns the id, so its next request may go to any host.
                if case .response = answer, case .request(_, _, let params) = message,
                   await !self.sessions.record(session, capabilities: params?["capabilities"]) {
                    self.sessions.remove(session.id)
                    throw APIError.unavailable("the registry could not record the session; try again")
                }
                var response = Self.rpc(.ok, answer)
                if case .response = answer { response.headers[Self.sessionHeader] = session.id }
                return response
            case .request(let id, _, _):
                let session = try await self.session(sessionId, who, id: id)
                return try await Self.exchange(session, message, bytes: bytes.count, asJSON: takesJSON, takesSSE: takesSSE) { $0 }
            case .notification, .response, .error:
                let session = try await self.session(sessionId, who, id: nil)
                session.deliver(message, byteCount: bytes.count)
                return Response(status: .accepted)
            }
        }
        mcp.get { request, context -> Response in
            let who = try context.who()
            guard (request.headers[.accept] ?? "").contains("text/event-stream") else {
                throw APIError(.notAcceptable, "not_acceptable", "GET /mcp is a stream: Accept must include text/event-stream")
            }
            try Self.checkProtocolHeader(request)
            let session = try await self.session(request.headers[Self.sessionHeader], who, id: nil)
            guard let stream = session.listen() else { throw APIError.conflict("this session already has a GET stream open") }
            let slot = try self.openStream(for: who.agent)
            let keepAlive = who.snapshot.manifest.http.keepAlive.duration
            let watcher = self.endWhenKeyRevoked(who, session: session.id)
            let body = ResponseBody { writer in
                defer { slot.release(); watcher.cancel() }
                let pinger = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: keepAlive)
                        session.keepAlive()
                        // An open stream is a session in use, for the hosts that judge it by the registry.
                        self.sessions.used(session)
                    }
                }
                defer { pinger.cancel() }
                try await writer.write(ByteBuffer(string: ": stream open\n\n"))
                for await m in stream {
                    if case .notification("", _) = m {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        continue
                    }
                    try await writer.write(ByteBuffer(string: Self.sse(m)))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
        mcp.delete { request, context -> Response in
            let who = try context.who()
            let session = try await self.session(request.headers[Self.sessionHeader], who, id: nil)
            await self.sessions.end(session.id)
            return Response(status: .noContent)
        }
    }

    /// Sends one request to `session` and answers it: as JSON (progress dropped) when the client takes
    /// JSON and asked for no progress, else as an event stream of its progress and its answer. Each
    /// message is passed through `shape` (the 2026-07-28 stamp) first.
    static func exchange(_ session: MCPSessions.Session, _ request: JSONRPCMessage, bytes: Int, asJSON takesJSON: Bool,
                         takesSSE: Bool, shape: @escaping @Sendable (JSONRPCMessage) -> JSONRPCMessage) async throws -> Response {
        guard case .request(let id, _, let params) = request else { throw APIError.badRequest("only a request is exchanged for an answer") }
        let token = params?["_meta"]?["progressToken"].flatMap { JSONRPCID($0) != nil ? $0 : nil }
        let messages = MessageQueue(session.request(request, byteCount: bytes, id: id, progressToken: token))
        if takesJSON, !(takesSSE && token != nil) {
            // JSON, unless the server must say something first (an approval asked of the client):
            // then the answer becomes an event stream, when the client takes one.
            while let m = await messages.next() {
                switch m {
                case .notification: continue
                case .request(let requestId, let method, _):
                    if takesSSE { return streamed(session, messages, first: m, shape: shape) }
                    session.deliver(.error(id: requestId, JSONRPCError(JSONRPCError.internalErrorCode,
                        "the client takes only JSON answers, so \(method) cannot reach it on this POST")))
                case .error(_, let error):
                    return rpc(status(for: error, stateless: session.id.hasPrefix("once-")), m)
                case .response:
                    return rpc(.ok, shape(m))
                }
            }
            throw APIError.unavailable("the session ended before answering")
        }
        return streamed(session, messages, first: nil, shape: shape)
    }

    /// The messages for one request as an event stream, ending with its answer.
    static func streamed(_ session: MCPSessions.Session, _ messages: MessageQueue, first: JSONRPCMessage?,
                         shape: @escaping @Sendable (JSONRPCMessage) -> JSONRPCMessage) -> Response {
        let body = ResponseBody { writer in
            if let first { try await writer.write(ByteBuffer(string: sse(shape(first)))) }
            while let m = await messages.next() { try await writer.write(ByteBuffer(string: sse(shape(m)))) }
            withExtendedLifetime(session) {}
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// The session a request names: 400 without one, 404 when unknown, ended, expired or another agent's.
    func session(_ id: String?, _ who: APIIdentity, id requestId: JSONRPCID?) async throws -> MCPSessions.Session {
        guard let id, !id.isEmpty else {
            throw MCPHTTPError(status: .badRequest, message: .error(id: requestId, .invalidRequest("no Mcp-Session-Id: send initialize first, then the session id it returns")))
        }
        guard let session = await sessions.session(id: id, caller: who.caller, snapshot: who.snapshot) else {
            throw MCPHTTPError(status: .notFound, message: .error(id: requestId, JSONRPCError(-32001, "Session not found: it ended or expired; initialize a new one")))
        }
        return session
    }

    static func checkProtocolHeader(_ request: Request) throws {
        if let version = request.headers[protocolHeader], !MCPServer.supportedVersions.contains(version) {
            throw MCPHTTPError(status: .badRequest, message: .error(id: nil, .invalidRequest("unsupported MCP-Protocol-Version '\(version)' (supported: \(MCPServer.supportedVersions.joined(separator: ", ")))")))
        }
    }

    static func rpc(_ status: HTTPResponse.Status, _ message: JSONRPCMessage) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: message.line)))
    }

    static func sse(_ message: JSONRPCMessage) -> String {
        var line = message.line
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        return "event: message\ndata: \(String(decoding: line, as: UTF8.self))\n\n"
    }
}

/// One request's messages, read from the route and then, when the answer turns into a stream,
/// from the response body's writer (one reader at a time).
actor MessageQueue {
    private var iterator: AsyncStream<JSONRPCMessage>.AsyncIterator

    init(_ stream: AsyncStream<JSONRPCMessage>) { iterator = stream.makeAsyncIterator() }

    func next() async -> JSONRPCMessage? {
        // AsyncStream's iterator is a handle on the stream: a copy reads the same messages.
        var reading = iterator
        defer { iterator = reading }
        return await reading.next(isolation: self)
    }
}

/// An MCP transport error: an HTTP status with a JSON-RPC error body.
struct MCPHTTPError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: JSONRPCMessage

    func response(from request: Request, context: some RequestContext) throws -> Response {
        HTTPAPI.rpc(status, message)
    }
}

extension HTTPAPI {
    /// Ends the MCP session `id` (and so its open stream) once `who`'s key no longer stands: revoked,
    /// expired, or its agent gone. Checked each second while the stream is open.
    func endWhenKeyRevoked(_ who: APIIdentity, session id: String) -> Task<Void, Never> {
        let sessions = self.sessions
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                if await who.recheck() != nil {
                    sessions.remove(id)
                    return
                }
            }
        }
    }
}
