/// Why a bridged call or a server's start failed; the message names the server.
public struct BridgeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The server's process ended (or was never running) while the request waited.
        case exited
        /// It did not answer within its time (initialize, tools/list).
        case timeout
        /// It answered with a JSON-RPC error.
        case remote
        /// It answered with something that is not what MCP says (a bad version, a bad tool list).
        case protocolViolation = "protocol"
        /// The caller gave up (cancellation or the router's timeout).
        case cancelled
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
