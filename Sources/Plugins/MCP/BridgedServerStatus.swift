import Foundation

/// What `agenthub servers` shows of one bridged server.
public struct BridgedServerStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case starting, ready, restarting, failed, stopped
    }

    public var server: String
    public var state: State
    public var pid: Int32?
    /// A remote server's address (without query or credentials) and transport, as `agenthub servers` shows it.
    public var url: String?
    public var transport: String?
    public var protocolVersion: String?
    /// The server's own name and version (`serverInfo`).
    public var serverInfo: String?
    public var toolCount = 0
    /// Times it was started again after it ended.
    public var restarts = 0
    /// How it last ended, or why it could not start.
    public var lastExit: String?
    /// The last lines it wrote on stderr.
    public var stderrTail: [String] = []
    /// Tools it lists that are not bridged, and why.
    public var problems: [String] = []
    /// When the state last changed.
    public var since: Date

    public init(server: String, state: State, since: Date = Date()) {
        self.server = server
        self.state = state
        self.since = since
    }
}
