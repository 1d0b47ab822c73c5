import Base
import Core
import Registry
import Foundation
import Plugins

extension MCPServer {
    /// The skill catalog decides what the role sees; this front only translates its answers.
    var catalog: SkillCatalog { SkillCatalog(store: registry) }

    /// The skills the caller is served, one per name (the serving copy, when the role may see it).
    func visibleSkills() async throws(JSONRPCError) -> [SkillRecord] {
        if isRevoked { return [] }
        let (host, caller) = current
        do { return try await catalog.servedSkills(as: host.router.permissions(caller)) } catch { throw .internalError(error.message) }
    }

    /// The skill `name` as the caller is served it, or nil (hidden and missing look the same).
    func visibleSkill(named name: String) async throws(JSONRPCError) -> SkillRecord? {
        if isRevoked { return nil }
        let (host, caller) = current
        do { return try await catalog.skill(named: name, as: host.router.permissions(caller)) } catch {
            if error.code == .notFound { return nil }
            throw .internalError(error.message)
        }
    }

    /// `resources/list`: each visible skill's SKILL.md as `skill://NAME`, then its files as `skill://NAME/PATH`.
    func listResources(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "resources/list")
        let skills = try await visibleSkills()
        let listings: [Int64: [SkillFileRecord]]
        do { listings = try await catalog.listings(of: skills) } catch { throw .internalError(error.message) }
        var resources: [JSONValue] = []
        for skill in skills {
            let files = listings[skill.id] ?? []
            var main: [String: JSONValue] = ["uri": .string(SkillURI(name: skill.name).text), "name": .string(skill.name),
                                             "title": .string("Skill \(skill.name)"), "description": .string(skill.description),
                                             "mimeType": "text/markdown"]
            if let size = files.first(where: { $0.path == skill.fileName })?.size { main["size"] = .int(Int(size)) }
            resources.append(.object(main))
            for file in files where file.kind == .file && file.path != skill.fileName {
                resources.append(["uri": .string(SkillURI(name: skill.name, path: file.path).text), "name": .string("\(skill.name)/\(file.path)"),
                                  "description": .string("\(file.path) of skill \(skill.name)"),
                                  "mimeType": .string(SkillURI.mimeType(file.path, binary: file.isBinary)), "size": .int(Int(file.size))])
            }
        }
        return try MCPProtocol.page("resources", resources, params: params, size: settings.pageSize)
    }

    func listResourceTemplates(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "resources/templates/list")
        let templates: [JSONValue] = [
            ["uriTemplate": "skill://{name}", "name": "skill", "title": "A skill's instructions",
             "description": "The SKILL.md of a skill your role may use.", "mimeType": "text/markdown"],
            ["uriTemplate": "skill://{name}/{+path}", "name": "skill-file", "title": "A file of a skill",
             "description": "One file of a skill (scripts/, references/, assets/), at its synced revision."],
        ]
        return try MCPProtocol.page("resourceTemplates", templates, params: params, size: settings.pageSize)
    }

    /// `resources/read`: a hidden skill is "not found", exactly like a missing one.
    func readResource(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "resources/read")
        let uri = try MCPProtocol.string(p, "uri", "resources/read")
        guard let parsed = SkillURI(uri) else {
            throw JSONRPCError(MCPProtocol.resourceNotFoundCode, "Resource not found: \(uri) (this server serves skill://NAME and skill://NAME/PATH)",
                               data: ["uri": .string(uri)])
        }
        func notFound(_ why: String) -> JSONRPCError {
            JSONRPCError(MCPProtocol.resourceNotFoundCode, "Resource not found: \(uri) (\(why))", data: ["uri": .string(uri)])
        }
        guard let skill = try await visibleSkill(named: parsed.name) else { throw notFound("no skill named '\(parsed.name)'") }
        let path = parsed.path ?? skill.fileName
        let text: String
        do { text = try await catalog.text(of: path, in: skill) } catch {
            if error.code == .notFound { throw notFound(error.message) }
            throw .internalError(error.message)
        }
        return ["contents": [["uri": .string(uri), "mimeType": .string(SkillURI.mimeType(path, binary: false)), "text": .string(text)]]]
    }

    /// `prompts/list`: one prompt per visible skill, named after it.
    func listPrompts(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "prompts/list")
        let prompts: [JSONValue] = try await visibleSkills().map { skill in
            ["name": .string(skill.name), "title": .string("Use skill \(skill.name)"), "description": .string(skill.description),
             "arguments": [["name": "task", "description": "What to do with the skill (optional).", "required": false]]]
        }
        return try MCPProtocol.page("prompts", prompts, params: params, size: settings.pageSize)
    }

    /// `prompts/get`: the skill's instructions as a user message, with its files named as resources.
    func getPrompt(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "prompts/get")
        let name = try MCPProtocol.string(p, "name", "prompts/get")
        var task: String?
        switch p["arguments"] {
        case nil, .null?: break
        case .object(let args)?:
            for (key, value) in args {
                guard key == "task" else { throw .invalidParams("prompts/get: prompt '\(name)' takes only \"task\", not \"\(key)\"") }
                guard case .string(let s) = value else { throw .invalidParams("prompts/get: \"task\" must be a string, got \(value.typeName)") }
                task = s
            }
        case let other?: throw .invalidParams("prompts/get: \"arguments\" must be an object of strings, got \(other.typeName)")
        }
        guard let skill = try await visibleSkill(named: name) else { throw .invalidParams("Unknown prompt: \(name)") }
        let files: [SkillFileRecord]
        do { files = try await catalog.listing(of: skill) } catch { throw .internalError(error.message) }
        var text = "Use the skill \"\(skill.name)\": \(skill.description)\n\n\(skill.body.trimmingCharacters(in: .whitespacesAndNewlines))\n"
        let others = files.filter { $0.kind == .file && $0.path != skill.fileName }
        if !others.isEmpty {
            text += "\nThe skill's files can be read as resources:\n"
            text += others.map { "- \(SkillURI(name: skill.name, path: $0.path).text)" }.joined(separator: "\n") + "\n"
        }
        if let task, !task.isEmpty { text += "\nTask: \(task)\n" }
        return ["description": .string(skill.description),
                "messages": [["role": "user", "content": ["type": "text", "text": .string(text)]]]]
    }
}
