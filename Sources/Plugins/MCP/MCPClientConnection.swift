import Base
import Foundation
import Logging
import Synchronization

/// The client end of one MCP session, over a transport (a child's stdin and stdout, or HTTP):
/// requests get fresh ids and wait for their answers, many at once; progress notifications reach
/// the call that asked for them; everything else the server says goes to `onNotification`.
///
/// Messages that are not JSON-RPC are logged and dropped; an oversized one is dropped without ending
/// the session (the call it answered fails at once, when its id can be read). When the transport
/// says the session is over, `ended` is set; the supervisor then fails what still waits.
///
/// In the stateless revision (2026-07-28) there is no handshake: `envelope` is set after
/// `server/discover`, and every request carries it in `params._meta`.
final class MCPClientConnection: Sendable {
    typealias ProgressHandler = @Sendable (JSONValue) -> Void

    private struct Waiting {
        let continuation: CheckedContinuation<JSONValue, any Error>
        let method: String
        let progress: ProgressHandler?
    }

    let server: String
    private let transport: any MCPClientTransport
    private let logger: Logger
    private let onNotification: @Sendable (String, JSONValue?) -> Void
    private struct State {
        var nextId = 1
        var waiting: [Int: Waiting] = [:]
        var failure: BridgeError?
        var envelope: [String: JSONValue]?
    }
    private let state = Mutex(State())
    private let maxMessageBytes: Int
    /// Why the transport ended the session (a remote server gone, its session expired).
    let ended = OneShot<String>()

    init(server: String, transport: any MCPClientTransport, maxMessageBytes: Int, logger: Logger,
         onNotification: @escaping @Sendable (String, JSONValue?) -> Void) {
        self.server = server
        self.transport = transport
        self.logger = logger
        self.onNotification = onNotification
        self.maxMessageBytes = maxMessageBytes
    }

    /// Starts receiving what the server says.
    func start() {
        let box = WeakReference<MCPClientConnection>()
        box.object = self
        transport.start { event in box.object?.handle(event) }
    }

    /// The stateless revision's `_meta` entries, stamped on every request from now on (nil: none).
    func stamp(envelope: [String: JSONValue]?) {
        state.withLock { $0.envelope = envelope }
    }

    /// What `onNotification` hears when the transport's stream for unasked messages (re)opens.
    static let listeningMethod = "agenthub/listening"

    /// Whether requests carry the stateless revision's envelope.
    var isStateless: Bool { state.withLock { $0.envelope != nil } }

    /// The version agreed; with an envelope, requests stand alone from now on.
    func agreed(version: String, stateless: Bool) {
        transport.agreed(version: version, stateless: stateless)
    }

    private func handle(_ event: MCPTransportEvent) {
        switch event {
        case .message(let bytes): receive(bytes)
        case .oversized(let count, let prefix): dropOversized(count, prefix)
        case .failed(let id, let error):
            state.withLock { $0.waiting.removeValue(forKey: id) }?.continuation.resume(throwing: error)
        case .ended(let reason): ended.set(reason)
        case .listening: onNotification(Self.listeningMethod, nil)
        }
    }

