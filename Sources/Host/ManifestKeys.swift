import Base
import Plugins
import Registry

/// Every key of `registry.yaml`, in README order: the one table the decoder's known keys, the
/// settings sections' reading, the restart-only list, `registry.schema.json` and the README's
/// settings table come from.
public enum ManifestKeys {
    // MARK: Settings sections (read through the table)

    static let host = SettingsSection("host", defaults: HostSettings(), [
        .custom("database", .text, \.database, restartOnly: true,
                "SQLite registry file (WAL), relative to the manifest; `${VAR}` expands; created `0600` (with its WAL) in a `0700` folder, since it holds memories and traces. or a `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…` URL: several hosts on one PostgreSQL (README: Several hosts on PostgreSQL)") { r, node, path in
            guard let v = r.string(node, path, expand: true) else { return nil }
            if PostgresLocation.hasScheme(v) {
                // Checked here so `agenthub check` names the line; the message never repeats the URL (it may hold a password).
                do throws(RegistryError) {
                    _ = try PostgresLocation(url: v)
                } catch {
                    r.error(node, error.message)
                    return nil
                }
                return v
            }
            let name = PathText.lastComponent(v)
            guard !(v.isEmpty || v.hasSuffix("/") || name == "." || name == ".." || v.utf8.contains(0)) else {
                r.error(node, "\(path) must name a file, found '\(v)'")
                return nil
            }
            return v
        },
        .custom("cache", .text, \.cache, "bare git repositories of git sources; `${VAR}` expands") { r, node, path in
            guard let v = r.string(node, path, expand: true) else { return nil }
            guard !v.isEmpty, !v.utf8.contains(0) else {
                r.error(node, "\(path) must name a folder, found '\(v)'")
                return nil
            }
            return v
        },
        .custom("http", .text(pattern: "^[^:]+:[0-9]{1,5}$"), \.http, restartOnly: true,
                "HOST:PORT where `agenthub serve` listens (HTTP API, `/mcp`, health); loopback unless you say otherwise") { r, node, path in
            guard let v = r.string(node, path) else { return nil }
            let parts = v.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
                r.error(node, "\(path) must be HOST:PORT (like 127.0.0.1:8080), found '\(v)'")
                return nil
            }
            return v
        },
        .custom("secret_key_env", .text(pattern: "^[A-Za-z_][A-Za-z0-9_]*$"), \.secretKeyEnv,
                "the variable holding the secret that seals OAuth logins of remote servers (at least 32 characters, the same on every host of a shared database); unset: the `secret-key` file beside a SQLite database") { r, node, path in
            guard let v = r.string(node, path) else { return nil }
            guard EnvironmentExpansion.isVariableName(v) else {
                r.error(node, "\(path) must name an environment variable, found '\(v.utf8Prefix(80))'")
                return nil
            }
            return v
        },
        .custom("log_level", .choice(HostSettings.logLevels), \.logLevel,
                "what `agenthub serve` and `agenthub mcp` log (reloads, syncs, recoveries at info); one-shot commands log notices and worse; `--verbose` shows debug") { r, node, path in
            guard let v = r.string(node, path) else { return nil }
            guard HostSettings.logLevels.contains(v) else {
                r.error(node, "\(path) must be one of \(HostSettings.logLevels.joined(separator: ", ")), found '\(v)'")
                return nil
            }
            return v
        },
    ])

    static let sync = SettingsSection("sync", defaults: SyncSettings(), [
        .duration("interval", \.interval, "how often each source syncs"),
        .duration("timeout", \.timeout, "hard wall-clock deadline of one fetch"),
        .integer("max_concurrent", \.maxConcurrent, 1...64, restartOnly: true, "sources syncing at once"),
        .number("jitter", \.jitter, 0...1, restartOnly: true, "fraction of the interval (or backoff) added at random"),
        .number("max_vanished", \.maxVanished, 0...1,
                "a publish removing more than this fraction of a source's skills is held and the source marked `suspect`; `agenthub sync --accept-removals` publishes it anyway"),
        .duration("backoff", \.backoff, restartOnly: true, "wait before retrying a failed sync, doubled per consecutive failure"),
        .duration("max_backoff", \.maxBackoff, restartOnly: true, "the longest wait between retries"),
    ])

    static let router = SettingsSection("router", defaults: RouterSettings(), [
        .duration("timeout", \.timeout, "a tool call running longer is cancelled and answered with a timeout error"),
        .integer("max_concurrent", \.maxConcurrent, 1...4096, "tool calls at once; more wait for a slot (within their timeout), then get a \"busy\" error"),
        .integer("max_trace_argument_bytes", \.maxTraceArgumentBytes, 0...(1 << 20), "arguments stored in traces are cut to this many bytes (after redaction)"),
        .choice("tasks", \.tasks, "which calls become tasks for a client that declares the MCP Tasks extension: `always`, `auto` (those still running after `task_after`) or `never`"),
        .taskModes("task_tools", \.taskTools,
                    "per tool name or glob (`export_trace`, `github__*`; the most specific wins): `always`, `auto` or `never`, over the tool's own say, its bridged server's `tasks` and `tasks`"),
        .duration("task_after", \.taskAfter, "an `auto` call still running after this long is answered with a task"),
        .duration("task_ttl", \.taskTTL, "how long a task and its result are kept after it was created"),
        .duration("task_timeout", \.taskTimeout, "how long a task's call may run (instead of `timeout`)"),
        .integer("max_tasks_per_agent", \.maxTasksPerAgent, 1...100_000, "tasks one agent may have running; past it a call is refused with why"),
        .integer("task_result_bytes", \.taskResultBytes, 1024...(64 << 20), "a task result larger than this (JSON) is not kept; the task completes with an error saying so"),
    ])

    static let mcp = SettingsSection("mcp", defaults: MCPSettings(), [
        .integer("max_message_bytes", \.maxMessageBytes, 1024...(1 << 30), restartOnly: true,
                 "a longer line from an MCP client is answered with an error (with its id when the first 4 KiB show it) and dropped; the connection stays up"),
        .integer("page_size", \.pageSize, 1...1000, restartOnly: true, "items per page of `tools/list`, `resources/list` and `prompts/list` (then `nextCursor`)"),
    ])

    static let http = SettingsSection("http", defaults: HTTPSettings(), handRead: ["allowed_origins"], [
        .integer("max_body_bytes", \.maxBodyBytes, 1024...(1 << 30), "a longer request body gets 413"),
        .number("rate_limit", \.rateLimit, 0.1...1_000_000,
                "requests per second per key, sustained; more get 429 with `Retry-After`. Requests with no valid key spend a bucket of the same size per client address (guessing keys is throttled)"),
        .integer("rate_burst", \.rateBurst, 1...1_000_000, "requests a key may make at once above the rate"),
        .integer("max_streams", \.maxStreams, 0...100_000, "open event streams and MCP GET streams over all keys; more get 503"),
        .integer("max_sessions", \.maxSessions, 0...1_000_000, "open MCP sessions over all keys; an `initialize` beyond them gets 503"),
        .integer("max_streams_per_agent", \.maxStreamsPerAgent, 0...100_000, "streams one agent (all its keys) may hold open: it cannot take every stream of the host"),
        .integer("max_sessions_per_agent", \.maxSessionsPerAgent, 0...1_000_000, "MCP sessions one agent may hold open"),
        .duration("session_idle", \.sessionIdle, "an MCP session unused this long ends; its id then gets 404"),
        .duration("idle_timeout", \.idleTimeout, restartOnly: true, "a connection that sends nothing this long (a stalled client) is closed"),
        .duration("keep_alive", \.keepAlive, "a comment line on an idle event stream this often"),
        .number("ingest_rate", \.ingestRate, 0.1...1_000_000, "events per second one agent may report (`POST /v1/events`), sustained; more get 429 with `Retry-After`"),
        .integer("ingest_burst", \.ingestBurst, 1...1_000_000, "events one agent may report at once above the sustained rate"),
        .duration("request_timeout", \.requestTimeout, restartOnly: true,
                  "a request's headers and body must arrive within this of the connection opening or of the previous answer; a slower one is closed (slow-body floods)"),
        .integer("max_connections_per_address", \.maxConnectionsPerAddress, 1...1_000_000, restartOnly: true,
                 "connections one client address may hold open; more are closed as they open"),
        .boolean("metrics_tool_names", \.metricsToolNames, "`/metrics` answers without a key: tool labels read `(hidden)` unless this is `true`"),
    ])

    static let policy = SettingsSection("policy", defaults: PolicyConfig(), handRead: ["rules", "risk"], [
        .choice("mode", \.mode, "`enforce`, or `permissive`: decide and log, never block"),
        .choice("default", \.default, "the decision for tools no rule mentions"),
        .duration("approval_timeout", \.approvalTimeout, "how long a call whose decision is `ask` waits for an answer; then it ends as expired ([approvals](#approvals))"),
        .duration("grant_duration", \.grantDuration, "how long a lasting grant lasts when the approver gives no duration (a session grant also ends with its session)"),
        .choice("approvers", \.approvers,
                "who answers `ask` rules that do not say: `client` (the caller's own client, by MCP elicitation), `operator` (the CLI, an admin key, the console) or `any`. A **high-risk** tool is answered by operators only unless its rule says otherwise"),
        .choice("client_grants", \.clientGrants, "the longest grant a caller's client may give by answering; a longer choice is lowered to it"),
        .integer("max_pending", \.maxPending, 1...10_000, "approval requests one agent may have pending at once; more calls are refused (`approval_limit`) until some end"),
    ])

    static let file = SettingsSection("plugins.file", defaults: FilePlugin.Settings(roots: []), handRead: ["roots"], [
        .integer("max_bytes", \.maxBytes, 1...(1 << 30), "the most one read returns or one write accepts"),
        .boolean("allow_hard_links", \.allowHardLinks, "read files with more than one link in every root (a hard link can reach a file outside a root)"),
    ])

    static let memory = SettingsSection("plugins.memory", defaults: MemoryPlugin.Settings(), [
        .number("relevance_weight", \.relevanceWeight, 0...1, "weight of text relevance in a search's ranking (see [Memory](#memory))"),
        .number("importance_weight", \.importanceWeight, 0...1, "weight of a memory's importance"),
        .number("recency_weight", \.recencyWeight, 0...1, "weight of how recent a memory is"),
        .seconds("recency_half_life", \.recencyHalfLife, "age at which recency counts half"),
        .integer("max_text_bytes", \.maxTextBytes, 1...(16 << 20), "the longest memory text accepted"),
    ])

    static let export = SettingsSection("plugins.export", defaults: ExportPlugin.Settings(), [
        .integer("max_limit", \.maxLimit, 1...100_000, "the most events one `export_trace` page returns"),
    ])

    static let bridge = SettingsSection("plugins.mcp", defaults: MCPPluginConfig(), handRead: ["servers"], [
        .span("startup_wait", \.shared.startupWait, "a session's first `tools/list` waits this long for servers still starting"),
        .span("restart_delay", \.shared.restart.firstDelay, "the first restart delay; it doubles up to `max_restart_delay`"),
        .span("max_restart_delay", \.shared.restart.maxDelay, "the longest restart delay"),
        .integer("max_restarts", \.shared.restart.budget, 0...1000, "restarts in a row before a server is `failed`"),
        .span("failed_retry", \.shared.restart.failedRetry, "how often a failed server is tried again"),
        .span("stable_after", \.shared.restart.stableAfter, "a run this long resets the restart count ([bridge](#put-any-mcp-server-behind-agenthub))"),
    ])

    // MARK: Everything else (read by hand; here for the schema, the docs and the known keys)

    static let toolPatterns: JSONValue = ["$ref": "#/definitions/toolPatterns"]
    static let identifierNames: JSONValue = ["pattern": "^[A-Za-z0-9_-]+$"]
    static let variableName = "^[A-Za-z_][A-Za-z0-9_]*$"

    static let top: [ManifestKey] = [
        ManifestKey("version", .schema(["const": 1]), default: "required", "the manifest format: `1`"),
        ManifestKey("host", .section(), "where the host keeps its state and listens"),
        ManifestKey("sync", .section(), "defaults for every source's sync"),
        ManifestKey("router", .section(), "limits on every tool call"),
        ManifestKey("mcp", .section(), "the MCP stdio front (`agenthub mcp`)"),
        ManifestKey("http", .section(), "limits of the HTTP API and MCP over Streamable HTTP (`agenthub serve`)"),
    ]

    static let sources: [ManifestKey] = [
        ManifestKey("sources", .schema(["type": "array"]), "the skill sources, in order: the first that holds a name serves it"),
        ManifestKey("sources[]", .schema(["type": "object", "oneOf": [["required": ["path"]], ["required": ["git"]], ["required": ["mcp"]]]]),
                    "one source: `path`, `git` or `mcp`"),
        ManifestKey("sources[].name", .text(pattern: "^[a-z0-9][a-z0-9._-]*$"), default: "required", "lowercase letters, digits, `.`, `_`, `-`"),
        ManifestKey("sources[].path", .text, "a local folder of skills, relative to the manifest (this or `git`)"),
        ManifestKey("sources[].git", .text, "a repository URL; `${VAR}` expands (this or `path`)"),
        ManifestKey("sources[].mcp", .text, "a `plugins.mcp.servers` entry whose skills (the MCP Skills extension) this source takes"),
        ManifestKey("sources[].uris", .schema(["type": "array", "items": ["type": "string"]]), default: "the server's skills/list",
                    "for `mcp` sources: the skills to take, by the URI of each SKILL.md"),
        ManifestKey("sources[].ref", .schema(["type": "object", "minProperties": 1, "maxProperties": 1]), default: "remote HEAD",
                    "exactly one of `branch`, `tag`, `semver`, `commit`"),
        ManifestKey("sources[].ref.branch", .text, "a branch"),
        ManifestKey("sources[].ref.tag", .text, "a tag"),
        ManifestKey("sources[].ref.semver", .text, "the newest tag in a semver range (`>=1.2 <2`)"),
        ManifestKey("sources[].ref.commit", .text(pattern: "^[0-9a-fA-F]{7,40}$"), "a commit id (7 to 40 hex digits)"),
        ManifestKey("sources[].paths", .schema(["type": "array", "items": ["type": "string"]]), default: "all", "globs of skill folders (`skills/**`, `skills/*`)"),
        ManifestKey("sources[].interval", .duration, default: "`sync.interval`", "this source's sync interval"),
        ManifestKey("sources[].timeout", .duration, default: "`sync.timeout`", "this source's fetch deadline"),
        ManifestKey("sources[].include_hidden", .boolean, default: "false", value: false, "search dot-folders such as `.claude/skills`"),
        ManifestKey("sources[].max_depth", .integer(1...32), default: "6", value: 6, "skills deeper than this are skipped with a warning"),
        ManifestKey("sources[].max_dirs", .integer(1...10_000_000), default: "10000", value: 10_000,
                    "the folders searched for skills (a skill's own folder and everything in it never count); reaching it makes the sync fail as `truncated` without publishing or removing anything"),
        ManifestKey("sources[].max_vanished", .number(0...1), default: "`sync.max_vanished`", "this source's removal guard"),
        ManifestKey("sources[].token_env", .text(pattern: variableName), default: "none", "an environment variable holding a git access token"),
        ManifestKey("sources[].token_file", .text, default: "none", "a file holding a git access token, read again at every sync (rotation needs no restart)"),
        ManifestKey("sources[].username", .text, default: "x-access-token", "user sent with the token over HTTP(S), or the SSH user"),
        ManifestKey("sources[].ssh_key", .text, default: "none", "SSH private key file (`.pub` beside it used when present)"),
        ManifestKey("sources[].known_hosts", .text, default: "~/.ssh/known_hosts", "the known hosts for ssh URLs: the host key must be there (a changed key is always refused)"),
        ManifestKey("sources[].strict_host_keys", .boolean, default: "true", value: true, "refuse SSH hosts not in `known_hosts`"),
        ManifestKey("sources[].ca_file", .text, default: "system store", "PEM certificate authorities trusted for https"),
        ManifestKey("sources[].suspend", .boolean, default: "false", value: false, "keep serving the source's skills, stop syncing it"),
    ]

    static let policyRules: [ManifestKey] = [
        ManifestKey("policy.rules", .schema(["type": "array"]), default: "[]", "rules, each `{allow|ask|deny: [tool globs]}`; the most specific level decides ([policy](#policy))"),
        ManifestKey("policy.rules[]", .schema(["type": "object", "minProperties": 1, "maxProperties": 3,
                                               "oneOf": [["required": ["allow"]], ["required": ["ask"]], ["required": ["deny"]]]]), "one rule"),
        ManifestKey("policy.rules[].allow", .schema(toolPatterns), "tools this rule allows"),
        ManifestKey("policy.rules[].ask", .schema(toolPatterns), "tools that run only once approved"),
        ManifestKey("policy.rules[].deny", .schema(toolPatterns), "tools this rule denies"),
        ManifestKey("policy.rules[].approvers", .choice(ApprovalApprovers.allCases.map(\.rawValue)), default: "`policy.approvers`", "an ask rule's approvers"),
        ManifestKey("policy.rules[].client_grants", .choice(ApprovalScope.allCases.map(\.rawValue)), default: "`policy.client_grants`",
                    "an ask rule's longest grant from the caller's client"),
        ManifestKey("policy.risk", .schema(["type": "object", "additionalProperties": ["$ref": "#/definitions/risk"]]), default: "{}",
                    "`glob: low|medium|high`; high-risk tools need an allow by exact name"),
    ]

    static let rolesGroupsAgents: [ManifestKey] = [
        ManifestKey("roles", .schema(["type": "object", "propertyNames": identifierNames]), "what each role may call and see"),
        ManifestKey("roles.*.description", .text, "what the role is for"),
        ManifestKey("roles.*.allow", .schema(toolPatterns), "tools the role may call"),
        ManifestKey("roles.*.ask", .schema(toolPatterns), "tools the role may call once approved"),
        ManifestKey("roles.*.deny", .schema(toolPatterns), "tools the role may not call"),
        ManifestKey("roles.*.skills", .schema(["type": "array", "items": ["type": "string"]]), default: "none",
                    "`NAME` or `SOURCE/NAME` globs of the skills the role sees ([who sees which skill](#who-sees-which-skill))"),
        ManifestKey("groups", .schema(["type": "object", "propertyNames": identifierNames]), "teams of roles sharing a blackboard"),
        ManifestKey("groups.*.members", .schema(["type": "array", "items": ["type": "string"]]), default: "required", "role names"),
        ManifestKey("groups.*.lead", .text, "the member role that writes core memories to the blackboard"),
        ManifestKey("groups.*.allow", .schema(toolPatterns), "tools the group's members may call"),
        ManifestKey("groups.*.ask", .schema(toolPatterns), "tools they may call once approved"),
        ManifestKey("groups.*.deny", .schema(toolPatterns), "tools they may not call"),
        ManifestKey("agents", .schema(["type": "object"]), "the agents that hold keys"),
        ManifestKey("agents.*.role", .text, default: "required", "the agent's role"),
        ManifestKey("agents.*.group", .text, "the agent's group"),
        ManifestKey("agents.*.key_env", .text(pattern: variableName), "an environment variable holding a key for the agent"),
        ManifestKey("agents.*.admin", .boolean, default: "false", value: false, "may start syncs and reloads over HTTP, answer approvals and see every agent's events"),
    ]

    static let pluginsAndFile: [ManifestKey] = [
        ManifestKey("plugins", .section(), "the built-in plugins: one is enabled when its key is present"),
        ManifestKey("plugins.file", .section(), default: "off", "`read_file` and `list_files`, which never leave their roots"),
        ManifestKey("plugins.file.roots", .schema(["type": "array", "items": ["oneOf": [
            ["type": "string"],
            ["type": "object", "additionalProperties": false, "required": ["path"],
             "properties": ["path": ["type": "string"], "allow_hard_links": ["type": "boolean"]]],
        ]]]), default: "required",
                    "existing folders; relative paths are tried against each root in order; a root may be `{path: ./shared, allow_hard_links: true}`"),
    ]
    static let memoryPlugin = ManifestKey("plugins.memory", .section(nullable: true), default: "off", "`memory_write`, `memory_search`, `memory_get` and friends")
    static let exportPlugin = ManifestKey("plugins.export", .section(nullable: true), default: "off", "`export_trace`")
    static let skillsAndBridgePlugins: [ManifestKey] = [
        ManifestKey("plugins.skills", .section(nullable: true), default: "off", "`skills_search` and `skills_get`; `{}` enables"),
        ManifestKey("plugins.mcp", .section(nullable: true), default: "off", "other MCP servers behind the router"),
    ]
    static let bridgedServers: [ManifestKey] = [
        ManifestKey("plugins.mcp.servers", .schema(["type": "object", "propertyNames": ["pattern": "^[A-Za-z0-9_-]+$", "maxLength": 61]]),
                    "the bridged servers; tool names `NAME__tool` must fit 64 characters"),
        ManifestKey("plugins.mcp.servers.*.command", .text, default: "this or `url`", "the program to start (a local server over stdio)"),
        ManifestKey("plugins.mcp.servers.*.url", .schema(["type": "string", "pattern": "^https?://"]), default: "this or `command`",
                    "a remote MCP server's address (`${VAR}` expands; README: Remote servers)"),
        ManifestKey("plugins.mcp.servers.*.transport", .choice(RemoteEndpoint.Transport.allCases.map(\.rawValue)), default: "streamable_http", value: "streamable_http",
                    "a remote server's transport: `streamable_http`, or `sse` for the older HTTP+SSE one"),
        ManifestKey("plugins.mcp.servers.*.protocol", .choice(RemoteEndpoint.Revision.allCases.map(\.rawValue)), default: "auto", value: "auto",
                    "`auto`: 2026-07-28 when `server/discover` says the server speaks it, else the `initialize` handshake; `handshake`; `stateless`"),
        ManifestKey("plugins.mcp.servers.*.auth", .choice(["oauth"]), default: "none",
                    "`oauth`: calls carry a token from `agenthub servers login NAME` (README: Remote servers)"),
        ManifestKey("plugins.mcp.servers.*.credentials", .choice(RemoteEndpoint.Credentials.allCases.map(\.rawValue)), default: "shared", value: "shared",
                    "`shared`: one login for every agent; `per_agent`: each agent calls with its own (`servers login NAME --agent A`)"),
        ManifestKey("plugins.mcp.servers.*.oauth", .section(), default: "dynamic registration", "a client registered by hand with the server's authorization server"),
        ManifestKey("plugins.mcp.servers.*.oauth.client_id", .text, "its client id (`${VAR}` expands)"),
        ManifestKey("plugins.mcp.servers.*.oauth.client_secret_env", .text, "the variable that holds its secret, for a confidential client"),
        ManifestKey("plugins.mcp.servers.*.oauth.scopes", .schema(["type": "array", "items": ["type": "string"]]), default: "what the server lists",
                    "the scopes to ask for"),
        ManifestKey("plugins.mcp.servers.*.headers", .schema(["type": "object", "additionalProperties": ["type": "string"]]), default: "{}",
                    "headers every request to a remote server carries (`${VAR}` expands: a token stays out of the file; never logged)"),
        ManifestKey("plugins.mcp.servers.*.args", .schema(["type": "array", "items": ["type": "string"]]), "its arguments (`${VAR}` expands)"),
        ManifestKey("plugins.mcp.servers.*.env", .schema(["type": "object", "additionalProperties": ["type": "string"]]), default: "{}",
                    "its environment: `${VAR}` / `${VAR:-default}` expand; only `PATH`, `HOME` and locale are inherited"),
        ManifestKey("plugins.mcp.servers.*.cwd", .text, "an existing folder to start it in"),
        ManifestKey("plugins.mcp.servers.*.risk", .schema(["$ref": "#/definitions/risk"]), default: "medium", value: "medium", "the risk of its tools"),
        ManifestKey("plugins.mcp.servers.*.tools", .schema(["type": "array", "items": ["type": "string"]]), default: "all", "bridge only these tools"),
        ManifestKey("plugins.mcp.servers.*.timeout", .duration, default: "`router.timeout`", "how long one call may run"),
        ManifestKey("plugins.mcp.servers.*.tasks", .choice(TaskMode.allCases.map(\.rawValue)), default: "`router.tasks`",
                    "which of its calls become tasks for clients that declare the Tasks extension"),
        ManifestKey("plugins.mcp.servers.*.task_timeout", .duration, default: "`router.task_timeout`", "how long one of its calls may run as a task"),
        ManifestKey("plugins.mcp.servers.*.start_timeout", .duration, default: "10s", value: "10s", "how long `initialize` and the first `tools/list` may take"),
        ManifestKey("plugins.mcp.servers.*.pin", .choice(PinChoice.allCases.map(\.rawValue)), default: "warn", value: "warn",
                    "`strict`: a changed tool definition is blocked until `agenthub tools accept`"),
        ManifestKey("plugins.mcp.servers.*.sandbox", .section(), default: "off",
                    "run it under bubblewrap: its own files and the system's read-only, nothing else of the machine (README: Sandboxed servers)"),
        ManifestKey("plugins.mcp.servers.*.sandbox.network", .choice(SandboxNetwork.allCases.map(\.rawValue)), default: "none", value: "none",
                    "`none`: a network of its own with nothing on it; `full`: the host's network"),
        ManifestKey("plugins.mcp.servers.*.sandbox.read", .schema(["type": "array", "items": ["type": "string"]]), default: "[]",
                    "more files or folders it may read (relative to the manifest; `${VAR}` expands)"),
        ManifestKey("plugins.mcp.servers.*.sandbox.write", .schema(["type": "array", "items": ["type": "string"]]), default: "[]",
                    "files or folders it may write (relative to the manifest; `${VAR}` expands)"),
    ]
    static let allowedOrigins = ManifestKey("http.allowed_origins", .schema(["type": "array", "items": ["type": "string", "pattern": "^https?://"]]), default: "[]",
                                            "browser origins allowed besides the host's own address (any other `Origin` gets 403: DNS rebinding)")

    /// Every key, in the README's order.
    public static let all: [ManifestKey] = top
        + host.keys + sync.keys + router.keys + mcp.keys + http.keys + [allowedOrigins]
        + sources
        + [ManifestKey("policy", .section(), "who may call which tool ([policy](#policy))")] + policy.keys + policyRules
        + rolesGroupsAgents
        + pluginsAndFile + file.keys + [memoryPlugin] + memory.keys + [exportPlugin] + export.keys
        + skillsAndBridgePlugins + bridge.keys + bridgedServers

    /// The keys a mapping of the manifest takes (`""` the top, `sources[]`, `agents.*`).
    static func known(_ parent: String) -> [String] {
        all.filter { $0.parent == parent && !$0.isListItem }.map(\.name)
    }

    /// The keys of a mapping that are required.
    static func required(_ parent: String) -> [String] {
        all.filter { $0.parent == parent && $0.isRequired }.map(\.name)
    }
}
