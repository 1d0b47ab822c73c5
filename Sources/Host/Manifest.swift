import Base
import Foundation
import Registry
import Plugins

/// `registry.yaml`, decoded and validated. Relative paths in it are relative to `directory`.
public struct Manifest: Sendable {
    public var version: Int = 1
    public var host = HostSettings()
    public var sync = SyncSettings()
    public var router = RouterSettings()
    public var mcp = MCPSettings()
    public var http = HTTPSettings()
    public var sources: [SourceConfig] = []
    public var policy = PolicyConfig()
    public var roles: [RoleConfig] = []
    public var groups: [GroupConfig] = []
    public var plugins = PluginsConfig()
    public var agents: [AgentConfig] = []
    /// The manifest file as it was named when loaded.
    public var file: String = "registry.yaml"
    /// The folder relative paths are resolved against (the manifest's folder).
    public var directory: String = "."
    /// Warnings found while loading (the manifest is still valid).
    public var warnings: [ManifestDiagnostic] = []

    static var keys: [String] { ManifestKeys.known("") }

    /// `path` resolved against the manifest's folder.
    public func resolve(_ path: String) -> String {
        PathText.resolve(path, against: directory, home: HostEnvironment.values["HOME"])
    }

    public func role(named name: String) -> RoleConfig? { roles.first { $0.name == name } }
    public func group(named name: String) -> GroupConfig? { groups.first { $0.name == name } }
    public func source(named name: String) -> SourceConfig? { sources.first { $0.name == name } }
}

/// `host:`: where the host keeps its state and listens.
public struct HostSettings: Codable, Sendable {
    public var database = ".agenthub/registry.db"
    public var cache = ".agenthub/cache"
    public var http = "127.0.0.1:8080"
    public var logLevel = "info"
    /// The variable holding the secret OAuth logins are sealed with (`HostSecret`).
    public var secretKeyEnv = HostSecret.environmentVariable
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    static var keys: [String] { ManifestKeys.known("host") }
}

/// `http:`: the limits of the HTTP API and of MCP over Streamable HTTP (`agenthub serve`).
public struct HTTPSettings: Codable, Sendable {
    /// A request body longer than this is refused with 413.
    public var maxBodyBytes = 1 << 20
    /// Requests per second each key may make (sustained); more get 429 with `Retry-After`.
    public var rateLimit = 100.0
    /// Requests a key may make at once above the sustained rate.
    public var rateBurst = 200
    /// Open event streams and MCP GET streams, over all keys; more get 503.
    public var maxStreams = 64
    /// Open MCP sessions, over all keys; an `initialize` beyond them gets 503.
    public var maxSessions = 256
    /// Streams one agent may hold open (its keys together), so one agent cannot take them all.
    public var maxStreamsPerAgent = 16
    /// MCP sessions one agent may hold open.
    public var maxSessionsPerAgent = 64
    /// An MCP session unused this long ends; its id then gets 404.
    public var sessionIdle = ManifestDuration(seconds: 600, text: "10m")
    /// A connection that sends nothing this long (a slow or stalled client) is closed.
    public var idleTimeout = ManifestDuration(seconds: 60, text: "60s")
    /// A keep-alive comment on an idle event stream this often.
    public var keepAlive = ManifestDuration(seconds: 15, text: "15s")
    /// Origins a browser may call from (besides the host's own address); others get 403.
    public var allowedOrigins: [String] = []
    /// Events per second one agent may report (`POST /v1/events`), sustained; more get 429.
    public var ingestRate = 500.0
    /// Events one agent may report at once above the sustained rate.
    public var ingestBurst = 10_000
    /// A request's headers and body must arrive within this; a slower client is answered 408 and closed.
    public var requestTimeout = ManifestDuration(seconds: 30, text: "30s")
    /// Connections one client address may hold open at once; more are closed at once.
    public var maxConnectionsPerAddress = 128
    /// Whether `/metrics` (no key) names tools in its labels; when false, tool labels read `(hidden)`.
    public var metricsToolNames = false
    static var keys: [String] { ManifestKeys.known("http") }
}

