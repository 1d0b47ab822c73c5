import AsyncHTTPClient
import Base
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// MCP over Streamable HTTP, as a client: each message a POST, answered with JSON or with an event
/// stream (progress, then the answer). In a handshake session the `Mcp-Session-Id` from `initialize`
/// goes on every request, a GET stream carries what the server says unasked (list changes), and the
/// session is ended with DELETE. In the stateless revision each POST stands alone, its headers
/// mirroring its envelope. A server that cannot be reached, or that forgot the session (404), ends
/// the session: the supervisor reconnects with its backoff.
final class StreamableHTTPTransport: MCPClientTransport {
    private let http: RemoteHTTP
    private let logger: Logger
    private struct State {
        var deliver: (@Sendable (MCPTransportEvent) -> Void)?
        var sessionId: String?
        var protocolVersion: String?
        var stateless = false
        var posts: [Int: Task<Void, Never>] = [:]
        var others: [UUID: Task<Void, Never>] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// Whether a handshake session opens the GET stream (an agent's own session does not: the
    /// server's session hears its list changes, and notices it going away, for all of them).
    private let opensStream: Bool

    init(server: String, endpoint: RemoteEndpoint, connectTimeout: Duration, maxMessageBytes: Int, authorization: RemoteAuthorization?,
         opensStream: Bool = true, logger: Logger) {
        self.opensStream = opensStream
        http = RemoteHTTP(server: server, endpoint: endpoint, connectTimeout: connectTimeout, maxMessageBytes: maxMessageBytes,
                          authorization: authorization)
        self.logger = logger
    }

    func start(_ deliver: @escaping @Sendable (MCPTransportEvent) -> Void) {
        state.withLock { $0.deliver = deliver }
    }

    /// The version agreed (in `initialize`, or chosen after `server/discover`): every later request
    /// names it. "" names none (the handshake comes next, and `initialize` carries no version header).
    func agreed(version: String, stateless: Bool) {
        state.withLock { s in
            s.protocolVersion = version.isEmpty ? nil : version
            s.stateless = stateless
        }
    }

    private func emit(_ event: MCPTransportEvent) {
        state.withLock { $0.deliver }?(event)
    }

    func send(_ message: JSONRPCMessage) {
        state.withLock { s in
            guard !s.closed else { return }
            if case .request(.int(let id), _, _) = message {
                s.posts[id] = Task { [self] in
                    await post(message, answering: id)
                    state.withLock { _ = $0.posts.removeValue(forKey: id) }
                }
            } else {
                let key = UUID()
                s.others[key] = Task { [self] in
                    await post(message, answering: nil)
                    if case .notification("notifications/initialized", _) = message { openStream() }
                    state.withLock { _ = $0.others.removeValue(forKey: key) }
                }
            }
        }
    }

    /// A cancelled request's POST is abandoned (in the stateless revision that is the cancellation);
    /// a handshake session is also told with `notifications/cancelled`.
    func cancel(_ id: Int, notification: JSONRPCMessage) {
        let (post, stateless) = state.withLock { s in (s.posts.removeValue(forKey: id), s.stateless) }
        post?.cancel()
        if !stateless { send(notification) }
    }

    func close() {
        let (tasks, session, version, wasClosed) = state.withLock { s in
            defer { s.closed = true; s.posts.removeAll(); s.others.removeAll() }
            return (Array(s.posts.values) + Array(s.others.values), s.stateless ? nil : s.sessionId, s.protocolVersion, s.closed)
        }
        guard !wasClosed else { return }
        for task in tasks { task.cancel() }
        let http = self.http
        Task {
            if let session {
                // Ending the session lets the server free it now rather than at its idle timeout.
                var extra = [("Mcp-Session-Id", session)]
                if let version { extra.append(("MCP-Protocol-Version", version)) }
                let request = http.request(.DELETE, http.endpoint.url, accept: "application/json, text/event-stream", extra: extra)
                _ = try? await http.client.execute(request, timeout: .seconds(2))
            }
            await http.shutdown()
        }
    }

    /// The headers of one message: the session's, or (stateless) its envelope's.
    private func headers(for message: JSONRPCMessage) -> [(String, String)] {
        let (session, version) = state.withLock { ($0.sessionId, $0.protocolVersion) }
        var headers: [(String, String)] = []
        if let session { headers.append(("Mcp-Session-Id", session)) }
        if case .request(_, let method, let params) = message, let stamped = params?["_meta"]?[MCPEnvelope.versionKey]?.stringValue {
            headers.append(("MCP-Protocol-Version", stamped))
            headers.append(("Mcp-Method", method))
            if let field = MCPEnvelope.namedParams[method], let name = params?[field]?.stringValue,
               name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
                headers.append(("Mcp-Name", name))
            }
        } else if let version {
            headers.append(("MCP-Protocol-Version", version))
        }
        return headers
    }

