import Base
import Registry

/// `skills`: `skills_search` and `skills_get` over the registry, filtered by what the caller's role
/// may see (`roles.<role>.skills`). A hidden skill behaves exactly like a missing one.
public struct SkillsPlugin: ToolPlugin {
    public let name = "skills"
    let registry: RegistryDatabase

    public init(registry: RegistryDatabase) { self.registry = registry }

    public var tools: [ToolDescriptor] { SkillsTools.descriptors }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        let args = ToolArguments(arguments)
        switch tool {
        case "skills_search": return try search(args, context)
        case "skills_get": return try get(args, context)
        default: throw ToolError(.notFound, "skills has no tool '\(tool)'")
        }
    }

    func search(_ args: ToolArguments, _ context: ToolCallContext) throws -> ToolResult {
        let text = try args.string("query")
        let limit = try args.optionalInt("limit", in: 1...50) ?? 10
        var query = SkillQuery(text: text.allSatisfy(\.isWhitespace) ? nil : text)
        query.source = try args.optionalString("source")
        var visible: [SkillHit] = []
        // Filter after ranking: read pages until enough visible skills are found (or the registry ends).
        query.limit = max(limit * 4, 40)
        for page in 0..<25 {
            try context.checkCancellation()
            query.offset = page * query.limit
            let hits = try registry.skills(query)
            visible += hits.filter { context.permissions.canSeeSkill(name: $0.skill.name, source: $0.skill.source) }
            if visible.count >= limit || hits.count < query.limit { break }
        }
        visible = Array(visible.prefix(limit))
        let results: [JSONValue] = visible.map { hit in
            ["name": .string(hit.skill.name), "source": .string(hit.skill.source), "description": .string(hit.skill.description),
             "path": .string(hit.skill.path)]
        }
        let lines = visible.map { "\($0.skill.name) (\($0.skill.source)): \($0.skill.description)" }
        return .structured(["results": .array(results)], text: lines.isEmpty ? "No skills match '\(text)'." : lines.joined(separator: "\n"))
    }

    func get(_ args: ToolArguments, _ context: ToolCallContext) throws -> ToolResult {
        let name = try args.string("name")
        let source = try args.optionalString("source")
        let candidates = try registry.skills(named: name).filter {
            (source == nil || $0.source == source) && context.permissions.canSeeSkill(name: $0.name, source: $0.source)
        }
        guard let skill = candidates.first else { throw ToolError(.notFound, "no skill named '\(name)'") }
        let files = try registry.files(ofSkill: skill.id)
        if let path = try args.optionalString("path"), path != "SKILL.md" || files.contains(where: { $0.path == path }) {
            guard let file = files.first(where: { $0.path == path }) else {
                throw ToolError(.notFound, "skill '\(name)' has no file '\(path)'")
            }
            guard file.kind == .file else { throw ToolError(.unsupported, "'\(path)' in skill '\(name)' is a \(file.kind.rawValue), not a file") }
            guard let content = file.content else {
                throw ToolError(.unsupported, "'\(path)' in skill '\(name)' is \(file.isBinary ? "binary" : "not stored")\(file.note.map { ": \($0)" } ?? "")")
            }
            return .structured(["name": .string(skill.name), "source": .string(skill.source), "revision": .string(skill.revision),
                                "path": .string(path), "content": .string(content)], text: content)
        }
        let listing: [JSONValue] = files.map { ["path": .string($0.path), "kind": .string($0.kind.rawValue), "size": .int(Int($0.size))] }
        return .structured(["name": .string(skill.name), "source": .string(skill.source), "revision": .string(skill.revision),
                            "description": .string(skill.description), "body": .string(skill.body), "files": .array(listing)],
                           text: skill.body)
    }
}

enum SkillsTools {
    static let descriptors: [ToolDescriptor] = [
        ToolDescriptor(
            name: "skills_search", title: "Search skills",
            description: "Full-text search over the skills your role may use (name, description, instructions), best first.",
            inputSchema: Schema.object([
                "query": Schema.string("Words to look for.", maxLength: 1000),
                "source": Schema.string("Only skills from this source.", minLength: 1, maxLength: 200),
                "limit": Schema.integer("How many results (1 to 50, default 10).", minimum: 1, maximum: 50),
            ], required: ["query"]),
            outputSchema: Schema.object(["results": Schema.array(Schema.object([
                "name": Schema.string("Skill name."), "source": Schema.string("Source name."),
                "description": Schema.string("What the skill does."), "path": Schema.string("Folder in its source."),
            ], required: ["name", "source", "description", "path"]), "Best first.")], required: ["results"]),
            annotations: .readOnly),
        ToolDescriptor(
            name: "skills_get", title: "Get a skill",
            description: "Returns a skill's instructions (the SKILL.md body) and the list of its files, or with path, one file of the skill at its synced revision.",
            inputSchema: Schema.object([
                "name": Schema.string("The skill's name.", minLength: 1, maxLength: 200),
                "source": Schema.string("Pick the skill from this source (default: the one that serves the name).", minLength: 1, maxLength: 200),
                "path": Schema.string("A file of the skill, relative to its folder (like references/guide.md).", minLength: 1, maxLength: 4096),
            ], required: ["name"]),
            annotations: .readOnly),
    ]
}