/// `sync:`: defaults for every source.
public struct SyncSettings: Codable, Sendable {
    public var interval = ManifestDuration(seconds: 900, text: "15m")
    public var timeout = ManifestDuration(seconds: 60, text: "60s")
    public var maxConcurrent = 4
    /// Fraction of the interval added at random so sources do not sync in lockstep.
    public var jitter = 0.1
    /// A publish that would remove more than this fraction of a source's skills is held (1 disables).
    public var maxVanished = 0.5
    /// The first retry after a failed sync waits this long; each further failure doubles it.
    public var backoff = ManifestDuration(seconds: 30, text: "30s")
    /// Retries never wait longer than this.
    public var maxBackoff = ManifestDuration(seconds: 3600, text: "1h")
    static var keys: [String] { ManifestKeys.known("sync") }
}

/// `router:`: limits on every tool call.
public struct RouterSettings: Codable, Sendable {
    /// A call that runs longer is cancelled and answered with a timeout error.
    public var timeout = ManifestDuration(seconds: 30, text: "30s")
    /// Calls running at once; more wait for a slot (within their timeout).
    public var maxConcurrent = 16
    /// Arguments recorded in traces are cut to this many bytes of JSON.
    public var maxTraceArgumentBytes = 4096
    /// Which calls become tasks for a client that declares the Tasks extension (a tool's descriptor,
    /// a bridged server's `tasks` and `taskTools` override it).
    public var tasks = TaskMode.auto
    /// Per tool (a name or glob; the most specific pattern wins): which of its calls become tasks,
    /// over every other setting.
    public var taskTools: [String: TaskMode] = [:]
    /// An `auto` call still running after this long becomes a task.
    public var taskAfter = ManifestDuration(seconds: 2, text: "2s")
    /// How long a task is kept after it was created.
    public var taskTTL = ManifestDuration(seconds: 3600, text: "1h")
    /// How long a task's call may run (a bridged server's `task_timeout` overrides it).
    public var taskTimeout = ManifestDuration(seconds: 3600, text: "1h")
    /// Tasks one agent may have running at once.
    public var maxTasksPerAgent = 100
    /// A task's result over this many bytes of JSON is not kept (the task says so).
    public var taskResultBytes = 1 << 20
    static var keys: [String] { ManifestKeys.known("router") }
}

/// `mcp:`: the MCP stdio front (`agenthub mcp`).
public struct MCPSettings: Codable, Sendable {
    /// A message line longer than this is answered with an error and dropped; the connection stays up.
    public var maxMessageBytes = 16 << 20
    /// Items per page of `tools/list`, `resources/list` and `prompts/list`.
    public var pageSize = 100
    static var keys: [String] { ManifestKeys.known("mcp") }
}

/// One entry of `sources:`.
public struct SourceConfig: Codable, Sendable {
    public enum Location: Codable, Sendable, Equatable {
        case path(String)
        case git(String)
        /// A bridged MCP server (`plugins.mcp.servers` entry) that publishes skills through the
        /// Skills extension.
        case mcp(String)
    }
    public enum GitRef: Codable, Sendable, Equatable {
        case branch(String), tag(String), semver(String), commit(String)
        static var keys: [String] { ManifestKeys.known("sources[].ref") }
    }

    public var name: String
    public var location: Location
    public var ref: GitRef?
    public var paths: [String] = []
    public var interval: ManifestDuration?
    public var timeout: ManifestDuration?
    public var includeHidden = false
    public var maxDepth = 6
    public var maxDirs = 10_000
    public var maxVanished: Double?
    /// For git sources: the environment variable that holds an access token (read at sync time).
    public var tokenEnv: String?
    /// For git sources: a file holding an access token, read again at every sync (rotation needs no restart).
    public var tokenFile: String?
    /// The user name sent with the token over HTTPS (default `x-access-token`), or the SSH user.
    public var username: String?
    /// For ssh URLs: the private key file (its `.pub` next to it is used when present).
    public var sshKey: String?
    /// For ssh URLs: the known_hosts file the server's key must be in (default ~/.ssh/known_hosts).
    public var knownHosts: String?
    /// Refuse an SSH host not in known_hosts (default true; a changed key is always refused).
    public var strictHostKeys = true
    /// For https URLs: a PEM file of certificate authorities to trust (a private CA).
    public var caFile: String?
    /// Keep serving what the source has, but do not sync it.
    public var suspend = false
    /// For `mcp` sources: the skills to take by URI (`skills/get`) instead of the server's `skills/list`.
    public var uris: [String] = []
    public var position: SourceLocation
    static var keys: [String] { ManifestKeys.known("sources[]") }
}

