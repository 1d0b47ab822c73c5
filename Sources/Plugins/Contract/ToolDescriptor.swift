import Base

/// How dangerous a tool is. High-risk tools stay blocked unless a policy rule names them exactly.
public enum ToolRisk: String, Sendable, Codable, CaseIterable, Comparable {
    case low, medium, high

    public static func < (a: ToolRisk, b: ToolRisk) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// MCP tool annotations: hints for clients, never trusted for security decisions.
public struct ToolAnnotations: Sendable, Equatable, Codable {
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?

    public init(readOnly: Bool? = nil, destructive: Bool? = nil, idempotent: Bool? = nil, openWorld: Bool? = nil) {
        readOnlyHint = readOnly
        destructiveHint = destructive
        idempotentHint = idempotent
        openWorldHint = openWorld
    }

    public static let readOnly = ToolAnnotations(readOnly: true, destructive: false, idempotent: true, openWorld: false)

    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let v = readOnlyHint { o["readOnlyHint"] = .bool(v) }
        if let v = destructiveHint { o["destructiveHint"] = .bool(v) }
        if let v = idempotentHint { o["idempotentHint"] = .bool(v) }
        if let v = openWorldHint { o["openWorldHint"] = .bool(v) }
        return .object(o)
    }
}

/// Whether a tool's calls become tasks (for clients that declare the Tasks extension).
public enum TaskMode: String, Codable, Sendable, CaseIterable {
    /// Every call is a task.
    case always
    /// A call still running after `router.task_after` becomes a task; a quicker one is answered inline.
    case auto
    /// Calls are answered inline, as for clients without the extension.
    case never
}

/// What a tool is, as `tools/list` shows it: name, title, description, JSON Schemas, annotations, risk.
public struct ToolDescriptor: Sendable, Equatable {
    public var name: String
    public var title: String
    public var description: String
    /// A JSON Schema (2020-12) object schema for the arguments.
    public var inputSchema: JSONValue
    /// A JSON Schema for `structuredContent`, for tools whose result is structured.
    public var outputSchema: JSONValue?
    public var annotations: ToolAnnotations
    public var risk: ToolRisk
    /// Arguments that carry content the tool stores (a memory's text, a file's content): traces
    /// record their size and SHA-256, never the value.
    public var contentArguments: Set<String>
    /// How long a call may run before the router answers with a timeout and cancels it; nil means
    /// `router.timeout` (a bridged server's `timeout` sets it for its tools).
    public var timeout: Duration?
    /// A call bounded by one indexed read (`memory_get`): the router runs it on the caller's task,
    /// with no hand-off to the blocking executor and no race with its deadline (it cannot overrun
    /// it by much); a cancelled caller still cancels it. Everything else is handed off.
    public var runsInline: Bool
    /// Whether its calls become tasks for a client that declares the Tasks extension; nil means
    /// `router.tasks` (a bridged server's `tasks` and `router.task_tools` override it).
    public var tasks: TaskMode?

    public init(name: String, title: String, description: String, inputSchema: JSONValue,
                outputSchema: JSONValue? = nil, annotations: ToolAnnotations = .init(), risk: ToolRisk = .low,
                contentArguments: Set<String> = [], timeout: Duration? = nil, runsInline: Bool = false, tasks: TaskMode? = nil) {
        self.contentArguments = contentArguments
        self.tasks = tasks
        self.timeout = timeout
        self.runsInline = runsInline
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
        self.risk = risk
    }

    /// The descriptor as MCP's `tools/list` carries it.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "title": .string(title), "description": .string(description),
            "inputSchema": inputSchema, "annotations": annotations.json,
        ]
        if let outputSchema { o["outputSchema"] = outputSchema }
        return .object(o)
    }
}

/// Small builders that keep the plugins' schemas readable.
public enum Schema {
    public static func object(_ properties: [String: JSONValue], required: [String] = [], extra: [String: JSONValue] = [:]) -> JSONValue {
        var o: [String: JSONValue] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { o["required"] = .array(required.map(JSONValue.string)) }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    public static func string(_ description: String, minLength: Int? = nil, maxLength: Int? = nil, enum values: [String]? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "string", "description": .string(description)]
        if let minLength { o["minLength"] = .int(minLength) }
        if let maxLength { o["maxLength"] = .int(maxLength) }
        if let values { o["enum"] = .array(values.map(JSONValue.string)) }
        return .object(o)
    }

    public static func integer(_ description: String, minimum: Int? = nil, maximum: Int? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "integer", "description": .string(description)]
        if let minimum { o["minimum"] = .int(minimum) }
        if let maximum { o["maximum"] = .int(maximum) }
        return .object(o)
    }

    public static func number(_ description: String, minimum: Double, maximum: Double) -> JSONValue {
        ["type": "number", "description": .string(description), "minimum": .double(minimum), "maximum": .double(maximum)]
    }

    public static func boolean(_ description: String) -> JSONValue {
        ["type": "boolean", "description": .string(description)]
    }

    public static func array(_ items: JSONValue, _ description: String, maxItems: Int? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "array", "items": items, "description": .string(description)]
        if let maxItems { o["maxItems"] = .int(maxItems) }
        return .object(o)
    }
}
