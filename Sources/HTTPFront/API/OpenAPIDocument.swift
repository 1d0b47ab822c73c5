import Base
import Core

/// `GET /v1/openapi.json`: the OpenAPI 3.1 document of every route. A test keeps its paths equal to
/// the router's, and schemathesis checks live answers against it.
enum OpenAPIDocument {
    static let text: String = document.jsonText

    static var document: JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "AgentHub API", "version": "1",
                "description": .string("""
                    Tools, skills, sources and events of an AgentHub host, and MCP over Streamable HTTP at /mcp. \
                    Every /v1 route but this document, and /mcp, needs an API key (agenthub keys create): \
                    Authorization: Bearer ah_…. A key stands for an agent declared in the manifest; its role decides \
                    what it sees. Errors are {"error": {"code", "message"}}.
                    """),
            ],
            "servers": [["url": "/"]],
            "security": [["bearer": []]],
            "paths": .object(paths),
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]], "schemas": .object(schemas)],
        ]
    }

    // MARK: - Paths

    static var paths: [String: JSONValue] {
        [
            "/health": ["get": op("Whether the process answers", open: true, ["200": json("Health")])],
            "/ready": ["get": op("Whether the host is ready (503 with the reasons while not)", open: true,
                                 ["200": json("Ready"), "503": json("Ready", "Not ready")])],
            "/metrics": ["get": op("Prometheus metrics", open: true, ["200": ["description": "Prometheus text", "content": ["text/plain": ["schema": ["type": "string"]]]]])],
            "/v1/openapi.json": ["get": op("This document", open: true, ["200": ["description": "OpenAPI 3.1", "content": ["application/json": ["schema": ["type": "object"]]]]])],
            "/v1/tools": ["get": op("The tools the key's role may call", ["200": json("ToolList")])],
            "/v1/tools/{name}/call": ["post": op("Calls a tool through the router (policy, validation, timeout, trace); with Prefer: respond-async, as a task (202, Location: /v1/tasks/{id})",
                                                 params: [path("name"), header("Prefer", "respond-async: run the call as a task")], body: "CallRequest", optionalBody: true,
                                                 ["200": json("CallResult"), "202": json("Task", "The call runs as a task: follow Location"), "400": error, "403": error,
                                                  "404": error, "409": error, "413": error, "429": error])],
            "/v1/tasks": ["get": op("Tasks (a key sees its agent's, an admin every agent's), newest first", params: [
                query("status", "working, input_required, completed, failed, cancelled or all", schema: ["enum": ["working", "input_required", "completed", "failed", "cancelled", "all"]]),
                query("limit", "1 to 1000 (default 200)", schema: ["type": "integer", "minimum": 1, "maximum": 1000]),
            ], ["200": json("TaskList"), "400": error])],
            "/v1/tasks/{id}": ["get": op("One task: its status, and its result or error once it ended", params: [path("id")], ["200": json("Task"), "404": error])],
            "/v1/tasks/{id}/{action}": ["post": op("Cancels a running task, or retries one as a new task under today's policy (202, Location)",
                                                   params: [path("id"), ["name": "action", "in": "path", "required": true, "schema": ["enum": ["cancel", "retry"]]]],
                                                   ["200": json("Task"), "202": json("Task", "The retry runs as a new task: follow Location"), "403": error, "404": error, "409": error])],
            "/v1/skills": ["get": op("Skills the key's role may see, ranked by q when given", params: [
                query("q", "Full-text search"), query("source", "Only this source"),
                query("limit", "1 to 200 (default 50)", schema: ["type": "integer", "minimum": 1, "maximum": 200]),
                query("cursor", "next_cursor of the previous page (opaque; any other value is 400)"),
                header("If-None-Match", "An ETag from a previous answer"),
            ], ["200": json("SkillList", etag: true), "304": notModified, "400": error])],
            "/v1/skills/{name}": ["get": op("One skill: its fields, instructions and file listing", params: [path("name"), header("If-None-Match", "An ETag")],
                                            ["200": json("SkillDetail", etag: true), "304": notModified, "404": error])],
            "/v1/skills/{name}/files/{path}": ["get": op("One file of a skill, as stored at the synced revision",
                                                         params: [path("name"), path("path"), header("If-None-Match", "An ETag")],
                                                         ["200": ["description": "The file, as a download that a browser never runs (active types as text/plain)",
                                                                  "headers": ["ETag": ["schema": ["type": "string"]], "Content-Disposition": ["schema": ["type": "string"]],
                                                                              "X-Content-Type-Options": ["schema": ["type": "string"]], "Content-Security-Policy": ["schema": ["type": "string"]]],
                                                                  "content": ["text/*": ["schema": ["type": "string"]], "application/*": ["schema": ["type": "string"]]]],
                                                          "304": notModified, "400": error, "404": error])],
            "/v1/skills/{source}/{name}": ["get": op("One skill of one source as the Skills extension describes it (skills/get): its frontmatter as written and every file with its sha256 digest and size; a shadowed copy too",
                                                     params: [path("source"), path("name"), header("If-None-Match", "An ETag")],
                                                     ["200": json("SkillEntry", etag: true), "304": notModified, "404": error])],
            "/v1/skills/{source}/{name}/files/{path}": ["get": op("One file of one source's skill: exactly the bytes its digest covers, the digest as a strong ETag",
                                                                  params: [path("source"), path("name"), path("path"), header("If-None-Match", "An ETag")],
                                                                  ["200": ["description": "The file's bytes, as a download that a browser never runs (active types as text/plain)",
                                                                           "headers": ["ETag": ["schema": ["type": "string"]], "Content-Disposition": ["schema": ["type": "string"]],
                                                                                       "X-Content-Type-Options": ["schema": ["type": "string"]], "Content-Security-Policy": ["schema": ["type": "string"]]],
                                                                           "content": ["text/*": ["schema": ["type": "string"]], "application/*": ["schema": ["type": "string", "format": "binary"]],
                                                                                       "image/*": ["schema": ["type": "string", "format": "binary"]]]],
                                                                   "304": notModified, "400": error, "404": error])],
            "/v1/sources": ["get": op("The manifest's sources and their sync state", ["200": json("SourceList")])],
            "/v1/sources/{name}/sync": ["post": op("Starts a sync of the source (admin); 202 with the run id, or 200 when it waited",
                                                   params: [path("name"), query("wait", "true: answer when the sync ends", schema: ["type": "boolean"])],
                                                   ["200": json("SyncDone"), "202": json("SyncStarted"), "400": error, "403": error, "404": error, "409": error])],
            "/v1/sources/{name}/runs/{id}": ["get": op("A sync started over HTTP", params: [path("name"), path("id")], ["200": json("SyncRun"), "404": error])],
            "/v1/reload": ["post": op("Reloads the manifest (admin); 422 when it is rejected and the last good one stays",
                                      ["200": json("ReloadResult"), "403": error, "422": json("ReloadResult", "Rejected")])],
            "/v1/events": [
                "get": op("A page of events in id order (a key sees its own agent's; an admin every agent's)", params: [
                    query("after", "Events after this id", schema: eventId),
                    query("limit", "1 to 1000 (default 100)", schema: ["type": "integer", "minimum": 1, "maximum": 1000]),
                    query("session", "Only this session"), query("agent", "Only this agent (another agent's: admin only)"),
                    query("type", "Only these types, comma-separated"),
                ], ["200": json("EventPage"), "400": error, "403": error]),
                "post": op("Reports the agent's own events: one or an array of up to 1000", body: "ReportedEvents",
                           ["201": json("IngestResult"), "400": error, "409": error, "413": error, "429": error, "503": error]),
            ],
            "/v1/events/stream": ["get": op("Server-Sent Events: backfill after `after` (or Last-Event-ID), then live; `id:` on every event",
                                            params: [query("after", "Events after this id", schema: eventId),
                                                     header("Last-Event-ID", "Resume after this id", schema: ["type": "string", "pattern": "^ *[0-9]* *$"]),
                                                     query("session", "Only this session"), query("agent", "Only this agent (admin)"), query("type", "Only these types")],
                                            ["200": ["description": "An event stream", "content": ["text/event-stream": ["schema": sse("Event")]]],
                                             "400": error, "403": error, "503": error])],
            "/v1/hosts": ["get": op("The hosts on this registry (admin), running or gone: each one's revision, last reload and heartbeat; on PostgreSQL every machine's, gone once it misses six heartbeats",
                                    ["200": json("HostList"), "403": error])],
            "/v1/agents": ["get": op("Agents with their reported state and model and when last seen (an admin sees all, others themselves)",
                                     ["200": json("AgentList")])],
            "/v1/approvals": ["get": op("Approval requests (pending unless status says; an admin sees every agent's, others their own)",
                                        params: [query("status", "pending (default), granted, denied, expired, withdrawn or all",
                                                       schema: ["enum": ["pending", "granted", "denied", "expired", "withdrawn", "all"]]),
                                                 query("limit", "Requests per page, 1 to 1000 (default 200)", schema: ["type": "integer", "minimum": 1, "maximum": 1000]),
                                                 query("before", "The next page: requests older than this id (next_before of the page before)")],
                                        ["200": json("ApprovalList"), "400": error])],
            "/v1/approvals/{id}": ["get": op("One approval request", params: [path("id")], ["200": json("Approval"), "404": error])],
            "/v1/approvals/{id}/{answer}": ["post": op("Answers a pending request (admin): approve (for the call, the session, or the agent for a duration) or deny; the first answer wins",
                                                       params: [path("id"), ["name": "answer", "in": "path", "required": true, "schema": ["enum": ["approve", "deny"]]]],
                                                       body: "ApprovalAnswer", optionalBody: true,
                                                       ["200": json("ApprovalDecided"), "400": error, "403": error, "404": error, "409": error, "413": error, "503": error])],
            "/v1/approvals/grants": ["get": op("Active lasting grants (an admin sees every agent's)", ["200": json("GrantList")])],
            "/v1/approvals/grants/{id}": ["delete": op("Revokes a grant (admin): the next call it covered is asked again",
                                                       params: [path("id")], ["200": json("Grant"), "403": error, "404": error])],
            "/mcp": [
                "post": op("MCP over Streamable HTTP: one JSON-RPC message (initialize opens a session)", params: [header("Mcp-Session-Id", "The session"),
                           header("MCP-Protocol-Version", "The negotiated version")], body: "JSONRPCMessage",
                           ["200": ["description": "The answer, as JSON or an event stream",
                                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/JSONRPCMessage"]], "text/event-stream": ["schema": sse("JSONRPCMessage")]]],
                            "202": ["description": "A notification or response was accepted"],
                            "400": rpcError, "404": rpcError, "406": error, "413": error, "415": error, "503": error]),
                "get": op("The session's stream of server messages (list_changed)", params: [sessionHeader],
                          ["200": ["description": "An event stream", "content": ["text/event-stream": ["schema": sse("JSONRPCMessage")]]],
                           "400": rpcError, "404": rpcError, "406": error, "409": error, "503": error]),
                "delete": op("Ends the session", params: [sessionHeader], ["204": ["description": "Ended"], "400": rpcError, "404": rpcError]),
            ],
        ]
    }

    static func op(_ summary: String, open: Bool = false, params: [JSONValue] = [], body: String? = nil, optionalBody: Bool = false,
                   _ responses: [String: JSONValue]) -> JSONValue {
        var all = responses
        var o: [String: JSONValue] = ["summary": .string(summary)]
        if open {
            o["security"] = []
        } else {
            all["401"] = all["401"] ?? ["description": "No key, or a bad, expired or revoked one",
                                        "headers": ["WWW-Authenticate": ["schema": ["type": "string"]]],
                                        "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
            all["403"] = all["403"] ?? error
            all["429"] = ["description": "Over the key's rate (http.rate_limit)", "headers": ["Retry-After": ["schema": ["type": "integer"]]],
                          "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        }
        o["responses"] = .object(all)
        if !params.isEmpty { o["parameters"] = .array(params) }
        if let body {
            o["requestBody"] = ["required": .bool(!optionalBody), "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(body)")]]]]
        }
        return .object(o)
    }

    static func json(_ schema: String, _ description: String = "OK", etag: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = ["description": .string(description),
                                      "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]]]
        if etag { o["headers"] = ["ETag": ["schema": ["type": "string"]]] }
        return .object(o)
    }

    static let eventId: JSONValue = ["type": "integer", "minimum": 0, "maximum": .int(Int(Int64.max))]
    static let sessionHeader: JSONValue = ["name": "Mcp-Session-Id", "in": "header", "required": true, "description": "The session initialize opened",
                                           "schema": ["type": "string", "minLength": 1]]
    static let error: JSONValue = ["description": "An error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
    static let rpcError: JSONValue = ["description": "A JSON-RPC error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/JSONRPCMessage"]]]]
    static let notModified: JSONValue = ["description": "Not modified since the ETag given", "headers": ["ETag": ["schema": ["type": "string"]]]]

    /// One Server-Sent Event whose data is JSON of `schema`.
    static func sse(_ schema: String) -> JSONValue {
        ["type": "object", "required": ["data"], "properties": [
            "event": ["type": "string"], "id": ["type": "string"], "retry": ["type": "integer"],
            "data": ["type": "string", "contentMediaType": "application/json", "contentSchema": ref(schema)],
        ]]
    }

    static func path(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string", "minLength": 1]]
    }

    static func query(_ name: String, _ description: String, schema: JSONValue = ["type": "string"]) -> JSONValue {
        ["name": .string(name), "in": "query", "required": false, "description": .string(description), "schema": schema]
    }

    static func header(_ name: String, _ description: String, schema: JSONValue = ["type": "string"]) -> JSONValue {
        ["name": .string(name), "in": "header", "required": false, "description": .string(description), "schema": schema]
    }

    // MARK: - Schemas

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }
    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let nullableString: JSONValue = ["type": ["string", "null"]]

    /// A caller-given name: 1 to `max` bytes, no control characters.
    static func text(_ max: Int) -> JSONValue {
        ["type": "string", "minLength": 1, "maxLength": .int(max), "pattern": "^[^\\u0000-\\u001f]*$"]
    }

    /// `schema`, or null (treated as absent).
    static func nullable(_ schema: JSONValue) -> JSONValue { ["anyOf": [schema, ["type": "null"]]] }

    static var schemas: [String: JSONValue] {
        [
            "Error": object(["error": object(["code": string, "message": string], required: ["code", "message"])], required: ["error"]),
            "Health": object(["status": string, "revision": string, "uptime_seconds": integer], required: ["status", "revision"]),
            "Ready": object(["ready": boolean, "reasons": array(string), "revision": string, "last_reload": ["type": "object"]], required: ["ready", "reasons"]),
            "Tool": object(["name": string, "description": string, "inputSchema": ["type": "object"], "decision": ["enum": ["allow", "ask"]]],
                           required: ["name", "inputSchema", "decision"]),
            "ToolList": object(["tools": array(ref("Tool"))], required: ["tools"]),
            "CallRequest": ["type": "object", "additionalProperties": false,
                            "properties": ["arguments": ["type": ["object", "null"]], "session": ["type": "string", "minLength": 1, "maxLength": 256]]],
            "CallResult": object(["content": array(["type": "object"]), "structuredContent": ["type": "object"], "isError": boolean, "span_id": string],
                                 required: ["content", "isError"]),
            "Skill": object(["name": string, "source": string, "description": string, "path": string, "revision": string, "strict": boolean,
                             "loadable": boolean, "shadowed": boolean, "license": string, "compatibility": string, "allowed_tools": string, "metadata": ["type": "object"]],
                            required: ["name", "source", "description", "revision"]),
            "SkillDetail": ["allOf": [ref("Skill"), object(["instructions": string, "files": array(object([
                "path": string, "kind": string, "size": integer, "binary": boolean, "link_target": string,
            ], required: ["path", "kind", "size"]))], required: ["instructions", "files"])]],
            "SkillList": object(["skills": array(ref("Skill")), "next_cursor": string], required: ["skills"]),
            "SkillEntry": object(["uri": string, "frontmatter": ["type": "object", "required": ["name", "description"]],
                                  "resources": array(object(["uri": string, "digest": ["type": "string", "pattern": "^sha256:[0-9a-f]{64}$"], "size": integer],
                                                            required: ["uri", "digest", "size"])),
                                  "_meta": ["type": "object"]],
                                 required: ["uri", "frontmatter", "resources"]),
            "Source": object(["name": string, "kind": string, "location": string,
                              "status": ["enum": .array(SourceReport.statusNames.map { .string($0) })],
                              "failure_kind": nullableString, "status_reason": nullableString,
                              "revision": nullableString, "commit": nullableString, "skills": integer, "strict": integer, "shadowed": integer,
                              "tombstoned": integer, "consecutive_failures": integer,
                              "last_attempt_at": nullableString, "last_success_at": nullableString, "next_attempt_at": nullableString],
                             required: ["name", "kind", "status"]),
            "SourceList": object(["sources": array(ref("Source"))], required: ["sources"]),
            "SyncStarted": object(["run_id": string, "source": string, "status": string, "status_url": string], required: ["run_id", "source", "status"]),
            "SyncDone": object(["run_id": string, "source": string, "status": string, "result": ["type": ["object", "null"]]], required: ["run_id", "source", "status"]),
            "SyncRun": object(["source": string, "status": ["enum": ["running", "done"]], "started_at": string, "result": ["type": ["object", "null"]]],
                              required: ["source", "status"]),
            "ReloadResult": object(["result": ["enum": ["applied", "unchanged", "rejected"]], "revision": string, "previous": string, "message": string,
                                    "errors": array(string), "notes": array(string)], required: ["result", "revision", "message", "errors"]),
            "Event": object(["id": integer, "at": string, "type": string, "session": string, "span_id": string, "agent": string, "tool": string,
                             "role": string, "group": string, "decision": string, "duration_ms": ["type": "number"], "argument_bytes": integer,
                             "result_bytes": integer, "detail": [:], "revision": string, "trace_id": string,
                             "state": string, "client_ts": string],
                            required: ["id", "at", "type", "session", "span_id", "agent", "tool"]),
            "EventPage": object(["events": array(ref("Event")), "next_after": integer], required: ["events", "next_after"]),
            "ReportedEvent": ["type": "object", "additionalProperties": false, "required": ["type", "session_id"], "properties": [
                "type": ["enum": .array(HTTPAPI.reportedTypes.map { .string($0) })],
                "session_id": text(256),
                "trace_id": nullable(text(64)),
                "span_id": nullable(text(64)),
                "tool": nullable(text(256)),
                "state": ["enum": .array((HTTPAPI.agentStates.map { .string($0) }) + [.null])],
                "client_ts": nullable(["type": "string", "format": "date-time"]),
                "payload": ["type": ["object", "null"], "description": "For model.switch: {\"model\": NAME}"],
            ],
            // A model switch names the model.
            "if": ["properties": ["type": ["const": "model.switch"]], "required": ["type"]],
            "then": ["required": ["payload"], "properties": ["payload": ["type": "object", "required": ["model"], "properties": ["model": ["type": "string"]]]]]],
            "ReportedEvents": ["oneOf": [ref("ReportedEvent"), ["type": "array", "minItems": 1, "maxItems": 1000, "items": ref("ReportedEvent")]]],
            "IngestResult": object(["ids": array(integer), "count": integer], required: ["ids", "count"]),
            "Agent": object(["name": string, "declared": boolean, "role": nullableString, "group": nullableString, "admin": boolean,
                             "state": nullableString, "model": nullableString, "session": nullableString, "last_seen": nullableString],
                            required: ["name", "declared", "admin"]),
            "AgentList": object(["agents": array(ref("Agent"))], required: ["agents"]),
            "Host": object(["id": string, "state": ["enum": ["running", "gone"]], "pid": ["type": "integer"], "kind": string, "config": string, "started_at": string, "heartbeat_at": string,
                            "revision": string, "http": nullableString, "reloads": ["type": "integer"],
                            "last_reload": ["type": ["object", "null"]]],
                           required: ["id", "state", "pid", "kind", "revision", "heartbeat_at"]),
            "HostList": object(["hosts": array(ref("Host"))], required: ["hosts"]),
            "Task": object(["id": string, "tool": string, "agent": string, "session": string,
                            "status": ["enum": ["working", "input_required", "completed", "failed", "cancelled"]], "arguments": [:],
                            "arguments_complete": boolean, "created_at": string, "updated_at": string, "expires_at": string, "status_message": string,
                            "result": ["type": "object"], "error": ["type": "object"], "approval_id": string, "retry_of": string, "role": string, "group": string,
                            "cancel_requested": boolean],
                           required: ["id", "tool", "agent", "status", "created_at", "updated_at", "expires_at"]),
            "TaskList": object(["tasks": array(ref("Task"))], required: ["tasks"]),
            "Approval": object(["id": string, "tool": string, "arguments": [:], "agent": string, "role": nullableString, "group": nullableString,
                                "session": string, "span_id": string, "rule": string, "policy_reason": string, "revision": nullableString,
                                "created_at": string, "expires_at": string,
                                "status": ["enum": ["pending", "granted", "denied", "expired", "withdrawn"]],
                                "scope": ["enum": ["call", "session", "agent", .null]], "decided_at": nullableString, "decided_by": nullableString,
                                "decided_via": nullableString, "reason": nullableString,
                                "approvers": ["enum": ["any", "operator", "client"]], "client_scope": ["enum": ["call", "session", "agent"]],
                                "scopes": array(["enum": ["call", "session", "agent"]]), "used_at": nullableString],
                               required: ["id", "tool", "agent", "session", "rule", "created_at", "expires_at", "status"]),
            "ApprovalList": object(["approvals": array(ref("Approval")), "next_before": nullableString], required: ["approvals"]),
            "ApprovalAnswer": ["type": "object", "additionalProperties": false, "properties": [
                "scope": nullable(["enum": ["call", "session", "agent"]]), "duration": nullable(["type": "string", "description": "An agent grant's length, as 8h or 7d"]),
                "reason": nullable(["type": "string", "maxLength": 2000]),
            ]],
            "ApprovalDecided": ["allOf": [ref("Approval"), object(["grant": ["anyOf": [ref("Grant"), ["type": "null"]]]])]],
            "Grant": object(["id": string, "approval_id": string, "tool": string, "agent": string, "session": nullableString,
                             "scope": ["enum": ["session", "agent"]], "rule": string, "granted_by": string, "created_at": string,
                             "expires_at": nullableString, "status": ["enum": ["active", "expired", "revoked"]], "revoked_at": nullableString,
                             "revoked_by": nullableString, "revoke_reason": nullableString],
                            required: ["id", "approval_id", "tool", "agent", "scope", "rule", "granted_by", "created_at", "status"]),
            "GrantList": object(["grants": array(ref("Grant"))], required: ["grants"]),
            "JSONRPCMessage": ["type": "object", "required": ["jsonrpc"], "properties": [
                "jsonrpc": ["const": "2.0"], "id": ["type": ["string", "integer", "null"]], "method": ["type": "string"],
                "params": ["type": "object"], "result": ["type": "object"], "error": ["type": "object"],
            ], "anyOf": [["required": ["method"]], ["required": ["id", "result"]], ["required": ["id", "error"]]]],
        ]
    }
}
