import Base

/// What carries one MCP client session's messages: a child's stdin and stdout, or HTTP to a remote
/// server. The connection above it matches answers to requests; the transport only moves messages.
protocol MCPClientTransport: Sendable {
    /// Starts delivering what the server says; called once, before the first `send`.
    func start(_ deliver: @escaping @Sendable (MCPTransportEvent) -> Void)
    /// Sends one message; a failure to deliver a request comes back as `.failed` for its id.
    func send(_ message: JSONRPCMessage)
    /// The caller gave up on request `id`: tell the server (`notification` is its
    /// `notifications/cancelled`) and stop waiting for its answer, as the transport does that.
    func cancel(_ id: Int, notification: JSONRPCMessage)
    /// Stops sending and receiving (and, where the transport has one, ends the session politely).
    func close()
    /// The protocol version agreed, and whether requests stand alone (2026-07-28): HTTP names it on
    /// every request.
    func agreed(version: String, stateless: Bool)
}

extension MCPClientTransport {
    func agreed(version: String, stateless: Bool) {}
}

/// What a transport reports.
enum MCPTransportEvent: Sendable {
    /// One message from the server (its bytes, to be decoded as JSON-RPC).
    case message([UInt8])
    /// A message over the size limit, dropped; `prefix` may name the request it answered.
    case oversized(count: Int, prefix: [UInt8])
    /// Request `id` will get no answer, and why.
    case failed(id: Int, BridgeError)
    /// The session is over (the remote server went away, or ended it): why.
    case ended(String)
    /// A stream for what the server says unasked (re)opened: what changed while there was none was not heard.
    case listening
}

/// MCP over a child's stdin and stdout: one JSON-RPC message per line. Its end is the child's exit,
/// which the supervisor watches, so it never reports `.ended`.
final class StdioClientTransport: MCPClientTransport {
    private let writer: LineWriter
    private let input: Int32
    private let output: Int32
    private let maxLineBytes: Int
    private let reader = LockedValue<LineReader?>(nil)

    init(input: Int32, output: Int32, maxLineBytes: Int) {
        self.input = input
        self.output = output
        self.maxLineBytes = maxLineBytes
        // Both ends are this process's own pipes: requests are written from the caller's thread and
        // answers settled on the reading thread, with no hop through a queue or a task between.
        writer = LineWriter(fd: input, closesDescriptor: true, directWrites: .nonBlocking)
    }

    func start(_ deliver: @escaping @Sendable (MCPTransportEvent) -> Void) {
        let reader = LineReader(fd: output, maxLineBytes: maxLineBytes, closesDescriptor: true) { event in
            switch event {
            case .line(let bytes): deliver(.message(bytes))
            case .oversized(let count, let prefix): deliver(.oversized(count: count, prefix: prefix))
            case .closed: break
            }
        }
        self.reader.value = reader
        reader.start()
    }

    func send(_ message: JSONRPCMessage) { writer.send(message.line) }

    func cancel(_ id: Int, notification: JSONRPCMessage) { writer.send(notification.line) }

    /// Closes the server's stdin: the polite way to ask an MCP stdio server to exit.
    func close() { writer.close() }
}
