import Base
import Core
import Registry
import Dispatch
import Core
import Foundation
import Logging
import Plugins
import ServiceLifecycle

/// Runs an `MCPServer` over stdin/stdout: newline-delimited JSON read on a dedicated thread and
/// written from another, nothing but protocol on stdout. Ends on EOF, on the service group's graceful
/// shutdown (SIGTERM, SIGINT), or when stdout breaks: requests in flight are cancelled and it returns
/// within a second (the group then stops the plugins and flushes the traces).
public enum MCPStdio {
    public struct Options: Sendable {
        public var maxMessageBytes = LineReader.defaultMaxLineBytes
        public var server = MCPServer.Settings()
        /// How often to look for another process's sync changing the skills (nil: never).
        public var skillsPoll: Duration? = .seconds(2)
        /// After EOF, how long requests in flight may still finish and be answered before they are cancelled.
        public var endOfInputGrace: Duration = .milliseconds(300)
        /// While more than this many bytes of answers wait for a client that is not reading stdout,
        /// no new request is read (backpressure: the host does not grow without bound).
        public var maxQueuedOutputBytes = 8 << 20
        public var input: Int32 = 0
        public var output: Int32 = 1
        public init() {}
    }

    /// `attach` is given the session's server before the first line is read (the runtime keeps it up
    /// to date across reloads).
    public static func serve(host: ToolHost, registry: any RegistryStore, caller: ToolCaller, agentFromClient: Bool,
                             options: Options, logger: Logger, attach: @Sendable (MCPServer) -> Void = { _ in }) async {
        signal(SIGPIPE, SIG_IGN)
        let loop = LoopHandle()
        // Small answers are written by the task that made them when stdout has room: no hop.
        let writer = LineWriter(fd: options.output, directWrites: .smallWhenWritable) { reason in
            logger.info("stdout closed; shutting down", metadata: ["host.mcp.reason": "\(reason)"])
            loop.stop()
        }
        let maxQueuedOutput = options.maxQueuedOutputBytes
        let server = MCPServer(host: host, registry: registry, caller: caller, agentFromClient: agentFromClient,
                               settings: options.server, logger: logger,
                               outputRoom: { await writer.waitForRoom(atMost: maxQueuedOutput) }) { writer.send($0.line) }
        let limit = options.maxMessageBytes
        // Requests are handed to the server on the reading thread itself (no hop through a task), and
        // backpressure blocks that thread, which has nothing else to do: read the next request only
        // when its answer has room (a client that does not read stdout stops us reading stdin), and
        // while the queue of requests waiting for a slot has room (ping and cancellations, answered on
        // arrival, are never behind them).
        let reader = LineReader(fd: options.input, maxLineBytes: options.maxMessageBytes) { event in
            guard !loop.isStopped else { return }
            switch event {
            case .line(let bytes): server.receive(line: bytes)
            case .oversized(let count, let prefix): server.receiveOversized(byteCount: count, prefix: prefix, limit: limit)
            case .closed(let error):
                logger.info("stdin closed; shutting down", metadata: error.map { ["host.mcp.error": "\($0)"] } ?? [:])
                loop.finish(endOfInput: true)
                return
            }
            writer.waitForRoomBlocking(atMost: maxQueuedOutput) { loop.isStopped }
            server.waitForQueueRoom { loop.isStopped }
        }
        attach(server)
        let poller = options.skillsPoll.map { interval in
            Task {
                let changes = registry.changes
                var mark = changes.mark(.skills)
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    let now = changes.mark(.skills)
                    if now != mark { mark = now; server.listsMayHaveChanged() }
                    await server.current.host.router.refresh()  // a tool definition accepted by `agenthub tools accept`
                }
            }
        }
        reader.start()
        let endOfInput = await withGracefulShutdownHandler {
            await loop.ended
        } onGracefulShutdown: {
            logger.info("shutting down (signal)")
            server.current.host.router.approvals.hostStopping()
            loop.stop()
            server.wake()
        }
        if endOfInput {
            // A client that closed stdin right after its last request (a script piping into us) still gets
            // the answers that come quickly; what is still running after the grace period is cancelled.
            await server.waitUntilAnswered(within: options.endOfInputGrace) { loop.isStopped }
        }
        poller?.cancel()
        // At EOF the client still reads: what is cancelled now is answered (as cancelled). After a
        // signal or a broken stdout nobody does.
        await server.shutdown(grace: .milliseconds(400), answer: endOfInput && !writer.isBroken)
        writer.drain(timeout: .milliseconds(200))
        writer.close()
    }
}

/// How reading ended, set once from any thread: true at end of input, false after a stop (a signal,
/// a broken stdout).
private final class LoopHandle: Sendable {
    private let outcome = OneShot<Bool>()

    var isStopped: Bool { outcome.current == false }
    func stop() { outcome.set(false) }
    func finish(endOfInput: Bool) { outcome.set(endOfInput) }
    var ended: Bool { get async { await outcome.wait() ?? false } }
}
