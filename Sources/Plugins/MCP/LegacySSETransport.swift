import AsyncHTTPClient
import Base
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// MCP over the older HTTP+SSE transport (2024-11-05), as a client: a GET opens one event stream,
/// whose first `endpoint` event says where to POST messages; every answer and notification comes
/// back on that stream. The stream's end is the session's end.
final class LegacySSETransport: MCPClientTransport {
    private let http: RemoteHTTP
    private let logger: Logger
    /// Where messages go (nil: the stream ended before it said).
    private let postURL = OneShot<String?>()
    private struct State {
        var deliver: (@Sendable (MCPTransportEvent) -> Void)?
        var tasks: [UUID: Task<Void, Never>] = [:]
        var posts: [Int: UUID] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    init(server: String, endpoint: RemoteEndpoint, connectTimeout: Duration, maxMessageBytes: Int, authorization: RemoteAuthorization?, logger: Logger) {
        http = RemoteHTTP(server: server, endpoint: endpoint, connectTimeout: connectTimeout, maxMessageBytes: maxMessageBytes,
                          authorization: authorization)
        self.logger = logger
    }

    private func emit(_ event: MCPTransportEvent) {
        state.withLock { $0.deliver }?(event)
    }

    func start(_ deliver: @escaping @Sendable (MCPTransportEvent) -> Void) {
        state.withLock { s in
            s.deliver = deliver
            s.tasks[UUID()] = Task { [self] in await readStream() }
        }
    }

    private func readStream() async {
        let reason: String
        do {
            let response = try await http.send(http.request(.GET, http.endpoint.url, accept: "text/event-stream"))
            if response.status != .ok || response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("text/event-stream") != true {
                let body = (try? await RemoteHTTP.collect(response, limit: 4096)).flatMap { try? $0.get() } ?? []
                reason = response.status == .ok ? "\(http.server) did not answer its GET with an event stream"
                    : (300..<400).contains(response.status.code) ? http.redirected(response.status) : http.refused(response.status, body)
            } else {
                try await http.readEvents(response, deliver: { [self] in emit($0) }, onEndpoint: { [self] in take(endpoint: $0) })
                reason = "\(http.server) ended its event stream"
            }
        } catch {
            if Task.isCancelled { return }
            reason = (error as? BridgeError)?.message ?? http.unreachable(error)
        }
        postURL.set(nil)
        emit(.ended(reason))
    }

    /// The `endpoint` event: a URL relative to the stream's, which must stay on its origin (the
    /// server's headers go wherever it points).
    private func take(endpoint text: String) {
        guard postURL.current == nil, let base = URL(string: http.endpoint.url),
              let url = URL(string: text.trimmingCharacters(in: .whitespaces), relativeTo: base)?.absoluteURL else { return }
        guard url.scheme == base.scheme, url.host == base.host, url.port == base.port else {
            logger.error("the server's endpoint event points at another origin; refused", metadata: ["plugins.mcp.endpoint": "\(url.host ?? "?")"])
            emit(.ended("\(http.server) named another origin to post its messages to; refused"))
            return
        }
        postURL.set(url.absoluteString)
    }

    func send(_ message: JSONRPCMessage) {
        let key = UUID()
        state.withLock { s in
            guard !s.closed else { return }
            if case .request(.int(let id), _, _) = message { s.posts[id] = key }
            s.tasks[key] = Task { [self] in
                await post(message)
                state.withLock { s in
                    s.tasks.removeValue(forKey: key)
                    if case .request(.int(let id), _, _) = message { s.posts.removeValue(forKey: id) }
                }
            }
        }
    }

    private func post(_ message: JSONRPCMessage) async {
        var id: Int?
        if case .request(.int(let n), _, _) = message { id = n }
        guard let target = await postURL.wait() ?? nil else {
            if let id { emit(.failed(id: id, BridgeError(.exited, "\(http.server) ended its event stream before it said where to send messages"))) }
            return
        }
        do {
            let response = try await http.send(http.request(.POST, target, accept: "application/json, text/event-stream",
                                                               body: Array(message.json.jsonText.utf8)))
            let body = (try? await RemoteHTTP.collect(response, limit: 4096)).flatMap { try? $0.get() } ?? []
            if response.status.code >= 400, let id { emit(.failed(id: id, BridgeError(.remote, http.refused(response.status, body)))) }
        } catch let error as BridgeError {
            if let id { emit(.failed(id: id, error)) }
        } catch {
            if Task.isCancelled { return }
            let reason = http.unreachable(error)
            if let id { emit(.failed(id: id, BridgeError(.exited, reason))) }
            emit(.ended(reason))
        }
    }

    func cancel(_ id: Int, notification: JSONRPCMessage) {
        send(notification)
    }

    func close() {
        let tasks: [Task<Void, Never>]? = state.withLock { s in
            guard !s.closed else { return nil }
            s.closed = true
            defer { s.tasks.removeAll() }
            return Array(s.tasks.values)
        }
        guard let tasks else { return }
        for task in tasks { task.cancel() }
        postURL.set(nil)
        let http = self.http
        Task { await http.shutdown() }
    }
}