/// A decision of the policy engine.
public enum PolicyDecision: String, Codable, Sendable, CaseIterable {
    case allow, ask, deny
}

/// `policy:`.
public struct PolicyConfig: Codable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable { case enforce, permissive }
    public enum Risk: String, Codable, Sendable, CaseIterable { case low, medium, high }

    /// One rule: a decision for the tools matching its patterns, and where it was written.
    public struct Rule: Codable, Sendable {
        public var decision: PolicyDecision
        public var patterns: [String]
        public var location: SourceLocation
        /// An `ask` rule's `approvers:` (who may answer); `policy.approvers` when not given.
        public var approvers: ApprovalApprovers?
        /// An `ask` rule's `client_grants:` (the longest a client's answer may grant); `policy.client_grants` when not given.
        public var clientGrants: ApprovalScope?

        public init(decision: PolicyDecision, patterns: [String], location: SourceLocation,
                    approvers: ApprovalApprovers? = nil, clientGrants: ApprovalScope? = nil) {
            self.decision = decision
            self.patterns = patterns
            self.location = location
            self.approvers = approvers
            self.clientGrants = clientGrants
        }
    }
    public struct RiskRule: Codable, Sendable {
        public var pattern: String
        public var level: Risk
        public var location: SourceLocation
    }

    public var mode = Mode.enforce
    public var `default` = PolicyDecision.deny
    public var rules: [Rule] = []
    public var risk: [RiskRule] = []
    /// How long a call whose decision is `ask` waits for an answer before it ends as expired.
    public var approvalTimeout = ManifestDuration(seconds: 300, text: "5m")
    /// How long an agent grant lasts when the approver does not say.
    public var grantDuration = ManifestDuration(seconds: 3600, text: "1h")
    /// Who answers `ask` rules that do not say: `any` (the caller's client or an operator) unless set.
    /// A high-risk tool is answered by operators only, unless the rule that asks says otherwise.
    public var approvers: ApprovalApprovers = .any
    /// The longest a client's answer may grant when the rule does not say: one call.
    public var clientGrants: ApprovalScope = .call
    /// How many requests one agent may have pending at once; more are refused until some end.
    public var maxPending = 20
    static var keys: [String] { ManifestKeys.known("policy") }
}

/// One entry of `roles:`.
public struct RoleConfig: Codable, Sendable {
    public var name: String
    public var description: String?
    public var allow: [String] = []
    public var ask: [String] = []
    public var deny: [String] = []
    /// The allow/ask/deny entries as rules, one per pattern, each with where it was written.
    public var rules: [PolicyConfig.Rule] = []
    /// Which skills the role sees: `name` or `source/name` globs.
    public var skills: [String] = []
    public var skillLocations: [SourceLocation] = []
    public var location: SourceLocation
    static var keys: [String] { ManifestKeys.known("roles.*") }
}

/// One entry of `groups:`: roles that share a blackboard.
public struct GroupConfig: Codable, Sendable {
    public var name: String
    public var members: [String] = []
    public var lead: String?
    /// Where each member and the lead were written (for messages).
    public var memberLocations: [SourceLocation] = []
    public var leadLocation: SourceLocation?
    public var allow: [String] = []
    public var ask: [String] = []
    public var deny: [String] = []
    /// The allow/ask/deny entries as rules, one per pattern, each with where it was written.
    public var rules: [PolicyConfig.Rule] = []
    public var location: SourceLocation
    static var keys: [String] { ManifestKeys.known("groups.*") }
}

/// One entry of `agents:`: an identity an HTTP client proves with a key.
public struct AgentConfig: Codable, Sendable {
    public var name: String
    public var role: String
    public var group: String?
    /// The environment variable holding the agent's API key (read at runtime, never stored).
    public var keyEnv: String?
    /// Whether the agent may trigger syncs and reloads and see every agent's events over HTTP.
    public var admin = false
    public var location: SourceLocation
    public var roleLocation: SourceLocation?
    public var groupLocation: SourceLocation?
    static var keys: [String] { ManifestKeys.known("agents.*") }
}
