import Base
import Foundation
import Core
import Registry

/// `memory`: `memory_write`, `memory_get`, `memory_search`, `memory_delete`. Memories live in the
/// registry (a `MemoryStore`: SQLite or PostgreSQL); scopes decide who reads and writes them (see
/// `MemoryAccess`).
public struct MemoryPlugin: ToolPlugin {
    public struct Settings: Sendable {
        public var relevanceWeight = 0.7
        public var importanceWeight = 0.2
        public var recencyWeight = 0.1
        public var recencyHalfLife: Double = 7 * 86400
        public var maxTextBytes = 64 * 1024
        public var maxMetadataBytes = 8 * 1024
        public init() {}
    }

    public let name = "memory"
    let store: any MemoryStore
    let settings: Settings
    let now: @Sendable () -> Double

    public init(store: any MemoryStore, settings: Settings = Settings(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.settings = settings
        self.now = now
    }

    public var tools: [ToolDescriptor] { MemoryTools.descriptors(maxTextBytes: settings.maxTextBytes) }

    public var blocksThreads: Bool { store.blocksThreads }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        let args = ToolArguments(arguments)
        let access = MemoryAccess(caller: context.caller, permissions: context.permissions)
        switch tool {
        case "memory_write": return try await write(args, access)
        case "memory_get": return try await get(args, access)
        case "memory_search":
            try context.checkCancellation()
            return try await search(args, access)
        case "memory_delete": return try await delete(args, access)
        default: throw ToolError(.notFound, "memory has no tool '\(tool)'")
        }
    }

    func write(_ args: ToolArguments, _ access: MemoryAccess) async throws -> ToolResult {
        let typeName = try args.string("type")
        guard let type = MemoryType(rawValue: typeName) else {
            throw ToolError(.invalidArguments, "type: expected core, episodic or archival, got '\(typeName)'")
        }
        let text = try args.string("text")
        if text.allSatisfy(\.isWhitespace) { throw ToolError(.invalidArguments, "text: must not be empty") }
        let bytes = text.utf8.count
        if bytes > settings.maxTextBytes {
            throw ToolError(.tooLarge, "text: \(bytes) bytes is over the limit of \(settings.maxTextBytes) (plugins.memory.max_text_bytes)")
        }
        let scopeName = try args.optionalString("scope") ?? "agent"
        guard let scope = MemoryScope(rawValue: scopeName) else {
            throw ToolError(.invalidArguments, "scope: expected agent, role, group or global, got '\(scopeName)'")
        }
        let importance = try args.optionalDouble("importance", in: 0...1) ?? 0.5
        var metadata: String?
        if let object = try args.optionalObject("metadata") {
            let json = JSONValue.object(object).jsonText
            if json.utf8.count > settings.maxMetadataBytes {
                throw ToolError(.tooLarge, "metadata: \(json.utf8.count) bytes of JSON is over the limit of \(settings.maxMetadataBytes)")
            }
            metadata = json
        }
        let owner = try access.owner(forWriting: scope, type: type)
        let record = MemoryRecord(type: type, scope: scope, owner: owner, text: text, metadata: metadata, importance: importance,
                                  createdAt: now(), agent: access.caller.agent, role: access.caller.role)
        let id = try await store.storeMemory(record)
        let value: JSONValue = ["id": .string(MemoryTools.publicId(id)), "scope": .string(scope.rawValue), "type": .string(type.rawValue)]
        return .structured(value)
    }

    func get(_ args: ToolArguments, _ access: MemoryAccess) async throws -> ToolResult {
        let memory = try await visibleMemory(args, access)
        return .structured(MemoryTools.json(memory), text: memory.text)
    }

    func delete(_ args: ToolArguments, _ access: MemoryAccess) async throws -> ToolResult {
        let memory = try await visibleMemory(args, access)
        try access.checkDelete(memory)
        _ = try await store.forgetMemory(id: memory.id)
        return .structured(["id": .string(MemoryTools.publicId(memory.id)), "deleted": true])
    }

    func search(_ args: ToolArguments, _ access: MemoryAccess) async throws -> ToolResult {
        let query = try args.string("query")
        if MemoryQuery.words(in: query).isEmpty { throw ToolError(.invalidArguments, "query: must contain at least one word") }
        var search = MemorySearch(text: query, visibility: access.visibility)
        search.limit = try args.optionalInt("top_k", in: 1...50) ?? 8
        search.relevanceWeight = settings.relevanceWeight
        search.importanceWeight = settings.importanceWeight
        search.recencyWeight = settings.recencyWeight
        search.recencyHalfLife = settings.recencyHalfLife
        search.now = now()
        if let filters = try args.optionalObject("filters") {
            let f = ToolArguments(filters)
            var types = try f.optionalStrings("types") ?? []
            if let one = try f.optionalString("type") { types.append(one) }
            for name in types {
                guard let t = MemoryType(rawValue: name) else {
                    throw ToolError(.invalidArguments, "filters.type: expected core, episodic or archival, got '\(name)'")
                }
                search.types.append(t)
            }
            if let scope = try f.optionalString("scope") {
                guard let s = MemoryScope(rawValue: scope) else {
                    throw ToolError(.invalidArguments, "filters.scope: expected agent, role, group or global, got '\(scope)'")
                }
                search.scope = s
            }
            for (key, value) in try f.optionalObject("metadata") ?? [:] {
                if key.contains("\"") || key.isEmpty { throw ToolError(.invalidArguments, "filters.metadata: '\(key)' is not a usable key") }
                search.metadata[key] = value
            }
        }
        let hits = try await store.findMemories(search)
        let results: [JSONValue] = hits.map { hit in
            ["id": .string(MemoryTools.publicId(hit.memory.id)), "type": .string(hit.memory.type.rawValue),
             "scope": .string(hit.memory.scope.rawValue), "snippet": .string(hit.snippet),
             "score": .double((hit.score * 10_000).rounded() / 10_000)]
        }
        let text = hits.isEmpty ? "No memories match '\(query)'." : hits.map { "\(MemoryTools.publicId($0.memory.id)) [\($0.memory.type.rawValue)/\($0.memory.scope.rawValue)] \($0.snippet)" }.joined(separator: "\n")
        return .structured(["results": .array(results)], text: text)
    }

    /// The memory named by `id`, if the caller may read it. An invisible memory is reported exactly
    /// like a missing one.
    func visibleMemory(_ args: ToolArguments, _ access: MemoryAccess) async throws -> MemoryRecord {
        let text = try args.string("id")
        guard let id = MemoryTools.parseId(text) else {
            throw ToolError(.invalidArguments, "id: '\(text)' is not a memory id (they look like mem_42)")
        }
        guard let memory = try await store.storedMemory(id: id), access.visibility.contains(memory) else {
            throw ToolError(.notFound, "no memory with id '\(text)'")
        }
        return memory
    }
}
