import Base
import Foundation
import Registry

/// The memory tools' descriptors and the JSON shapes they return.
enum MemoryTools {
    static func publicId(_ id: Int64) -> String { "mem_\(id)" }

    static func parseId(_ text: String) -> Int64? {
        guard text.hasPrefix("mem_"), let id = Int64(text.dropFirst(4)), id > 0 else { return nil }
        return id
    }

    static func json(_ m: MemoryRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(publicId(m.id)), "type": .string(m.type.rawValue), "scope": .string(m.scope.rawValue),
            "text": .string(m.text), "importance": .double(m.importance),
            "created_at": .string(TraceEvent.timestamp(Date(timeIntervalSince1970: m.createdAt))),
            "agent": .string(m.agent),
        ]
        if !m.owner.isEmpty { o["owner"] = .string(m.owner) }
        if let metadata = JSONValue.parse(m.metadata) { o["metadata"] = metadata }
        return .object(o)
    }

    static let types = MemoryType.allCases.map(\.rawValue)
    static let scopes = MemoryScope.allCases.map(\.rawValue)
    static let id = Schema.string("The memory's id, as memory_write returned it (mem_42).", minLength: 1, maxLength: 40)

    static func descriptors(maxTextBytes: Int) -> [ToolDescriptor] {
        [
            ToolDescriptor(
                name: "memory_write", title: "Write a memory",
                description: "Stores a memory. Tiers: core (always-relevant facts), episodic (what happened), archival (reference). Scope agent (default) is private to you; role is shared with your role; group is your group's blackboard (core only by the group's lead); global needs an explicit policy rule.",
                inputSchema: Schema.object([
                    "type": Schema.string("The tier: core, episodic or archival.", enum: types),
                    "text": Schema.string("What to remember (up to \(maxTextBytes) bytes).", minLength: 1),
                    "metadata": ["type": "object", "description": "Free-form key/values to filter on later."],
                    "importance": Schema.number("0 to 1; more important memories rank higher (default 0.5).", minimum: 0, maximum: 1),
                    "scope": Schema.string("Who can read it: agent (default), role, group or global.", enum: scopes),
                ], required: ["type", "text"]),
                outputSchema: Schema.object(["id": Schema.string("The new memory's id."), "scope": Schema.string("Scope."), "type": Schema.string("Tier.")], required: ["id"]),
                annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: false),
                contentArguments: ["text", "metadata"]),
            ToolDescriptor(
                name: "memory_get", title: "Read a memory",
                description: "Returns one memory you can see, with its full text and metadata.",
                inputSchema: Schema.object(["id": id], required: ["id"]),
                annotations: .readOnly, runsInline: true),
            ToolDescriptor(
                name: "memory_search", title: "Search memories",
                description: "Full-text search over the memories you can see (yours, your role's, your group's blackboard, global), ranked by relevance, importance and recency. Snippets show the matching passage.",
                inputSchema: Schema.object([
                    "query": Schema.string("Words to look for; an exact phrase ranks highest.", minLength: 1, maxLength: 1000),
                    "top_k": Schema.integer("How many results (1 to 50, default 8).", minimum: 1, maximum: 50),
                    "filters": Schema.object([
                        "type": Schema.string("Only this tier.", enum: types),
                        "types": Schema.array(Schema.string("A tier.", enum: types), "Only these tiers.", maxItems: 3),
                        "scope": Schema.string("Only this scope.", enum: scopes),
                        "metadata": ["type": "object", "description": "Only memories whose metadata has these key/values.",
                                     "additionalProperties": ["type": ["string", "number", "boolean", "null"]]],
                    ]),
                ], required: ["query"]),
                outputSchema: Schema.object(["results": Schema.array(Schema.object([
                    "id": Schema.string("Memory id."), "type": Schema.string("Tier."), "scope": Schema.string("Scope."),
                    "snippet": Schema.string("The matching passage, matches in **bold**."),
                    "score": Schema.number("Combined score.", minimum: 0, maximum: 3),
                ], required: ["id", "type", "scope", "snippet", "score"]), "Best first.")], required: ["results"]),
                annotations: .readOnly),
            ToolDescriptor(
                name: "memory_delete", title: "Delete a memory",
                description: "Deletes a memory you are allowed to write (the same rules as memory_write).",
                inputSchema: Schema.object(["id": id], required: ["id"]),
                annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: false)),
        ]
    }
}
