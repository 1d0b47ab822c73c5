import Base
import Core
import Registry

/// `export`: `export_trace` pages through trace events by session or agent, by event id.
public struct ExportPlugin: ToolPlugin {
    /// `plugins.export`.
    public struct Settings: Sendable {
        /// The most events one page returns.
        public var maxLimit = 5000
        public init() {}
    }

    public let name = "export"
    let store: any EventStore
    let maxLimit: Int
    /// Runs before reading, so events still buffered by the trace recorder are included.
    let flush: @Sendable () async -> Void

    public init(store: any EventStore, settings: Settings = Settings(), flush: @escaping @Sendable () async -> Void = {}) {
        self.store = store
        self.maxLimit = settings.maxLimit
        self.flush = flush
    }

    public var tools: [ToolDescriptor] {
        [ToolDescriptor(
            name: "export_trace", title: "Export trace events",
            description: "Returns a page of your trace events (tool.called, tool.result, tool.failed, tool.blocked), by session, oldest first, as JSON or JSONL. Other agents' events need a rule that allows export_trace_all. Pass next_cursor back as since_event_id for the next page.",
            inputSchema: Schema.object([
                "session_id": Schema.string("Only this session's events.", minLength: 1, maxLength: 200),
                "agent": Schema.string("Only this agent's events.", minLength: 1, maxLength: 200),
                "since_event_id": Schema.integer("Only events after this id (a previous page's next_cursor).", minimum: 0),
                "limit": Schema.integer("Events per page (1 to \(maxLimit), default 500).", minimum: 1, maximum: maxLimit),
                "types": Schema.array(Schema.string("An event type.", enum: ["tool.called", "tool.result", "tool.failed", "tool.blocked"]), "Only these event types.", maxItems: 4),
                "format": Schema.string("json (default) or jsonl.", enum: ["json", "jsonl"]),
            ]),
            outputSchema: Schema.object([
                "events": Schema.array(["type": "object"], "The events (json format)."),
                "count": Schema.integer("Events in this page.", minimum: 0),
                "next_cursor": ["type": ["integer", "null"], "description": "since_event_id for the next page; null when this page is the last."],
                "format": Schema.string("json or jsonl.", enum: ["json", "jsonl"]),
            ], required: ["count", "next_cursor", "format"]),
            annotations: .readOnly)]
    }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        guard tool == "export_trace" else { throw ToolError(.notFound, "export has no tool '\(tool)'") }
        let args = ToolArguments(arguments)
        var query = TraceQuery()
        query.session = try args.optionalString("session_id")
        query.agent = try args.optionalString("agent")
        query.afterId = Int64(try args.optionalInt("since_event_id", in: 0...Int.max) ?? 0)
        query.limit = try args.optionalInt("limit", in: 1...maxLimit) ?? min(500, maxLimit)
        query.types = try args.optionalStrings("types") ?? []
        let format = try args.optionalString("format") ?? "json"
        // A caller reads its own events; other agents' traces (which hold their arguments) need a
        // rule that allows export_trace_all by that exact name.
        if !context.permissions.explicitlyAllows(CallerActions.exportTraceAll) {
            let own = TraceEvent.storedName(context.caller.agent)
            if let agent = query.agent, agent != context.caller.agent, agent != own {
                throw ToolError(.forbidden, "reading another agent's trace needs a policy rule that allows \(CallerActions.exportTraceAll) for this caller")
            }
            query.agent = own
        }
        await flush()
        try context.checkCancellation()
        let events = try await store.events(query)
        let next: JSONValue = events.count == query.limit ? .int(Int(events.last!.id)) : .null
        if format == "jsonl" {
            let text = events.map { $0.json.jsonText + "\n" }.joined()
            return .structured(["count": .int(events.count), "next_cursor": next, "format": "jsonl"], text: text)
        }
        let value: JSONValue = ["events": .array(events.map(\.json)), "count": .int(events.count), "next_cursor": next, "format": "json"]
        return .structured(value)
    }
}
