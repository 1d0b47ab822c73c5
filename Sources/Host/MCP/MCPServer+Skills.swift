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

    /// The skill `name` as the caller is served it (with `source`, that source's copy, shadowed or
    /// not), or nil: hidden and missing look the same.
    func visibleSkill(named name: String, source: String? = nil) async throws(JSONRPCError) -> SkillRecord? {
        if isRevoked { return nil }
        let (host, caller) = current
        do { return try await catalog.skill(named: name, source: source, as: host.router.permissions(caller)) } catch {
            if error.code == .notFound { return nil }
            throw .internalError(error.message)
        }
    }

    /// The entries of skills the caller was found to see.
    func entries(of skills: [SkillRecord]) async throws(JSONRPCError) -> [SkillEntry] {
        do { return try await catalog.entries(of: skills) } catch { throw .internalError(error.message) }
    }

    /// `resources/list`: each visible skill's files as `skill://SOURCE/NAME/PATH`, its SKILL.md first.
    func listResources(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "resources/list")
        var resources: [JSONValue] = []
        for entry in try await entries(of: visibleSkills()) {
            let skill = entry.skill
            if let main = entry.file(skill.fileName) {
                resources.append(["uri": .string(Self.uri(skill, skill.fileName)), "name": .string(skill.name),
                                  "title": .string("Skill \(skill.name)"), "description": .string(skill.description),
                                  "mimeType": "text/markdown", "size": .int(Int(main.size))])
            }
            for file in entry.files where file.path != skill.fileName {
                resources.append(["uri": .string(Self.uri(skill, file.path)), "name": .string(PathText.lastComponent(file.path)),
                                  "description": .string("\(file.path) of skill \(skill.name) (source \(skill.source))"),
                                  "mimeType": .string(SkillURI.mimeType(file.path, binary: file.binary)), "size": .int(Int(file.size))])
            }
        }
        return try MCPProtocol.page("resources", resources, params: params, size: settings.pageSize)
    }

    func listResourceTemplates(_ params: JSONValue?) throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "resources/templates/list")
        let templates: [JSONValue] = [
            ["uriTemplate": "skill://{source}/{name}/SKILL.md", "name": "skill", "title": "A skill's instructions",
             "description": "The SKILL.md of a skill your role may use, from the source that holds it.", "mimeType": "text/markdown"],
            ["uriTemplate": "skill://{source}/{name}/{+path}", "name": "skill-file", "title": "A file of a skill",
             "description": "One file of a skill (scripts/, references/, assets/), at its synced revision."],
        ]
        return try MCPProtocol.page("resourceTemplates", templates, params: params, size: settings.pageSize)
    }

    /// The Skills extension's URI of `path` in `skill`: the source is the prefix, the name the last segment before the path.
    static func uri(_ skill: SkillRecord, _ path: String? = nil) -> String {
        SkillURI(source: skill.source, name: skill.name, path: path).text
    }

    /// A skill file a `skill://` URI names: `skill://SOURCE/NAME/PATH` first, then the deprecated
    /// `skill://NAME[/PATH]` (the served copy; no path means its SKILL.md).
    func resolveFile(_ uri: SkillURI) async throws(JSONRPCError) -> (skill: SkillRecord, path: String, deprecated: Bool)? {
        let s = uri.segments
        if s.count >= 3, let skill = try await visibleSkill(named: s[1], source: s[0]) {
            let path = s.dropFirst(2).joined(separator: "/")
            if try await entries(of: [skill])[0].file(path) != nil { return (skill, path, false) }
        }
        if let skill = try await visibleSkill(named: s[0]) {
            return (skill, s.count == 1 ? skill.fileName : s.dropFirst().joined(separator: "/"), true)
        }
        return nil
    }

    /// The error for a `skill://` URI that names nothing the caller may read: `-32602` in
    /// 2026-07-28 (as the Skills extension has it), `-32002` before.
    func unknownResource(_ uri: String, _ why: String) -> JSONRPCError {
        let modern = Self.modernVersions.contains(state.withLock { s in s.protocolVersion })
        return JSONRPCError(modern ? JSONRPCError.invalidParamsCode : MCPProtocol.resourceNotFoundCode,
                            "Resource not found: \(uri) (\(why))", data: ["uri": .string(uri)])
    }

    /// `resources/read`: the exact bytes the skill's digest covers (text as `text`, anything else as
    /// `blob`). A hidden skill is "not found", exactly like a missing one.
    func readResource(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "resources/read")
        let uri = try MCPProtocol.string(p, "uri", "resources/read")
        guard let parsed = SkillURI(uri) else {
            throw unknownResource(uri, "this server serves skill://SOURCE/NAME/SKILL.md and skill://SOURCE/NAME/PATH")
        }
        guard let (skill, path, deprecated) = try await resolveFile(parsed) else {
            if parsed.segments.count <= 3, try await directory(parsed) != nil {
                throw unknownResource(uri, "a directory: read it with resources/directory/read")
            }
            throw unknownResource(uri, "no skill or file the caller may read there")
        }
        let file: SkillFileRecord, bytes: Data
        do { (file, bytes) = try await catalog.bytes(of: path, in: skill) } catch {
            if error.code == .notFound { throw unknownResource(uri, error.message) }
            throw .internalError(error.message)
        }
        var content: [String: JSONValue] = ["uri": .string(uri), "mimeType": .string(SkillURI.mimeType(path, binary: file.isBinary))]
        if !file.isBinary, file.data == nil, let text = file.content {
            content["text"] = .string(text)
        } else if !file.isBinary, let text = String(validating: bytes, as: UTF8.self), text.utf8.elementsEqual(bytes), !text.contains("\0") {
            content["text"] = .string(text)
        } else {
            content["blob"] = .string(bytes.base64EncodedString())
        }
        if deprecated {
            content["_meta"] = ["io.agenthub/deprecated": .string("skill://NAME URIs are deprecated; use \(Self.uri(skill, path))")]
        }
        return ["contents": [.object(content)]]
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
            text += others.map { "- \(Self.uri(skill, $0.path))" }.joined(separator: "\n") + "\n"
        }
        if let task, !task.isEmpty { text += "\nTask: \(task)\n" }
        return ["description": .string(skill.description),
                "messages": [["role": "user", "content": ["type": "text", "text": .string(text)]]]]
    }
}