    /// Sends a request and waits for its result. A JSON-RPC error answer throws `.remote`; cancelling
    /// the calling task sends `notifications/cancelled` for it and throws `.cancelled`.
    func request(_ method: String, _ params: JSONValue?, progress: ProgressHandler? = nil) async throws -> JSONValue {
        let id: Int = state.withLock { s in defer { s.nextId += 1 }; return s.nextId }
        var params = params
        let envelope = state.withLock { $0.envelope }
        if progress != nil || envelope != nil {
            var o = params?.objectValue ?? [:]
            var meta = o["_meta"]?.objectValue ?? [:]
            if progress != nil { meta["progressToken"] = .int(id) }
            for (key, value) in envelope ?? [:] { meta[key] = value }
            o["_meta"] = .object(meta)
            params = .object(o)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                let refusal: BridgeError? = state.withLock { s in
                    if let failure = s.failure { return failure }
                    if Task.isCancelled { return BridgeError(.cancelled, "the call to \(server) was cancelled") }
                    s.waiting[id] = Waiting(continuation: continuation, method: method, progress: progress)
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                    return
                }
                transport.send(.request(id: .int(id), method: method, params: params))
            }
        } onCancel: {
            guard let entry = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
            transport.cancel(id, notification: .notification(method: "notifications/cancelled",
                                                             params: ["requestId": .int(id), "reason": "cancelled by the caller (AgentHub)"]))
            entry.continuation.resume(throwing: BridgeError(.cancelled, "the call to \(server) was cancelled"))
        }
    }

    func notify(_ method: String, _ params: JSONValue? = nil) {
        transport.send(.notification(method: method, params: params))
    }

    /// Fails every waiting request (and every later one) with `error`, and stops writing.
    func fail(_ error: BridgeError) {
        let entries: [Waiting] = state.withLock { s in
            if s.failure == nil { s.failure = error }
            defer { s.waiting.removeAll() }
            return Array(s.waiting.values)
        }
        for entry in entries { entry.continuation.resume(throwing: error) }
        transport.close()
        ended.set(error.message)
    }

    /// Ends the session politely: a stdio server's stdin is closed; a remote session is ended.
    func close() { transport.close() }

    private func receive(_ bytes: [UInt8]) {
        switch JSONRPCMessage.decode(bytes) {
        case .failure(let failure):
            let preview = Redaction.text(String(decoding: bytes.prefix(200), as: UTF8.self))
            logger.warning("a message from the server is not JSON-RPC; dropped", metadata: [
                "plugins.mcp.error": "\(failure.error.message)", "plugins.mcp.line": "\(preview)"])
        case .success(.response(let id, let result)):
            settle(id) { $0.resume(returning: result) }
        case .success(.error(let id?, let error)):
            let server = self.server
            settle(id) { entry in
                entry.resume(throwing: BridgeError(.remote, "\(server) answered with an error (\(error.code)): \(Redaction.text(error.message))"))
            }
        case .success(.error(nil, let error)):
            logger.warning("the server reported an error for no request", metadata: ["plugins.mcp.error": "\(Redaction.text(error.message))"])
        case .success(.request(let id, let method, _)):
            // This client offers no capabilities (no roots, sampling or elicitation): only ping is answered.
            if method == "ping" {
                transport.send(.response(id: id, result: [:]))
            } else {
                transport.send(.error(id: id, .methodNotFound(method)))
            }
        case .success(.notification(let method, let params)):
            if method == "notifications/progress", case .int(let token)? = params?["progressToken"] {
                let handler = state.withLock { $0.waiting[token]?.progress }
                handler?(params ?? .null)
                return
            }
            onNotification(method, params)
        }
    }

    private func settle(_ id: JSONRPCID, _ resume: (CheckedContinuation<JSONValue, any Error>) -> Void) {
        guard case .int(let number) = id, let entry = state.withLock({ $0.waiting.removeValue(forKey: number) }) else {
            logger.debug("an answer for no waiting request; dropped", metadata: ["plugins.mcp.id": "\(id)"])
            return
        }
        resume(entry.continuation)
    }

    private func dropOversized(_ count: Int, _ prefix: [UInt8]) {
        logger.warning("a message from the server is over the size limit; dropped", metadata: ["plugins.mcp.bytes": "\(count)"])
        guard case .int(let number)? = RequestIDSniffer.id(in: prefix),
              let entry = state.withLock({ $0.waiting.removeValue(forKey: number) }) else { return }
        entry.continuation.resume(throwing: BridgeError(.protocolViolation,
                                                        "\(server) answered \(entry.method) with \(count) bytes, over the \(maxMessageBytes)-byte limit; the answer was dropped"))
    }
}

