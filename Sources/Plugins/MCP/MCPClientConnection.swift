import Base
import Foundation
import Logging
import Synchronization

/// The client end of one MCP session over a child's stdin and stdout: requests get fresh ids and
/// wait for their answers, many at once over the one pipe; progress notifications reach the call
/// that asked for them; everything else the server says goes to `onNotification`.
///
/// Lines that are not JSON-RPC are logged and dropped; an oversized line is dropped without ending
/// the session (the call it answered fails at once, when its id can be read). When the server's
/// output ends, every waiting request fails with `closedReason`.
final class MCPClientConnection: Sendable {
    typealias ProgressHandler = @Sendable (JSONValue) -> Void

    private struct Waiting {
        let continuation: CheckedContinuation<JSONValue, any Error>
        let method: String
        let progress: ProgressHandler?
    }

    let server: String
    private let writer: LineWriter
    private let reader: LineReader
    private let logger: Logger
    private let onNotification: @Sendable (String, JSONValue?) -> Void
    private struct State {
        var nextId = 1
        var waiting: [Int: Waiting] = [:]
        var failure: BridgeError?
    }
    private let state = Mutex(State())
    private let maxLineBytes: Int

    init(server: String, input: Int32, output: Int32, maxLineBytes: Int, logger: Logger,
         onNotification: @escaping @Sendable (String, JSONValue?) -> Void) {
        self.server = server
        self.logger = logger
        self.onNotification = onNotification
        self.maxLineBytes = maxLineBytes
        // Both ends are this process's own pipes: requests are written from the caller's thread and
        // answers settled on the reading thread, with no hop through a queue or a task between.
        writer = LineWriter(fd: input, closesDescriptor: true, directWrites: .nonBlocking)
        let box = WeakReference<MCPClientConnection>()
        reader = LineReader(fd: output, maxLineBytes: maxLineBytes, closesDescriptor: true) { event in
            box.object?.handle(event)
        }
        box.object = self
    }

    /// Starts reading the server's output. Its end needs no handling here: the supervisor learns
    /// that the server exited from the process, and fails what still waits.
    func start() {
        reader.start()
    }

    private func handle(_ event: LineReader.Event) {
        switch event {
        case .line(let bytes): receive(bytes)
        case .oversized(let count, let prefix): dropOversized(count, prefix)
        case .closed: break
        }
    }


    /// Sends a request and waits for its result. A JSON-RPC error answer throws `.remote`; cancelling
    /// the calling task sends `notifications/cancelled` for it and throws `.cancelled`.
    func request(_ method: String, _ params: JSONValue?, progress: ProgressHandler? = nil) async throws -> JSONValue {
        let id: Int = state.withLock { s in defer { s.nextId += 1 }; return s.nextId }
        var params = params
        if progress != nil, case .object(var o)? = params {
            var meta = o["_meta"]?.objectValue ?? [:]
            meta["progressToken"] = .int(id)
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
                writer.send(JSONRPCMessage.request(id: .int(id), method: method, params: params).line)
            }
        } onCancel: {
            guard let entry = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
            writer.send(JSONRPCMessage.notification(method: "notifications/cancelled",
                                                    params: ["requestId": .int(id), "reason": "cancelled by the caller (AgentHub)"]).line)
            entry.continuation.resume(throwing: BridgeError(.cancelled, "the call to \(server) was cancelled"))
        }
    }

    func notify(_ method: String, _ params: JSONValue? = nil) {
        writer.send(JSONRPCMessage.notification(method: method, params: params).line)
    }

    /// Fails every waiting request (and every later one) with `error`, and stops writing.
    func fail(_ error: BridgeError) {
        let entries: [Waiting] = state.withLock { s in
            if s.failure == nil { s.failure = error }
            defer { s.waiting.removeAll() }
            return Array(s.waiting.values)
        }
        for entry in entries { entry.continuation.resume(throwing: error) }
        writer.close()
    }

    /// Closes the server's stdin: the polite way to ask an MCP stdio server to exit.
    func closeInput() { writer.close() }

    private func receive(_ bytes: [UInt8]) {
        switch JSONRPCMessage.decode(bytes) {
        case .failure(let failure):
            let preview = Redaction.text(String(decoding: bytes.prefix(200), as: UTF8.self))
            logger.warning("a line on the server's stdout is not JSON-RPC; dropped", metadata: [
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
                writer.send(JSONRPCMessage.response(id: id, result: [:]).line)
            } else {
                writer.send(JSONRPCMessage.error(id: id, .methodNotFound(method)).line)
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
        logger.warning("a line on the server's stdout is over the size limit; dropped", metadata: ["plugins.mcp.bytes": "\(count)"])
        guard case .int(let number)? = RequestIDSniffer.id(in: prefix),
              let entry = state.withLock({ $0.waiting.removeValue(forKey: number) }) else { return }
        entry.continuation.resume(throwing: BridgeError(.protocolViolation,
                                                        "\(server) answered \(entry.method) with \(count) bytes, over the \(maxLineBytes)-byte limit; the answer was dropped"))
    }
}

