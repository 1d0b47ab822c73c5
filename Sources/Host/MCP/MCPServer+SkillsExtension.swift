import Base
import Core
import Foundation
import Registry

/// The Skills extension (`io.modelcontextprotocol/skills`): `skills/list`, `skills/get` and
/// `resources/directory/read`, over every MCP front (they all answer through this server). What a
/// caller sees is the catalog's rule, as everywhere: `skills/list` lists the copy that serves each
/// name the role may see; `skills/get` also reaches a shadowed copy by its URI (its source prefix).
extension MCPServer {
    static let skillsExtension = "io.modelcontextprotocol/skills"
    /// How long a client may hold a listing or an entry: a publish also says `list_changed`.
    static let skillsTTL = 60_000

    /// `skills/list`: a page of entries, each complete (its files with digests and sizes).
    func listSkills(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        _ = try MCPProtocol.object(params, "skills/list")
        let skills = try await visibleSkills()
        // Page the skills first, then read the files of the page's skills only.
        let placeholders = skills.indices.map { JSONValue.int($0) }
        guard case .object(var page) = try MCPProtocol.page("skills", placeholders, params: params, size: settings.pageSize),
              case .array(let picked)? = page["skills"] else { throw .internalError("skills/list: paging failed") }
        let chosen = picked.compactMap { $0.intValue.map { skills[$0] } }
        page["skills"] = .array(try await entries(of: chosen).map(Self.entryJSON))
        page["resultType"] = "complete"
        page["ttlMs"] = .int(Self.skillsTTL)
        page["cacheScope"] = "private"
        return .object(page)
    }

    /// `skills/get`: the entry of the skill whose SKILL.md `uri` names, listed or not; -32602 when the
    /// caller may see no skill there.
    func getSkill(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "skills/get")
        let uri = try MCPProtocol.string(p, "uri", "skills/get")
        guard let parsed = SkillURI(uri), parsed.segments.count == 3,
              let skill = try await visibleSkill(named: parsed.segments[1], source: parsed.segments[0]),
              parsed.segments[2] == skill.fileName else {
            throw JSONRPCError(JSONRPCError.invalidParamsCode, "No skill is served at \(uri) (a skill is named skill://SOURCE/NAME/SKILL.md)",
                               data: ["uri": .string(uri)])
        }
        return ["resultType": "complete", "skill": Self.entryJSON(try await entries(of: [skill])[0]),
                "ttlMs": .int(Self.skillsTTL), "cacheScope": "private"]
    }

    /// `resources/directory/read`: the direct children of a skill's root or one of its folders.
    func readDirectory(_ params: JSONValue?) async throws(JSONRPCError) -> JSONValue {
        let p = try MCPProtocol.object(params, "resources/directory/read")
        let uri = try MCPProtocol.string(p, "uri", "resources/directory/read")
        guard let parsed = SkillURI(uri), let (entry, children) = try await directory(parsed) else {
            throw JSONRPCError(JSONRPCError.invalidParamsCode, "\(uri) is not a directory resource this server serves to the caller",
                               data: ["uri": .string(uri)])
        }
        let resources: [JSONValue] = children.map { child in
            var resource: [String: JSONValue] = ["uri": .string(Self.uri(entry.skill, child.path)), "name": .string(child.name)]
            if let file = child.file {
                resource["mimeType"] = .string(SkillURI.mimeType(file.path, binary: file.binary))
                resource["size"] = .int(Int(file.size))
            } else {
                resource["mimeType"] = "inode/directory"
            }
            return .object(resource)
        }
        var page = try MCPProtocol.page("resources", resources, params: params, size: settings.pageSize)
        if case .object(var fields) = page {
            fields["resultType"] = "complete"
            page = .object(fields)
        }
        return page
    }

    /// The entry and children of the directory a URI names (`skill://SOURCE/NAME[/FOLDER]`), or nil.
    func directory(_ uri: SkillURI) async throws(JSONRPCError) -> (SkillEntry, [SkillEntry.Child])? {
        let s = uri.segments
        guard s.count >= 2, let skill = try await visibleSkill(named: s[1], source: s[0]) else { return nil }
        let entry = try await entries(of: [skill])[0]
        guard let children = entry.children(of: s.dropFirst(2).joined(separator: "/")) else { return nil }
        return (entry, children)
    }

    /// A `Skill` of the extension. Files the extension has no place for (symlinks, files past the
    /// skill's cap) and a skill over the extension's limits are named under `_meta`.
    /// `GET /v1/skills/SOURCE/NAME` answers with this same object.
    public static func entryJSON(_ entry: SkillEntry) -> JSONValue {
        let skill = entry.skill
        var json: [String: JSONValue] = [
            "uri": .string(uri(skill, skill.fileName)),
            "frontmatter": entry.frontmatter,
            "resources": .array(entry.files.map { file in
                ["uri": .string(uri(skill, file.path)), "digest": .string(file.digest), "size": .int(Int(file.size))]
            }),
        ]
        var meta: [String: JSONValue] = ["io.agenthub/source": .string(skill.source)]
        if let over = entry.overLimits { meta["io.agenthub/overLimits"] = .string(over) }
        if !entry.unserved.isEmpty {
            meta["io.agenthub/unserved"] = .array(entry.unserved.map { ["path": .string($0.path), "why": .string($0.why)] })
        }
        if skill.shadowedBy != nil { meta["io.agenthub/shadowed"] = true }
        json["_meta"] = .object(meta)
        return .object(json)
    }
}