    private func post(_ message: JSONRPCMessage, answering id: Int?) async {
        // Whatever happens below, a request whose answer did not arrive fails (a no-op when it did).
        var unanswered = "\(http.server) answered without a result"
        defer { if let id { emit(.failed(id: id, BridgeError(.protocolViolation, unanswered))) } }
        let request = http.request(.POST, http.endpoint.url, accept: "application/json, text/event-stream",
                                   extra: headers(for: message), body: Array(message.json.jsonText.utf8))
        do {
            let response = try await http.send(request)
            if let session = response.headers.first(name: "Mcp-Session-Id") {
                state.withLock { s in if s.sessionId == nil && !s.stateless { s.sessionId = session } }
            }
            let type = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
            let status = response.status
            if status == .accepted || status == .noContent {
                _ = try? await RemoteHTTP.collect(response, limit: 0)
                unanswered = "\(http.server) answered the request with HTTP \(status.code) and no result"
                return
            }
            if (300..<400).contains(status.code) {
                _ = try? await RemoteHTTP.collect(response, limit: 0)
                unanswered = http.redirected(status)
                return
            }
            if status.code >= 400 {
                let body = (try? await RemoteHTTP.collect(response, limit: 64 << 10)).flatMap { try? $0.get() } ?? []
                // A JSON-RPC error in the body is the answer (under this request's id: a server may say null).
                if let id, type.hasPrefix("application/json"), case .success(.error(_, let error)) = JSONRPCMessage.decode(body) {
                    emit(.message(Array(JSONRPCMessage.error(id: .int(id), error).json.jsonText.utf8)))
                    return
                }
                let forgotten = state.withLock { $0.sessionId != nil && !$0.stateless }
                if status == .notFound && forgotten {
                    unanswered = "\(http.server) no longer knows the session (HTTP 404); reconnecting"
                    emit(.ended(unanswered))
                    return
                }
                unanswered = http.refused(status, body)
                return
            }
            if type.hasPrefix("text/event-stream") {
                try await http.readEvents(response, deliver: { [self] in emit($0) })
                unanswered = "\(http.server) ended the answer's event stream before the result"
            } else if type.hasPrefix("application/json") {
                switch try await RemoteHTTP.collect(response, limit: http.maxMessageBytes) {
                case .success(let bytes) where !bytes.isEmpty: emit(.message(bytes))
                case .success: break
                case .failure(let over): emit(.oversized(count: over.count, prefix: over.prefix))
                }
            } else {
                _ = try? await RemoteHTTP.collect(response, limit: 0)
                if id != nil { unanswered = "\(http.server) answered with content type '\(type.utf8Prefix(80))', not JSON or an event stream" }
            }
        } catch let error as BridgeError {
            // A login that is missing or cannot be renewed: this request fails, the server is still there.
            unanswered = error.message
        } catch {
            if Task.isCancelled { return }
            unanswered = http.unreachable(error)
            emit(.ended(unanswered))
        }
    }

    /// The GET stream of a handshake session: what the server says unasked. Reopened when it ends;
    /// a server that does not offer one (405) is fine; one that cannot be reached ends the session.
    private func openStream() {
        let key = UUID()
        state.withLock { s in
            guard opensStream, !s.closed, !s.stateless, s.sessionId != nil else { return }
            s.others[key] = Task { [self] in await listen() }
        }
    }

    private func listen() async {
        var quickEnds = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let (session, version) = state.withLock { ($0.sessionId, $0.protocolVersion) }
            var extra: [(String, String)] = []
            if let session { extra.append(("Mcp-Session-Id", session)) }
            if let version { extra.append(("MCP-Protocol-Version", version)) }
            let response: HTTPClientResponse
            do { response = try await http.send(http.request(.GET, http.endpoint.url, accept: "text/event-stream", extra: extra)) } catch {
                if !Task.isCancelled { emit(.ended((error as? BridgeError)?.message ?? http.unreachable(error))) }
                return
            }
            if response.status == .notFound {
                emit(.ended("\(http.server) no longer knows the session (HTTP 404); reconnecting"))
                return
            }
            guard response.status == .ok, response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("text/event-stream") == true else {
                // 405: the server sends nothing unasked; its list changes go unnoticed until it reconnects.
                _ = try? await RemoteHTTP.collect(response, limit: 0)
                logger.debug("the server offers no GET stream", metadata: ["plugins.mcp.status": "\(response.status.code)"])
                return
            }
            // Changes made before it opened (or while it was down) went unheard: the tools are listed again.
            emit(.listening)
            // A stream that ends or is cut is reopened; the reopening finds out whether the server is still there.
            try? await http.readEvents(response, deliver: { [self] in emit($0) })
            if Task.isCancelled { return }
            quickEnds = ContinuousClock.now - started < .seconds(2) ? quickEnds + 1 : 0
            if quickEnds > 0 { try? await Task.sleep(for: .milliseconds(min(5000, 50 << min(quickEnds, 7)))) }
        }
    }
}
