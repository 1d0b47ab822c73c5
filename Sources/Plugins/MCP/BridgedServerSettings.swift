import Children
import Foundation

/// One downstream server as the manifest describes it (`plugins.mcp.servers.NAME`), compiled: the
/// command with its filtered environment and resolved working directory, or the remote server's URL.
public struct BridgedServerSettings: Sendable, Equatable {
    /// Where the server is: a local command spoken to over stdio, or a remote one over HTTP.
    public enum Endpoint: Sendable, Equatable {
        case command(ChildCommand)
        case remote(RemoteEndpoint)
    }

    /// What a changed tool definition does.
    public enum PinMode: String, Sendable, Equatable, CaseIterable {
        /// Logged, traced and marked in `agenthub tools list`; the tool still works.
        case warn
        /// The changed tool is hidden and refused until `agenthub tools accept` accepts it.
        case strict
    }

    public var name: String
    public var endpoint: Endpoint
    /// The risk of its tools (annotations can raise it for one tool).
    public var risk: ToolRisk = .medium
    /// Only these downstream tools are bridged, when given.
    public var tools: [String]?
    /// How long one call may run (nil: `router.timeout`).
    public var timeout: Duration?
    /// How long `initialize` and the first `tools/list` may take before the server is killed.
    public var startTimeout: Duration = .seconds(10)
    public var pin = PinMode.warn
    /// Where the entry is written (`registry.yaml:LINE:COL`), to begin each problem with, as `check` does.
    public var location: String?

    public init(name: String, command: ChildCommand) {
        self.init(name: name, endpoint: .command(command))
    }

    public init(name: String, endpoint: Endpoint) {
        self.name = name
        self.endpoint = endpoint
    }

    /// Whether two entries run the same server: where the entry is written does not count (an edit
    /// above it moves it, and must not restart it).
    public static func == (l: Self, r: Self) -> Bool {
        l.name == r.name && l.endpoint == r.endpoint && l.risk == r.risk && l.tools == r.tools && l.timeout == r.timeout
            && l.startTimeout == r.startTimeout && l.pin == r.pin
    }

    /// The separator between server and tool in a bridged tool name.
    public static let separator = "__"
    /// Tool names longer than this are cut by clients and LLM APIs.
    public static let maxToolNameLength = 64
}

/// Settings every bridged server shares (`plugins.mcp`).
public struct BridgeSettings: Sendable, Equatable {
    /// How long the first `tools/list` of a session waits for servers still starting.
    public var startupWait: Duration = .seconds(2)
    public var restart = RestartSchedule.Settings()
    /// After its stdin is closed, how long a server has before SIGTERM, and then before SIGKILL.
    public var stopGrace: Duration = .seconds(2)
    /// The longest line read from a server's stdout; longer ones are dropped.
    public var maxLineBytes = 16 << 20
    /// How children are tied to the host (the `agenthub child-exec` shim in production).
    public var lifeline = ChildProcess.Lifeline.none
    /// Lines of each server's stderr kept for status and errors.
    public var stderrLines = 20
    /// Seals the OAuth logins of remote servers (nil: none can be stored, and `credentialProblem` says why).
    public var sealer: CredentialSealer?
    public var credentialProblem: String?
    public init() {}
}

/// A remote MCP server (`url:`): where it is, how to speak to it, and the headers every request carries.
public struct RemoteEndpoint: Sendable, Equatable {
    /// How messages travel.
    public enum Transport: String, Sendable, Equatable, CaseIterable, Codable {
        /// Streamable HTTP: each message a POST, answered with JSON or an event stream.
        case streamableHTTP = "streamable_http"
        /// The older HTTP+SSE transport: one event stream from GET, messages POSTed where it says.
        case sse
    }
    /// Which protocol revision to speak over Streamable HTTP.
    public enum Revision: String, Sendable, Equatable, CaseIterable, Codable {
        /// `server/discover` first: 2026-07-28 when the server speaks it, else the initialize handshake.
        case auto
        /// The initialize handshake and a session (2025-11-25 and earlier).
        case handshake
        /// 2026-07-28: no handshake, no session; every request carries its envelope.
        case stateless
    }

    public var url: String
    public var transport = Transport.streamableHTTP
    public var revision = Revision.auto
    /// Sent with every request (a shared token, say); values are secrets and never logged.
    public var headers: [String: String] = [:]
    /// Whose token a call carries.
    public enum Credentials: String, Sendable, Equatable, CaseIterable, Codable {
        /// One login for every agent (`agenthub servers login NAME`).
        case shared
        /// Each calling agent its own (`agenthub servers login NAME --agent A`).
        case perAgent = "per_agent"
    }
    /// The OAuth client AgentHub is for this server: a configured client, or none (dynamic registration).
    public struct OAuth: Sendable, Equatable {
        public var clientId: String?
        public var clientSecret: String?
        public var scopes: [String] = []
        public init() {}
    }
    /// `auth: oauth`: calls carry a token from `agenthub servers login` (nil: only `headers:`).
    public var oauth: OAuth?
    public var credentials = Credentials.shared

    public init(url: String) { self.url = url }

    /// The URL without its query, user or password: what status pages and logs may show.
    public var displayURL: String {
        guard var parts = URLComponents(string: url) else { return "(a URL that cannot be shown)" }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        parts.fragment = nil
        return parts.string ?? "(a URL that cannot be shown)"
    }
}
