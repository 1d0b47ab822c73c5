/// `plugins:`: a plugin is enabled when its key is present.
public struct PluginsConfig: Codable, Sendable {
    public var file: FilePluginConfig?
    public var memory: MemoryPluginConfig?
    public var export: ExportPluginConfig?
    public var skills: SkillsPluginConfig?
    public var mcp: MCPPluginConfig?
    static var keys: [String] { ManifestKeys.known("plugins") }
}

/// `plugins.file`: `read_file` and `list_files` never leave `roots`.
public struct FilePluginConfig: Codable, Sendable {
    public var roots: [String] = []
    /// Roots written as `{path, allow_hard_links: true}`: files with several links are read there.
    public var hardLinkRoots: [String] = []
    public var maxBytes = 1 << 20
    /// Hard links are read in every root.
    public var allowHardLinks = false
    static var keys: [String] { ManifestKeys.known("plugins.file") }
}

/// `plugins.memory`: ranking weights (relevance, importance, recency) and limits.
public struct MemoryPluginConfig: Codable, Sendable {
    public var relevanceWeight = 0.7
    public var importanceWeight = 0.2
    public var recencyWeight = 0.1
    public var recencyHalfLife = ManifestDuration(seconds: 7 * 86400, text: "7d")
    public var maxTextBytes = 64 * 1024
    static var keys: [String] { ManifestKeys.known("plugins.memory") }
}

public struct ExportPluginConfig: Codable, Sendable {
    public var maxLimit = 5000
    static var keys: [String] { ManifestKeys.known("plugins.export") }
}

public struct SkillsPluginConfig: Codable, Sendable {
    static var keys: [String] { ManifestKeys.known("plugins.skills") }
}

/// `plugins.mcp`: downstream MCP servers bridged over stdio.
public struct MCPPluginConfig: Codable, Sendable {
    public var servers: [MCPServerConfig] = []
    /// How long a session's first `tools/list` waits for servers still starting.
    public var startupWait = ManifestDuration(seconds: 2, text: "2s")
    /// The first restart delay; it doubles up to `max_restart_delay`.
    public var restartDelay = ManifestDuration(seconds: 1, text: "1s")
    public var maxRestartDelay = ManifestDuration(seconds: 30, text: "30s")
    /// Restarts in a row before a server is `failed` and retried only every `failed_retry`.
    public var maxRestarts = 5
    public var failedRetry = ManifestDuration(seconds: 300, text: "5m")
    /// A server that ran this long before it ended starts its restart count afresh.
    public var stableAfter = ManifestDuration(seconds: 60, text: "60s")
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
    /// How long initialize and the first tools/list may take before the server is killed.
    public var startTimeout = ManifestDuration(seconds: 10, text: "10s")
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
