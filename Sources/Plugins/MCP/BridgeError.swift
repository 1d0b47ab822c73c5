import Base

/// Why a bridged call or a server's start failed; the message names the server.
public typealias BridgeError = CodedError<BridgeErrorCode>

/// What kind of `BridgeError` it is.
public enum BridgeErrorCode: String, Sendable {
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
