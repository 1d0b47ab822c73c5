import Plugins
/// `plugins:`: a plugin is enabled when its key is present. Each plugin's settings are its own
/// type, read straight from the manifest through `ManifestKeys` (nothing copies them field by field).
public struct PluginsConfig: Sendable {
    /// `read_file` and `list_files`; `roots` and `hardLinkRoots` as written (the tool host resolves them).
    public var file: FilePlugin.Settings?
    public var memory: MemoryPlugin.Settings?
    public var export: ExportPlugin.Settings?
    public var skills: SkillsPluginConfig?
    public var mcp: MCPPluginConfig?
    static var keys: [String] { ManifestKeys.known("plugins") }
}

public struct SkillsPluginConfig: Codable, Sendable {
    static var keys: [String] { ManifestKeys.known("plugins.skills") }
}

/// `plugins.mcp`: downstream MCP servers bridged over stdio, and the settings they share.
public struct MCPPluginConfig: Sendable {
    public var servers: [MCPServerConfig] = []
    /// Startup wait and restart schedule, as the bridge takes them.
    public var shared = BridgeSettings()
    static var keys: [String] { ManifestKeys.known("plugins.mcp") }
}

/// One bridged server. Its tools appear as `<name>__<tool>`.
public struct MCPServerConfig: Codable, Sendable {
    public var name: String
    public var command: String
    public var args: [String] = []
    /// Environment passed to the server (after `${VAR}` expansion); nothing else leaks from the host.
    public var env: [String: String] = [:]
    public var cwd: String?
    /// The risk of its tools; a tool annotated destructive (and not read-only) counts as high.
    public var risk = PolicyConfig.Risk.medium
    /// Only these tools are bridged, when given.
    public var tools: [String]?
    /// How long one call may run (default: router.timeout).
    public var timeout: ManifestDuration?
    /// Which of its calls become tasks (default: router.tasks).
    public var tasks: TaskMode?
    /// How long one of its calls may run as a task (default: router.task_timeout).
    public var taskTimeout: ManifestDuration?
    /// How long initialize and the first tools/list may take before the server is killed.
    public var startTimeout = ManifestDuration(seconds: 10, text: "10s")
    /// Run under bubblewrap, when given.
    public var sandbox: SandboxConfig?
    /// A remote server (`url:`) instead of a command.
    public var remote: RemoteServerConfig?
    /// `warn` (default): a changed tool definition is logged, traced and marked; `strict`: it is also
    /// blocked until `agenthub tools accept`.
    public var pin = "warn"
    public var location: SourceLocation
    /// Where `command` was written (what `agenthub check` points at when it cannot run).
    public var commandLocation: SourceLocation?
    static var keys: [String] { ManifestKeys.known("plugins.mcp.servers.*") }

    /// The separator between server and tool in a bridged tool name.
    public static let separator = "__"
    /// Tool names longer than this are cut by clients and LLM APIs.
    public static let maxToolNameLength = 64
}

/// A remote server's entry: `url:`, `transport:`, `protocol:` and `headers:` (values `${VAR}`-expanded, secrets).
public struct RemoteServerConfig: Codable, Sendable, Equatable {
    public var url: String
    public var transport = RemoteEndpoint.Transport.streamableHTTP
    public var revision = RemoteEndpoint.Revision.auto
    public var headers: [String: String] = [:]
    /// `auth: oauth`, with its optional configured client (`oauth:`).
    public var oauth: OAuthConfig?
    public var credentials = RemoteEndpoint.Credentials.shared
    static let keys = ["url", "transport", "protocol", "headers", "auth", "credentials", "oauth"]

    /// `plugins.mcp.servers.NAME.oauth`: a client registered by hand (else AgentHub registers one).
    public struct OAuthConfig: Codable, Sendable, Equatable {
        public var clientId: String?
        /// The variable holding the client's secret (its value is read at load, never written down).
        public var clientSecretEnv: String?
        public var clientSecret: String?
        public var scopes: [String] = []
        static let keys = ["client_id", "client_secret_env", "scopes"]
    }

    /// What the transport sets itself, and what HTTP forbids a client to choose.
    static let reservedHeaders: Set<String> = ["accept", "content-type", "content-length", "host", "connection", "transfer-encoding",
                                               "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name", "last-event-id",
                                               "upgrade", "te", "trailer", "keep-alive", "expect"]

    /// Why `name` cannot be a header of its own, or nil.
    static func headerProblem(_ name: String) -> String? {
        let token = name.utf8.allSatisfy { byte in
            (0x21...0x7E).contains(byte) && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
        }
        guard !name.isEmpty, token else { return "is not an HTTP header name" }
        if reservedHeaders.contains(name.lowercased()) { return "is set by the transport itself" }
        return nil
    }
}

/// `plugins.mcp.servers.NAME.sandbox`: the server runs under bubblewrap with a private view of the
/// machine (README: Sandboxed servers).
public struct SandboxConfig: Codable, Sendable, Equatable {
    public var network = SandboxNetwork.none
    /// More paths it may read, and paths it may write (absolute, resolved against the manifest).
    public var read: [String] = []
    public var write: [String] = []
    public var location: SourceLocation
    static var keys: [String] { ManifestKeys.known("plugins.mcp.servers.*.sandbox") }
}

/// What network a sandboxed server has.
public enum SandboxNetwork: String, Codable, Sendable, CaseIterable {
    /// A network namespace of its own: its own loopback, no route to the host's or anyone's addresses.
    case none
    /// The host's network.
    case full
}
