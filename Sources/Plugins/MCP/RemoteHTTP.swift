import AsyncHTTPClient
import Base
import Foundation
import NIOCore
import NIOHTTP1

/// What both remote transports share: one HTTP client per session (no redirects followed, since a
/// redirect would carry the server's credentials elsewhere; a connect timeout, no read timeout for
/// the long event streams), the headers every request carries, and reading bodies within a limit.
struct RemoteHTTP: Sendable {
    let server: String
    let endpoint: RemoteEndpoint
    let client: HTTPClient
    let maxMessageBytes: Int
    /// The OAuth credential every request carries (nil: only the entry's `headers:`).
    let authorization: RemoteAuthorization?

    init(server: String, endpoint: RemoteEndpoint, connectTimeout: Duration, maxMessageBytes: Int, authorization: RemoteAuthorization?) {
        self.server = server
        self.authorization = authorization
        self.endpoint = endpoint
        self.maxMessageBytes = maxMessageBytes
        let connect = TimeAmount.milliseconds(max(100, Int64(connectTimeout.seconds * 1000)))
        // Event streams hold connections open; calls must not queue behind them. A refused
        // connection fails the request at once (no retrying until the timeout): the supervisor
        // reconnects with its own backoff, and calls to a server that is gone fail fast.
        // Idle connections are let go before common servers' keep-alive ends (uvicorn's and Node's: 5 s),
        // so a request seldom meets a connection the server is closing just then.
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(4), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        pool.retryConnectionEstablishment = false
        let configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: connect, read: nil),
                                                     connectionPool: pool, decompression: .disabled)
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// A request to `url` with the server's own headers and `extra` (which win).
    func request(_ method: HTTPMethod, _ url: String, accept: String, extra: [(String, String)] = [], body: [UInt8]? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "agenthub/\(AgentHubVersion.current)")
        for (name, value) in endpoint.headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Accept", value: accept)
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends `request`; the answer's body is still to be read. Cancelling the calling task aborts it.
    /// A kept-alive connection the server closed or reset just as the request went out (before any
    /// answer) is not the server going away: the request goes once more, on a new connection.
    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do { return try await client.execute(request, deadline: .distantFuture) } catch where Self.closedBeforeAnswering(error) {
            try Task.checkCancellation()
            return try await client.execute(request, deadline: .distantFuture)
        }
    }

    /// Whether an error says the connection ended before the answer began: closed (a keep-alive
    /// the server let go), reset or broken while the request was written. A server that is gone
    /// refuses the new connection, which is not retried.
    static func closedBeforeAnswering(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError: return error == .remoteConnectionClosed
        case let error as IOError: return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        case let error as ChannelError: return error == .ioOnClosedChannel || error == .eof || error == .outputClosed
        default: return false
        }
    }

    /// Sends `request` with the session's bearer token; a 401 renews the token (or finds a newer
    /// one) and sends it once more. A login that is missing or cannot be renewed throws a
    /// `BridgeError` naming the login command.
    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        guard let authorization else { return try await execute(request) }
        var request = request
        let token = try await authorization.bearer()
        request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        let response = try await execute(request)
        guard response.status == .unauthorized else { return response }
        _ = try? await Self.collect(response, limit: 0)
        let renewed = try await authorization.rejected(token)
        request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(renewed)")
        return try await execute(request)
    }

    /// The whole body, or (past `limit`) its size and first bytes.
    static func collect(_ response: HTTPClientResponse, limit: Int) async throws -> Result<[UInt8], Oversized> {
        var bytes: [UInt8] = []
        var count = 0
        for try await buffer in response.body {
            count += buffer.readableBytes
            if count <= limit { bytes.append(contentsOf: buffer.readableBytesView) }
            else if bytes.count < 256 { bytes.append(contentsOf: buffer.readableBytesView.prefix(256 - bytes.count)) }
        }
        return count <= limit ? .success(bytes) : .failure(Oversized(count: count, prefix: Array(bytes.prefix(256))))
    }

    struct Oversized: Error {
        let count: Int
        let prefix: [UInt8]
    }

    /// Reads an event stream to its end, handing over each event's data (`message` events only, the
    /// only kind MCP sends; `endpoint` goes to `onEndpoint`).
    func readEvents(_ response: HTTPClientResponse, deliver: @Sendable (MCPTransportEvent) -> Void,
                    onEndpoint: (String) -> Void = { _ in }) async throws {
        var parser = EventStreamParser(maxEventBytes: maxMessageBytes)
        for try await buffer in response.body {
            for output in parser.feed(buffer.readableBytesView) {
                switch output {
                case .event(let event) where event.name == "message": deliver(.message(event.data))
                case .event(let event) where event.name == "endpoint": onEndpoint(String(decoding: event.data, as: UTF8.self))
                case .event: break
                case .oversized(let count, let prefix): deliver(.oversized(count: count, prefix: prefix))
                }
            }
        }
    }

    /// Why an HTTP exchange failed, in words (AsyncHTTPClient's errors name no secrets).
    func unreachable(_ error: any Error) -> String {
        let detail: String
        switch error {
        case let error as HTTPClientError where error == .connectTimeout: detail = "the connection timed out"
        case let error as HTTPClientError where error == .remoteConnectionClosed: detail = "it closed the connection"
        case let error as HTTPClientError: detail = "\(error)"
        case let error as IOError: detail = String(cString: strerror(error.errnoCode)).lowercased()
        default:
            // NIO's connection errors name each address tried; the first cause says enough.
            let text = "\(error)"
            detail = text.range(of: "Connection refused") != nil ? "connection refused" : text.utf8Prefix(300)
        }
        return "\(server) at \(endpoint.displayURL) cannot be reached: \(detail)"
    }

    /// A refusal in words: the status, and for 401 and 403 what to check.
    func refused(_ status: HTTPResponseStatus, _ body: [UInt8]) -> String {
        let text = Redaction.text(String(decoding: body.prefix(300), as: UTF8.self)).trimmingCharacters(in: .whitespacesAndNewlines)
        let hint = status == .unauthorized || status == .forbidden ? " (check its `headers:` in the manifest)" : ""
        return "\(server) answered HTTP \(status.code) \(status.reasonPhrase)\(hint)" + (text.isEmpty ? "" : ": \(text)")
    }

    /// A redirect in words: not followed, since the server's headers and token would go along.
    func redirected(_ status: HTTPResponseStatus) -> String {
        "\(server) answered HTTP \(status.code), a redirect, which AgentHub does not follow (its headers and token would go along); set its `url:` to the new address"
    }

    func shutdown() async { try? await client.shutdown() }
}
