import Base
import Registry
import Foundation
import Plugins

extension MCPServer {
    /// The skills the caller may see, one per name: the serving copy, or the first copy in
    /// manifest order the role may see when the serving one is hidden from it.
    func visibleSkills() throws(JSONRPCError) -> [SkillRecord] {
        if isRevoked { return [] }
        let (host, caller) = current
        let permissions = host.router.permissions(caller)
        let all: [SkillRecord]
        do { all = try registry.servableSkills() } catch { throw .internalError("the registry could not list skills (\(error.code.rawValue))") }
        var seen = Set<String>()
        return all.filter { skill in
            guard !seen.contains(skill.name), permissions.canSeeSkill(name: skill.name, source: skill.source) else { return false }
            seen.insert(skill.name)
            return true
        }
    }

    func visibleSkill(named name: String) throws(JSONRPCError) -> SkillRecord? {
        if isRevoked { return nil }
        let (host, caller) = current
        let permissions = host.router.permissions(caller)
        do {
            return try registry.skills(named: name).first { permissions.canSeeSkill(name: $0.name, source: $0.source) }
        } catch { throw .internalError("the registry could not look up skill '\(name)' (\(error.code.rawValue))") }
    }

    /// `resources/list`: each visible skill's SKILL.md as `skill://NAME`, then its files as `skill://NAME/PATH`.
    func listResources(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "resources/list")
        let skills = try visibleSkills()
        let listings: [Int64: [SkillFileRecord]]
        do { listings = try registry.fileListings(ofSkills: skills.map(\.id)) } catch {
            throw .internalError("the registry could not list skill files (\(error.code.rawValue))")
        }
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
    func readResource(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "resources/read")
        let uri = try MCPProtocol.string(p, "uri", "resources/read")
        guard let parsed = SkillURI(uri) else {
            throw JSONRPCError(MCPProtocol.resourceNotFoundCode, "Resource not found: \(uri) (this server serves skill://NAME and skill://NAME/PATH)",
                               data: ["uri": .string(uri)])
        }
        func notFound(_ why: String) -> JSONRPCError {
            JSONRPCError(MCPProtocol.resourceNotFoundCode, "Resource not found: \(uri) (\(why))", data: ["uri": .string(uri)])
        }
        guard let skill = try visibleSkill(named: parsed.name) else { throw notFound("no skill named '\(parsed.name)'") }
        let path = parsed.path ?? skill.fileName
        let files: [SkillFileRecord]
        do { files = try registry.files(ofSkill: skill.id) } catch {
            throw .internalError("the registry could not read skill '\(skill.name)' (\(error.code.rawValue))")
        }
        guard let file = files.first(where: { $0.path == path }) else { throw notFound("skill '\(skill.name)' has no file '\(path)'") }
        guard file.kind == .file else { throw notFound("'\(path)' in skill '\(skill.name)' is a \(file.kind.rawValue), not a file") }
        guard let content = file.content else {
            throw notFound("'\(path)' in skill '\(skill.name)' is \(file.isBinary ? "binary" : "too large"), and the registry keeps only its listing")
        }
        return ["contents": [["uri": .string(uri), "mimeType": .string(SkillURI.mimeType(path, binary: false)), "text": .string(content)]]]
    }

    /// `prompts/list`: one prompt per visible skill, named after it.
    func listPrompts(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "prompts/list")
        let prompts: [JSONValue] = try visibleSkills().map { skill in
            ["name": .string(skill.name), "title": .string("Use skill \(skill.name)"), "description": .string(skill.description),
             "arguments": [["name": "task", "description": "What to do with the skill (optional).", "required": false]]]
        }
        return try MCPProtocol.page("prompts", prompts, params: params, size: settings.pageSize)
    }

    /// `prompts/get`: the skill's instructions as a user message, with its files named as resources.
    func getPrompt(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
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
        guard let skill = try visibleSkill(named: name) else { throw .invalidParams("Unknown prompt: \(name)") }
        let files: [SkillFileRecord]
        do { files = try registry.fileListings(ofSkills: [skill.id])[skill.id] ?? [] } catch {
            throw .internalError("the registry could not list the files of skill '\(skill.name)' (\(error.code.rawValue))")
        }
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
