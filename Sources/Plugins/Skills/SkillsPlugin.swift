import Base
import Core
import Registry

/// `skills`: `skills_search` and `skills_get` over the skill catalog, which decides what the
/// caller's role may see (`roles.<role>.skills`). A hidden skill behaves exactly like a missing one.
public struct SkillsPlugin: ToolPlugin {
    public let name = "skills"
    let catalog: SkillCatalog

    public init(registry: RegistryDatabase) { self.init(store: registry) }

    public init(store: any SkillStore) { self.catalog = SkillCatalog(store: store) }

    public var tools: [ToolDescriptor] { SkillsTools.descriptors }

    public func call(_ tool: String, arguments: [String: JSONValue], context: ToolCallContext) async throws -> ToolResult {
        let args = ToolArguments(arguments)
        do {
            switch tool {
            case "skills_search": return try await search(args, context)
            case "skills_get": return try await get(args, context)
            default: throw ToolError(.notFound, "skills has no tool '\(tool)'")
            }
        } catch let error as CoreError {
            throw ToolError(error.code == .notFound ? .notFound : error.code == .invalid ? .invalidArguments : .failed, error.message)
        }
    }

    func search(_ args: ToolArguments, _ context: ToolCallContext) async throws -> ToolResult {
        let text = try args.string("query")
        let limit = try args.optionalInt("limit", in: 1...50) ?? 10
        let request = SkillSearch(text: text, source: try args.optionalString("source"), limit: limit)
        try context.checkCancellation()
        let found = try await catalog.search(request, as: context.permissions).skills
        let lines = found.map { "\($0.name) (\($0.source)): \($0.description)" }
        return .structured(["results": .array(found.map(\.summaryJSON))],
                           text: lines.isEmpty ? "No skills match '\(text)'." : lines.joined(separator: "\n"))
    }

    func get(_ args: ToolArguments, _ context: ToolCallContext) async throws -> ToolResult {
        let name = try args.string("name")
        let skill = try await catalog.skill(named: name, source: try args.optionalString("source"), as: context.permissions)
        // `path: SKILL.md` of a skill whose file is spelled otherwise asks for its instructions.
        if let path = try args.optionalString("path"), path != "SKILL.md" || path == skill.fileName {
            let content = try await catalog.text(of: path, in: skill)
            return .structured(["name": .string(skill.name), "source": .string(skill.source), "revision": .string(skill.revision),
                                "path": .string(path), "content": .string(content)], text: content)
        }
        let listing = try await catalog.listing(of: skill)
        return .structured(["name": .string(skill.name), "source": .string(skill.source), "revision": .string(skill.revision),
                            "description": .string(skill.description), "body": .string(skill.body),
                            "files": .array(listing.map { ["path": .string($0.path), "kind": .string($0.kind.rawValue), "size": .int(Int($0.size))] })],
                           text: skill.body)
    }
}
